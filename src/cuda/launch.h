// launch.h (private) — kernel launches go through these macros instead of the <<<…>>> syntax, so
// that the CUDA sources also compile as plain C++ under the CPU emulation used by the tests
// (tests/cuda_emu/cuda_emu.h defines them there: blocks and threads run on the host).
//   WGF_LAUNCH_KERNEL(grid, block, stream, kernel<T>)(args…)       threads independent
//   WGF_LAUNCH_KERNEL_COOP(grid, block, stream, kernel<T>)(args…)  threads cooperate (warp
//                                                                   shuffles, __syncthreads)
// The kernel comes last so that template arguments with commas need no parentheses.
#pragma once

#ifndef WGF_CUDA_EMULATION
#define WGF_LAUNCH_KERNEL(grid, block, stream, ...) __VA_ARGS__<<<(grid), (block), 0, (stream)>>>
#define WGF_LAUNCH_KERNEL_COOP(grid, block, stream, ...) __VA_ARGS__<<<(grid), (block), 0, (stream)>>>
#endif
