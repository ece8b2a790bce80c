// eigen_core.h (private) — Eigen/Core through one door. Every wgf source and test includes Eigen
// through this header or eigen_dense.h, never directly, so that the one known false positive in a
// system header is silenced here and nowhere else:
//
//   GCC 12 with AVX-512 (-march=native on an AVX-512 CPU, or x86-64-v4) reports
//   "'__Y' may be used uninitialized [-Wmaybe-uninitialized]" in avx512fintrin.h, where the
//   _mm256_undefined_* intrinsics leave a register deliberately undefined, once Eigen's AVX-512
//   predux is inlined into our code (GCC bug 105593, fixed in GCC 13).
//
// The pragma covers the text of the included headers only: -Wmaybe-uninitialized in wgf's own code
// is still reported (and fatal under WGF_WERROR; .ci/run compiles for x86-64-v4 to keep it so).
// The first inclusion of <immintrin.h> must happen inside this region, which is why this header
// comes before any other header that may pull it in.
#pragma once

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>  // its first inclusion inside the pragma region (see above)
#endif
#include <Eigen/Core>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
