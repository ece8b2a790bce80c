// Compiles src/cuda/logreg_cuda.cu as C++ under the CPU emulation (cuda_emu.h is force-included).
#include "cuda/logreg_cuda.cu"
