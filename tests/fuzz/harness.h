// harness.h — the file-reader fuzz harnesses (tests/fuzz/README.md). One function per reader takes
// arbitrary bytes, feeds them to the reader (through a temporary file where the reader takes a path)
// and returns normally when the reader succeeds or refuses the input with wgf::Error. Anything else —
// another exception type, a crash, a sanitizer report, a failed round trip (std::logic_error) — is a
// bug. The libFuzzer targets (fuzz_target.cpp) and the replay test (replay.cpp) call the same functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace wgf_fuzz {

using Harness = void (*)(const std::uint8_t* data, std::size_t size);

struct Target {
    const char* name;  ///< the folder name under corpus/ and regressions/, and fuzz_<name>
    Harness run;
};

void fuzz_icnn(const std::uint8_t* data, std::size_t size);    ///< Icnn<double|float>::load
void fuzz_flow(const std::uint8_t* data, std::size_t size);    ///< Flow<double|float>::load + bytes round trip
void fuzz_step(const std::uint8_t* data, std::size_t size);    ///< Flow<double>::load_steps (input = step 0)
void fuzz_npy(const std::uint8_t* data, std::size_t size);     ///< wgf_cli::npy_read
void fuzz_raw(const std::uint8_t* data, std::size_t size);     ///< wgf_cli::read_raw_f64 (byte 0: D − 1)
void fuzz_config(const std::uint8_t* data, std::size_t size);  ///< wgf_cli::load_run_config
void fuzz_logreg(const std::uint8_t* data, std::size_t size);  ///< wgf::read_logreg_csv, read_logreg_indices
void fuzz_observations(const std::uint8_t* data, std::size_t size);  ///< wgf::load_observations

/// How many reader calls so far ended in a wgf::Error (a harness makes one to three calls per input).
std::uint64_t refusals();

/// Every target, in a fixed order.
const std::vector<Target>& targets();

}  // namespace wgf_fuzz
