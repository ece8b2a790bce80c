// Compiles src/cuda/jko_loss_cuda.cu as C++ under the CPU emulation (cuda_emu.h is force-included).
#include "cuda/jko_loss_cuda.cu"
