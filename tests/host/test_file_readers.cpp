// test_file_readers.cpp — the file readers refuse what no file of theirs can be, fast and before
// allocating: special files (/dev/zero, a directory, a FIFO), a count larger than the file's bytes,
// a large file of another kind (bad magic, not read whole), and header values the format forbids
// (s < 0, c < 0). The same readers are fuzzed in tests/fuzz/.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "errors.h"
#include "temp_files.h"
#include "npy.h"
#include "random.h"
#include "raw_io.h"
#include "run_config.h"
#include "wgf/wgf.h"

using namespace wgf;
using namespace wgf_test;
namespace fs = std::filesystem;

namespace {
template <typename V>
void append(std::string& s, V v) {
    s.append(reinterpret_cast<const char*>(&v), sizeof(V));
}
void put_checksum(std::string& s) {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
    append(s, h);
}

// The message of the wgf::Error f throws (another exception type fails the test), and the seconds it took.
std::string refused(const std::function<void()>& f, double max_seconds = 2.0) {
    const auto t0 = std::chrono::steady_clock::now();
    std::string msg;
    CHECK_NOTHROW(msg = error_of(f));
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CHECK_MESSAGE(s < max_seconds, "took " << s << " s: " << msg);
    CHECK_MESSAGE(msg != "<no exception>", "accepted");
    return msg;
}
}  // namespace

TEST_CASE("readers refuse /dev/zero, a directory and a FIFO at once, naming the path") {
    TempDir dir;
    const std::string fifo = dir / "pipe";
    const bool made_fifo = ::mkfifo(fifo.c_str(), 0600) == 0;  // opening it for reading would wait for a writer
    REQUIRE(made_fifo);
    const std::string folder = dir.path.string();
    for (const std::string& path : {std::string("/dev/zero"), folder, fifo}) {
        const std::string kind = path == "/dev/zero" ? "character device" : path == fifo ? "FIFO" : "directory";
        CAPTURE(path);
        std::string msg = refused([&] { (void)Icnn<double>::load(path); });
        CHECK_MESSAGE((contains(msg, "'" + path + "'") && contains(msg, kind)), msg);
        msg = refused([&] { (void)Flow<double>::load(path); });
        CHECK_MESSAGE((contains(msg, "'" + path + "'") && contains(msg, kind)), msg);
        msg = refused([&] { (void)wgf_cli::npy_read(path); });
        CHECK_MESSAGE(contains(msg, kind), msg);
        msg = refused([&] { (void)wgf_cli::read_raw_f64(path, 2, "points file"); });
        CHECK_MESSAGE((contains(msg, "points file '" + path + "'") && contains(msg, kind)), msg);
        msg = refused([&] { (void)wgf_cli::load_run_config(path); });
        CHECK_MESSAGE(contains(msg, kind), msg);
    }
    // A step file that is a directory is an error, not a fresh start.
    fs::create_directories(dir.path / "ck" / "step-00000.wgfstep");
    const std::string msg = refused([&] { (void)Flow<double>::load_steps(dir / "ck"); });
    CHECK_MESSAGE(contains(msg, "directory"), msg);
}

TEST_CASE("a 3 GB file of another kind is refused by its magic without being read") {
    TempDir dir;
    const std::string big = dir / "big.bin";
    { std::ofstream(big) << "not a wgf file"; }
    fs::resize_file(big, 3ull << 30);  // sparse: no disk used
    std::string msg = refused([&] { (void)Icnn<double>::load(big); });
    CHECK_MESSAGE(contains(msg, "bad magic"), msg);
    msg = refused([&] { (void)Flow<float>::load(big); });
    CHECK_MESSAGE(contains(msg, "bad magic"), msg);
    msg = refused([&] { (void)wgf_cli::npy_read(big); });
    CHECK_MESSAGE(contains(msg, "not a .npy file"), msg);
    msg = refused([&] { (void)wgf_cli::load_run_config(big); });
    CHECK_MESSAGE(contains(msg, "more than the"), msg);  // a config file is small
}

TEST_CASE("an ICNN file whose parameter count is larger than the file is refused before allocating") {
    TempDir dir;
    // D = 2^30, r = 2^31 − 1, W = [1]: 2^61 + 2 parameters, whose size in bytes (× 8) wraps around
    // 2^64 to 16 — the 16 bytes that follow. The count matches the shape.
    std::string h("WGFICNN\0", 8);
    append<std::uint32_t>(h, 1), append<std::uint32_t>(h, 8), append<std::uint32_t>(h, 1u << 30);
    append<std::uint32_t>(h, 0x7fffffff), append<std::uint32_t>(h, 1), append<std::uint32_t>(h, 0);
    append<double>(h, 1e-6), append<std::uint32_t>(h, 1);
    append<std::uint64_t>(h, (1ull << 61) + 2);
    append<double>(h, 0.0), append<double>(h, 0.0);
    put_checksum(h);
    write(dir / "huge.wgficnn", h);
    const std::string msg = refused([&] { (void)Icnn<double>::load(dir / "huge.wgficnn"); });
    CHECK_MESSAGE((contains(msg, "'param_count' at byte 44") && contains(msg, "huge.wgficnn")), msg);

    // Widths beyond int, and a depth claiming more widths than the file holds.
    std::string w("WGFICNN\0", 8);
    append<std::uint32_t>(w, 1), append<std::uint32_t>(w, 8), append<std::uint32_t>(w, 2);
    append<std::uint32_t>(w, 1), append<std::uint32_t>(w, 1), append<std::uint32_t>(w, 0);
    append<double>(w, 0.0), append<std::uint32_t>(w, 0x80000000u);
    write(dir / "w.wgficnn", w);
    std::string m = refused([&] { (void)Icnn<double>::load(dir / "w.wgficnn"); });
    CHECK_MESSAGE(contains(m, "'widths' at byte 40 is 2147483648, out of range"), m);
    std::string d = w.substr(0, 24);
    append<std::uint32_t>(d, 1000), append<std::uint32_t>(d, 0), append<double>(d, 0.0);
    write(dir / "d.wgficnn", d);
    m = refused([&] { (void)Icnn<double>::load(dir / "d.wgficnn"); });
    CHECK_MESSAGE(contains(m, "'depth' at byte 24 claims 1000 items"), m);
}

TEST_CASE("a version-1 flow file claiming D = 100000 is refused before its D + D*D values are allocated") {
    std::string f("WGFFLOW\0", 8);
    append<std::uint32_t>(f, 1), append<std::uint32_t>(f, 100000), append<std::uint32_t>(f, 0);
    f.append(64, '\0');
    const std::string msg = refused([&] { (void)Flow<double>::from_bytes(f, "flow file 'v1'"); });
    CHECK_MESSAGE((contains(msg, "rho0 mean and covariance") && contains(msg, "at byte 20")), msg);
}

TEST_CASE("ICNN files: s < 0, s not finite, c < 0 and C_l < 0 are refused naming the field and offset") {
    TempDir dir;
    const auto net = random_icnn<double>(IcnnShape::uniform(2, 3), 1);
    net.save(dir / "ok.wgficnn");
    const std::string ok = slurp(dir / "ok.wgficnn");
    const auto with_s = [&](double s) {
        std::string b = ok.substr(0, ok.size() - 8);
        std::memcpy(&b[32], &s, 8);
        put_checksum(b);
        write(dir / "s.wgficnn", b);
        return refused([&] { (void)Icnn<double>::load(dir / "s.wgficnn"); });
    };
    std::string msg = with_s(-1e-3);
    CHECK_MESSAGE(contains(msg, "'strong_convexity' at byte 32 is -0.001, must be finite and >= 0"), msg);
    msg = with_s(std::numeric_limits<double>::infinity());
    CHECK_MESSAGE(contains(msg, "'strong_convexity' at byte 32"), msg);

    // Icnn::save refuses non-convex networks, so these files are patched by hand: parameter i is the
    // f64 at byte 56 + 8 i (header of 40 bytes, 2 widths, the u64 count), then the checksum again.
    const auto with_param = [&](std::size_t i, double v, const std::string& name) {
        std::string b = ok.substr(0, ok.size() - 8);
        std::memcpy(&b[56 + 8 * i], &v, 8);
        put_checksum(b);
        write(dir / name, b);
    };
    CHECK(contains(refused([&] {
                       auto neg = net;
                       neg.data()[neg.layout().c + 1] = -0.25;
                       neg.save(dir / "never.wgficnn");
                   }),
                   "not convex"));
    with_param(net.layout().c + 1, -0.25, "c.wgficnn");
    msg = refused([&] { (void)Icnn<double>::load(dir / "c.wgficnn"); });
    CHECK_MESSAGE((contains(msg, "(c[1], byte ") && contains(msg, "must be >= 0")), msg);
    with_param(net.layout().layers[1].C, -1.0, "C.wgficnn");
    msg = refused([&] { (void)Icnn<float>::load(dir / "C.wgficnn"); });
    CHECK_MESSAGE(contains(msg, "(C_2[0], byte "), msg);
    CHECK(Icnn<double>::load(dir / "ok.wgficnn").params() == net.params());
}

TEST_CASE(".npy, raw points and run configs: counts beyond the file, bad shapes and huge matrices are wgf::Errors") {
    TempDir dir;
    const auto npy = [&](const std::string& shape, std::size_t data_bytes) {
        std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': " + shape + ", }";
        header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
        header.push_back('\n');
        std::string b("\x93NUMPY\x01\x00", 8);
        append<std::uint16_t>(b, static_cast<std::uint16_t>(header.size()));
        write(dir / "a.npy", b + header + std::string(data_bytes, '\0'));
        return refused([&] { (void)wgf_cli::npy_read(dir / "a.npy"); });
    };
    std::string msg = npy("(x, 2)", 16);  // was std::invalid_argument from std::stoll
    CHECK_MESSAGE(contains(msg, "bad shape entry 'x'"), msg);
    msg = npy("(2305843009213693952, 8)", 0);  // 2^61 · 8 values: × 8 bytes wraps to 0
    CHECK_MESSAGE(contains(msg, "data bytes for the shape"), msg);
    msg = npy("(-1, 2)", 16);
    CHECK_MESSAGE(contains(msg, "bad shape entry '-1'"), msg);

    write(dir / "p.f64", std::string(24, '\0'));
    msg = refused([&] { (void)wgf_cli::read_raw_f64(dir / "p.f64", 2, "points file"); });
    CHECK_MESSAGE(contains(msg, "24 bytes, not a positive whole number of float64 rows of D = 2"), msg);
    CHECK(wgf_cli::read_raw_f64(dir / "p.f64", 3, "points file").size() == 3);

    write(dir / "c.toml", "[flow]\ndim = 100000\ntau = 1.0\nsteps = 1\n[potential]\nkind = \"quadratic\"\n"
                          "[initial]\nkind = \"gaussian\"\n");
    msg = refused([&] { (void)wgf_cli::load_run_config(dir / "c.toml"); });
    CHECK_MESSAGE((contains(msg, "[flow] dim") && contains(msg, "100000x100000")), msg);
}
