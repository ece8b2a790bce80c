// Compiles src/cuda/icnn_cuda.cu as C++ under the CPU emulation (cuda_emu.h is force-included).
#include "cuda/icnn_cuda.cu"
