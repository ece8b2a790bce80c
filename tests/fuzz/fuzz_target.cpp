// fuzz_target.cpp — one libFuzzer target; WGF_FUZZ_HARNESS names its harness (tests/fuzz/CMakeLists.txt).
#include <cstddef>
#include <cstdint>

#include "harness.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    wgf_fuzz::WGF_FUZZ_HARNESS(data, size);
    return 0;
}
