// test_posterior_baselines.cpp — the posterior baselines (wgf/posterior_baselines.h): split-R̂ against
// a hand-computed case and on iid, separated and trending chains; compare_samples on an affine copy;
// MALA on a correlated 3-D Gaussian (moments within Monte-Carlo bounds estimated from the independent
// chains, R̂, the adapted step and preconditioner, thread-count independence); SVGD on the same
// Gaussian (mean, variance, correlations; float and double; thread-count independence; the progress
// callback); a dense preconditioner against a diagonal one; MALA against SVGD on a tiny synthetic
// logistic-regression posterior; SVGD on german's posterior (test log-likelihood); and the option
// checks. (The JKO flow against MALA: test_posterior_jko.)
#include <doctest/doctest.h>

#include "eigen_dense.h"
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "errors.h"
#include "moments.h"
#include "tiny_logreg.h"
#include "wgf/wgf.h"

#ifndef WGF_DATA_DIR
#error "WGF_DATA_DIR must name the repository's data/ folder"
#endif

using namespace wgf;
using namespace wgf_test;

namespace {

using MatR = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// The Gaussian target of the MALA and SVGD tests: sds (2, 1, 0.3) (variances 4 : 1 : 0.09, a
/// condition number ≈ 60 with the correlations), correlations 0.6, −0.3, 0.2, mean (1, −2, 0.5).
struct GaussTarget {
    std::vector<double> sd = {2.0, 1.0, 0.3};
    std::vector<double> corr = {1.0, 0.6, -0.3, 0.6, 1.0, 0.2, -0.3, 0.2, 1.0};
    std::vector<double> mean = {1.0, -2.0, 0.5};
    std::vector<double> cov() const {
        std::vector<double> S(9);
        for (int i = 0; i < 3; ++i)
            for (int j = 0; j < 3; ++j) S[i * 3 + j] = sd[i] * sd[j] * corr[i * 3 + j];
        return S;
    }
    std::vector<double> precision() const {
        const std::vector<double> S = cov();
        const MatR P = Eigen::Map<const MatR>(S.data(), 3, 3).inverse();
        std::vector<double> A(P.data(), P.data() + 9);
        for (int i = 0; i < 3; ++i)  // exactly symmetric for QuadraticPotential's check
            for (int j = 0; j < i; ++j) A[i * 3 + j] = A[j * 3 + i] = 0.5 * (A[i * 3 + j] + A[j * 3 + i]);
        return A;
    }
};

/// Start points overdispersed with respect to the target (sd 3 in every coordinate, centred at 0).
Gaussian wide_start() { return Gaussian({0.0, 0.0, 0.0}, {9, 0, 0, 0, 9, 0, 0, 0, 9}); }

}  // namespace

// ---- split-R̂ ----------------------------------------------------------------------------------------

TEST_CASE("split_rhat: the BDA3 formula on a hand-computed case, odd lengths and affine invariance") {
    // One chain [0, 1, 2, 4]: halves [0, 1] and [2, 4], n = 2, m = 2: means 0.5 and 3, variances 0.5 and
    // 2, W = 1.25, B = 2·((0.5 − 1.75)² + (3 − 1.75)²) = 6.25, var⁺ = ½·1.25 + 6.25/2 = 3.75, R̂ = √3.
    // Coordinate 1 is 10·x + 5 (R̂ is affine invariant); with 5 draws the middle one is left out.
    std::vector<double> even, odd;
    for (double v : {0.0, 1.0, 2.0, 4.0}) even.insert(even.end(), {v, 10 * v + 5});
    for (double v : {0.0, 1.0, 100.0, 2.0, 4.0}) odd.insert(odd.end(), {v, 10 * v + 5});
    for (const auto& r : {split_rhat(even, 1, 4, 2), split_rhat(odd, 1, 5, 2)}) {
        REQUIRE(r.size() == 2);
        CHECK(r[0] == doctest::Approx(std::sqrt(3.0)).epsilon(1e-14));
        CHECK(r[1] == doctest::Approx(std::sqrt(3.0)).epsilon(1e-13));
    }
    // Constant halves: equal constants → 1, different constants → +∞.
    CHECK(split_rhat({2, 2, 2, 2, 2, 2, 2, 2}, 2, 4, 1)[0] == 1.0);
    CHECK(split_rhat({2, 2, 2, 2, 3, 3, 3, 3}, 2, 4, 1)[0] == std::numeric_limits<double>::infinity());
}

TEST_CASE("split_rhat: iid chains give 1, separated chains and a trend give far more") {
    // 4 chains × 2000 iid N(0, 1) draws: R̂² = (n − 1)/n + (B/W)/n with n = 1000 and B/W ≈ χ²₇/7,
    // so R̂ − 1 ≈ (B/W − 1)/(2n): above 0.01 only if B/W > 21 (P(χ²₇ > 147) is astronomically small);
    // below, R̂ ≥ √((n − 1)/n) > 0.9994.
    const int C = 4, P = 2000;
    Rng rng(21);
    std::vector<double> iid(static_cast<std::size_t>(C) * P);
    for (auto& v : iid) v = rng.normal();
    const double r_iid = split_rhat(iid, C, P, 1)[0];
    MESSAGE("iid: R-hat = " << r_iid);
    CHECK(std::fabs(r_iid - 1) < 0.01);
    // The last chain shifted by 3: the 8 half-means have variance ≈ 9·(2·6/8²)·8/7 ≈ 1.9 (plus noise),
    // var⁺ ≈ W + 1.9 with W ≈ 1, so R̂ ≈ 1.7.
    std::vector<double> shifted = iid;
    for (int s = 0; s < P; ++s) shifted[static_cast<std::size_t>(3) * P + s] += 3;
    const double r_shift = split_rhat(shifted, C, P, 1)[0];
    MESSAGE("one chain shifted by 3 sd: R-hat = " << r_shift);
    CHECK(r_shift > 1.5);
    // One chain with a linear trend 0 → 3: its halves' means differ by 1.5, so even a single chain is
    // flagged (what the split is for): B = n·2·0.75² per unit n, W ≈ 1 + 1.5²/12, R̂ ≈ √(2.3/1.19) ≈ 1.4.
    std::vector<double> trend(iid.begin(), iid.begin() + P);
    for (int s = 0; s < P; ++s) trend[static_cast<std::size_t>(s)] += 3.0 * s / P;
    const double r_trend = split_rhat(trend, 1, P, 1)[0];
    MESSAGE("one trending chain: R-hat = " << r_trend);
    CHECK(r_trend > 1.2);
}

TEST_CASE("split_rhat rejects bad shapes and non-finite draws") {
    CHECK(contains(error_of([] { split_rhat({0, 1, 2}, 1, 3, 1); }), "draws_per_chain must be >= 4"));
    CHECK(contains(error_of([] { split_rhat({0, 1, 2, 3}, 0, 4, 1); }), "chains must be >= 1"));
    CHECK(contains(error_of([] { split_rhat({0, 1, 2, 3}, 1, 4, 0); }), "dim must be >= 1"));
    CHECK(contains(error_of([] { split_rhat({0, 1, 2, 3, 4}, 1, 4, 1); }), "expected chains*draws_per_chain*dim"));
    CHECK(contains(error_of([] { split_rhat({0, 1, NAN, 3}, 1, 4, 1); }), "1 draws are not finite"));
}

// ---- compare_samples ------------------------------------------------------------------------------

TEST_CASE("compare_samples: an affine copy gives its shift and scale; at most 2000 points for the energy") {
    Rng rng(5);
    const Gaussian g({1.0, -1.0}, {2.0, 0.5, 0.5, 1.0});
    const std::vector<double> ref = g.sample(5000, rng);
    std::vector<double> m, cov;
    moments(ref, 2, m, cov);
    const double sd1 = std::sqrt(cov[3] * 5000 / 4999.0);
    // x₀' = m₀ + 1.2 (x₀ − m₀) (std ×1.2, same mean), x₁' = x₁ + 0.5 sd₁ (mean +0.5 sd, same std).
    std::vector<double> s = ref;
    for (std::size_t p = 0; p < 5000; ++p) {
        s[2 * p] = m[0] + 1.2 * (ref[2 * p] - m[0]);
        s[2 * p + 1] = ref[2 * p + 1] + 0.5 * sd1;
    }
    const PosteriorComparison c = compare_samples(s, ref, 2);
    CHECK(c.mean_error == doctest::Approx(0.5).epsilon(1e-9));
    CHECK(c.std_error == doctest::Approx(0.2).epsilon(1e-9));
    CHECK(c.energy_points == 2000);
    CHECK(c.energy_reference_points == 2000);
    CHECK(c.energy_distance > 0.01);  // a 0.5-sd shift: far above the 2000-point noise (≈ 1e-3)
    const PosteriorComparison same = compare_samples(ref, ref, 2);
    CHECK(same.mean_error == 0.0);
    CHECK(same.std_error == 0.0);
    CHECK(std::fabs(same.energy_distance) < 1e-9);
    CHECK(contains(error_of([] { compare_samples({0, 1, 0, 2}, {0, 1, 0, 2}, 2); }),
                   "coordinate 0 of the reference has zero spread"));
    CHECK(contains(error_of([] { compare_samples({0, 1, 0}, {0, 1, 0, 2}, 2); }), "need >= 2 points"));
}

// ---- options ----------------------------------------------------------------------------------------

TEST_CASE("svgd and mala reject bad options, naming the field") {
    const GaussTarget t;
    const QuadraticPotential<double> phi(t.precision(), t.mean);
    const Gaussian start = wide_start();
    Context ctx(Backend::Host, 1);
    const auto svgd_error = [&](const SvgdOptions& o) {
        return error_of([&] {
            Rng rng(1);
            svgd(ctx, phi, start, o, rng);
        });
    };
    SvgdOptions so;
    so.particles = 1;
    CHECK(contains(svgd_error(so), "SvgdOptions::particles must be >= 2, got 1"));
    so = SvgdOptions{};
    so.iterations = 0;
    CHECK(contains(svgd_error(so), "SvgdOptions::iterations must be >= 1, got 0"));
    so = SvgdOptions{};
    so.step_size = 0;
    CHECK(contains(svgd_error(so), "SvgdOptions::step_size must be finite and > 0, got 0"));
    so = SvgdOptions{};
    so.alpha = 1;
    CHECK(contains(svgd_error(so), "SvgdOptions::alpha must be in [0, 1), got 1"));
    so = SvgdOptions{};
    so.fudge = 0;
    CHECK(contains(svgd_error(so), "SvgdOptions::fudge must be finite and > 0"));
    so = SvgdOptions{};
    so.bandwidth = NAN;
    CHECK(contains(svgd_error(so), "SvgdOptions::bandwidth must be finite"));
    const Gaussian start2({0.0, 0.0}, {1, 0, 0, 1});
    CHECK(contains(error_of([&] {
                       Rng rng(1);
                       svgd(ctx, phi, start2, SvgdOptions{}, rng);
                   }),
                   "the potential is in D = 3, rho0 in D = 2"));

    const auto mala_error = [&](const MalaOptions& o) { return error_of([&] { mala(ctx, phi, start, o); }); };
    MalaOptions mo;
    mo.chains = 1;
    CHECK(contains(mala_error(mo), "MalaOptions::chains must be >= 2"));
    mo = MalaOptions{};
    mo.warmup = -1;
    CHECK(contains(mala_error(mo), "MalaOptions::warmup must be >= 0, got -1"));
    mo = MalaOptions{};
    mo.draws = 3;
    CHECK(contains(mala_error(mo), "MalaOptions::draws must be >= 4"));
    mo = MalaOptions{};
    mo.thin = 0;
    CHECK(contains(mala_error(mo), "MalaOptions::thin must be >= 1, got 0"));
    mo = MalaOptions{};
    mo.initial_step = -0.1;
    CHECK(contains(mala_error(mo), "MalaOptions::initial_step must be finite and > 0"));
    mo = MalaOptions{};
    mo.target_accept = 1;
    CHECK(contains(mala_error(mo), "MalaOptions::target_accept must be in (0, 1)"));
    // A minibatch posterior is not a deterministic Φ: refused before any work.
    const TinyLogReg lr;
    LogisticPosteriorOptions lo;
    lo.minibatch = 10;
    const LogisticPosteriorPotential<double> noisy(lr.X, lr.y, lr.d, lo);
    const LogisticPrior prior(lr.d);
    CHECK(contains(error_of([&] { mala(ctx, noisy, prior, MalaOptions{}); }), "minibatch = 10"));
}

// ---- MALA ---------------------------------------------------------------------------------------------

TEST_CASE("MALA recovers a correlated 3-D Gaussian: moments within Monte-Carlo bounds, R-hat, adaptation") {
    const GaussTarget t;
    const std::vector<double> S = t.cov();
    const QuadraticPotential<double> phi(t.precision(), t.mean);
    Context ctx(Backend::Host, 1);
    MalaOptions opt;
    opt.chains = 32;
    opt.warmup = 1000;
    opt.draws = 1000;
    opt.seed = 1;
    const MalaResult r = mala(ctx, phi, wide_start(), opt);
    const int C = opt.chains, P = static_cast<int>(opt.draws);
    MESSAGE("MALA Gaussian: acceptance " << r.acceptance << ", h " << r.step_size << ", max R-hat " << r.max_rhat);
    REQUIRE(r.samples.size() == static_cast<std::size_t>(C) * P * 3);
    // The chains are independent, so the spread of the 32 per-chain estimates gives the Monte-Carlo
    // error of their average whatever the autocorrelation: SE = sd(per-chain estimates)/√32. Checks at
    // 5 SE (|t₃₁| > 5 has probability ≈ 2e-5, for 9 quantities ≈ 2e-4), and SE itself must be small
    // (≤ 5% of the sd: an effective sample size ≥ 400), so the bound cannot pass by being wide.
    std::vector<double> cm(static_cast<std::size_t>(C) * 3, 0.0), grand(3, 0.0);
    for (int c = 0; c < C; ++c)
        for (int s = 0; s < P; ++s)
            for (int k = 0; k < 3; ++k) cm[c * 3 + k] += r.samples[(static_cast<std::size_t>(c) * P + s) * 3 + k] / P;
    for (int c = 0; c < C; ++c)
        for (int k = 0; k < 3; ++k) grand[k] += cm[c * 3 + k] / C;
    const auto se_of = [C](const std::vector<double>& per_chain, double avg) {
        double v = 0;
        for (double e : per_chain) v += (e - avg) * (e - avg);
        return std::sqrt(v / (C - 1) / C);
    };
    for (int k = 0; k < 3; ++k) {
        std::vector<double> e(static_cast<std::size_t>(C));
        for (int c = 0; c < C; ++c) e[c] = cm[c * 3 + k];
        const double se = se_of(e, grand[k]);
        INFO("coordinate " << k << ": mean " << grand[k] << " (exact " << t.mean[k] << "), SE " << se);
        CHECK(std::fabs(grand[k] - t.mean[k]) <= 5 * se);
        CHECK(se <= 0.05 * t.sd[k]);
    }
    for (int i = 0; i < 3; ++i)
        for (int j = i; j < 3; ++j) {
            std::vector<double> e(static_cast<std::size_t>(C), 0.0);
            double avg = 0;
            for (int c = 0; c < C; ++c) {
                for (int s = 0; s < P; ++s) {
                    const double* x = r.samples.data() + (static_cast<std::size_t>(c) * P + s) * 3;
                    e[c] += (x[i] - grand[i]) * (x[j] - grand[j]) / P;
                }
                avg += e[c] / C;
            }
            const double se = se_of(e, avg);
            INFO("cov(" << i << "," << j << ") = " << avg << " (exact " << S[i * 3 + j] << "), SE " << se);
            CHECK(std::fabs(avg - S[i * 3 + j]) <= 5 * se);
            CHECK(se <= 0.1 * t.sd[i] * t.sd[j]);
        }
    // Converged chains from an overdispersed start: R̂ < 1.05 (measured 1.007–1.014 over seeds 1–8).
    CHECK(r.max_rhat < 1.05);
    // The warm-up reached its target (0.574; the kept h is a geometric mean, so only near it:
    // measured 0.566–0.577) and M ≈ the marginal variances (pooled window of 32 × 250 correlated draws:
    // measured within 8%; bound 20%/25%).
    CHECK(r.acceptance > 0.45);
    CHECK(r.acceptance < 0.70);
    for (int k = 0; k < 3; ++k) {
        const double ratio = r.preconditioner[k] / S[k * 3 + k];
        INFO("M[" << k << "] / var = " << ratio);
        CHECK(ratio > 0.8);
        CHECK(ratio < 1.25);
    }
}

TEST_CASE("MALA: a dense preconditioner mixes where a diagonal one cannot (equicorrelated 6-D Gaussian)") {
    // Σ = (1 − ρ) I + ρ 11ᵀ with ρ = 0.995: eigenvalues 1 + 5ρ = 5.975 along 1 and 1 − ρ = 0.005 across
    // it, unit marginal variances. A diagonal M is ≈ I, so the step is set by the thin directions and
    // the walk along 1 needs ~10³ times longer than the run; the dense M ≈ Σ whitens the target.
    const int D = 6;
    const double rho = 0.995;
    MatR S(D, D);
    for (int i = 0; i < D; ++i)
        for (int j = 0; j < D; ++j) S(i, j) = i == j ? 1.0 : rho;
    const MatR Pm = S.inverse();
    std::vector<double> A(static_cast<std::size_t>(D * D));
    for (int i = 0; i < D; ++i)
        for (int j = 0; j < D; ++j) A[i * D + j] = 0.5 * (Pm(i, j) + Pm(j, i));
    const QuadraticPotential<double> phi(A, std::vector<double>(D, 0.0));
    std::vector<double> start_cov(static_cast<std::size_t>(D * D), 0.0);
    for (int k = 0; k < D; ++k) start_cov[k * D + k] = 4;  // overdispersed along every axis
    const Gaussian start(std::vector<double>(D, 0.0), start_cov);
    Context ctx(Backend::Host, 1);
    MalaOptions opt;
    opt.chains = 16;
    opt.warmup = 1000;
    opt.draws = 1000;
    opt.seed = 3;
    const MalaResult dense = mala(ctx, phi, start, opt);
    opt.preconditioner = MalaPreconditioner::Diagonal;
    const MalaResult diagonal = mala(ctx, phi, start, opt);
    MESSAGE("equicorrelated 6-D: max R-hat dense " << dense.max_rhat << ", diagonal " << diagonal.max_rhat);
    CHECK(dense.max_rhat < 1.05);
    CHECK(diagonal.max_rhat > 1.1);  // the diagonal chains have not mixed: the test can tell them apart
    // The adapted M is the covariance (pooled window of 16 × 500 draws: within 10% entrywise, bound 20%),
    // and the draws' sample covariance matches Σ.
    REQUIRE(dense.preconditioner_matrix.size() == static_cast<std::size_t>(D * D));
    const std::size_t n = dense.samples.size() / D;
    for (int i = 0; i < D; ++i)
        for (int j = 0; j <= i; ++j) {
            INFO("M(" << i << "," << j << ") = " << dense.preconditioner_matrix[i * D + j]);
            CHECK(std::fabs(dense.preconditioner_matrix[i * D + j] - S(i, j)) < 0.2);
            double c = 0;
            for (std::size_t s = 0; s < n; ++s) c += dense.samples[s * D + i] * dense.samples[s * D + j] / n;
            INFO("sample cov(" << i << "," << j << ") = " << c);
            CHECK(std::fabs(c - S(i, j)) < 0.1);
        }
}

TEST_CASE("MALA rejects proposals where Phi is not finite: a half-normal target") {
    // Φ = x²/2 on x ≥ 0 and +∞ below (a user potential, not thread-safe: the serial path): π is the
    // half-normal, mean √(2/π) = 0.7979, variance 1 − 2/π = 0.3634. A proposal below 0 must be
    // rejected (never kept), not evaluated into NaN.
    const FunctionPotential<double> phi(1, [](const double* y, std::int64_t n, double* v, double* g) {
        for (std::int64_t i = 0; i < n; ++i) {
            const bool inside = y[i] >= 0;
            if (v) v[i] = inside ? 0.5 * y[i] * y[i] : std::numeric_limits<double>::infinity();
            if (g) g[i] = inside ? y[i] : std::numeric_limits<double>::quiet_NaN();
        }
    });
    Context ctx(Backend::Host, 2);
    MalaOptions opt;
    opt.chains = 16;
    opt.warmup = 500;
    opt.draws = 2000;
    opt.seed = 3;
    const MalaResult r = mala(ctx, phi, UniformBox({0.5}, {1.5}), opt);
    CHECK(*std::min_element(r.samples.begin(), r.samples.end()) >= 0.0);
    CHECK(r.max_rhat < 1.05);
    // Per-chain estimates → SE of their average (independent chains), checks at 5 SE; SE ≤ 0.03 (ESS of
    // the 32000 draws ≥ 400: not vacuous).
    const int C = opt.chains, P = static_cast<int>(opt.draws);
    const double exact_mean = std::sqrt(2 / 3.14159265358979323846), exact_var = 1 - 2 / 3.14159265358979323846;
    std::vector<double> m1(static_cast<std::size_t>(C), 0.0), m2(static_cast<std::size_t>(C), 0.0);
    for (int c = 0; c < C; ++c)
        for (int s = 0; s < P; ++s) {
            const double v = r.samples[static_cast<std::size_t>(c) * P + s];
            m1[c] += v / P;
            m2[c] += (v - exact_mean) * (v - exact_mean) / P;
        }
    for (const auto* e : {&m1, &m2}) {
        double avg = 0, var = 0;
        for (double v : *e) avg += v / C;
        for (double v : *e) var += (v - avg) * (v - avg) / (C - 1);
        const double se = std::sqrt(var / C), exact = e == &m1 ? exact_mean : exact_var;
        const std::string what = e == &m1 ? "mean" : "variance";
        INFO(what << " " << avg << " (exact " << exact << "), SE " << se);
        CHECK(std::fabs(avg - exact) <= 5 * se);
        CHECK(se <= 0.03);
    }
}

TEST_CASE("MALA: the draws depend on the seed, not on the thread count") {
    const GaussTarget t;
    const QuadraticPotential<double> phi(t.precision(), t.mean);
    MalaOptions opt;
    opt.chains = 6;
    opt.warmup = 100;
    opt.draws = 50;
    opt.thin = 2;
    opt.seed = 9;
    Context one(Backend::Host, 1), two(Backend::Host, 2);
    const MalaResult a = mala(one, phi, wide_start(), opt), b = mala(two, phi, wide_start(), opt);
    CHECK(a.samples == b.samples);
    CHECK(a.step_size == b.step_size);
    CHECK(a.acceptance == b.acceptance);
    opt.seed = 10;
    CHECK(mala(one, phi, wide_start(), opt).samples != a.samples);
}

// ---- SVGD ---------------------------------------------------------------------------------------------

TEST_CASE_TEMPLATE("SVGD on a correlated 3-D Gaussian: mean, variance and correlations", T, double, float) {
    const GaussTarget t;
    const std::vector<double> S = t.cov();
    const QuadraticPotential<T> phi(t.precision(), t.mean);
    Context ctx(Backend::Host, 1);
    SvgdOptions opt;  // 100 particles, ε = 0.05 (the reference's settings)
    opt.iterations = 1000;  // converged by 500 here (moments unchanged from 500 to 4000 iterations)
    Rng rng(3);
    const std::vector<double> x = svgd(ctx, phi, wide_start(), opt, rng);
    std::vector<double> mean, cov;
    moments(x, 3, mean, cov);
    for (int k = 0; k < 3; ++k) {
        // Mean: the reference's normalised step does not shrink as φ → 0, so the particles keep
        // oscillating, together, by about ±ε/2 = ±0.025 per coordinate around the fixed point (measured
        // offset 0.025 on coordinate 2, 0.08 of its sd, at every seed 1–8). Bound: ε + 5% of the sd.
        const double mean_tol = opt.step_size + 0.05 * t.sd[k];
        // Variance: SVGD's finite-particle fixed point underestimates it (variance collapse, worse as
        // D grows at fixed n); measured ratio 0.89–0.92 at n = 100, D = 3 over seeds 1–8. Bound ±15%.
        const double var_ratio = cov[k * 3 + k] / S[k * 3 + k];
        INFO("coordinate " << k << ": mean " << mean[k] << " (exact " << t.mean[k] << "), variance ratio "
                            << var_ratio);
        CHECK(std::fabs(mean[k] - t.mean[k]) <= mean_tol);
        CHECK(var_ratio > 0.85);
        CHECK(var_ratio < 1.15);
        for (int j = 0; j < k; ++j) {
            // Correlations: measured within 0.008 of the exact ones; bound 0.05 (the smallest is 0.2).
            const double corr = cov[k * 3 + j] / std::sqrt(cov[k * 3 + k] * cov[j * 3 + j]);
            CHECK(std::fabs(corr - t.corr[k * 3 + j]) < 0.05);
        }
    }
}

TEST_CASE("SVGD: thread-count independence and the progress callback") {
    const GaussTarget t;
    const QuadraticPotential<double> phi(t.precision(), t.mean);
    SvgdOptions opt;
    opt.particles = 37;
    opt.iterations = 40;
    Context one(Backend::Host, 1), two(Backend::Host, 2);
    Rng r1(4), r2(4);
    std::int64_t calls = 0, last = 0;
    std::vector<double> seen;
    const SvgdProgress record = [&](std::int64_t it, const std::vector<double>& x) {
        ++calls;
        last = it;
        seen = x;
    };
    const std::vector<double> a = svgd(one, phi, wide_start(), opt, r1, record);
    const std::vector<double> b = svgd(two, phi, wide_start(), opt, r2);
    CHECK(a == b);
    CHECK(calls == 40);
    CHECK(last == 40);
    CHECK(seen == a);
    // A fixed bandwidth is used as given: a different result from the median heuristic's.
    opt.bandwidth = 0.5;
    Rng r3(4);
    CHECK(svgd(one, phi, wide_start(), opt, r3) != a);
}

// ---- logistic regression ------------------------------------------------------------------------------

TEST_CASE("MALA and SVGD agree on a tiny logistic-regression posterior (d = 3, 60 rows, full data)") {
    const TinyLogReg lr;
    const LogisticPosteriorPotential<double> phi(lr.X, lr.y, lr.d);
    const int D = lr.d + 1;
    Context ctx(Backend::Host, 1);
    // MALA from the prior itself: θ of scale α^{−1/2} ≈ 10 and 3% of the chains below the log α clamp,
    // where Φ is flat in log α: the warm-up has to bring them all in.
    const MalaResult ref = mala_reference(ctx, phi, LogisticPrior(lr.d), 2);
    MESSAGE("MALA logistic: acceptance " << ref.acceptance << ", max R-hat " << ref.max_rhat);
    CHECK(ref.max_rhat < 1.05);
    // SVGD from N((0, 0, 0, −4), I): a start away from the flat region (an SVGD particle that starts
    // there has no force along log α and stays).
    SvgdOptions so;
    so.iterations = 1000;  // moments settled by 250
    Rng rng(3);
    const Gaussian start({0, 0, 0, -4}, {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1});
    const std::vector<double> x = svgd(ctx, phi, start, so, rng);
    const PosteriorComparison c = compare_samples(x, ref.samples, D);
    MESSAGE("SVGD vs MALA: mean error " << c.mean_error << " sd, std error " << c.std_error << ", energy "
                                        << c.energy_distance);
    // Measured: mean error 0.11 sd, std error 0.14. SVGD's particle set at n = 100, D = 4 is ~10–15%
    // narrower (variance collapse; 5% already at D = 3 above) and its means oscillate by ±ε/2 = 0.025
    // (≈ 0.08 of the smallest posterior sd, 0.37); MALA's own error is ≈ sd/√ESS ≈ 0.03 sd. Bounds:
    // 0.25 sd for the means, 0.30 for the stds. An SVGD without repulsion collapses to the mode
    // (std error ≈ 1); a wrong sign of the score runs off (mean error ≫ 1).
    CHECK(c.mean_error < 0.25);
    CHECK(c.std_error < 0.30);
    // Not vacuous: the posterior is far from the prior's centre (θ₁ of the generating model is −2).
    std::vector<double> mean, cov;
    moments(ref.samples, D, mean, cov);
    CHECK(mean[1] < -1.0);
    // The blockwise evaluation of the full-data logistic potential on 2 threads gives the same particles.
    Context two(Backend::Host, 2);
    so.iterations = 30;
    Rng ra(8), rb(8);
    CHECK(svgd(ctx, phi, start, so, ra) == svgd(two, phi, start, so, rb));
    // float potential: the same settled moments within the float run's own deviation (≤ 0.05 sd).
    const LogisticPosteriorPotential<float> phif(lr.X, lr.y, lr.d);
    so.iterations = 1000;
    Rng rf(3);
    const PosteriorComparison cf = compare_samples(svgd(ctx, phif, start, so, rf), ref.samples, D);
    CHECK(std::fabs(cf.mean_error - c.mean_error) < 0.05);
    CHECK(std::fabs(cf.std_error - c.std_error) < 0.05);
}

TEST_CASE("SVGD on german's posterior (full data) reaches a good test log-likelihood") {
    const LogRegDataset g = load_logreg_dataset(std::string(WGF_DATA_DIR) + "/logreg/german");
    const LogisticPosteriorPotential<double> phi(g.X_train, g.y_train, g.dim);
    const LogisticPrior prior(g.dim);
    Context ctx(Backend::Host, 1);
    SvgdOptions opt;
    opt.iterations = 300;
    Rng rng(1);
    LogRegPredictive start{};
    const std::vector<double> x = svgd(ctx, phi, prior, opt, rng, [&](std::int64_t it, const std::vector<double>& p) {
        if (it == 1) start = logreg_predictive(g.X_test, g.y_test, g.dim, p);
    });
    const LogRegPredictive end = logreg_predictive(g.X_test, g.y_test, g.dim, x);
    MESSAGE("german SVGD: test log-lik " << start.log_lik << " after 1 iteration, " << end.log_lik
                                         << " after 300 (accuracy " << end.accuracy << ")");
    // After 300 iterations the test log-likelihood is −0.611 (−0.62 at 3000; the published SVGD
    // −0.60): bound −0.65. Near the prior (after 1 iteration) the particles' θ have norms ~100 in random
    // directions, so the averaged predictive p̄ is near ½ and the log-likelihood near log ½ = −0.693
    // (measured −0.699): the start does not meet the bound.
    CHECK(start.log_lik < -0.68);
    CHECK(end.log_lik > -0.65);
}
