// Compiles src/cuda/potential_cuda.cu as C++ under the CPU emulation (cuda_emu.h is force-included).
#include "cuda/potential_cuda.cu"
