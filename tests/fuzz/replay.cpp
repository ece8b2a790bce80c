// replay.cpp — test_fuzz_replay: every file of tests/fuzz/corpus/<target>/ and
// tests/fuzz/regressions/<target>/ through its fuzz harness, in any build (no libFuzzer needed). A
// crash fails the test by itself; an exception other than the reader's wgf::Error is reported with
// the file's name. Usage: test_fuzz_replay FUZZ_DIR [TARGET [FILE...]].
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "harness.h"

namespace fs = std::filesystem;

namespace {
std::vector<std::uint8_t> read_bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::vector<std::uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Runs one file; returns false (and says why) when the harness throws.
bool replay(const wgf_fuzz::Target& t, const fs::path& file) {
    const std::vector<std::uint8_t> bytes = read_bytes(file);
    try {
        t.run(bytes.data(), bytes.size());
        return true;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "FAIL %s: %s: unexpected exception: %s\n", t.name, file.string().c_str(), e.what());
    } catch (...) {
        std::fprintf(stderr, "FAIL %s: %s: unexpected exception of an unknown type\n", t.name, file.string().c_str());
    }
    return false;
}
}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s FUZZ_DIR [TARGET [FILE...]]\n", argv[0]);
        return 2;
    }
    const fs::path root = argv[1];
    int failures = 0;
    for (const wgf_fuzz::Target& t : wgf_fuzz::targets()) {
        if (argc >= 3 && t.name != std::string(argv[2])) continue;
        std::vector<fs::path> files;
        if (argc >= 4) {
            for (int i = 3; i < argc; ++i) files.emplace_back(argv[i]);
        } else {
            for (const char* kind : {"corpus", "regressions"}) {
                const fs::path dir = root / kind / t.name;
                if (!fs::is_directory(dir)) continue;
                for (const auto& e : fs::directory_iterator(dir))
                    if (e.is_regular_file()) files.push_back(e.path());
            }
            if (files.empty()) {  // the checked-in corpus is part of the test
                std::fprintf(stderr, "FAIL %s: no files in %s/corpus/%s\n", t.name, root.string().c_str(), t.name);
                ++failures;
                continue;
            }
        }
        std::sort(files.begin(), files.end());
        int bad = 0;
        const std::uint64_t refused0 = wgf_fuzz::refusals();
        for (const fs::path& f : files) {
            const std::uint64_t before = wgf_fuzz::refusals();
            bad += replay(t, f) ? 0 : 1;
            if (argc >= 4 || std::getenv("WGF_FUZZ_VERBOSE") != nullptr)
                std::printf("  %s: %s\n", f.string().c_str(), wgf_fuzz::refusals() > before ? "refused" : "accepted");
        }
        std::printf("%-7s %4zu files, %d failed (%llu reader calls refused the input)\n", t.name, files.size(), bad,
                    static_cast<unsigned long long>(wgf_fuzz::refusals() - refused0));
        failures += bad;
    }
    return failures == 0 ? 0 : 1;
}
