# wgf_add_test(name SOURCES ... [LABELS ...] [SKIP_RETURN_CODE rc] [TIMEOUT s] [CUSTOM_MAIN])
# CUSTOM_MAIN: the sources define main() themselves (e.g. to exit 77 without a GPU).
# One doctest executable registered with CTest. Tests labelled `cuda` exit 77 when there is no
# device, and CTest reports them as skipped.
function(wgf_add_test name)
    cmake_parse_arguments(ARG "CUSTOM_MAIN" "SKIP_RETURN_CODE;TIMEOUT" "SOURCES;LABELS" ${ARGN})
    add_executable(${name} ${ARG_SOURCES})
    if(ARG_CUSTOM_MAIN)
        target_link_libraries(${name} PRIVATE wgf::wgf wgf_test_support)
    else()
        target_link_libraries(${name} PRIVATE wgf::wgf wgf_test_main)
    endif()
    wgf_set_warnings(${name})
    # Same target ISA as the library: tests that use the private Eigen-typed host headers must
    # agree with libwgf on Eigen's alignment (otherwise heap blocks are freed with another scheme).
    wgf_set_host_arch(${name})
    add_test(NAME ${name} COMMAND ${name})
    if(ARG_LABELS)
        set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}")
    endif()
    if(ARG_SKIP_RETURN_CODE)
        set_tests_properties(${name} PROPERTIES SKIP_RETURN_CODE ${ARG_SKIP_RETURN_CODE})
    endif()
    if(ARG_TIMEOUT)
        set_tests_properties(${name} PROPERTIES TIMEOUT ${ARG_TIMEOUT})
    endif()
endfunction()
