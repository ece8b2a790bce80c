// cmd_loss.cpp — `wgf jko-loss`: the JKO loss with a quadratic potential and its parameter gradient
// for a saved ICNN on given points, written as raw float64 for external checks
// (tools/jko_loss_autograd_check.py): PREFIX.loss.f64 = [total, w2, potential, logdet] (means),
// PREFIX.dparams.f64 = ∂L/∂θ in the parameter layout of wgf/icnn.h.
#include <fstream>
#include <iostream>
#include <vector>

#include "binary_io.h"  // the library's atomic file write
#include "cli_common.h"
#include "run/user_error.h"
#include "raw_io.h"
#include "wgf/wgf.h"
#include "wgf/jko_loss.h"
#include "wgf/potential.h"

namespace wgf_cli {

namespace {
// Atomically (temporary file + rename): an existing file is replaced only by a complete one.
void write_f64(const std::string& path, const std::vector<double>& v) {
    wgf::detail::write_file_atomic(path, std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(double)));
}
std::vector<double> read_f64(const std::string& path) {
    return read_raw_f64(path, 1, "points file");  // a regular file; its size bounds the array
}
}  // namespace

int cmd_jko_loss(int argc, char** argv) {
    CLI::App app{"wgf jko-loss: the JKO loss (quadratic potential) and dL/dtheta as raw float64", "wgf jko-loss"};
    configure_app(app);
    std::string net_path, points, out;
    std::vector<double> A, m;
    double tau = 0.05, beta = 1.0;
    int threads = 0;
    app.add_option("--net", net_path, "the .wgficnn file")->required();
    app.add_option("--points", points, "raw float64 [N][D] points")->required();
    add_list_option(app, "--A", A, "the potential's matrix, D*D numbers row by row", finite_real())->required();
    add_list_option(app, "--m", m, "the potential's centre, D numbers", finite_real())->required();
    app.add_option("--tau", tau, "JKO step")->capture_default_str()->check(positive_real());
    app.add_option("--beta", beta, "inverse temperature")->capture_default_str()->check(positive_real());
    app.add_option("--out", out, "prefix of the output files")->required();
    app.add_option("--threads", threads, "host threads (0: all cores)")
        ->capture_default_str()
        ->transform(integer_in(0, 4096));
    const int rc = parse_command_line(app, "jko-loss", argc, argv, [&] {
        if (A.size() != m.size() * m.size())
            throw CLI::ValidationError("--A", std::to_string(A.size()) + " numbers, expected D*D = " +
                                                  std::to_string(m.size() * m.size()) + " (D = " +
                                                  std::to_string(m.size()) + " from --m)");
    });
    if (rc >= 0) return rc;
    check_output_path("--out", out + ".loss.f64");
    check_output_path("--out", out + ".dparams.f64");
    const auto net = wgf::Icnn<double>::load(net_path);
    const int D = net.shape().dim;
    WGF_USER_CHECK(m.size() == static_cast<std::size_t>(D), "--m has " << m.size() << " numbers, but the network '"
                                                                    << net_path << "' has D = " << D);
    const std::vector<double> x = read_f64(points);
    WGF_USER_CHECK(x.size() % static_cast<std::size_t>(D) == 0,
                   "--points '" << points << "': " << x.size() << " values is not a multiple of D = " << D);
    const wgf::QuadraticPotential<double> phi(A, m);
    const wgf::JkoLossOptions opt{tau, beta};
    wgf::Context ctx(wgf::Backend::Host, threads);
    std::vector<double> grad(net.size());
    const std::int64_t n = static_cast<std::int64_t>(x.size()) / D;
    const wgf::JkoLossValue L = wgf::jko_loss(ctx, net.shape(), net.data(), x.data(), n, phi, opt, grad.data());
    write_f64(out + ".loss.f64", {L.total, L.w2, L.potential, L.logdet});
    write_f64(out + ".dparams.f64", grad);
    std::cout << "jko loss " << L.total << " (w2 " << L.w2 << ", potential " << L.potential << ", logdet " << L.logdet
              << ") on " << n << " points; wrote " << out << ".{loss,dparams}.f64\n";
    return 0;
}

}  // namespace wgf_cli
