// test_logreg.cpp — Bayesian logistic regression (paper §7.4): the dataset loader on the stored data
// (sizes of data/logreg/PROVENANCE.md) and on every malformed-file case; the posterior potential's
// gradient against central finite differences (double; full data, log α clamp inactive and active,
// likelihood clamp on), its value against a direct long-double transcription of the spec's formula,
// the stable log-sigmoid at ±1000, the minibatch estimator (one epoch reproduces the full data term
// exactly; many batches average to it within 5 standard errors), float against double, the
// fingerprint, and the posterior-predictive evaluation.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "compare.h"
#include "errors.h"
#include "potential_fd.h"
#include "temp_files.h"
#include "random.h"
#include "wgf/context.h"
#include "wgf/error.h"
#include "wgf/logreg.h"
#include "wgf/logreg_data.h"
#include "wgf/random.h"

#ifndef WGF_DATA_DIR
#error "WGF_DATA_DIR must name the repository's data/ folder"
#endif

using namespace wgf;
using namespace wgf_test;
namespace fs = std::filesystem;

namespace {

const std::string kData = std::string(WGF_DATA_DIR) + "/logreg/";


/// Writes a dataset folder and returns load_logreg_dataset's error (or "<no exception>").
std::string load_error(const TempDir& dir, const std::string& csv, const std::string& train, const std::string& test) {
    write(dir / "data.csv", csv);
    write(dir / "train_idx.txt", train);
    write(dir / "test_idx.txt", test);
    return error_of([&] { load_logreg_dataset(dir.path.string()); });
}

const LogRegDataset& german() {
    static const LogRegDataset ds = load_logreg_dataset(kData + "german");
    return ds;
}

std::vector<double> eval_value(const Potential<double>& pot, const std::vector<double>& y) {
    Context ctx(Backend::Host, 1);
    std::vector<double> v(y.size() / static_cast<std::size_t>(pot.dim()));
    pot.eval(ctx, y.data(), static_cast<std::int64_t>(v.size()), v.data(), nullptr);
    return v;
}


/// n random parameter points: θ ~ N(0, theta_scale²), log α uniform in [lo, hi].
std::vector<double> random_params(int n, int d, double theta_scale, double lo, double hi, std::uint64_t seed) {
    Rng rng(seed);
    std::vector<double> y;
    for (int p = 0; p < n; ++p) {
        for (int j = 0; j < d; ++j) y.push_back(theta_scale * rng.normal());
        y.push_back(lo + (hi - lo) * rng.uniform());
    }
    return y;
}

/// Gradient vs FD, per point: |g − fd| ≤ rtol·|fd| + atol·(1 + max_i |fd_i| of that point). Returns
/// the largest error ratio (≤ 1 passes).
double fd_mismatch(const Potential<double>& pot, const std::vector<double>& y, double rtol, double atol) {
    Context ctx(Backend::Host, 1);
    const std::size_t D = static_cast<std::size_t>(pot.dim()), n = y.size() / D;
    std::vector<double> v(n), g(y.size());
    pot.eval(ctx, y.data(), static_cast<std::int64_t>(n), v.data(), g.data());
    const auto fd = fd_gradient(pot, y);
    double worst = 0, worst_rel = 0;
    for (std::size_t p = 0; p < n; ++p) {
        double scale = 0;
        for (std::size_t i = 0; i < D; ++i) scale = std::max(scale, std::fabs(fd[p * D + i]));
        for (std::size_t i = 0; i < D; ++i) {
            const double err = std::fabs(g[p * D + i] - fd[p * D + i]);
            worst = std::max(worst, err / (rtol * std::fabs(fd[p * D + i]) + atol * (1 + scale)));
            worst_rel = std::max(worst_rel, err / (1 + scale));
        }
    }
    MESSAGE("FD: max |g - fd| / (1 + max|fd| of the point) = " << worst_rel << ", tolerance ratio " << worst);
    return worst;
}

/// −log posterior written directly from PAPER-SPEC §7.4 in long double, with the naive
/// log(1/(1 + e^{−z})) (fine for the moderate z used here):
///   log prior = Σ_i log N(θ_i √α; 0, 1) + (d/2)ℓ + log Gamma(α; 1, 100) + ℓ
long double direct_phi(const std::vector<double>& X, const std::vector<double>& lab, int d, const double* w) {
    const long double ell = std::min(8.0L, std::max(-8.0L, static_cast<long double>(w[d])));
    const long double alpha = std::exp(ell);
    long double lp = 0;
    for (int i = 0; i < d; ++i) {
        const long double u = w[i] * std::sqrt(alpha);
        lp += -0.5L * u * u - 0.5L * std::log(2 * 3.14159265358979323846264338327950288L);
    }
    lp += 0.5L * d * ell + (std::log(100.0L) - 100 * alpha) + ell;
    long double ll = 0;
    for (std::size_t s = 0; s < lab.size(); ++s) {
        long double z = 0;
        for (int j = 0; j < d; ++j) z += static_cast<long double>(w[j]) * X[s * static_cast<std::size_t>(d) + j];
        ll += std::log(1.0L / (1.0L + std::exp(-lab[s] * z)));
    }
    return -(lp + ll);
}

}  // namespace

// ---- loader ---------------------------------------------------------------------------------------

TEST_CASE("the stored datasets load with the sizes of PROVENANCE.md") {
    const LogRegDataset& g = german();
    CHECK(g.name == "german");
    CHECK(g.dim == 20);
    CHECK(g.rows == 1000);
    CHECK(g.n_train() == 800);
    CHECK(g.n_test() == 200);
    CHECK(g.X_train.size() == 800u * 20u);
    CHECK(g.X_test.size() == 200u * 20u);
    const auto count_pos = [](const std::vector<double>& y) { return std::count(y.begin(), y.end(), 1.0); };
    CHECK(count_pos(g.y_test) == 45);                          // "+1 in test"
    CHECK(count_pos(g.y_train) + count_pos(g.y_test) == 300);  // "+1 / −1 (all)": 300 / 700
    // Row 0 of data.csv is "1,-1.2539382,-1.2358595,…": find it in whichever split holds it.
    const LogRegTable t = read_logreg_csv(kData + "german/data.csv");
    CHECK(t.y[0] == 1.0);
    CHECK(t.X[0] == -1.2539382);
    CHECK(t.X[1] == -1.2358595);
    for (std::size_t k = 0; k < 5; ++k) {
        const std::size_t r = static_cast<std::size_t>(g.train_rows[k]);
        CHECK(g.y_train[k] == t.y[r]);
        CHECK(g.X_train[k * 20 + 7] == t.X[r * 20 + 7]);
    }

    struct Expect {
        const char* name;
        int d;
        std::int64_t rows, train, test;
    };
    const Expect all[] = {{"german", 20, 1000, 800, 200},     {"diabetis", 8, 768, 614, 154},
                          {"twonorm", 20, 7400, 5920, 1480},  {"ringnorm", 20, 7400, 5920, 1480},
                          {"banana", 2, 5300, 4240, 1060},    {"splice", 60, 2991, 2392, 599},
                          {"waveform", 21, 5000, 4000, 1000}, {"image", 18, 2086, 1668, 418}};
    CHECK(logreg_dataset_names().size() == 8u);
    for (const Expect& e : all) {
        CAPTURE(e.name);
        const LogRegDataset ds = load_logreg_dataset(kData + e.name);
        CHECK(ds.dim == e.d);
        CHECK(ds.rows == e.rows);
        CHECK(ds.n_train() == e.train);
        CHECK(ds.n_test() == e.test);
    }
}

TEST_CASE("malformed dataset files are refused with the file and the line") {
    TempDir dir;
    const std::string csv = "1,0.5,2\n-1,1e-3,-4\n+1,3,.25\n";
    const std::string train = "0\n2\n", test = "1\n";
    REQUIRE(load_error(dir, csv, train, test) == "<no exception>");
    {
        const LogRegDataset ds = load_logreg_dataset(dir.path.string());
        CHECK(ds.dim == 2);
        CHECK(ds.X_train == std::vector<double>{0.5, 2, 3, 0.25});
        CHECK(ds.y_train == std::vector<double>{1, 1});
        CHECK(ds.X_test == std::vector<double>{1e-3, -4});
        CHECK(ds.y_test == std::vector<double>{-1});
    }
    // CRLF line ends and a missing final newline are accepted.
    CHECK(load_error(dir, "1,0.5,2\r\n-1,1e-3,-4\r\n+1,3,.25", train, test) == "<no exception>");

    const std::string data = dir / "data.csv", tr = dir / "train_idx.txt", te = dir / "test_idx.txt";
    struct Case {
        const char* what;
        std::string csv, train, test, file, expect;
    };
    const Case cases[] = {
        {"ragged row", "1,0.5,2\n-1,1e-3\n+1,3,.25\n", train, test, data, "line 2: ragged row: 2 fields"},
        {"non-numeric field", "1,0.5,2\n-1,abc,-4\n+1,3,.25\n", train, test, data, "line 2: field 1 'abc' is not a number"},
        {"trailing garbage", "1,0.5,2\n-1,1e-3,-4x\n+1,3,.25\n", train, test, data, "line 2: field 2 '-4x'"},
        {"empty field", "1,0.5,2\n-1,,-4\n+1,3,.25\n", train, test, data, "line 2: field 1 is empty"},
        {"blank in field", "1,0.5,2\n-1, 1,-4\n+1,3,.25\n", train, test, data, "line 2: field 1 ' 1' is not a number"},
        {"NaN field", "1,0.5,2\n-1,nan,-4\n+1,3,.25\n", train, test, data, "line 2: field 1 'nan' is not a number"},
        {"overflowing field", "1,0.5,2\n-1,1e999,-4\n+1,3,.25\n", train, test, data, "line 2: field 1 '1e999' is out of range"},
        {"label 0", "1,0.5,2\n-1,1e-3,-4\n0,3,.25\n", train, test, data, "line 3: label (field 0) is 0, not -1 or +1"},
        {"label 2", "2,0.5,2\n-1,1e-3,-4\n1,3,.25\n", train, test, data, "line 1: label (field 0) is 2"},
        {"empty line", "1,0.5,2\n\n-1,1e-3,-4\n+1,3,.25\n", train, test, data, "line 2: empty line"},
        {"label only", "1\n-1\n", train, test, data, "line 1: 1 field(s)"},
        {"empty data file", "", train, test, data, "no rows (empty file)"},
        {"index out of range", csv, "0\n3\n", test, tr, "line 2: index 3 is out of range (the data has 3 rows)"},
        {"huge index", csv, "0\n99999999999999999999999\n", test, tr, "line 2: index 99999999999999999999999 is out of range"},
        {"negative index", csv, "0\n-1\n", test, tr, "line 2: '-1' is not a non-negative integer"},
        {"non-numeric index", csv, "0\n2\n", "x1\n", te, "line 1: 'x1' is not a non-negative integer"},
        {"duplicated index", csv, "0\n2\n0\n", test, tr, "line 3: index 0 is duplicated"},
        {"index in both splits", csv, train, "1\n2\n", te, "line 2: row 2 is also in train_idx.txt"},
        {"empty index file", csv, train, "", te, "no indices (empty file)"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.what);
        const std::string e = load_error(dir, c.csv, c.train, c.test);
        CAPTURE(e);
        CHECK(contains(e, "'" + c.file + "'"));
        CHECK(contains(e, c.expect));
    }

    // Missing file, a directory instead of a file, a file above the size cap.
    write(data, csv);
    write(tr, train);
    write(te, test);
    fs::remove(te);
    std::string e = error_of([&] { load_logreg_dataset(dir.path.string()); });
    CHECK(contains(e, "cannot open"));
    CHECK(contains(e, te));
    fs::create_directory(te);
    e = error_of([&] { load_logreg_dataset(dir.path.string()); });
    CHECK(contains(e, te));
    CHECK(contains(e, "is a directory"));
    fs::remove(te);
    write(te, test);
    e = error_of([&] { load_logreg_dataset(dir.path.string(), /*max_bytes=*/10); });
    CHECK(contains(e, data));
    CHECK(contains(e, "more than the 10"));
    e = error_of([&] { read_logreg_csv("/dev/zero"); });
    CHECK(contains(e, "a character device"));
}

// ---- potential ------------------------------------------------------------------------------------

TEST_CASE("log_sigmoid is stable at +-1000 and exact near 0") {
    CHECK(log_sigmoid(-1000.0) == -1000.0);
    CHECK(log_sigmoid(1000.0) == 0.0);
    CHECK(std::fabs(log_sigmoid(0.0) + std::log(2.0)) < 1e-16);
    CHECK(std::fabs(log_sigmoid(-40.0) - (-40.0 - std::exp(-40.0))) < 1e-13);
    for (double z : {-3.0, -0.5, 0.25, 2.0, 15.0})
        CHECK(std::fabs(log_sigmoid(z) - std::log(1 / (1 + std::exp(-z)))) < 1e-15);
    // The potential stays finite with |θᵀx| in the thousands.
    const LogRegDataset& g = german();
    LogisticPosteriorPotential<double> pot(g.X_train, g.y_train, g.dim);
    std::vector<double> y = random_params(2, g.dim, 300.0, -1, 1, 5);
    Context ctx(Backend::Host, 1);
    std::vector<double> v(2), gr(y.size());
    pot.eval(ctx, y.data(), 2, v.data(), gr.data());
    for (double x : v) CHECK(std::isfinite(x));
    for (double x : gr) CHECK(std::isfinite(x));
}

TEST_CASE("posterior value matches a direct transcription of the formula") {
    // Tiny random dataset (N = 7, d = 3) and german at moderate points; clamp inactive and active.
    Rng rng(3);
    const int d = 3;
    std::vector<double> X, lab;
    for (int s = 0; s < 7; ++s) {
        for (int j = 0; j < d; ++j) X.push_back(rng.normal());
        lab.push_back(rng.uniform() < 0.5 ? -1.0 : 1.0);
    }
    LogisticPosteriorPotential<double> tiny(X, lab, d);
    auto y = random_params(20, d, 1.0, -9.5, 9.5, 4);
    auto v = eval_value(tiny, y);
    for (std::size_t p = 0; p < v.size(); ++p) {
        const long double e = direct_phi(X, lab, d, y.data() + p * (d + 1));
        CHECK(std::fabs(v[p] - static_cast<double>(e)) <= 1e-12 * std::fabs(static_cast<double>(e)) + 1e-12);
    }
    const LogRegDataset& g = german();
    LogisticPosteriorPotential<double> pot(g.X_train, g.y_train, g.dim);
    y = random_params(6, g.dim, 0.3, -7, 7, 6);
    v = eval_value(pot, y);
    for (std::size_t p = 0; p < v.size(); ++p) {
        const long double e = direct_phi(g.X_train, g.y_train, g.dim, y.data() + p * (g.dim + 1));
        CHECK(std::fabs(v[p] - static_cast<double>(e)) <= 1e-12 * std::fabs(static_cast<double>(e)));
    }
}

TEST_CASE("posterior gradient matches central finite differences (double, german, full data)") {
    // h = ∛ε·max(1,|y|) ≈ 6e-6: FD error ≈ ε|Φ|/h + h²|Φ'''|/6. With log α ≤ 3, |Φ| ≲ 1e4
    // (bα ≤ 2e3, data term ≈ 800·0.7), so the rounding part is ≲ 4e-7 absolute, and |Φ'''| is of
    // the size of |Φ| (the bα term), so truncation ≲ 1e-7. Tolerance: 1e-6 relative + 1e-7·(1 + the
    // point's largest FD component), a ≥ 10× margin; a wrong factor or sign is an O(1) error.
    const LogRegDataset& g = german();
    SUBCASE("log-alpha clamp inactive") {
        LogisticPosteriorPotential<double> pot(g.X_train, g.y_train, g.dim);
        const auto y = random_params(12, g.dim, 0.4, -7.5, 3, 7);
        CHECK(fd_mismatch(pot, y, 1e-6, 1e-7) <= 1.0);
    }
    SUBCASE("log-alpha clamp active: the log-alpha derivative is 0 outside [-8, 8]") {
        LogisticPosteriorPotential<double> pot(g.X_train, g.y_train, g.dim);
        std::vector<double> y = random_params(6, g.dim, 0.4, 0, 1, 8);
        const double r[] = {-8.5, -9, -30, 8.2, 9, 40};
        for (std::size_t p = 0; p < 6; ++p) y[p * 21 + 20] = r[p];
        CHECK(fd_mismatch(pot, y, 1e-6, 1e-7) <= 1.0);
        Context ctx(Backend::Host, 1);
        std::vector<double> gr(y.size());
        pot.eval(ctx, y.data(), 6, nullptr, gr.data());
        for (std::size_t p = 0; p < 6; ++p) CHECK(gr[p * 21 + 20] == 0.0);
        // Outside the range Φ is flat in log α: the same value as at the boundary.
        std::vector<double> yb = y;
        for (std::size_t p = 0; p < 6; ++p) yb[p * 21 + 20] = r[p] < 0 ? -8.0 : 8.0;
        const auto v = eval_value(pot, y), vb = eval_value(pot, yb);
        for (std::size_t p = 0; p < 6; ++p) CHECK(v[p] == vb[p]);
    }
    SUBCASE("likelihood clamp log max(p, 1e-5) active on some rows") {
        LogisticPosteriorOptions opt;
        opt.clamp_likelihood = true;
        LogisticPosteriorPotential<double> pot(g.X_train, g.y_train, g.dim, opt);
        LogisticPosteriorPotential<double> exact(g.X_train, g.y_train, g.dim);
        // θ of scale 2: |θᵀx| reaches tens, so many rows have σ(yθᵀx) < 1e-5.
        const auto y = random_params(6, g.dim, 2.0, -4, -1, 9);
        std::int64_t clamped = 0;
        for (std::size_t p = 0; p < 6; ++p)
            for (std::int64_t s = 0; s < g.n_train(); ++s) {
                double z = 0;
                for (int j = 0; j < g.dim; ++j) z += y[p * 21 + j] * g.X_train[static_cast<std::size_t>(s) * 20 + j];
                clamped += log_sigmoid(g.y_train[static_cast<std::size_t>(s)] * z) < std::log(1e-5) ? 1 : 0;
            }
        MESSAGE("rows clamped over 6 points: " << clamped);
        CHECK(clamped > 50);
        CHECK(fd_mismatch(pot, y, 1e-6, 1e-7) <= 1.0);
        const auto vc = eval_value(pot, y), ve = eval_value(exact, y);
        for (std::size_t p = 0; p < 6; ++p) CHECK(vc[p] < ve[p]);  // the clamp raises log-lik, lowers Φ
    }
}

TEST_CASE("eval on several host threads equals the serial evaluation bit for bit (full data)") {
    const LogRegDataset& g = german();
    LogisticPosteriorPotential<double> pot(g.X_train, g.y_train, g.dim);
    const auto y = random_params(37, g.dim, 0.4, -7.5, 3, 11);  // 37 points: uneven blocks per thread
    std::vector<double> v1(37), g1(y.size()), v3(37), g3(y.size());
    Context one(Backend::Host, 1), three(Backend::Host, 3);
    pot.eval(one, y.data(), 37, v1.data(), g1.data());
    pot.eval(three, y.data(), 37, v3.data(), g3.data());
    CHECK(v1 == v3);
    CHECK(g1 == g3);
    CHECK(std::isfinite(v1[0]));
}

TEST_CASE("minibatch data term: one epoch reproduces the full data, many batches average to it") {
    const LogRegDataset& g = german();
    LogisticPosteriorPotential<double> full(g.X_train, g.y_train, g.dim);
    const auto y = random_params(1, g.dim, 0.3, -3, -1, 10);
    const double v_full = eval_value(full, y)[0];
    Context ctx(Backend::Host, 1);
    std::vector<double> g_full(21);
    full.eval(ctx, y.data(), 1, nullptr, g_full.data());
    {
        // 800 = 8 × 100: the batches of one epoch partition the rows, so the mean of the 8 values
        // (each N/100 × a batch sum) is the full value up to rounding.
        LogisticPosteriorOptions opt;
        opt.minibatch = 100;
        opt.seed = 1;
        LogisticPosteriorPotential<double> mb(g.X_train, g.y_train, g.dim, opt);
        for (int epoch = 0; epoch < 2; ++epoch) {
            double mean = 0;
            std::vector<double> gm(21, 0.0), gr(21);
            for (int b = 0; b < 8; ++b) {
                double v = 0;
                mb.eval(ctx, y.data(), 1, &v, gr.data());
                mean += v / 8;
                for (int i = 0; i < 21; ++i) gm[static_cast<std::size_t>(i)] += gr[static_cast<std::size_t>(i)] / 8;
            }
            CHECK(std::fabs(mean - v_full) <= 1e-12 * std::fabs(v_full));
            expect_allclose(gm, g_full, 1e-10, 1e-10, "epoch-mean gradient vs full");
        }
    }
    {
        // Batches of 64 (the last of each epoch has 32 rows): each batch is a uniform random subset,
        // so each value is unbiased. 3000 draws: |mean − full| ≤ 5 standard errors (estimated from the
        // draws), a false-failure rate of ~1e-6 for a normal mean.
        LogisticPosteriorOptions opt;
        opt.minibatch = 64;
        opt.seed = 2;
        LogisticPosteriorPotential<double> mb(g.X_train, g.y_train, g.dim, opt);
        const int K = 3000;
        double s = 0, s2 = 0;
        for (int k = 0; k < K; ++k) {
            double v = 0;
            mb.eval(ctx, y.data(), 1, &v, nullptr);
            s += v;
            s2 += v * v;
        }
        const double mean = s / K, sd = std::sqrt(std::max(0.0, s2 / K - mean * mean)), se = sd / std::sqrt(double(K));
        MESSAGE("minibatch 64: mean " << mean << ", full " << v_full << ", sd " << sd << ", se " << se);
        CHECK(sd > 0);
        CHECK(std::fabs(mean - v_full) <= 5 * se);
    }
}

TEST_CASE("float evaluation follows double; describe and fingerprint; bad arguments") {
    const LogRegDataset& g = german();
    LogisticPosteriorPotential<double> pd(g.X_train, g.y_train, g.dim);
    LogisticPosteriorPotential<float> pf(g.X_train, g.y_train, g.dim);
    const auto yd = random_params(8, g.dim, 0.3, -6, 2, 11);
    std::vector<float> yf(yd.begin(), yd.end());
    std::vector<double> ydr(yf.begin(), yf.end());  // the same points, rounded to float
    Context ctx(Backend::Host, 1);
    std::vector<double> vd(8), gd(yd.size());
    std::vector<float> vf(8), gf(yd.size());
    pd.eval(ctx, ydr.data(), 8, vd.data(), gd.data());
    pf.eval(ctx, yf.data(), 8, vf.data(), gf.data());
    expect_allclose(vf, vd, 1e-6, 0.0, "float vs double value");
    expect_allclose(gf, gd, 1e-6, 1e-6, "float vs double grad");

    CHECK(pd.dim() == 21);
    CHECK(contains(pd.describe(), "d=20 N=800"));
    LogisticPosteriorOptions opt;
    opt.minibatch = 64;
    LogisticPosteriorPotential<double> mb(g.X_train, g.y_train, g.dim, opt);
    CHECK(pd.fingerprint() != mb.fingerprint());
    std::vector<double> X2 = g.X_train;
    X2[5] += 1e-9;
    LogisticPosteriorPotential<double> other(X2, g.y_train, g.dim);
    CHECK(pd.fingerprint() != other.fingerprint());
    CHECK(pd.describe() == other.describe());
    LogisticPosteriorPotential<double> same(g.X_train, g.y_train, g.dim);
    CHECK(pd.fingerprint() == same.fingerprint());
    opt.minibatch = 5000;  // ≥ N: the full data
    LogisticPosteriorPotential<double> big(g.X_train, g.y_train, g.dim, opt);
    CHECK(big.fingerprint() == pd.fingerprint());

    CHECK(contains(error_of([&] { LogisticPosteriorPotential<double>({1, 2}, {0.5}, 2); }), "not -1 or +1"));
    CHECK(contains(error_of([&] { LogisticPosteriorPotential<double>({1, 2, 3}, {1}, 2); }), "expected N*d"));
    std::vector<double> bad = yd;
    bad[3] = NAN;
    double v = 0;
    CHECK(contains(error_of([&] { pd.eval(ctx, bad.data(), 1, &v, nullptr); }), "NaN/Inf"));
}

TEST_CASE("posterior predictive (paper 6.6)") {
    // Tiny data: two rows, d = 1; samples θ = {2, −1} (log α ignored).
    const std::vector<double> X = {1.0, -0.5}, lab = {1.0, 1.0}, samples = {2.0, 7.0, -1.0, -3.0};
    const auto r = logreg_predictive(X, lab, 1, samples);
    const double p0 = 0.5 * (1 / (1 + std::exp(-2.0)) + 1 / (1 + std::exp(1.0)));
    const double p1 = 0.5 * (1 / (1 + std::exp(1.0)) + 1 / (1 + std::exp(-0.5)));
    CHECK(std::fabs(r.log_lik - 0.5 * (std::log(p0) + std::log(p1))) < 1e-14);
    CHECK(r.accuracy == doctest::Approx(((p0 > 0.5) + (p1 > 0.5)) / 2.0));
    // θ = 0: every p̄ = ½, nothing counts as correct, log-lik = log ½.
    const LogRegDataset& g = german();
    const auto z = logreg_predictive(g.X_test, g.y_test, g.dim, std::vector<double>(21 * 3, 0.0));
    CHECK(z.accuracy == 0.0);
    CHECK(std::fabs(z.log_lik - std::log(0.5)) < 1e-14);  // a mean of 200 equal logs
}

TEST_CASE("the prior as rho0: samples follow its law, the log-density is exact and normalised") {
    // d = 1, a = 1, b = 100: ℓ = log α with α ∼ Exp(rate 100), so P(ℓ ≤ t) = 1 − exp(−100 eᵗ),
    // E ℓ = −γ − log 100, Var ℓ = π²/6; and α θ² ∼ χ²₁ independent of ℓ (mean 1, variance 2).
    LogisticPrior prior(1);
    CHECK(prior.dim() == 2);
    Rng rng(12);
    const std::int64_t n = 40000;
    const auto x = prior.sample(n, rng);
    double m = 0, m2 = 0, chi = 0;
    for (std::int64_t p = 0; p < n; ++p) {
        const double ell = x[static_cast<std::size_t>(2 * p + 1)], th = x[static_cast<std::size_t>(2 * p)];
        m += ell / n;
        m2 += ell * ell / n;
        chi += std::exp(ell) * th * th / n;
    }
    const double var = m2 - m * m, mean_exact = -0.57721566490153286 - std::log(100.0);
    const double var_exact = 3.14159265358979 * 3.14159265358979 / 6;
    // 5 standard errors: sd(ℓ)/√n ≈ 0.0064, sd(ℓ²)/√n ≈ 0.02 around ~29 → var within ~0.1; χ² mean ± 5·√(2/n).
    CHECK(std::fabs(m - mean_exact) <= 5 * std::sqrt(var_exact / n));
    CHECK(std::fabs(var - var_exact) <= 0.1);
    CHECK(std::fabs(chi - 1) <= 5 * std::sqrt(2.0 / n));
    for (double t : {-8.0, -6.0, -5.0, -4.0}) {
        const double cdf = 1 - std::exp(-100 * std::exp(t));
        double emp = 0;
        for (std::int64_t p = 0; p < n; ++p) emp += x[static_cast<std::size_t>(2 * p + 1)] <= t ? 1.0 / n : 0.0;
        CAPTURE(t);
        CHECK(std::fabs(emp - cdf) <= 5 * std::sqrt(cdf * (1 - cdf) / n) + 1e-4);
    }
    // Normalised: ∫∫ ρ⁰(θ, ℓ) dθ dℓ = 1 on a grid (θ integrated in units of the conditional sd).
    double total = 0;
    const double dl = 0.01;
    for (double ell = -20; ell < 6; ell += dl) {
        const double sd = std::exp(-0.5 * ell), dt = 0.02 * sd;
        for (double u = -10; u < 10; u += 0.02) {
            const double w[2] = {u * sd, ell};
            double lp = 0;
            prior.log_density(w, 1, &lp);
            total += std::exp(lp) * dt * dl;
        }
    }
    CHECK(std::fabs(total - 1) < 1e-3);
    // General shape against the direct formula; Gamma(shape 3) sampling mean E α = a/b.
    LogisticPrior p3(2, 3.0, 5.0);
    const double w[3] = {0.3, -1.2, -0.7};
    double lp = 0;
    p3.log_density(w, 1, &lp);
    const double al = std::exp(-0.7);
    const double direct = -0.5 * al * (0.09 + 1.44) + 1.0 * -0.7 - std::log(2 * 3.14159265358979323846) +
                          3 * std::log(5.0) - std::lgamma(3.0) + 3 * -0.7 - 5 * al;
    CHECK(std::fabs(lp - direct) < 1e-13);
    const auto x3 = p3.sample(20000, rng);
    double ma = 0;
    for (std::size_t p = 0; p < 20000; ++p) ma += std::exp(x3[p * 3 + 2]) / 20000;
    CHECK(std::fabs(ma - 0.6) <= 5 * std::sqrt(3.0 / 25.0 / 20000));
    CHECK(prior.record().kind == "logreg-prior");
}

TEST_CASE("the prior restricted to |log alpha| <= c: mass, samples inside, normalised density") {
    // a = 1: Z_c = exp(−b e^{−c}) − exp(−b e^{c}) in closed form (c = 8, b = 100: 0.96702).
    const double b = 100, c = 8;
    const LogisticPrior clipped(1, 1.0, b, c), free(1, 1.0, b);
    const double z = std::exp(-b * std::exp(-c)) - std::exp(-b * std::exp(c));
    CHECK(std::fabs(clipped.log_mass() - std::log(z)) < 1e-10);
    CHECK(free.log_mass() == 0);
    // Inside: the unrestricted density / Z_c; outside: −∞.
    const double in[2] = {0.4, -3.0}, out[2] = {0.4, -8.5};
    double a = 0, f = 0, o = 0;
    clipped.log_density(in, 1, &a);
    free.log_density(in, 1, &f);
    clipped.log_density(out, 1, &o);
    CHECK(std::fabs(a - (f - std::log(z))) < 1e-12);
    CHECK(o == -INFINITY);
    // Samples: all inside, and P(ℓ ≤ t | |ℓ| ≤ c) = (exp(−b e^{−c}) − exp(−b e^t)) / Z_c at 5 SE.
    Rng rng(5);
    const std::int64_t n = 40000;
    const auto x = clipped.sample(n, rng);
    for (double t : {-7.0, -6.0, -5.0, -4.0}) {
        const double cdf = (std::exp(-b * std::exp(-c)) - std::exp(-b * std::exp(t))) / z;
        double emp = 0;
        for (std::int64_t p = 0; p < n; ++p) emp += x[static_cast<std::size_t>(2 * p + 1)] <= t ? 1.0 / n : 0.0;
        CAPTURE(t);
        CHECK(std::fabs(emp - cdf) <= 5 * std::sqrt(cdf * (1 - cdf) / n) + 1e-4);
    }
    double lo = 0;
    for (std::int64_t p = 0; p < n; ++p) lo = std::min(lo, x[static_cast<std::size_t>(2 * p + 1)]);
    CHECK(lo >= -c);
    CHECK(lo < -7.5);  // the restriction is not a tighter one
    // General shape: Z_c from Simpson against a long fine midpoint sum (a = 0.5, b = 3, c = 2).
    const LogisticPrior g(2, 0.5, 3.0, 2.0);
    double zz = 0;
    const int m = 2000000;
    for (int i = 0; i < m; ++i) {
        const double ell = -2 + 4.0 * (i + 0.5) / m;
        zz += std::exp(0.5 * ell - 3 * std::exp(ell) + 0.5 * std::log(3.0) - std::lgamma(0.5)) * 4.0 / m;
    }
    CHECK(std::fabs(g.log_mass() - std::log(zz)) < 1e-8);
    // The record rebuilds the same distribution (a saved flow from it loads without the program).
    for (const LogisticPrior* p : {&clipped, &free, &g}) {
        const auto back = make_initial(p->record());
        CHECK(back->record() == p->record());
        const std::vector<double> pts = {0.4, -3.0, 0.1, -9.0, 2.0, -1.0};
        const std::vector<double> one = p->dim() == 2 ? pts : std::vector<double>{0.4, -0.2, -1.5};
        CHECK(back->log_density(one) == p->log_density(one));
    }
    InitialRecord r = clipped.record();
    r.params.pop_back();
    CHECK(contains(error_of([&] { (void)make_initial(r); }), "parameters, expected 3"));
    r = clipped.record();
    r.params[1] = -1;
    CHECK(contains(error_of([&] { (void)make_initial(r); }), "rate must be finite and > 0"));
    CHECK(contains(error_of([&] { LogisticPrior(1, 1.0, 1e6, 1.0); }), "below 1e-6"));
    CHECK(contains(error_of([&] { LogisticPrior(1, 1.0, 100, 0.0); }), "log_alpha_clip must be > 0"));
}

TEST_CASE("minibatch draws are safe from several threads at once") {
    const LogRegDataset& g = german();
    LogisticPosteriorOptions opt;
    opt.minibatch = 100;
    LogisticPosteriorPotential<double> mb(g.X_train, g.y_train, g.dim, opt);
    const auto y = random_params(1, g.dim, 0.3, -3, -1, 13);
    // 4 threads × 8 evaluations = 4 epochs of 8 batches each; the values' mean equals the full value
    // only if the batches of each epoch partitioned the rows (no batch lost or drawn twice).
    std::vector<double> vals(32);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            Context ctx(Backend::Host, 1);
            for (int k = 0; k < 8; ++k) mb.eval(ctx, y.data(), 1, &vals[static_cast<std::size_t>(t * 8 + k)], nullptr);
        });
    for (auto& th : threads) th.join();
    LogisticPosteriorPotential<double> full(g.X_train, g.y_train, g.dim);
    const double v_full = eval_value(full, y)[0];
    double mean = 0;
    for (double v : vals) mean += v / 32;
    CHECK(std::fabs(mean - v_full) <= 1e-11 * std::fabs(v_full));
}
