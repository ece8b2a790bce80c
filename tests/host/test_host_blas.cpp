// test_host_blas.cpp — the host BLAS: loaded with kernels at the CPU's level, products correct.
//
// Registered twice with CTest: `test_host_blas` in the environment as it is, and
// `test_host_blas_forced_prescott` with OPENBLAS_CORETYPE=Prescott (SSE3 kernels, what OpenBLAS 0.3.21
// falls back to on CPU models newer than its table). With OPENBLAS_CORETYPE unset, the loaded core
// must not be below the CPU's SIMD level (the startup check of issue 12); with it set, wgf must keep
// the user's choice and, when that is below the CPU's level, warn once on stderr with the fix.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "host/host_blas.h"
#include "wgf/host_blas.h"

namespace {

// The environment before wgf loads OpenBLAS (the first test case below loads it).
const char* const g_env_core = [] {
    const char* e = std::getenv("OPENBLAS_CORETYPE");
    return (e != nullptr && e[0] != '\0') ? e : nullptr;
}();

}  // namespace

TEST_CASE("OpenBLAS is loaded at the CPU's level, or the user is told why not") {
    // Capture the one-time warning: nothing may have loaded OpenBLAS before this case.
    std::ostringstream captured;
    std::streambuf* old = std::cerr.rdbuf(captured.rdbuf());
    const wgf::HostBlasInfo& info = wgf::host_blas_info();
    std::cerr.rdbuf(old);

    const wgf::SimdLevel cpu = wgf::cpu_simd_level();
    MESSAGE("OpenBLAS '" << info.core << "' (" << std::string(wgf::simd_level_name(info.core_level)) << ") from " << info.library
                         << ", " << info.how << "; CPU " << std::string(wgf::simd_level_name(cpu)) << "; " << info.config);
    CHECK(!info.library.empty());
    REQUIRE(!info.core.empty());
    CHECK(info.cpu_level == cpu);
    CHECK(info.core_level != wgf::SimdLevel::Unknown);  // a name this wgf knows (else the check below is blind)

    // wgf restores the environment it found.
    const char* env_now = std::getenv("OPENBLAS_CORETYPE");
    if (g_env_core == nullptr) {
        CHECK((env_now == nullptr || env_now[0] == '\0'));
    } else {
        REQUIRE(env_now != nullptr);
        CHECK(std::string(env_now) == g_env_core);
    }

    if (g_env_core == nullptr) {
        // The check: without a user's choice the kernels match the CPU (wgf chose them from cpuid).
        CHECK_MESSAGE(!info.below_cpu, "OpenBLAS core " << info.core << " is below the CPU's "
                                                         << std::string(wgf::simd_level_name(cpu)) << ": " << info.warning);
        CHECK(info.warning.empty());
        CHECK(captured.str().empty());
        if (static_cast<int>(cpu) >= static_cast<int>(wgf::SimdLevel::Avx)) {
            CHECK(info.how.find("chosen by wgf") != std::string::npos);
            CHECK(info.core_level == cpu);
        }
    } else {
        // The user's choice is kept; below the CPU's level it is reported once, with the fix.
        CHECK(info.how.find(std::string("OPENBLAS_CORETYPE=") + g_env_core) != std::string::npos);
        const wgf::SimdLevel forced = wgf::openblas_core_level(g_env_core);
        if (forced != wgf::SimdLevel::Unknown) CHECK(info.core_level == forced);
        const bool below = forced != wgf::SimdLevel::Unknown && static_cast<int>(forced) < static_cast<int>(cpu);
        CHECK(info.below_cpu == below);
        if (below) {
            CHECK(info.warning.find(std::string("OPENBLAS_CORETYPE=") + g_env_core) != std::string::npos);
            // The fix names the CPU level's core: Haswell on Intel, Zen on AMD (AVX2).
            CHECK((info.warning.find(wgf::openblas_coretype_for(cpu, false)) != std::string::npos ||
                   info.warning.find(wgf::openblas_coretype_for(cpu, true)) != std::string::npos));
            const char* quiet = std::getenv("WGF_BLAS_WARNING");
            if (quiet == nullptr || std::strcmp(quiet, "0") != 0) CHECK(captured.str() == info.warning + "\n");
        } else {
            CHECK(info.warning.empty());
            CHECK(captured.str().empty());
        }
    }
    // Loaded once: the same object, no second warning.
    CHECK(&wgf::host_blas_info() == &info);
}

TEST_CASE("core names and CPU levels") {
    using wgf::SimdLevel;
    CHECK(wgf::openblas_core_level("Prescott") == SimdLevel::Sse);
    CHECK(wgf::openblas_core_level("Sandybridge") == SimdLevel::Avx);
    CHECK(wgf::openblas_core_level("Haswell") == SimdLevel::Avx2);
    CHECK(wgf::openblas_core_level("Zen") == SimdLevel::Avx2);
    CHECK(wgf::openblas_core_level("SkylakeX") == SimdLevel::Avx512);
    CHECK(wgf::openblas_core_level("COOPERLAKE") == SimdLevel::Avx512);  // single-target builds report upper case
    CHECK(wgf::openblas_core_level("Unknown") == SimdLevel::Unknown);
    CHECK(wgf::openblas_core_level("") == SimdLevel::Unknown);
    // What wgf asks for is a core of exactly that level (so the check above cannot pass by accident).
    for (SimdLevel l : {SimdLevel::Avx, SimdLevel::Avx2, SimdLevel::Avx512})
        for (bool amd : {false, true}) CHECK(wgf::openblas_core_level(wgf::openblas_coretype_for(l, amd)) == l);
    CHECK(std::string(wgf::openblas_coretype_for(SimdLevel::Avx2, true)) == "Zen");
    CHECK(std::string(wgf::openblas_coretype_for(SimdLevel::Sse, false)).empty());
    CHECK(std::string(wgf::simd_level_name(SimdLevel::Avx512)) == "AVX-512");
}

// C = alpha op(A) op(B) + beta C against a plain triple loop in double, with padded leading dimensions
// and all four transposition cases (the dlopen'ed CBLAS must get every argument right).
template <typename T>
void check_gemm(double tol) {
    std::mt19937 gen(12);
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    const int m = 37, n = 19, k = 53;
    for (int ta = 0; ta < 2; ++ta)
        for (int tb = 0; tb < 2; ++tb) {
            const int a_rows = ta ? k : m, a_cols = ta ? m : k, lda = a_rows + 3;
            const int b_rows = tb ? n : k, b_cols = tb ? k : n, ldb = b_rows + 2;
            const int ldc = m + 5;
            std::vector<T> a(static_cast<size_t>(lda) * a_cols), b(static_cast<size_t>(ldb) * b_cols),
                c(static_cast<size_t>(ldc) * n);
            for (auto& v : a) v = static_cast<T>(u(gen));
            for (auto& v : b) v = static_cast<T>(u(gen));
            for (auto& v : c) v = static_cast<T>(u(gen));
            const std::vector<T> c0 = c;
            const T alpha = static_cast<T>(0.75), beta = static_cast<T>(-0.5);
            wgf::detail::blas_gemm<T>(ta != 0, tb != 0, m, n, k, alpha, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
            double worst = 0.0;
            for (int j = 0; j < n; ++j)
                for (int i = 0; i < m; ++i) {
                    double s = 0.0;
                    for (int l = 0; l < k; ++l) {
                        const double ail = ta ? a[i * lda + l] : a[l * lda + i];
                        const double blj = tb ? b[l * ldb + j] : b[j * ldb + l];
                        s += ail * blj;
                    }
                    const double want = alpha * s + beta * static_cast<double>(c0[j * ldc + i]);
                    worst = std::max(worst, std::abs(static_cast<double>(c[j * ldc + i]) - want));
                }
            // Padding rows of C are untouched.
            for (int j = 0; j < n; ++j)
                for (int i = m; i < ldc; ++i) CHECK(c[j * ldc + i] == c0[j * ldc + i]);
            INFO("trans_a " << ta << " trans_b " << tb << " worst " << worst);
            CHECK(worst < tol);  // |terms| ≤ 1, k = 53: float rounding ≤ ~53 · 2⁻²⁴ · 53 ≈ 2e-4 worst case
        }
}

TEST_CASE("blas_gemm matches a plain product (float and double, all transpositions)") {
    check_gemm<float>(5e-4);
    check_gemm<double>(1e-12);
}
