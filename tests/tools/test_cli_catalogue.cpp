// test_cli_catalogue.cpp — the bad-input catalogue of the `wgf` command line, run as a user runs it
// (the built executable, stdout and stderr captured): for every subcommand and every option, values
// of the wrong type, missing, non-finite, wrapping (2^32 + 2, 2^64 + …) and out of range; unknown
// options; missing, truncated, corrupted input files, /dev/zero and folders as input files; output
// folders that are files or cannot be written; --json onto an existing file with a failing run;
// resuming checkpoints with other settings; and a run killed with SIGKILL and resumed, which must
// equal an uninterrupted run byte for byte. Every case asserts the exit status (2: usage error, 1:
// runtime error; never 0, never a signal) and a fragment of the message that names the option or file.
// Cases about reading input files are marked [reader] (the files' readers live in src/ and tools/).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cmath>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#ifndef WGF_TOOL
#error "WGF_TOOL (the wgf executable) must be defined"
#endif

extern char** environ;

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

struct Result {
    int status;  ///< exit status, or 128 + signal
    std::string out;
};

// Runs `wgf ARGS` through the shell (ARGS may quote), stdout and stderr to a file, killed after
// timeout_s (status 137).
Result wgf(const std::string& args, int timeout_s = 30, const std::string& prefix = "") {
    const std::string log = "cli-catalogue.log";
    const std::string cmd = prefix + "timeout -s KILL " + std::to_string(timeout_s) + " " + WGF_TOOL + " " + args + " > " +
                            log + " 2>&1";
    const int rc = std::system(cmd.c_str());
    std::ifstream in(log);
    Result r{WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc), std::string(std::istreambuf_iterator<char>(in), {})};
    std::remove(log.c_str());
    return r;
}

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}
void write(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

struct Case {
    std::string args;      ///< after `wgf`
    int status;            ///< 1 or 2
    std::string fragment;  ///< must occur in the output
    bool reader = false;   ///< [reader]: a case about reading an input file
};

// Runs one case; every bad input exits 1 or 2 with its message, never 0, never by a signal.
Result expect(const Case& c) {
    const Result r = wgf(c.args);
    INFO(std::string(c.reader ? "[reader] " : "") << "wgf " << c.args << "\nexit " << r.status << ", expected " << c.status
                                       << " and '" << c.fragment << "'\n"
                                       << r.out);
    CHECK(r.status == c.status);
    CHECK(r.out.find(c.fragment) != std::string::npos);
    CHECK(r.out.find("Aborted") == std::string::npos);
    CHECK(r.out.find("terminate called") == std::string::npos);
    return r;
}

// " --opt VALUE", or " --opt=VALUE" when VALUE would read as a short option ("-inf").
std::string option_arg(const std::string& opt, const std::string& v) {
    const bool dash = v.size() > 1 && v[0] == '-' && !std::isdigit(static_cast<unsigned char>(v[1])) && v[1] != '.';
    return " --" + opt + (dash ? "=" : " ") + v;
}

// The tiny OU configuration (D = 2, one instance, 2 steps of 5 iterations): a run that wrongly gets
// past its validation ends in well under a second, with exit 0, and the case fails.
const std::string kOuTiny = "ou --dims 2 --instances 1 --steps 2 --iterations 5 --batch 32 --width 4 "
                            "--pretrain-iterations 5 --eval-points 64 --eval-times 0.1 --threads 1 --quiet";

// Every malformed value of an integer option in [lo, hi]: wrong type, wrapping, saturating, out of
// range, empty, and the option without its value.
void integer_cases(std::vector<Case>& cases, const std::string& base, const std::string& opt, std::int64_t lo,
                   std::int64_t hi) {
    const std::string what = "usage error: --" + opt + ": expected an integer in [" + std::to_string(lo) + ", " +
                             std::to_string(hi) + "], got ";
    const std::vector<std::string> values = {"abc",  "1.5",        "0x10", "2e3",  "4294967298", "99999999999999999999",
                                             "-4294967295", std::to_string(lo - 1), std::to_string(hi + 1), "nan", "''", "' 3'"};
    for (const std::string& v : values) cases.push_back({base + option_arg(opt, v), 2, what});
    cases.push_back({base + " --" + opt, 2, "usage error: --" + opt});  // no value
}

void seed_cases(std::vector<Case>& cases, const std::string& base, const std::string& opt = "seed") {
    const std::string what = "usage error: --" + opt + ": expected an integer in [0, 18446744073709551615]";
    for (const std::string v : {"-1", "abc", "18446744073709551616", "1e3", "''"})
        cases.push_back({base + option_arg(opt, v), 2, what});
}

// A finite real option: text, NaN, ±inf, overflow, and the values below its range.
void real_cases(std::vector<Case>& cases, const std::string& base, const std::string& opt,
                const std::vector<std::string>& below) {
    const std::string what = "usage error: --" + opt + ": expected a finite number";
    std::vector<std::string> values = {"abc", "nan", "NaN", "inf", "-inf", "1e999", "''", "1.0x"};
    values.insert(values.end(), below.begin(), below.end());
    for (const std::string& v : values) cases.push_back({base + option_arg(opt, v), 2, what});
    cases.push_back({base + " --" + opt, 2, "usage error: --" + opt});
}

void common_cases(std::vector<Case>& cases, const std::string& base) {
    cases.push_back({base + " --bogus 1", 2, "usage error: The following argument"});
    cases.push_back({base + " --bogus", 2, "--bogus"});
    cases.push_back({base + " stray", 2, "stray"});
}

bool cuda_visible() { return wgf("info").out.find("cuda available: yes") != std::string::npos; }

// The tiny OU run with checkpoints, as a child process (for SIGKILL).
pid_t spawn_wgf(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    std::string tool = WGF_TOOL;
    argv.push_back(tool.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, tool.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE(rc == 0);
    return pid;
}

json read_json(const std::string& path) {
    std::ifstream in(path);
    REQUIRE(in.good());
    return json::parse(in);
}

// Fixtures: a small net, points, broken copies of both, a folder, a config for `run` and `em`.
const char* kConfig = R"([flow]
dim = 2
tau = 0.1
steps = 2

[potential]
kind = "quadratic"
A = [[1.0, 0.0], [0.0, 2.0]]

[initial]
kind = "gaussian"
variance = 1.0

[network]
width = 8

[training]
iterations = 3
batch = 32
init = "identity"

[output]
dir = "cat-run-out"
samples = 8
metric_samples = 16
)";

void make_fixtures() {
    fs::create_directories("cat-dir");
    REQUIRE(wgf("icnn-init --dim 2 --widths 4,4 --out cat-net.wgficnn").status == 0);
    const std::string net = slurp("cat-net.wgficnn");
    REQUIRE(net.size() > 64);
    write("cat-net-truncated.wgficnn", net.substr(0, net.size() / 2));
    std::string corrupted = net;
    corrupted[corrupted.size() / 2] = static_cast<char>(corrupted[corrupted.size() / 2] ^ 0x5a);
    write("cat-net-corrupted.wgficnn", corrupted);
    write("cat-net-text.wgficnn", "this is not a network\n");
    write("cat-empty", "");
    const double x[6] = {0.1, -0.2, 0.3, 0.4, -1.0, 0.5};
    write("cat-x.f64", std::string(reinterpret_cast<const char*>(x), sizeof x));
    write("cat-x-truncated.f64", std::string(reinterpret_cast<const char*>(x), sizeof x - 3));
    write("cat-x-odd-row.f64", std::string(reinterpret_cast<const char*>(x), 3 * sizeof(double)));
    write("cat-file", "a regular file\n");
    write("cat-run.toml", kConfig);
    write("cat-run-truncated.toml", std::string(kConfig).substr(0, 30));
}

void remove_fixtures() {
    for (const auto& e : fs::directory_iterator("."))
        if (e.path().filename().string().rfind("cat-", 0) == 0) fs::remove_all(e.path());
}

}  // namespace

TEST_CASE("wgf ou: every option's bad values are usage errors naming the option") {
    std::vector<Case> cases;
    const std::string& b = kOuTiny;
    const struct {
        const char* opt;
        std::int64_t lo, hi;
    } ints[] = {{"dims", 1, 100000},          {"instances", 1, 1000000},
                {"first-instance", 0, 1000000000}, {"width", 1, 65536},
                {"depth", 1, 64},             {"rank", 1, 4096},
                {"steps", 1, 1000000},        {"iterations", 1, 100000000},
                {"batch", 1, 100000000},      {"pool-size", 0, 1000000000},
                {"pretrain-iterations", 0, 100000000}, {"eval-points", 2, 100000000},
                {"threads", 0, 4096}};
    for (const auto& o : ints) integer_cases(cases, b, o.opt, o.lo, o.hi);
    seed_cases(cases, b);
    for (const char* opt : {"tau", "lr", "beta"}) real_cases(cases, b, opt, {"0", "-1", "-0.0", "1e-400"});
    real_cases(cases, b, "eval-times", {"-0.05", "0.1,-1"});
    // Lists: an empty element is refused, not skipped.
    cases.push_back({b + " --dims 2,,3", 2, "usage error: --dims: expected an integer in [1, 100000], got ''"});
    cases.push_back({b + " --dims 2,", 2, "usage error: --dims: expected an integer"});
    cases.push_back({b + " --dims 2,4294967298", 2, "got '4294967298'"});
    cases.push_back({b + " --eval-times 0.1,,0.05", 2, "usage error: --eval-times: expected a finite number"});
    for (const char* opt : {"init", "pool", "precision", "backend"})
        cases.push_back({b + " --" + opt + " bogus", 2, std::string("usage error: --") + opt + ": bogus not in"});
    common_cases(cases, b);
    // The reviewer's cases: wrapped integers ran 2 steps / nothing; times between steps were dropped.
    cases.push_back({b + " --steps 4294967298", 2, "--steps: expected an integer in [1, 1000000], got '4294967298'"});
    cases.push_back({b + " --first-instance 2147483647", 2, "--first-instance: expected an integer in [0, 1000000000]"});
    cases.push_back({b + " --eval-times nan", 2, "--eval-times: expected a finite number >= 0, got 'nan'"});
    cases.push_back({b + " --steps 3 --eval-times 0.9,0.05", 2, "--eval-times: 0.9 is after the last step"});
    cases.push_back({b + " --eval-times 0.07", 2, "--eval-times: 0.07 is not a multiple of tau = 0.05"});
    cases.push_back({b + " --eval-times 0.025", 2, "--eval-times: 0.025 is not a multiple of tau"});
    cases.push_back({b + " --eval-times 0.05,0.05", 2, "--eval-times: 0.05 is given twice"});
    cases.push_back({b + " --eval-times 1e300", 2, "--eval-times: 1e+300 is after the last step"});
    cases.push_back({b + " --tau 1e307 --steps 1000", 2, "--tau: steps x tau is not finite"});
    for (const Case& c : cases) expect(c);
    MESSAGE(cases.size() << " wgf ou option cases");
}

TEST_CASE("wgf icnn-init / icnn-eval / jko-loss: bad values and bad files") {
    make_fixtures();
    std::vector<Case> cases;
    // icnn-init
    const std::string init = "icnn-init --dim 2 --widths 4 --out cat-init.wgficnn";
    integer_cases(cases, init, "dim", 1, 100000);
    integer_cases(cases, init, "widths", 1, 65536);
    integer_cases(cases, init, "rank", 1, 4096);
    seed_cases(cases, init);
    real_cases(cases, init, "strong-convexity", {"-1", "-1e-300"});
    cases.push_back({init + " --widths 4,,4", 2, "--widths: expected an integer in [1, 65536], got ''"});
    cases.push_back({"icnn-init --widths 4 --out cat-init.wgficnn", 2, "usage error: --dim is required"});
    cases.push_back({"icnn-init --dim 2 --out cat-init.wgficnn", 2, "usage error: --widths is required"});
    cases.push_back({"icnn-init --dim 2 --widths 4", 2, "usage error: --out is required"});
    common_cases(cases, init);
    cases.push_back({"icnn-init --dim 2 --widths 4 --out cat-missing/x.wgficnn", 1, "the folder 'cat-missing' does not exist"});
    cases.push_back({"icnn-init --dim 2 --widths 4 --out cat-dir", 1, "--out 'cat-dir' is a folder"});
    cases.push_back({"icnn-init --dim 2 --widths 4 --out cat-file/x", 1, "'cat-file' is not a folder"});
    // A network too large for memory: a message, not a bare std::bad_alloc (the library refuses the
    // shape, or the tool refuses the allocation).
    cases.push_back({"icnn-init --dim 40000 --widths 65536 --out cat-big.wgficnn", 1, "parameters"});
    cases.push_back({"icnn-init --dim 100000 --widths 100000 --out cat-big.wgficnn", 2, "--widths: expected an integer"});

    // icnn-eval
    const std::string eval = "icnn-eval --net cat-net.wgficnn --random 4 --out cat-eval";
    integer_cases(cases, eval, "random", 1, 100000000);
    seed_cases(cases, eval);
    cases.push_back({eval + " --backend bogus", 2, "usage error: --backend: bogus not in"});
    cases.push_back({"icnn-eval --net cat-net.wgficnn --out cat-eval", 2, "give exactly one of --random N and --points FILE"});
    cases.push_back({eval + " --points cat-x.f64", 2, "usage error: --random excludes --points"});
    cases.push_back({"icnn-eval --random 4 --out cat-eval", 2, "usage error: --net is required"});
    cases.push_back({"icnn-eval --net cat-net.wgficnn --random 4", 2, "usage error: --out is required"});
    common_cases(cases, eval);
    cases.push_back({"icnn-eval --net cat-net.wgficnn --random 4 --out cat-missing/e", 1, "'cat-missing' does not exist"});
    // jko-loss
    const std::string loss = "jko-loss --net cat-net.wgficnn --points cat-x.f64 --A 1,0,0,1 --m 0,0 --out cat-L";
    real_cases(cases, loss, "tau", {"0", "-1"});
    real_cases(cases, loss, "beta", {"0", "-1"});
    real_cases(cases, loss, "A", {"1,0,0,nan"});
    real_cases(cases, loss, "m", {"0,inf"});
    integer_cases(cases, loss, "threads", 0, 4096);
    cases.push_back({loss + " --A 1,0,0", 2, "usage error: --A: 3 numbers, expected D*D = 4"});
    cases.push_back({loss + " --A 1,,0,1", 2, "usage error: --A: expected a finite number, got ''"});
    cases.push_back({loss + " --A 1 --m 0", 1, "--m has 1 numbers, but the network 'cat-net.wgficnn' has D = 2"});
    cases.push_back({loss + " --A -1,0,0,-1", 1, "not positive definite"});
    for (const char* opt : {"net", "points", "A", "m", "out"}) {
        std::string args = loss;
        const std::size_t at = args.find(std::string(" --") + opt + " ");
        const std::size_t end = args.find(' ', at + 4 + std::string(opt).size());
        args.erase(at, end == std::string::npos ? std::string::npos : end - at);
        cases.push_back({args, 2, std::string("usage error: --") + opt + " is required"});
    }
    common_cases(cases, loss);
    cases.push_back({loss + " --out cat-missing/L", 1, "'cat-missing' does not exist"});

    // [reader] input files: missing, a folder, /dev/zero, empty, truncated, corrupted, not a network.
    const std::vector<std::pair<std::string, std::string>> bad_nets = {
        {"cat-missing.wgficnn", "cat-missing.wgficnn"}, {"cat-dir", "cat-dir"},
        {"/dev/zero", "/dev/zero"},                     {"cat-empty", "cat-empty"},
        {"cat-net-truncated.wgficnn", "cat-net-truncated.wgficnn"},
        {"cat-net-corrupted.wgficnn", "cat-net-corrupted.wgficnn"},
        {"cat-net-text.wgficnn", "cat-net-text.wgficnn"}};
    for (const auto& [file, fragment] : bad_nets) {
        cases.push_back({"icnn-eval --net " + file + " --random 4 --out cat-eval", 1, fragment, true});
        cases.push_back({"jko-loss --net " + file + " --points cat-x.f64 --A 1,0,0,1 --m 0,0 --out cat-L", 1, fragment, true});
    }
    const std::vector<std::string> bad_points = {"cat-missing.f64", "cat-dir", "/dev/zero", "cat-empty",
                                                 "cat-x-truncated.f64", "cat-x-odd-row.f64"};
    for (const std::string& file : bad_points) {
        cases.push_back({"icnn-eval --net cat-net.wgficnn --points " + file + " --out cat-eval", 1, file, true});
        if (file != "cat-x-odd-row.f64")  // 3 values are a whole number of float64s; jko-loss checks rows below
            cases.push_back({"jko-loss --net cat-net.wgficnn --points " + file + " --A 1,0,0,1 --m 0,0 --out cat-L", 1,
                             file, true});
    }
    cases.push_back({"jko-loss --net cat-net.wgficnn --points cat-x-odd-row.f64 --A 1,0,0,1 --m 0,0 --out cat-L", 1,
                     "cat-x-odd-row.f64", true});
    if (!cuda_visible()) {
        cases.push_back({eval + " --backend cuda", 1, "icnn-eval: error:"});
    }
    for (const Case& c : cases) expect(c);
    MESSAGE(cases.size() << " icnn-init / icnn-eval / jko-loss cases");

    // The good commands of the same catalogue work (so that each case fails for its own reason).
    CHECK(wgf(init).status == 0);
    CHECK(wgf(eval).status == 0);
    CHECK(wgf("icnn-eval --net cat-net.wgficnn --points cat-x.f64 --out cat-eval").status == 0);
    CHECK(wgf(loss).status == 0);
    CHECK(wgf(loss + " --A -1,0,0,1 --A 1,0,0,1").status == 0);  // repeated: the last one counts
    remove_fixtures();
}

TEST_CASE("wgf run / wgf em: bad options, bad files, unwritable outputs") {
    make_fixtures();
    std::vector<Case> cases;
    const std::string em = "em cat-run.toml --particles 50 --eval 50 --energy-points 0";
    cases.push_back({em + " --particles 50,,60", 2, "usage error: --particles: expected an integer in [2, 100000000], got ''"});
    integer_cases(cases, em, "particles", 2, 100000000);
    integer_cases(cases, em, "eval", 2, 100000000);
    integer_cases(cases, em, "energy-points", 0, 1000000);
    seed_cases(cases, em);
    real_cases(cases, em, "dt", {"0", "-1"});
    cases.push_back({em + " --dt 1e-300", 1, "--dt 1e-300:"});
    cases.push_back({"em --particles 50", 2, "usage error: config is required"});
    common_cases(cases, "em cat-run.toml");
    cases.push_back({em + " --json cat-missing/em.json", 1, "--json 'cat-missing/em.json': the folder 'cat-missing' does not exist"});
    cases.push_back({em + " --json cat-dir", 1, "--json 'cat-dir' is a folder"});
    cases.push_back({"run", 2, "usage error: config is required"});
    cases.push_back({"", 2, "usage: wgf <command>"});
    cases.push_back({"bogus-command --x 1", 2, "wgf: unknown command 'bogus-command'"});
    cases.push_back({"info --bogus", 2, "wgf info: usage error: unexpected argument '--bogus'"});
    cases.push_back({"run cat-run.toml --bogus", 2, "usage error: The following argument"});
    cases.push_back({"run cat-run.toml --set", 2, "usage error: --set"});
    cases.push_back({"run cat-run.toml --check --set flow.tau=nan", 1, "tau"});
    cases.push_back({"run cat-run.toml --check --set flow.steps=4294967298", 1, "steps"});
    cases.push_back({"run cat-run.toml --quiet --set 'output.dir=\"cat-file\"'", 1, "'cat-file' exists and is not a folder"});
    cases.push_back({"run cat-run.toml --quiet --set 'output.dir=\"cat-file/out\"'", 1, "cat-file/out"});
    // [reader] config files and the files they name.
    for (const std::string file : {"cat-missing.toml", "cat-dir", "/dev/zero", "cat-run-truncated.toml", "cat-net.wgficnn"}) {
        cases.push_back({"run " + file + " --check", 1, file, true});
        cases.push_back({"em " + file + " --particles 50", 1, file, true});
    }
    for (const std::string file : {"cat-missing.npy", "cat-dir", "/dev/zero", "cat-x.f64", "cat-empty"})
        cases.push_back({"run cat-run.toml --quiet --set 'output.points=\"" + fs::absolute(file).string() + "\"'", 1,
                         file, true});
    for (const std::string file : {"cat-missing.wgfflow", "cat-dir", "/dev/zero", "cat-net.wgficnn", "cat-empty"})
        cases.push_back({"run cat-run.toml --check --set 'initial.kind=\"flow-end\"' --set 'initial.path=\"" +
                             fs::absolute(file).string() + "\"'",
                         1, file, true});
    for (const Case& c : cases) expect(c);
    MESSAGE(cases.size() << " wgf run / em cases");
    CHECK(wgf(em).status == 0);
    CHECK(wgf("run cat-run.toml --quiet").status == 0);
    remove_fixtures();
}

TEST_CASE("wgf filter: bad options, bad observation files, unwritable outputs; a tiny study runs") {
    make_fixtures();
    // A tiny filtering run (1 run, 4-unit maps, 2 iterations per step, 16 chains): about a second.
    const std::string f = "filter --runs 1 --out cat-filter --particles 100 --width 4 --iterations 2 --batch 8 "
                          "--chains 16 --warmup 1 --threads 1 --quiet";
    std::vector<Case> cases;
    integer_cases(cases, f, "runs", 1, 10000);
    integer_cases(cases, f, "first-run", 0, 1000000);
    integer_cases(cases, f, "width", 1, 65536);
    integer_cases(cases, f, "depth", 1, 64);
    integer_cases(cases, f, "iterations", 1, 10000000);
    integer_cases(cases, f, "batch", 1, 100000000);
    integer_cases(cases, f, "pretrain-iterations", 0, 10000000);
    integer_cases(cases, f, "chains", 2, 1 << 26);
    integer_cases(cases, f, "warmup", 0, 1000000);
    integer_cases(cases, f, "thin", 1, 10000);
    integer_cases(cases, f, "threads", 0, 4096);
    seed_cases(cases, f);
    real_cases(cases, f, "tau", {"0", "-1"});
    real_cases(cases, f, "lr", {"0", "-1"});
    real_cases(cases, f, "lr-end-ratio", {"0", "-0.5", "1.5"});
    real_cases(cases, f, "average-tail", {"-0.5", "1.5"});
    cases.push_back({f + " --particles 100,,50", 2, "usage error: --particles"});
    cases.push_back({f + " --sampler mcmc", 2, "usage error: --sampler"});
    cases.push_back({f + " --precision half", 2, "usage error: --precision"});
    cases.push_back({f + " --init random", 2, "usage error: --init"});
    cases.push_back({"filter --runs 1", 2, "usage error: --out is required"});
    common_cases(cases, f);
    cases.push_back({f + " --tau 0.3", 1, "is not a whole multiple of --tau 0.3"});
    cases.push_back({"filter --out cat-file --quiet", 1, "cat-file"});
    cases.push_back({"filter --out cat-file/sub --quiet", 1, "cat-file/sub"});
    // [reader] observation files.
    write("cat-obs-bad.txt", "# wgf filtering observations: t y x\n0.5 abc nan\n");
    write("cat-obs-decreasing.txt", "# wgf filtering observations: t y x\n1.0 0.3 nan\n0.5 0.2 nan\n");
    for (const std::string file : {"cat-missing.txt", "cat-dir", "/dev/zero", "cat-net.wgficnn", "cat-obs-bad.txt"})
        cases.push_back({f + " --observations " + file, 1, file, true});
    cases.push_back({f + " --observations cat-obs-decreasing.txt", 1, "increase", true});
    for (const Case& c : cases) expect(c);
    MESSAGE(cases.size() << " wgf filter cases");
    // The tiny study runs and writes what it promises; its own observations file filters again.
    REQUIRE(wgf(f, 300).status == 0);  // about 1 s; a sanitizer build needs tens of seconds
    for (const std::string file : {"summary.json", "run-00/observations.txt", "run-00/cc.npy", "run-00/jko.npy",
                                   "run-00/bbf-100.npy"})
        CHECK(fs::exists("cat-filter/" + file));
    const json summary = json::parse(slurp("cat-filter/summary.json"));
    CHECK(summary["runs"].size() == 1);
    CHECK(summary["runs"][0]["jko"]["blocks"].size() == 10);
    CHECK(std::isfinite(summary["sym_kl"]["jko"]["median"].get<double>()));
    CHECK(wgf(f + " --observations cat-filter/run-00/observations.txt --out cat-filter-2", 300).status == 0);
    CHECK(fs::exists("cat-filter-2/run-00/jko.npy"));
    remove_fixtures();
}

TEST_CASE("wgf posterior: bad options and datasets are refused before training; a tiny run works") {
    make_fixtures();
    // A tiny run on german: 1 step of 5 iterations, 16-unit maps, 20 SVGD particles, 4 short MALA chains.
    const std::string data = std::string(WGF_DATA_DIR) + "/logreg";
    const std::string p = "posterior --data-dir " + data + " --out cat-post --steps 1 --iterations 5 --batch 32 "
                          "--width 16 --pretrain-iterations 5 --svgd-particles 20 --svgd-iterations 5 --mala-chains 4 "
                          "--mala-warmup 10 --mala-draws 10 --eval-samples 64 --threads 1 --quiet";
    std::vector<Case> cases;
    integer_cases(cases, p, "steps", 1, 100000);
    integer_cases(cases, p, "iterations", 1, 10000000);
    integer_cases(cases, p, "batch", 1, 100000000);
    integer_cases(cases, p, "width", 1, 65536);
    integer_cases(cases, p, "minibatch", -1, 100000000);
    integer_cases(cases, p, "eval-samples", 2, 100000000);
    integer_cases(cases, p, "svgd-particles", 0, 1000000);
    integer_cases(cases, p, "mala-chains", 0, 1000000);
    integer_cases(cases, p, "mala-draws", 4, 100000000);
    integer_cases(cases, p, "divergence-retries", 0, 100);
    seed_cases(cases, p);
    real_cases(cases, p, "tau", {"0", "-1"});
    real_cases(cases, p, "lr", {"0", "-1"});
    real_cases(cases, p, "log-alpha-clip", {"0", "0.5", "701"});
    real_cases(cases, p, "prior-clip", {"0", "0.5", "701"});
    real_cases(cases, p, "pretrain-wide-variance", {"-1"});
    cases.push_back({p + " --init random", 2, "usage error: --init"});
    cases.push_back({p + " --precision half", 2, "usage error: --precision"});
    cases.push_back({p + " --start mode", 2, "usage error: --start"});
    cases.push_back({"posterior --datasets german", 2, "usage error: --out is required"});
    common_cases(cases, p);
    cases.push_back({p + " --datasets german,,banana", 1, "an empty name"});
    cases.push_back({p + " --datasets covtype", 1, "covtype", true});  // not stored (not available offline)
    cases.push_back({p + " --datasets german --data-dir cat-dir", 1, "cat-dir", true});
    cases.push_back({p + " --out cat-file", 1, "cat-file"});
    cases.push_back({p + " --reference-dir cat-dir", 1, "cat-dir/german/mala-samples.npy", true});
    for (const Case& c : cases) expect(c);
    MESSAGE(cases.size() << " wgf posterior cases");
    REQUIRE(wgf(p, 300).status == 0);
    for (const std::string file : {"summary.json", "german/jko-samples.npy", "german/jko-logdensity.npy",
                                   "german/svgd-samples.npy", "german/mala-samples.npy"})
        CHECK(fs::exists("cat-post/" + file));
    const json summary = json::parse(slurp("cat-post/summary.json"));
    const json& g = summary["datasets"][0];
    for (const char* m : {"jko", "svgd", "mala"}) {
        const double acc = g[m]["accuracy"].get<double>();
        CHECK(acc >= 0.0);
        CHECK(acc <= 1.0);
        CHECK(std::isfinite(g[m]["log_lik"].get<double>()));
    }
    CHECK(std::isfinite(g["jko"]["vs_mala"]["energy_distance"].get<double>()));
    // The default start: the Laplace frame (Newton converged, a finite log det of the covariance).
    CHECK(summary["settings"]["start"] == "laplace");
    CHECK(g["laplace"]["newton_steps"].get<int>() >= 1);
    CHECK(std::isfinite(g["laplace"]["log_det_covariance"].get<double>()));
    // The reference's start, from the prior.
    // With a data minibatch: SVGD's result depends on its own settings only, not on the JKO flow's
    // evaluations before it (each method has its own minibatch stream).
    const std::string svgd = " --minibatch 64 --svgd-particles 20 --svgd-iterations 5 --reference-dir cat-post";
    const std::string prior_run = "posterior --data-dir " + data + " --out cat-post-prior --start prior --steps 1 "
                                  "--iterations 5 --batch 32 --width 16 --pretrain-iterations 5 --eval-samples 64 "
                                  "--threads 1 --quiet" + svgd;
    REQUIRE(wgf(prior_run, 300).status == 0);
    const json gp = json::parse(slurp("cat-post-prior/summary.json"))["datasets"][0];
    CHECK(!gp.contains("laplace"));
    CHECK(std::isfinite(gp["jko"]["log_lik"].get<double>()));
    REQUIRE(wgf("posterior --data-dir " + data + " --out cat-post-svgd --no-jko --threads 1 --quiet" + svgd, 300).status == 0);
    CHECK(slurp("cat-post-prior/german/svgd-samples.npy") == slurp("cat-post-svgd/german/svgd-samples.npy"));
    // The baselines alone against the first run's MALA samples; a reference of the wrong shape is
    // refused before any work.
    const std::string q = "posterior --data-dir " + data + " --no-jko --reference-dir cat-post --svgd-particles 20 "
                          "--svgd-iterations 5 --threads 1 --quiet";
    REQUIRE(wgf(q + " --out cat-post2", 300).status == 0);
    const json g2 = json::parse(slurp("cat-post2/summary.json"))["datasets"][0];
    CHECK(!g2.contains("jko"));
    CHECK(!g2.contains("mala"));
    CHECK(g2["reference"]["accuracy"].get<double>() == g["mala"]["accuracy"].get<double>());
    CHECK(std::isfinite(g2["svgd"]["vs_mala"]["energy_distance"].get<double>()));
    CHECK(!fs::exists("cat-post2/german/jko-samples.npy"));
    fs::create_directories("cat-ref/german");
    fs::copy_file("cat-post/german/jko-logdensity.npy", "cat-ref/german/mala-samples.npy");
    expect({q + " --reference-dir cat-ref --out cat-post3", 1, "must hold [n >= 2][21] samples of german"});
    fs::remove_all("cat-ref");
    remove_fixtures();
}

TEST_CASE("outputs: checkpoint folders and output files are checked before training; --json is atomic") {
    make_fixtures();
    const std::string& b = kOuTiny;
    std::vector<Case> cases = {
        {b + " --checkpoint-dir cat-file", 1, "--checkpoint-dir 'cat-file' exists and is not a folder"},
        {b + " --checkpoint-dir cat-file/ck", 1, "--checkpoint-dir: cannot create the folder 'cat-file/ck'"},
        {b + " --json cat-missing/ou.json", 1, "--json 'cat-missing/ou.json': the folder 'cat-missing' does not exist"},
        {b + " --json cat-dir", 1, "--json 'cat-dir' is a folder"},
        {b + " --json ''", 1, "--json: the path is empty"},
        {b + " --checkpoint-dir ''", 1, "--checkpoint-dir: the path is empty"},
        {b + " --json cat-file/ou.json", 1, "'cat-file' is not a folder"},
    };
    // A read-only location (root ignores file modes; /sys refuses everyone).
    if (fs::is_directory("/sys")) {
        cases.push_back({b + " --checkpoint-dir /sys", 1, "--checkpoint-dir: cannot write in the folder '/sys'"});
        cases.push_back({b + " --checkpoint-dir /sys/wgf-catalogue/ck", 1, "--checkpoint-dir: cannot create the folder"});
        cases.push_back({b + " --json /sys/wgf-catalogue.json", 1, "cannot write in the folder '/sys'"});
        cases.push_back({"icnn-init --dim 2 --widths 4 --out /sys/cat.wgficnn", 1, "cannot write in the folder '/sys'"});
        cases.push_back({"run cat-run.toml --quiet --set 'output.dir=\"/sys\"'", 1, "[output] dir: cannot write in the folder '/sys'"});
        cases.push_back({"em cat-run.toml --particles 50 --json /sys/em.json", 1, "cannot write in the folder '/sys'"});
    } else {
        MESSAGE("no /sys: the read-only cases are skipped");
    }
    // An instance folder under the checkpoint folder that is a file.
    fs::create_directories("cat-ck");
    write("cat-ck/ou-d2-i0", "not a folder");
    cases.push_back({b + " --checkpoint-dir cat-ck", 1, "'cat-ck/ou-d2-i0' exists and is not a folder"});
    if (!cuda_visible()) cases.push_back({b + " --backend cuda", 1, "--backend cuda: no CUDA device is visible"});
    for (const Case& c : cases) {
        // Before training: the table's header (printed just before the first instance trains) is absent.
        CHECK(expect(c).out.find("SymKL@") == std::string::npos);
    }
    MESSAGE(cases.size() << " output cases");

    // --json onto an existing file: a bad option, an unwritable checkpoint folder or a failure during
    // the run leaves it as it was; a good run replaces it with the results.
    const std::string keep = "[precious results]\n";
    write("cat-ou.json", keep);
    CHECK(wgf(b + " --json cat-ou.json --steps abc").status == 2);
    CHECK(slurp("cat-ou.json") == keep);
    CHECK(wgf(b + " --json cat-ou.json --checkpoint-dir cat-file").status == 1);
    CHECK(slurp("cat-ou.json") == keep);
    fs::remove_all("cat-ck");
    REQUIRE(wgf(b + " --checkpoint-dir cat-ck").status == 0);
    const Result failing = wgf(b + " --checkpoint-dir cat-ck --json cat-ou.json --seed 7");  // fails while running
    CHECK(failing.status == 1);
    CHECK(slurp("cat-ou.json") == keep);
    write("cat-em.json", keep);
    CHECK(wgf("em cat-missing.toml --json cat-em.json").status == 1);
    CHECK(slurp("cat-em.json") == keep);
    REQUIRE(wgf(b + " --json cat-ou.json").status == 0);
    json j = read_json("cat-ou.json");
    REQUIRE(j.size() == 1);
    CHECK(j[0]["dim"] == 2);
    remove_fixtures();
}

TEST_CASE("wgf ou --eval-times: each column is its time (print and JSON), in the order asked") {
    remove_fixtures();
    const Result r = wgf("ou --dims 2 --instances 1 --steps 3 --iterations 5 --batch 32 --width 4 --pretrain-iterations 5 "
                         "--eval-points 64 --threads 1 --quiet --eval-times 0.1,0.05,0 --json cat-times.json");
    INFO(r.out);
    REQUIRE(r.status == 0);
    CHECK(r.out.find("SymKL@0.1  SymKL@0.05") != std::string::npos);
    const std::size_t a = r.out.find("t=0.1 SymKL"), b = r.out.find("t=0.05 SymKL"), c = r.out.find("t=0 SymKL");
    CHECK(a != std::string::npos);
    CHECK(b != std::string::npos);
    CHECK(c != std::string::npos);
    CHECK(a < b);
    CHECK(b < c);
    json j = read_json("cat-times.json");
    REQUIRE(j.size() == 1);
    const json& e = j[0]["evaluations"];
    REQUIRE(e.size() == 3);
    CHECK(e[0]["t"].get<double>() == doctest::Approx(0.1));
    CHECK(e[0]["step"] == 2);
    CHECK(e[1]["t"].get<double>() == doctest::Approx(0.05));
    CHECK(e[1]["step"] == 1);
    CHECK(e[2]["step"] == 0);
    CHECK(std::fabs(e[2]["sym_kl"].get<double>()) < 0.05);  // ρ⁰ against the OU marginal at t = 0: itself
    REQUIRE(j[0]["times"].size() == 3);
    CHECK(j[0]["times"][0].get<double>() == doctest::Approx(0.1));
    CHECK(j[0]["sym_kl"][1] == e[1]["sym_kl"]);
    remove_fixtures();
}

TEST_CASE("an allocation that cannot succeed is a message, not a bare std::bad_alloc") {
    // Address space limited to 4 GB: the pool of 16 × 10^8 points cannot be allocated.
    const Result r = wgf("ou --dims 2 --instances 1 --steps 1 --iterations 1 --batch 100000000 --init identity "
                         "--eval-points 64 --eval-times 0.05 --threads 1 --quiet",
                         60, "ulimit -v 4000000; ");
    INFO(r.out);
    if (r.out.find("Sanitizer") != std::string::npos) {
        MESSAGE("sanitizer build: the address-space limit case is skipped");
        return;
    }
    CHECK(r.status == 1);
    CHECK(r.out.find("wgf ou: error: out of memory while allocating the flow of D = 2, instance 0 (batch 100000000") !=
          std::string::npos);
}

TEST_CASE("resuming checkpoints made with other settings is refused, naming each differing setting") {
    remove_fixtures();
    const std::string run = kOuTiny + " --checkpoint-dir cat-resume";
    REQUIRE(wgf(run).status == 0);
    const struct {
        std::string change, field;
    } changes[] = {{" --seed 1", "seed"}, {" --tau 0.1 --eval-times 0.2", "tau"}, {" --beta 2", "beta"}, {" --lr 1e-3", "lr"}};
    for (const auto& c : changes) {
        const Result r = wgf(run + c.change);
        INFO("changed:" << c.change << "\n" << r.out);
        CHECK(r.status == 1);
        CHECK(r.out.find("wgf ou: error:") != std::string::npos);
        CHECK(r.out.find(c.field) != std::string::npos);
    }
    // The same settings resume (nothing left to train), and more steps extend the flow.
    CHECK(wgf(run).status == 0);
    CHECK(!fs::exists("cat-resume/ou-d2-i0/step-00002.wgfstep"));  // step file K holds map K (0-based)
    CHECK(wgf(run + " --steps 3").status == 0);
    CHECK(fs::exists("cat-resume/ou-d2-i0/step-00002.wgfstep"));
    remove_fixtures();
}

TEST_CASE("a run killed with SIGKILL and rerun equals an uninterrupted run, byte for byte") {
    remove_fixtures();
    // 4 steps of ~0.1–0.2 s each on one thread: time to kill the run while it trains the second map.
    // Step file K holds map K (0-based): step-00000 appears after pretraining and the first step.
    const std::vector<std::string> args = {"ou", "--dims", "2", "--instances", "1", "--steps", "4", "--iterations", "600",
                                           "--batch", "128", "--width", "16", "--pretrain-iterations", "50",
                                           "--eval-points", "256", "--eval-times", "0.1,0.2", "--threads", "1", "--quiet"};
    std::string line;
    for (const auto& a : args) line += " " + a;
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::string> killed_args = args;
    killed_args.insert(killed_args.end(), {"--checkpoint-dir", "cat-killed"});
    const pid_t pid = spawn_wgf(killed_args);
    const std::string first = "cat-killed/ou-d2-i0/step-00000.wgfstep";
    bool seen = false;
    for (int i = 0; i < 60000 && !seen; ++i) {
        seen = fs::exists(first);
        int st = 0;
        if (!seen && waitpid(pid, &st, WNOHANG) == pid) FAIL("wgf ou ended before its first step file: status " << st);
        if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ::kill(pid, SIGKILL);
    int st = 0;
    REQUIRE(waitpid(pid, &st, 0) == pid);
    REQUIRE(seen);
    const bool was_killed = WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
    if (!was_killed) MESSAGE("the run finished before SIGKILL arrived; the comparison still runs");
    CHECK(was_killed);
    CHECK(!fs::exists("cat-killed/ou-d2-i0/step-00003.wgfstep"));
    // 180 s: a full run takes ~1 s here but ~26 s under ASan (the default 30 s would kill it).
    const Result resumed = wgf(line + " --checkpoint-dir cat-killed --json cat-killed.json", 180);
    INFO(resumed.out);
    REQUIRE(resumed.status == 0);
    const Result whole = wgf(line + " --checkpoint-dir cat-whole --json cat-whole.json", 180);
    REQUIRE(whole.status == 0);
    for (int k = 0; k < 4; ++k) {
        char name[32];
        std::snprintf(name, sizeof name, "/ou-d2-i0/step-%05d.wgfstep", k);
        INFO("step file " << name);
        const std::string a = slurp(std::string("cat-killed") + name), b = slurp(std::string("cat-whole") + name);
        REQUIRE(!b.empty());
        CHECK(a == b);
    }
    const json ja = read_json("cat-killed.json"), jb = read_json("cat-whole.json");  // .at(): keys checked
    REQUIRE(ja.size() == 1);
    REQUIRE(jb.size() == 1);
    for (const char* key : {"times", "steps", "sym_kl", "kl_model_target", "kl_target_model", "inverse_failures"}) {
        INFO("JSON key " << key);
        REQUIRE(ja[0].contains(key));
        REQUIRE(jb[0].contains(key));
        CHECK(ja[0].at(key) == jb[0].at(key));
    }
    MESSAGE("kill + resume + uninterrupted run: "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s");
    remove_fixtures();
}
