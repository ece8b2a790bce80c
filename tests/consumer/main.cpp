// main.cpp — the consumer test's program: trains a small 2-D Fokker–Planck flow towards
// N(m, A⁻¹) on the host with an installed libwgf, and checks what could go wrong in a broken
// install or a broken library: the flow's sample mean must move from ρ⁰'s mean 0 towards m by about
// the closed form's amount, and the log-densities must be finite. Exits non-zero otherwise.
#include <wgf/wgf.h>

#include <cmath>
#include <cstdio>
#include <vector>

int main() {
    using namespace wgf;
    try {
        Context ctx(Backend::Host);
        const IcnnShape shape = IcnnShape::uniform(/*D=*/2, /*W=*/16);
        // Φ = ½|x − m|² (A = I): the Ornstein–Uhlenbeck process towards m; ρ⁰ = N(0, I).
        const double m[2] = {2.0, -1.0};
        const QuadraticPotential<double> phi({1.0, 0.0, 0.0, 1.0}, {m[0], m[1]});
        Flow<double> flow(Gaussian({0.0, 0.0}, {1.0, 0.0, 0.0, 1.0}));
        JkoOptions opt;
        opt.tau = 0.25;
        opt.steps = 2;
        opt.iterations = 60;
        opt.batch = 256;
        opt.lr = 2e-2;
        opt.init = JkoInit::Identity;
        opt.seed = 3;
        JkoSolver<double> solver(ctx, shape, phi, opt);
        solver.run(flow);
        if (flow.steps() != opt.steps) {
            std::fprintf(stderr, "consumer: the flow has %d steps, expected %d\n", flow.steps(), opt.steps);
            return 1;
        }
        // Closed form: E[X_t] = m (1 − e^{−t}) from mean 0, t = steps · τ.
        const double t = opt.steps * opt.tau, fraction = 1.0 - std::exp(-t);
        Rng rng(7);
        const std::int64_t n = 4096;
        std::vector<double> logp;
        const std::vector<double> x = flow.sample(ctx, flow.steps(), n, rng, &logp);
        double mean[2] = {0.0, 0.0};
        for (std::int64_t i = 0; i < n; ++i) {
            mean[0] += x[2 * i] / double(n);
            mean[1] += x[2 * i + 1] / double(n);
        }
        bool finite = true;
        for (double v : logp) finite = finite && std::isfinite(v);
        // The fraction of the way to m that the sample mean has come (its projection on m).
        const double moved = (mean[0] * m[0] + mean[1] * m[1]) / (m[0] * m[0] + m[1] * m[1]);
        const std::vector<double> lp = flow.log_density(ctx, flow.steps(), {mean[0], mean[1]});
        std::printf("consumer: t = %.2f, sample mean (%.3f, %.3f), moved %.3f of the way to m (closed form %.3f), "
                    "log-density at the mean %.3f\n", t, mean[0], mean[1], moved, fraction, lp[0]);
        // Sampling noise of the mean is ~ 1/√n ≈ 0.016 per coordinate; ±30% of the closed form's
        // movement leaves room for the short training but not for a flow that stays at 0.
        if (!finite || !std::isfinite(lp[0]) || std::fabs(moved - fraction) > 0.3 * fraction) {
            std::fprintf(stderr, "consumer: FAILED (finite log-densities: %s)\n", finite ? "yes" : "no");
            return 1;
        }
        std::printf("consumer: passed\n");
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "consumer: error: %s\n", e.what());
        return 1;
    }
}
