# wgf_set_host_arch(target): compile the target's host C++ for WGF_HOST_ARCH (-march=...), nothing
# when it is empty. The library, the tests that share its private Eigen-typed headers and the CUDA
# emulation library must all use the same value (Eigen's alignment and packet types follow it).
function(wgf_set_host_arch target)
    if(NOT WGF_HOST_ARCH STREQUAL "")
        target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-march=${WGF_HOST_ARCH}>)
    endif()
endfunction()
