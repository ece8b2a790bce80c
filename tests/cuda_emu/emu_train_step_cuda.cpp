// Compiles src/cuda/train_step_cuda.cu as C++ under the CPU emulation (cuda_emu.h is force-included).
#include "cuda/train_step_cuda.cu"
