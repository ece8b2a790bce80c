// Compiles src/cuda/adam_cuda.cu as C++ under the CPU emulation (cuda_emu.h is force-included).
#include "cuda/adam_cuda.cu"
