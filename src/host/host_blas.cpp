// host_blas.cpp — see host_blas.h and wgf/host_blas.h. OpenBLAS is loaded with dlopen at first use so
// that wgf can choose its kernels from the CPU's features before OpenBLAS's load-time detection runs
// (OpenBLAS reads OPENBLAS_CORETYPE once, in its library constructor).
#include "host_blas.h"

#include <dlfcn.h>

// OpenBLAS's header for the CBLAS enums and prototypes (the functions themselves come from dlsym;
// decltype of the prototypes types the pointers).
#include <cblas.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <iostream>
#include <string>

#include "wgf/error.h"
#include "wgf/host_blas.h"

#ifndef WGF_OPENBLAS_LIBRARY
#define WGF_OPENBLAS_LIBRARY ""
#endif

namespace wgf {

const char* simd_level_name(SimdLevel level) {
    switch (level) {
        case SimdLevel::Sse: return "SSE";
        case SimdLevel::Avx: return "AVX";
        case SimdLevel::Avx2: return "AVX2/FMA";
        case SimdLevel::Avx512: return "AVX-512";
        default: return "unknown";
    }
}

SimdLevel cpu_simd_level() {
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
    __builtin_cpu_init();  // the builtins also check that the OS saves the YMM/ZMM state (XGETBV)
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl"))
        return SimdLevel::Avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return SimdLevel::Avx2;
    if (__builtin_cpu_supports("avx")) return SimdLevel::Avx;
    return SimdLevel::Sse;
#else
    return SimdLevel::Unknown;
#endif
}

SimdLevel openblas_core_level(const std::string& core) {
    std::string c = core;
    std::transform(c.begin(), c.end(), c.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    // DYNAMIC_ARCH names (openblas_get_corename) and single-target names, lower-cased.
    for (const char* n : {"skylakex", "cooperlake", "sapphirerapids"})
        if (c == n) return SimdLevel::Avx512;
    for (const char* n : {"haswell", "zen", "skylake"})
        if (c == n) return SimdLevel::Avx2;
    for (const char* n : {"sandybridge", "bulldozer", "piledriver", "steamroller", "excavator"})
        if (c == n) return SimdLevel::Avx;
    for (const char* n : {"prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "opteron", "opteron_sse3",
                          "barcelona", "bobcat", "katmai", "coppermine", "northwood", "banias", "nano"})
        if (c == n) return SimdLevel::Sse;
    return SimdLevel::Unknown;
}

const char* openblas_coretype_for(SimdLevel level, bool amd) {
    switch (level) {
        case SimdLevel::Avx512: return "SkylakeX";  // AVX-512F/CD/BW/DQ/VL kernels (also what newer OpenBLAS runs on Zen 4)
        case SimdLevel::Avx2: return amd ? "Zen" : "Haswell";
        case SimdLevel::Avx: return "Sandybridge";
        default: return "";
    }
}

namespace detail {
namespace {

bool cpu_is_amd() {
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
    __builtin_cpu_init();
    return __builtin_cpu_is("amd");
#else
    return false;
#endif
}

struct OpenBlas {
    decltype(&::cblas_sgemm) sgemm = nullptr;
    decltype(&::cblas_dgemm) dgemm = nullptr;
    HostBlasInfo info;
};

template <typename F>
F symbol(void* handle, const char* name) {
    return reinterpret_cast<F>(dlsym(handle, name));
}

std::string warning_for(const HostBlasInfo& info, bool preloaded, const char* env_core, bool set_by_wgf) {
    const char* want = openblas_coretype_for(info.cpu_level, cpu_is_amd());
    std::string fix;
    if (preloaded)
        fix = std::string("OpenBLAS was loaded by the program before wgf, so wgf could not choose its kernels: start the "
                          "program with OPENBLAS_CORETYPE=") + want + " in the environment";
    else if (env_core != nullptr && !set_by_wgf)
        fix = std::string("OPENBLAS_CORETYPE=") + env_core + " is set in the environment: unset it (wgf then picks the "
              "kernels from the CPU's features) or set it to " + want;
    else
        fix = "this OpenBLAS ignores OPENBLAS_CORETYPE (built for one target: " + info.config +
              "): install a DYNAMIC_ARCH build such as Debian's libopenblas0-pthread";
    return "wgf: warning: OpenBLAS runs its '" + info.core + "' kernels (" + simd_level_name(info.core_level) +
           ") on a CPU with " + simd_level_name(info.cpu_level) +
           ": wgf's host matrix products run up to 3x slower. " + fix + ". (WGF_BLAS_WARNING=0 silences this.)";
}

OpenBlas load_openblas() {
    // Debian's runtime soname first (libopenblas0-pthread/-openmp/-serial, through alternatives), then
    // the library CMake found at build time.
    const std::string candidates[] = {"libopenblas.so.0", WGF_OPENBLAS_LIBRARY};
    OpenBlas ob;
    ob.info.cpu_level = cpu_simd_level();

    void* handle = nullptr;
    for (const std::string& c : candidates)
        if (!c.empty() && (handle = dlopen(c.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD)) != nullptr) {
            ob.info.library = c;
            break;
        }
    const bool preloaded = handle != nullptr;
    const char* env = std::getenv("OPENBLAS_CORETYPE");
    const char* env_core = (env != nullptr && env[0] != '\0') ? env : nullptr;
    bool set_by_wgf = false;
    if (preloaded) {
        ob.info.how = "loaded by the program before wgf";
    } else {
        if (env_core != nullptr) {
            ob.info.how = std::string("OPENBLAS_CORETYPE=") + env_core + " from the environment";
        } else if (const char* want = openblas_coretype_for(ob.info.cpu_level, cpu_is_amd()); want[0] != '\0') {
            setenv("OPENBLAS_CORETYPE", want, 1);
            set_by_wgf = true;
            ob.info.how = std::string("chosen by wgf from the CPU's features (OPENBLAS_CORETYPE=") + want + ")";
        } else {
            ob.info.how = "OpenBLAS's own detection";
        }
        std::string errors;
        for (const std::string& c : candidates) {
            if (c.empty()) continue;
            if ((handle = dlopen(c.c_str(), RTLD_NOW | RTLD_LOCAL)) != nullptr) {
                ob.info.library = c;
                break;
            }
            const char* e = dlerror();
            errors += std::string(errors.empty() ? "" : "; ") + (e != nullptr ? e : c);
        }
        if (set_by_wgf) unsetenv("OPENBLAS_CORETYPE");  // the environment as the program left it
        WGF_CHECK(handle != nullptr, "host BLAS: cannot load OpenBLAS (" << errors
                                         << "); install it with tools/install-deps.sh (Debian: libopenblas0)");
    }

    ob.sgemm = symbol<decltype(ob.sgemm)>(handle, "cblas_sgemm");
    ob.dgemm = symbol<decltype(ob.dgemm)>(handle, "cblas_dgemm");
    WGF_CHECK(ob.sgemm != nullptr && ob.dgemm != nullptr,
              "host BLAS: " << ob.info.library << " has no cblas_sgemm/cblas_dgemm; is it OpenBLAS?");
    if (auto set_threads = symbol<void (*)(int)>(handle, "openblas_set_num_threads"))
        set_threads(1);  // parallelism is ours (blocks of points on OpenMP threads)
    if (auto corename = symbol<char* (*)()>(handle, "openblas_get_corename")) ob.info.core = corename();
    if (auto config = symbol<char* (*)()>(handle, "openblas_get_config")) ob.info.config = config();
    // No dlclose: the functions stay in use for the life of the process.

    ob.info.core_level = openblas_core_level(ob.info.core);
    ob.info.below_cpu = ob.info.core_level != SimdLevel::Unknown && ob.info.cpu_level != SimdLevel::Unknown &&
                        static_cast<int>(ob.info.core_level) < static_cast<int>(ob.info.cpu_level);
    if (ob.info.below_cpu) {
        ob.info.warning = warning_for(ob.info, preloaded, env_core, set_by_wgf);
        const char* quiet = std::getenv("WGF_BLAS_WARNING");
        if (quiet == nullptr || std::string(quiet) != "0") std::cerr << ob.info.warning << std::endl;
    }
    return ob;
}

const OpenBlas& openblas() {
    static const OpenBlas ob = load_openblas();  // thread-safe; a throw leaves it to the next call
    return ob;
}

void check_dims(std::int64_t m, std::int64_t n, std::int64_t k) {
    WGF_CHECK(m < (std::int64_t(1) << 31) && n < (std::int64_t(1) << 31) && k < (std::int64_t(1) << 31),
              "blas_gemm: dimensions exceed the 32-bit BLAS interface (" << m << ", " << n << ", " << k << ")");
}
}  // namespace

template <>
void blas_gemm<float>(bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, float alpha, const float* a,
                      std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c, std::int64_t ldc) {
    const OpenBlas& ob = openblas();
    check_dims(m, n, k);
    ob.sgemm(CblasColMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(m),
             static_cast<int>(n), static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta, c,
             static_cast<int>(ldc));
}

template <>
void blas_gemm<double>(bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, double alpha, const double* a,
                       std::int64_t lda, const double* b, std::int64_t ldb, double beta, double* c, std::int64_t ldc) {
    const OpenBlas& ob = openblas();
    check_dims(m, n, k);
    ob.dgemm(CblasColMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(m),
             static_cast<int>(n), static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta, c,
             static_cast<int>(ldc));
}

}  // namespace detail

const HostBlasInfo& host_blas_info() { return detail::openblas().info; }

}  // namespace wgf
