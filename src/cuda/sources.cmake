# CUDA backend sources (included by the top-level CMakeLists.txt when the CUDA backend is built).
set(WGF_CUDA_SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/cuda_state.cu
    ${CMAKE_CURRENT_LIST_DIR}/icnn_cuda.cu
    ${CMAKE_CURRENT_LIST_DIR}/jko_loss_cuda.cu
    ${CMAKE_CURRENT_LIST_DIR}/adam_cuda.cu
    ${CMAKE_CURRENT_LIST_DIR}/potential_cuda.cu
    ${CMAKE_CURRENT_LIST_DIR}/logreg_cuda.cu
    ${CMAKE_CURRENT_LIST_DIR}/train_step_cuda.cu
)
