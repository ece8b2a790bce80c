// cmd_icnn.cpp — `wgf icnn-init` and `wgf icnn-eval`: create a random ICNN file; evaluate ψ, ∇ψ, ∇²ψ,
// log det on points and write raw little-endian arrays (PREFIX.x.f64 [N][D], .value.f64 [N],
// .grad.f64 [N][D], .hess.f64 [N][D][D], .logdet.f64 [N], .status.i32 [N]) for external checks
// (tools/icnn_autograd_check.py).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <vector>

#include "cli_args.h"
#include "wgf/wgf.h"

namespace wgf_cli {

namespace {
template <typename V>
void write_raw(const std::string& path, const std::vector<V>& v) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    WGF_CHECK(out.good(), "cannot create '" << path << "'");
    out.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(V)));
    WGF_CHECK(out.good(), "cannot write '" << path << "'");
}

std::vector<double> read_points(const std::string& path, int dim) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    WGF_CHECK(in.good(), "cannot open points file '" << path << "'");
    const std::streamsize bytes = in.tellg();
    const std::streamsize row = static_cast<std::streamsize>(sizeof(double)) * dim;
    WGF_CHECK(bytes > 0 && bytes % row == 0, "points file '" << path << "' has " << bytes
                                                             << " bytes, not a whole number of float64 rows of D = "
                                                             << dim);
    std::vector<double> x(static_cast<std::size_t>(bytes / 8));
    in.seekg(0);
    in.read(reinterpret_cast<char*>(x.data()), bytes);
    WGF_CHECK(in.good(), "cannot read points file '" << path << "'");
    return x;
}
}  // namespace

int cmd_icnn_init(int argc, char** argv) {
    const Args a(argc, argv, 2, {"dim", "widths", "rank", "strong-convexity", "seed", "out"});
    wgf::IcnnShape shape;
    shape.dim = static_cast<int>(a.integer("dim"));
    shape.widths = a.int_list("widths");
    shape.rank = static_cast<int>(a.integer("rank", 5));
    shape.strong_convexity = a.real("strong-convexity", 1e-6);
    const auto net = wgf::Icnn<double>::random(shape, static_cast<std::uint64_t>(a.integer("seed", 0)));
    net.save(a.str("out"));
    std::cout << "wrote " << a.str("out") << ": " << shape.describe() << ", " << net.size() << " parameters\n";
    return 0;
}

int cmd_icnn_eval(int argc, char** argv) {
    const Args a(argc, argv, 2, {"net", "random", "points", "seed", "out", "backend"});
    const auto net = wgf::Icnn<double>::load(a.str("net"));
    const int D = net.shape().dim;
    std::vector<double> x;
    WGF_CHECK(a.has("random") != a.has("points"), "give exactly one of --random N and --points FILE");
    if (a.has("random")) {
        const std::int64_t n = a.integer("random");
        WGF_CHECK(n > 0, "--random must be > 0, got " << n);
        wgf::Rng rng(static_cast<std::uint64_t>(a.integer("seed", 1)));
        x.resize(static_cast<std::size_t>(n * D));
        for (auto& v : x) v = rng.normal();
    } else {
        x = read_points(a.str("points"), D);
    }
    const std::int64_t n = static_cast<std::int64_t>(x.size()) / D;
    const std::string backend = a.str("backend", "host");
    WGF_CHECK(backend == "host" || backend == "cuda", "--backend must be host or cuda, got '" << backend << "'");
    wgf::Context ctx(backend == "host" ? wgf::Backend::Host : wgf::Backend::Cuda);
    const std::size_t N = static_cast<std::size_t>(n), d = static_cast<std::size_t>(D);
    std::vector<double> value(N), grad(N * d), hess(N * d * d), logdet(N);
    std::vector<std::int32_t> status(N);
    wgf::icnn_eval(ctx, net, x.data(), n,
                   wgf::IcnnOutputs<double>{value.data(), grad.data(), hess.data(), logdet.data(), status.data()});
    const std::string p = a.str("out");
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
