// cmd_loss.cpp — `wgf jko-loss`: the JKO loss with a quadratic potential and its parameter gradient
// for a saved ICNN on given points, written as raw float64 for external checks
// (tools/jko_loss_autograd_check.py): PREFIX.loss.f64 = [total, w2, potential, logdet] (means),
// PREFIX.dparams.f64 = ∂L/∂θ in the parameter layout of wgf/icnn.h.
#include <fstream>
#include <iostream>
#include <vector>

#include "cli_args.h"
#include "wgf/wgf.h"
#include "wgf/jko_loss.h"
#include "wgf/potential.h"

namespace wgf_cli {

namespace {
void write_f64(const std::string& path, const std::vector<double>& v) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    WGF_CHECK(out.good(), "cannot create '" << path << "'");
    out.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(double)));
    WGF_CHECK(out.good(), "cannot write '" << path << "'");
}
std::vector<double> read_f64(const std::string& path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    WGF_CHECK(in.good(), "cannot open '" << path << "'");
    const std::streamsize bytes = in.tellg();
    WGF_CHECK(bytes > 0 && bytes % 8 == 0, "'" << path << "' is not a float64 array (" << bytes << " bytes)");
    std::vector<double> v(static_cast<std::size_t>(bytes / 8));
    in.seekg(0);
    in.read(reinterpret_cast<char*>(v.data()), bytes);
    return v;
}
}  // namespace

int cmd_jko_loss(int argc, char** argv) {
    const Args a(argc, argv, 2, {"net", "points", "tau", "beta", "A", "m", "out", "threads"});
    const auto net = wgf::Icnn<double>::load(a.str("net"));
    const int D = net.shape().dim;
    const std::vector<double> x = read_f64(a.str("points"));
    WGF_CHECK(x.size() % static_cast<std::size_t>(D) == 0, "--points: " << x.size() << " values is not a multiple of D = " << D);
    const wgf::QuadraticPotential<double> phi(a.real_list("A"), a.real_list("m"));
    const wgf::JkoLossOptions opt{a.real("tau", 0.05), a.real("beta", 1.0)};
    wgf::Context ctx(wgf::Backend::Host, static_cast<int>(a.integer("threads", 0)));
    std::vector<double> grad(net.size());
    const std::int64_t n = static_cast<std::int64_t>(x.size()) / D;
    const wgf::JkoLossValue L = wgf::jko_loss(ctx, net.shape(), net.data(), x.data(), n, phi, opt, grad.data());
    write_f64(a.str("out") + ".loss.f64", {L.total, L.w2, L.potential, L.logdet});
    write_f64(a.str("out") + ".dparams.f64", grad);
    std::cout << "jko loss " << L.total << " (w2 " << L.w2 << ", potential " << L.potential << ", logdet " << L.logdet
              << ") on " << n << " points; wrote " << a.str("out") << ".{loss,dparams}.f64\n";
    return 0;
}

}  // namespace wgf_cli
