// cmd_icnn.cpp — `wgf icnn-init` and `wgf icnn-eval`: create a random ICNN file; evaluate ψ, ∇ψ, ∇²ψ,
// log det on points and write raw little-endian arrays (PREFIX.x.f64 [N][D], .value.f64 [N],
// .grad.f64 [N][D], .hess.f64 [N][D][D], .logdet.f64 [N], .status.i32 [N]) for external checks
// (tools/icnn_autograd_check.py).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <vector>

#include "binary_io.h"  // the library's atomic file write
#include "cli_common.h"
#include "raw_io.h"
#include "wgf/wgf.h"

namespace wgf_cli {

namespace {
// Atomically (temporary file + rename): an existing file is replaced only by a complete one.
template <typename V>
void write_raw(const std::string& path, const std::vector<V>& v) {
    wgf::detail::write_file_atomic(path, std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(V)));
}

std::vector<double> read_points(const std::string& path, int dim) {
    return read_raw_f64(path, dim, "points file");  // a regular file; its size bounds the array
}
}  // namespace

int cmd_icnn_init(int argc, char** argv) {
    CLI::App app{"wgf icnn-init: write a random ICNN file", "wgf icnn-init"};
    configure_app(app);
    wgf::IcnnShape shape;
    std::uint64_t seed = 0;
    std::string out;
    app.add_option("--dim", shape.dim, "input dimension D")->required()->transform(integer_in(1, 100000));
    add_list_option(app, "--widths", shape.widths, "layer widths W1,W2,...", integer_in(1, 65536))->required();
    app.add_option("--rank", shape.rank, "rank of the quadratic forms")
        ->capture_default_str()
        ->transform(integer_in(1, 4096));
    app.add_option("--strong-convexity", shape.strong_convexity, "s >= 0, the (s/2)|x|^2 term")
        ->capture_default_str()
        ->check(real_in(0.0));
    app.add_option("--seed", seed, "random seed")->capture_default_str()->transform(seed_value());
    app.add_option("--out", out, "the .wgficnn file to write")->required();
    if (const int rc = parse_command_line(app, "icnn-init", argc, argv); rc >= 0) return rc;
    check_output_path("--out", out);
    shape.validate();
    const std::size_t n = shape.param_count();
    const std::string what = "the " + std::to_string(n) + " parameters of " + shape.describe();
    check_memory(what, 2.0L * sizeof(double) * n);  // the parameters and the file's bytes
    const auto net = allocating(what, [&] { return wgf::Icnn<double>::random(shape, seed); });
    net.save(out);
    std::cout << "wrote " << out << ": " << shape.describe() << ", " << net.size() << " parameters\n";
    return 0;
}

int cmd_icnn_eval(int argc, char** argv) {
    CLI::App app{"wgf icnn-eval: evaluate a saved ICNN on points; raw float64 outputs", "wgf icnn-eval"};
    configure_app(app);
    std::string net_path, points, out, backend = "host";
    std::int64_t random = 0;
    std::uint64_t seed = 1;
    app.add_option("--net", net_path, "the .wgficnn file")->required();
    CLI::Option* opt_random =
        app.add_option("--random", random, "evaluate at N standard normal points")->transform(integer_in(1, 100000000));
    CLI::Option* opt_points = app.add_option("--points", points, "evaluate at the points of a raw float64 [N][D] file");
    opt_random->excludes(opt_points);
    app.add_option("--seed", seed, "seed of the --random points")->capture_default_str()->transform(seed_value());
    app.add_option("--out", out, "prefix of the output files")->required();
    app.add_option("--backend", backend, "host or cuda")->capture_default_str()->check(CLI::IsMember({"host", "cuda"}));
    const int rc = parse_command_line(app, "icnn-eval", argc, argv, [&] {
        if (opt_random->count() == 0 && opt_points->count() == 0)
            throw CLI::ValidationError("--random/--points", "give exactly one of --random N and --points FILE");
    });
    if (rc >= 0) return rc;
    static const char* suffixes[] = {".x.f64", ".value.f64", ".grad.f64", ".hess.f64", ".logdet.f64", ".status.i32"};
    for (const char* suffix : suffixes) check_output_path("--out", out + suffix);
    wgf::Context ctx(backend == "host" ? wgf::Backend::Host : wgf::Backend::Cuda);
    const auto net = wgf::Icnn<double>::load(net_path);
    const int D = net.shape().dim;
    const std::size_t d = static_cast<std::size_t>(D);
    // Outputs per point: x, value, ∇ψ, ∇²ψ, log det (doubles) and a status; ×2 for the evaluation's workspace.
    const long double per_point = 2.0L * (sizeof(double) * (3.0L + 2.0L * d + static_cast<long double>(d) * d) + 4);
    std::vector<double> x;
    if (opt_random->count() > 0) {
        check_memory("evaluating " + std::to_string(random) + " points of D = " + std::to_string(D), per_point * random);
        wgf::Rng rng(seed);
        x.resize(static_cast<std::size_t>(random) * d);
        for (auto& v : x) v = rng.normal();
    } else {
        x = read_points(points, D);
    }
    const std::int64_t n = static_cast<std::int64_t>(x.size()) / D;
    const std::size_t N = static_cast<std::size_t>(n);
    const std::string what = "the outputs of " + std::to_string(n) + " points of D = " + std::to_string(D);
    check_memory(what, per_point * n);
    std::vector<double> value, grad, hess, logdet;
    std::vector<std::int32_t> status;
    allocating(what, [&] {
        value.resize(N), grad.resize(N * d), hess.resize(N * d * d), logdet.resize(N);
        status.resize(N);
    });
    wgf::icnn_eval(ctx, net, x.data(), n,
                   wgf::IcnnOutputs<double>{value.data(), grad.data(), hess.data(), logdet.data(), status.data()});
    const std::string& p = out;
    write_raw(p + ".x.f64", x);
    write_raw(p + ".value.f64", value);
    write_raw(p + ".grad.f64", grad);
    write_raw(p + ".hess.f64", hess);
    write_raw(p + ".logdet.f64", logdet);
    write_raw(p + ".status.i32", status);
    std::int64_t failed = 0;
    for (auto s : status) failed += s != 0;
    std::cout << "evaluated " << n << " points of " << net.shape().describe() << " on " << ctx.describe() << "; "
              << failed << " failed factorisations; wrote " << p << ".{x,value,grad,hess,logdet}.f64, .status.i32\n";
    return 0;
}

}  // namespace wgf_cli
