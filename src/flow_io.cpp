// flow_io.cpp — flow files and per-step checkpoints (docs/FORMATS.md):
//   flow file  "WGFFLOW\0" | u32 version=1 | u32 D | u32 steps | f64 mean[D] | f64 cov[D][D] | u64 checksum |
//              per step: f64 tau | ICNN record | u64 checksum   (each checksum covers all bytes before it)
//   step file  "WGFSTEP\0" | u32 version=1 | u32 D | u32 step k | f64 mean[D] | f64 cov[D][D] | f64 tau |
//              u64 checksum | ICNN record | u64 checksum
// Both are written atomically (temporary file + fsync + rename), so a crash mid-write leaves the
// previous file intact.
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <system_error>
#include <cstring>
#include <iomanip>
#include <sstream>

#include "binary_io.h"
#include "icnn_io.h"
#include "wgf/error.h"
#include "wgf/flow.h"

namespace wgf {

namespace {
constexpr char kFlowMagic[8] = {'W', 'G', 'F', 'F', 'L', 'O', 'W', '\0'};
constexpr char kStepMagic[8] = {'W', 'G', 'F', 'S', 'T', 'E', 'P', '\0'};
constexpr std::uint32_t kVersion = 1;

void put_gaussian(detail::BinaryWriter& w, const Gaussian& g) {
    w.put_bytes(g.mean().data(), g.mean().size() * sizeof(double));
    w.put_bytes(g.cov().data(), g.cov().size() * sizeof(double));
}

Gaussian get_gaussian(detail::BinaryReader& rd, std::uint32_t D) {
    std::vector<double> mean(D), cov(static_cast<std::size_t>(D) * D);
    rd.get_bytes(mean.data(), mean.size() * sizeof(double), "rho0 mean");
    rd.get_bytes(cov.data(), cov.size() * sizeof(double), "rho0 covariance");
    try {
        return Gaussian(mean, cov);
    } catch (const Error& e) {
        WGF_FAIL(rd.source() << ": invalid initial Gaussian: " << e.what());
    }
}

void check_magic(detail::BinaryReader& rd, const char* magic, const char* what) {
    char m[8];
    rd.get_bytes(m, 8, "magic");
    WGF_CHECK(std::memcmp(m, magic, 8) == 0, rd.source() << ": not a " << what << " (bad magic)");
    const auto version = rd.get<std::uint32_t>("version");
    WGF_CHECK(version == kVersion, rd.source() << ": " << what << " version " << version << " is not supported (reads "
                                               << kVersion << ")");
}

bool file_exists(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
}
}  // namespace

template <typename T>
void Flow<T>::save(const std::string& path) const {
    detail::BinaryWriter w;
    w.put_bytes(kFlowMagic, 8);
    w.put<std::uint32_t>(kVersion);
    w.put<std::uint32_t>(static_cast<std::uint32_t>(dim()));
    w.put<std::uint32_t>(static_cast<std::uint32_t>(steps()));
    put_gaussian(w, m_initial);
    w.put_checksum();
    for (int k = 0; k < steps(); ++k) {
        w.put<double>(m_tau[static_cast<std::size_t>(k)]);
        icnn_write(w, m_maps[static_cast<std::size_t>(k)]);
        w.put_checksum();
    }
    detail::write_file_atomic(path, w.bytes());
}

template <typename T>
Flow<T> Flow<T>::load(const std::string& path) {
    const std::string bytes = detail::read_file(path);
    detail::BinaryReader rd(bytes, "flow file '" + path + "'");
    check_magic(rd, kFlowMagic, "wgf flow file");
    const auto D = rd.get<std::uint32_t>("dim");
    const auto K = rd.get<std::uint32_t>("steps");
    WGF_CHECK(D >= 1 && D <= 100000, rd.source() << ": dimension " << D << " is out of range");
    Flow<T> flow(get_gaussian(rd, D));
    rd.check_checksum();
    for (std::uint32_t k = 0; k < K; ++k) {
        const double tau = rd.get<double>("tau");
        Icnn<T> net = icnn_read<T>(rd);
        WGF_CHECK(net.shape().dim == static_cast<int>(D), rd.source() << ": map " << k << " has dimension "
                                                                      << net.shape().dim << ", flow has " << D);
        flow.push_back(std::move(net), tau);
    }
    WGF_CHECK(rd.remaining() == 0, rd.source() << ": " << rd.remaining() << " unexpected trailing bytes");
    return flow;
}

template <typename T>
std::string Flow<T>::step_path(const std::string& dir, int k) {
    std::ostringstream os;
    os << dir << "/step-" << std::setw(5) << std::setfill('0') << k << ".wgfstep";
    return os.str();
}

template <typename T>
std::string Flow<T>::save_step(const std::string& dir, int k) const {
    WGF_CHECK(k >= 0 && k < steps(), "Flow::save_step: step " << k << " out of range [0, " << steps() << ")");
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);  // parents too; an existing folder is fine
    struct stat st;
    WGF_CHECK(::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode), "Flow::save_step: '" << dir << "' is not a directory");
    detail::BinaryWriter w;
    w.put_bytes(kStepMagic, 8);
    w.put<std::uint32_t>(kVersion);
    w.put<std::uint32_t>(static_cast<std::uint32_t>(dim()));
    w.put<std::uint32_t>(static_cast<std::uint32_t>(k));
    put_gaussian(w, m_initial);
    w.put<double>(m_tau[static_cast<std::size_t>(k)]);
    w.put_checksum();
    icnn_write(w, m_maps[static_cast<std::size_t>(k)]);
    w.put_checksum();
    const std::string path = step_path(dir, k);
    detail::write_file_atomic(path, w.bytes());
    return path;
}

template <typename T>
Flow<T> Flow<T>::load_steps(const std::string& dir) {
    Flow<T> flow;
    bool have_initial = false;
    for (int k = 0;; ++k) {
        const std::string path = step_path(dir, k);
        if (!file_exists(path)) break;
        const std::string bytes = detail::read_file(path);
        detail::BinaryReader rd(bytes, "step file '" + path + "'");
        check_magic(rd, kStepMagic, "wgf step file");
        const auto D = rd.get<std::uint32_t>("dim");
        const auto step = rd.get<std::uint32_t>("step");
        WGF_CHECK(step == static_cast<std::uint32_t>(k), rd.source() << ": holds step " << step << ", expected " << k);
        WGF_CHECK(D >= 1 && D <= 100000, rd.source() << ": dimension " << D << " is out of range");
        Gaussian rho0 = get_gaussian(rd, D);
        const double tau = rd.get<double>("tau");
        rd.check_checksum();
        Icnn<T> net = icnn_read<T>(rd);
        WGF_CHECK(rd.remaining() == 0, rd.source() << ": " << rd.remaining() << " unexpected trailing bytes");
        if (!have_initial) {
            flow = Flow<T>(rho0);
            have_initial = true;
        } else {
            WGF_CHECK(rho0.mean() == flow.initial().mean() && rho0.cov() == flow.initial().cov(),
                      rd.source() << ": initial distribution differs from step 0's");
        }
        flow.push_back(std::move(net), tau);
    }
    WGF_CHECK(have_initial, "Flow::load_steps: no step files in '" << dir << "' (expected " << step_path(dir, 0) << ")");
    return flow;
}

#define WGF_INSTANTIATE(T)                                                       \
    template void Flow<T>::save(const std::string&) const;                      \
    template Flow<T> Flow<T>::load(const std::string&);                         \
    template std::string Flow<T>::step_path(const std::string&, int);           \
    template std::string Flow<T>::save_step(const std::string&, int) const;     \
    template Flow<T> Flow<T>::load_steps(const std::string&);
WGF_INSTANTIATE(float)
WGF_INSTANTIATE(double)
#undef WGF_INSTANTIATE

}  // namespace wgf
