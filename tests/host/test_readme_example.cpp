// test_readme_example.cpp — the library example of README.md, compiled and run (with fewer
// iterations), so that the README cannot drift from the API.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <vector>

#include "wgf/wgf.h"
#include "wgf/jko.h"

TEST_CASE("README library example") {
    using namespace wgf;
    Context ctx;  // CUDA when present, else host threads
    const IcnnShape shape = IcnnShape::uniform(/*D=*/2, /*W=*/64);
    Icnn<float> net = Icnn<float>::random(shape, /*seed=*/1);
    std::vector<float> x(1024 * 2, 0.5f), grad(1024 * 2), logdet(1024);
    std::vector<std::int32_t> status(1024);
    icnn_eval(ctx, net, x.data(), 1024, IcnnOutputs<float>{nullptr, grad.data(), nullptr, logdet.data(), status.data()});
    CHECK(status[0] == 0);
    CHECK(std::isfinite(logdet[0]));

    const QuadraticPotential<float> phi({1.0, 0.0, 0.0, 2.0}, {1.0, -1.0});
    Flow<float> flow(Gaussian({0.0, 0.0}, {1.0, 0.0, 0.0, 1.0}));
    JkoOptions opt;
    opt.steps = 2;  // README: the defaults (20 steps, 500 iterations, N = 1024)
    opt.iterations = 10;
    opt.batch = 128;
    opt.pretrain_iterations = 10;
    opt.checkpoint_dir = "test_readme_run";
    std::system("rm -rf test_readme_run");
    JkoSolver<float> solver(ctx, shape, phi, opt);
    flow = solver.resume_or_start(flow.initial_ptr());
    solver.run(flow);
    Rng rng(7);
    std::vector<double> logp;
    std::vector<float> samples = flow.sample(ctx, flow.steps(), 4096, rng, &logp);
    std::vector<double> lp = flow.log_density(ctx, flow.steps(), {0.5, -0.5});
    CHECK(samples.size() == 4096 * 2);
    CHECK(std::isfinite(lp[0]));
    CHECK(Flow<float>::load_steps("test_readme_run").steps() == 2);
    std::system("rm -rf test_readme_run");
}
