// wgf/host_blas.h — the BLAS behind the host backend's large products, and whether it runs at the
// speed this CPU allows.
//
// wgf loads OpenBLAS itself, at the first host product (or the first call below), instead of linking
// it: OpenBLAS picks its kernels ("core") from a table of CPU models when it loads, and a model newer
// than its table gets the SSE3 "Prescott" kernels, about 3× slower (docs/PERFORMANCE.md). So before
// loading it, wgf sets OPENBLAS_CORETYPE from the CPU's features (cpuid: AVX-512 → SkylakeX,
// AVX2/FMA → Haswell, or Zen on AMD; AVX → Sandybridge), unless the environment already sets it, and
// restores the environment afterwards. When the core that OpenBLAS reports is still below the CPU's
// level (OPENBLAS_CORETYPE set lower by the user, OpenBLAS loaded by the program before wgf, or an
// OpenBLAS built for one target), wgf prints one warning on stderr with the fix; set WGF_BLAS_WARNING=0
// to silence it.
#pragma once

#include <string>

namespace wgf {

/// SIMD levels, ordered: a core at level L runs kernels that need at most L.
enum class SimdLevel { Unknown = -1, Sse = 0, Avx = 1, Avx2 = 2, Avx512 = 3 };

const char* simd_level_name(SimdLevel level);  // "SSE", "AVX", "AVX2/FMA", "AVX-512", "unknown"

/// The highest level this CPU and OS support (cpuid and XGETBV, through the compiler's builtins).
SimdLevel cpu_simd_level();

/// The level an OpenBLAS core name needs ("Prescott" → Sse, "Haswell"/"Zen" → Avx2,
/// "SkylakeX"/"Cooperlake"/"SapphireRapids" → Avx512); Unknown for names wgf does not know.
SimdLevel openblas_core_level(const std::string& core);

/// The OPENBLAS_CORETYPE wgf sets for a CPU level ("" for Sse or Unknown: OpenBLAS's own choice).
const char* openblas_coretype_for(SimdLevel level, bool amd);

struct HostBlasInfo {
    std::string library;     ///< what was loaded, e.g. "libopenblas.so.0"
    std::string config;      ///< openblas_get_config(), e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY ..."
    std::string core;        ///< openblas_get_corename(): the kernels in use, e.g. "SkylakeX"
    SimdLevel core_level = SimdLevel::Unknown;
    SimdLevel cpu_level = SimdLevel::Unknown;
    std::string how;         ///< how the core was chosen (by wgf from cpuid, from the environment, ...)
    bool below_cpu = false;  ///< the core's level is known and lower than the CPU's: a slow path
    std::string warning;     ///< the warning wgf printed (or would have printed), empty when none
};

/// Loads OpenBLAS if it is not loaded yet (throws wgf::Error when it cannot be found) and reports it.
/// The same object for the whole process.
const HostBlasInfo& host_blas_info();

}  // namespace wgf
