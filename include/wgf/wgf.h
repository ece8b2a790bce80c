// wgf/wgf.h — umbrella header of the wgf library.
#pragma once

#include "wgf/adam.h"
#include "wgf/baselines.h"
#include "wgf/config.h"
#include "wgf/context.h"
#include "wgf/device_buffer.h"
#include "wgf/error.h"
#include "wgf/flow.h"
#include "wgf/host_blas.h"
#include "wgf/icnn.h"
#include "wgf/initial.h"
#include "wgf/jko.h"
#include "wgf/jko_loss.h"
#include "wgf/metrics.h"
#include "wgf/potential.h"
#include "wgf/random.h"
