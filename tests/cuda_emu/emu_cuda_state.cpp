// Compiles src/cuda/cuda_state.cu as C++ under the CPU emulation (cuda_emu.h is force-included).
#include "cuda/cuda_state.cu"
