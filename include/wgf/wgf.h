// wgf/wgf.h — umbrella header of the wgf library.
#pragma once

#include "wgf/config.h"
#include "wgf/context.h"
#include "wgf/device_buffer.h"
#include "wgf/error.h"
#include "wgf/host_blas.h"
#include "wgf/icnn.h"
#include "wgf/random.h"
