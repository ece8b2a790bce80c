// eigen_dense.h (private) — Eigen/Dense (decompositions, eigenvalues) through the same door as
// eigen_core.h, for the same reason (a GCC 12 false positive in AVX-512 system headers).
#pragma once

#include "eigen_core.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <Eigen/Dense>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
