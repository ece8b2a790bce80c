// harness.cpp — see harness.h.
#include "harness.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "npy.h"
#include "raw_io.h"
#include "run_config.h"
#include "wgf/error.h"
#include "wgf/filtering.h"
#include "wgf/logreg_data.h"
#include "wgf/flow.h"
#include "wgf/icnn.h"

namespace wgf_fuzz {

namespace {

std::uint64_t g_refusals = 0;

// One scratch folder per process (libFuzzer's -jobs/-workers run several), removed at exit. The
// string is never destroyed: the exit handler, registered while it is being built, runs after the
// destructors of statics built before it would.
const std::string& scratch() {
    static const std::string* const dir = [] {
        const char* base = std::getenv("TMPDIR");
        std::string tmpl = std::string(base != nullptr && base[0] != '\0' ? base : "/tmp") + "/wgf-fuzz-XXXXXX";
        if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("wgf fuzz harness: cannot create " + tmpl);
        std::atexit([] {
            std::error_code ec;
            std::filesystem::remove_all(scratch(), ec);
        });
        return new std::string(tmpl);
    }();
    return *dir;
}

// Writes the input to `name` in the scratch folder (plain write: the harness is not the code under test).
std::string write_input(const std::string& name, const std::uint8_t* data, std::size_t size) {
    const std::string path = scratch() + "/" + name;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    out.close();
    if (!out) throw std::runtime_error("wgf fuzz harness: cannot write " + path);
    return path;
}

// Runs a reader; its documented refusal (wgf::Error, NoCheckpoint included) is a valid outcome.
template <typename F>
void expect_success_or_error(F&& f) {
    try {
        f();
    } catch (const wgf::Error&) {
        ++g_refusals;
    }
}

[[noreturn]] void broken(const std::string& what) { throw std::logic_error("wgf fuzz harness: " + what); }

template <typename T>
void flow_round_trip(const std::string& path) {
    const wgf::Flow<T> flow = wgf::Flow<T>::load(path);
    // What loads must save and load again to the same bytes.
    const std::string b1 = flow.to_bytes();
    const std::string b2 = wgf::Flow<T>::from_bytes(b1, "round trip").to_bytes();
    if (b1 != b2) broken("a loaded flow does not survive to_bytes/from_bytes");
}

}  // namespace

void fuzz_icnn(const std::uint8_t* data, std::size_t size) {
    const std::string path = write_input("net.wgficnn", data, size);
    expect_success_or_error([&] {
        const auto net = wgf::Icnn<double>::load(path);
        if (!net.is_convex()) broken("a loaded ICNN is not convex (negative C_l or c, or non-finite)");
        if (net.size() != net.shape().param_count()) broken("a loaded ICNN's size differs from its shape's");
    });
    expect_success_or_error([&] { (void)wgf::Icnn<float>::load(path); });
}

void fuzz_flow(const std::uint8_t* data, std::size_t size) {
    const std::string path = write_input("flow.wgfflow", data, size);
    expect_success_or_error([&] { flow_round_trip<double>(path); });
    expect_success_or_error([&] { flow_round_trip<float>(path); });
}

void fuzz_step(const std::uint8_t* data, std::size_t size) {
    const std::string dir = scratch() + "/steps";
    write_input("steps/" + wgf::Flow<double>::step_path("", 0).substr(1), data, size);
    expect_success_or_error([&] {
        const auto flow = wgf::Flow<double>::load_steps(dir);
        if (flow.steps() != 1) broken("one step file loaded as " + std::to_string(flow.steps()) + " steps");
    });
}

void fuzz_npy(const std::uint8_t* data, std::size_t size) {
    const std::string path = write_input("array.npy", data, size);
    expect_success_or_error([&] {
        const wgf_cli::NpyArray a = wgf_cli::npy_read(path);
        std::size_t count = 1;
        for (const auto s : a.shape) count *= static_cast<std::size_t>(s);
        if (a.shape.empty() || count != a.data.size()) broken(".npy: the data does not fill the shape");
    });
}

void fuzz_raw(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return;
    const int dim = 1 + data[0] % 8;  // the row length the caller would pass (the network's D)
    const std::string path = write_input("points.f64", data + 1, size - 1);
    expect_success_or_error([&] {
        const std::vector<double> x = wgf_cli::read_raw_f64(path, dim, "points file");
        if (x.empty() || x.size() % static_cast<std::size_t>(dim) != 0 || x.size() * 8 != size - 1)
            broken("raw points: the array does not match the file");
    });
}

void fuzz_config(const std::uint8_t* data, std::size_t size) {
    const std::string path = write_input("config.toml", data, size);
    expect_success_or_error([&] { (void)wgf_cli::load_run_config(path); });
}

void fuzz_logreg(const std::uint8_t* data, std::size_t size) {
    const std::string path = write_input("data.csv", data, size);
    expect_success_or_error([&] {
        const wgf::LogRegTable t = wgf::read_logreg_csv(path);
        if (t.dim < 1 || t.rows < 1 || t.X.size() != static_cast<std::size_t>(t.rows) * static_cast<std::size_t>(t.dim) ||
            t.y.size() != static_cast<std::size_t>(t.rows))
            broken("logreg csv: the table's sizes do not agree");
        for (double v : t.y)
            if (v != 1.0 && v != -1.0) broken("logreg csv: a label other than +-1 was accepted");
    });
    // The same bytes as an index file of a 1000-row table.
    expect_success_or_error([&] {
        const auto idx = wgf::read_logreg_indices(path, 1000);
        for (auto i : idx)
            if (i < 0 || i >= 1000) broken("logreg indices: an index out of range was accepted");
    });
}

void fuzz_observations(const std::uint8_t* data, std::size_t size) {
    const std::string path = write_input("observations.txt", data, size);
    expect_success_or_error([&] {
        const wgf::Observations o = wgf::load_observations(path);
        if (o.times.empty() || o.times.size() != o.values.size() || (!o.latent.empty() && o.latent.size() != o.times.size()))
            broken("observations: the arrays do not agree");
    });
}

std::uint64_t refusals() { return g_refusals; }

const std::vector<Target>& targets() {
    static const std::vector<Target> all = {{"icnn", fuzz_icnn}, {"flow", fuzz_flow}, {"step", fuzz_step},
                                            {"npy", fuzz_npy},   {"raw", fuzz_raw},   {"config", fuzz_config},
                                            {"logreg", fuzz_logreg}, {"observations", fuzz_observations}};
    return all;
}

}  // namespace wgf_fuzz
