// wgf/config.h — version and the WGF_HOST_DEVICE annotation shared by host and CUDA code.
// Public headers compile with a plain C++17 compiler; under nvcc WGF_HOST_DEVICE expands to
// __host__ __device__ so the per-point math in wgf/detail/ is the same code on both backends.
#pragma once

#define WGF_VERSION_MAJOR 0
#define WGF_VERSION_MINOR 1
#define WGF_VERSION_PATCH 0

#if defined(__CUDACC__)
#define WGF_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define WGF_HOST_DEVICE inline
#endif
