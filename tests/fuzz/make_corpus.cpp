// make_corpus.cpp — writes the seed corpus of the fuzz targets (corpus/<target>/: small valid files
// of every reader's format and variants) and the hand-made inputs of the reader bugs fixed with the
// fuzzers (regressions/<target>/). Run once through tests/fuzz/make_corpus.sh; the output is checked in.
// Usage: wgf_fuzz_make_corpus FUZZ_DIR
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "npy.h"
#include "wgf/flow.h"
#include "wgf/icnn.h"
#include "wgf/initial.h"

namespace fs = std::filesystem;
using namespace wgf;

namespace {
fs::path g_root;

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
void put(const std::string& kind, const std::string& target, const std::string& name, const std::string& bytes) {
    const fs::path dir = g_root / kind / target;
    fs::create_directories(dir);
    std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}
void seed(const std::string& target, const std::string& name, const std::string& bytes) { put("corpus", target, name, bytes); }
void regression(const std::string& target, const std::string& name, const std::string& bytes) {
    put("regressions", target, name, bytes);
}
template <typename V>
void append(std::string& s, V v) {
    s.append(reinterpret_cast<const char*>(&v), sizeof(V));
}
std::uint64_t fnv(const std::string& s) {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
    return h;
}
void checksum(std::string& s) { append<std::uint64_t>(s, fnv(s)); }

IcnnShape shape(int D, std::vector<int> widths, int rank, double s = 1e-6) {
    IcnnShape sh;
    sh.dim = D;
    sh.widths = std::move(widths);
    sh.rank = rank;
    sh.strong_convexity = s;
    return sh;
}
const fs::path& scratch() {
    static const fs::path p = fs::temp_directory_path() / ("wgf-make-corpus-" + std::to_string(::getpid()));
    fs::create_directories(p);
    return p;
}
template <typename T>
std::string icnn_bytes(const Icnn<T>& net) {
    const fs::path p = scratch() / "net";
    net.save(p.string());
    return slurp(p);
}
template <typename T>
Icnn<T> tiny(int D, std::uint64_t seed_) {
    return Icnn<T>::random(shape(D, {2, 2}, 1), seed_);
}
Gaussian standard(int D) {
    std::vector<double> cov(static_cast<std::size_t>(D) * D, 0.0);
    for (int i = 0; i < D; ++i) cov[static_cast<std::size_t>(i) * D + i] = 1.0;
    return Gaussian(std::vector<double>(static_cast<std::size_t>(D), 0.0), cov);
}
template <typename T>
void flow_and_steps(const std::string& name, Flow<T> flow, int steps, int D) {
    for (int k = 0; k < steps; ++k) flow.push_back(tiny<T>(D, 10 + k), 0.05);
    seed("flow", name + ".wgfflow", flow.to_bytes());
    if (steps > 0) {
        const fs::path dir = scratch() / ("steps-" + name);
        flow.save_step(dir.string(), 0);
        seed("step", name + ".wgfstep", slurp(Flow<T>::step_path(dir.string(), 0)));
    }
}
}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s FUZZ_DIR\n", argv[0]);
        return 2;
    }
    g_root = argv[1];

    // ---- ICNN files -------------------------------------------------------------------------------
    seed("icnn", "d1_w1_r1.wgficnn", icnn_bytes(Icnn<double>::random(shape(1, {1}, 1), 1)));
    seed("icnn", "d2_w3x2_r2_f32.wgficnn", icnn_bytes(Icnn<float>::random(shape(2, {3, 2}, 2), 2)));
    seed("icnn", "d3_w4_r1_s05.wgficnn", icnn_bytes(Icnn<double>::random(shape(3, {4}, 1, 0.5), 3)));
    seed("icnn", "d2_w2x2x2_r1.wgficnn", icnn_bytes(Icnn<double>::random(shape(2, {2, 2, 2}, 1), 4)));
    {
        // Bug: D = 2^30, r = 2^31 − 1, W = [1] make 2^61 + 2 parameters, whose 8 bytes each wrapped
        // around 2^64 to 16: the count passed the size check and 2^61 doubles were allocated.
        std::string h("WGFICNN\0", 8);
        append<std::uint32_t>(h, 1), append<std::uint32_t>(h, 8), append<std::uint32_t>(h, 1u << 30);
        append<std::uint32_t>(h, 0x7fffffff), append<std::uint32_t>(h, 1), append<std::uint32_t>(h, 0);
        append<double>(h, 1e-6), append<std::uint32_t>(h, 1);
        append<std::uint64_t>(h, (1ull << 61) + 2);
        append<double>(h, 0.0), append<double>(h, 0.0);
        checksum(h);
        regression("icnn", "param_count_times_8_wraps.wgficnn", h);
        std::string neg_s = icnn_bytes(Icnn<double>::random(shape(1, {1}, 1), 1));
        const double s = -1.0;
        std::memcpy(&neg_s[32], &s, 8);
        neg_s.resize(neg_s.size() - 8);
        checksum(neg_s);
        regression("icnn", "negative_strong_convexity.wgficnn", neg_s);
        Icnn<double> net = Icnn<double>::random(shape(2, {2}, 1), 5);
        net.data()[net.size() - 1] = -0.5;  // c[1] < 0
        regression("icnn", "negative_c.wgficnn", icnn_bytes(net));
    }

    // ---- flow files and step files ------------------------------------------------------------------
    flow_and_steps("gaussian_d2_2steps", Flow<double>(standard(2)), 2, 2);
    flow_and_steps("gaussian_d1_1step_f32", Flow<float>(standard(1)), 1, 1);
    flow_and_steps("gaussian_d1_0steps", Flow<double>(standard(1)), 0, 1);
    flow_and_steps("uniform_d2_1step", Flow<double>(UniformBox({-1.0, -2.0}, {1.0, 2.0})), 1, 2);
    flow_and_steps("mixture_d1_1step",
                   Flow<double>(GaussianMixture({1.0, 2.0}, {-1.0, 1.0}, {0.5, 0.25}, 1)), 1, 1);
    {
        Flow<double> source(standard(1));
        source.push_back(tiny<double>(1, 7), 0.1);
        flow_and_steps("flowend_d1_1step", Flow<double>(FlowEnd<double>(source, -1, 1)), 1, 1);
        Flow<double> two(FlowEnd<double>(source, -1, 1));
        two.push_back(tiny<double>(1, 8), 0.1);
        two.push_back(tiny<double>(1, 9), 0.1);
        const fs::path dir = scratch() / "steps-flowend-digest";
        two.save_step(dir.string(), 1);  // step ≥ 1: ρ⁰'s embedded flow replaced by its digest
        seed("step", "flowend_step1_digest.wgfstep", slurp(Flow<double>::step_path(dir.string(), 1)));
    }
    {
        // Version 1 flow file: a Gaussian's mean and covariance in place of the ρ⁰ record.
        std::string v1("WGFFLOW\0", 8);
        append<std::uint32_t>(v1, 1), append<std::uint32_t>(v1, 1), append<std::uint32_t>(v1, 1);
        append<double>(v1, 0.0), append<double>(v1, 1.0);
        checksum(v1);
        append<double>(v1, 0.05);
        const std::string net = icnn_bytes(tiny<double>(1, 11));
        v1 += net.substr(0, net.size() - 8);
        checksum(v1);
        seed("flow", "v1_gaussian_d1_1step.wgfflow", v1);
        // Bug: version 1 with D = 100000 allocated D + D·D doubles (80 GB) before reading them.
        std::string big("WGFFLOW\0", 8);
        append<std::uint32_t>(big, 1), append<std::uint32_t>(big, 100000), append<std::uint32_t>(big, 0);
        regression("flow", "v1_huge_dim.wgfflow", big);
        std::string step("WGFSTEP\0", 8);
        append<std::uint32_t>(step, 1), append<std::uint32_t>(step, 100000), append<std::uint32_t>(step, 0);
        regression("step", "v1_huge_dim.wgfstep", step);
    }

    // ---- .npy ----------------------------------------------------------------------------------------
    {
        const fs::path p = scratch() / "a.npy";
        wgf_cli::npy_write(p.string(), {1, 2, 3, 4, 5, 6}, {3, 2});
        seed("npy", "f8_3x2.npy", slurp(p));
        wgf_cli::npy_write(p.string(), {0.5, -1.5}, {2});
        seed("npy", "f8_2.npy", slurp(p));
        const auto npy = [](int major, const std::string& dict, const std::string& data) {
            std::string header = dict;
            const std::size_t pre = major == 1 ? 10 : 12;
            header.append((64 - (pre + header.size() + 1) % 64) % 64, ' ');
            header.push_back('\n');
            std::string b("\x93NUMPY", 6);
            b.push_back(static_cast<char>(major));
            b.push_back('\0');
            if (major == 1) append<std::uint16_t>(b, static_cast<std::uint16_t>(header.size()));
            else append<std::uint32_t>(b, static_cast<std::uint32_t>(header.size()));
            return b + header + data;
        };
        std::string f4;
        for (float v : {1.0f, 2.0f, 3.0f, 4.0f}) append<float>(f4, v);
        seed("npy", "f4_2x2.npy", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", f4));
        std::string f8;
        for (double v : {1.0, 2.0}) append<double>(f8, v);
        seed("npy", "v2_f8_1x2.npy", npy(2, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }", f8));
        // Bugs: a shape entry std::stoll could not parse (std::invalid_argument, not wgf::Error), and
        // a shape whose product overflows (count × 8 wrapped to the file's size).
        regression("npy", "shape_not_a_number.npy", npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (x, 2), }", f8));
        regression("npy", "shape_overflow.npy",
                   npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2305843009213693952, 8), }", ""));
    }

    // ---- raw float64 points (byte 0: D − 1) -----------------------------------------------------------
    {
        std::string r(1, '\1');  // D = 2
        for (double v : {0.0, 1.0, -1.0, 2.5, 3.0, -4.0}) append<double>(r, v);
        seed("raw", "d2_3rows.f64", r);
        std::string r1(1, '\0');  // D = 1
        append<double>(r1, 0.25);
        seed("raw", "d1_1row.f64", r1);
    }

    // ---- run configs (examples/ shrunk) --------------------------------------------------------------
    seed("config", "ou.toml", R"([flow]
dim = 2
tau = 0.05
steps = 2
seed = 1
[potential]
kind = "quadratic"
A = [[1.5, 0.3], [0.3, 1.2]]
m = [0.5, -1.0]
[initial]
kind = "gaussian"
mean = [0.0, 0.0]
variance = 1.0
[network]
width = 4
depth = 2
[training]
iterations = 5
batch = 16
lr = 5e-3
init = "pretrain"
[output]
dir = "ou-out"
at_times = [0.05, 0.1]
samples = 16
)");
    seed("config", "mixture_uniform.toml", R"([flow]
dim = 2
tau = 0.1
steps = 2
precision = "double"
backend = "host"
[potential]
kind = "gaussian-mixture"
weights = [1.0, 2.0]
means = [[-2.0, 0.0], [2.0, 1.0]]
covariances = [[[1.0, 0.3], [0.3, 0.5]], [[0.6, 0.0], [0.0, 0.6]]]
[initial]
kind = "uniform-box"
lower = [-3.0, -3.0]
upper = [3.0, 3.0]
[network]
widths = [4, 3]
rank = 2
strong_convexity = 0.0
[training]
iterations = 3
init = "identity"
lr_schedule = [[2, 5e-3], [1, 2e-3]]
average_tail = 0.5
[output]
at_steps = [1, 2]
step_kl_samples = 8
metrics = false
)");
    seed("config", "cube.toml", R"([flow]
dim = 3
tau = 0.1
steps = 4
[potential]
kind = "cube-mixture"
components = 3
span = 2.0
std = 0.5
seed = 7
[initial]
kind = "gaussian-mixture"
means = [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]
variance = [1.0, 2.0]
[output]
points = "points.npy"
checkpoints = false
)");
    seed("config", "flow_end.toml", R"([flow]
dim = 2
tau = 0.1
steps = 1
[potential]
kind = "gaussian-mixture"
means = [[-1.5, 0.0], [1.5, 0.5]]
variance = 0.5
[initial]
kind = "flow-end"
path = "missing.wgfflow"
step = -1
)");
    // Bug: a 30-byte config asking for D×D matrices of D = 100000 (80 GB).
    regression("config", "huge_dim.toml", "[flow]\ndim = 100000\ntau = 1.0\nsteps = 1\n[potential]\nkind = \"quadratic\"\n"
                                          "[initial]\nkind = \"gaussian\"\n");
    std::error_code ec;
    fs::remove_all(scratch(), ec);
    std::printf("wrote the corpus and regressions under %s\n", g_root.string().c_str());
    return 0;
}
