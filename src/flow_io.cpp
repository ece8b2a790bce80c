// flow_io.cpp — flow files and per-step checkpoints (docs/FORMATS.md):
//   flow file  "WGFFLOW\0" | u32 version=2 | u32 D | u32 steps | ρ⁰ record | u64 checksum |
//              per step: f64 tau | ICNN record | u64 checksum   (each checksum covers all bytes before it)
//   step file  "WGFSTEP\0" | u32 version=3 | u32 D | u32 step k | ρ⁰ record | f64 tau |
//              u32 len | run settings (text, "key = value" lines; empty when not given) |
//              u64 checksum | ICNN record | u64 checksum
//   ρ⁰ record  u32 len | kind | u32 len | name | u32 D | u64 count | f64 params[count] | u64 len | blob
//              (wgf/initial.h; blob: a "flow-end" ρ⁰'s source flow file, empty otherwise)
// Version 1 (still read): the ρ⁰ record is a Gaussian's f64 mean[D] | f64 cov[D][D].
// Version 2 (still read): step files without the run settings (flow files of versions 2 and 3 are
// the same).
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
constexpr std::uint32_t kVersion = 3;       // written
constexpr std::uint32_t kOldestVersion = 1;  // still read
constexpr std::uint32_t kMaxSettingsBytes = 1u << 16;

void put_string(detail::BinaryWriter& w, const std::string& s) {
    w.put<std::uint32_t>(static_cast<std::uint32_t>(s.size()));
    w.put_bytes(s.data(), s.size());
}

std::string get_string(detail::BinaryReader& rd, const char* what) {
    const auto n = rd.get<std::uint32_t>(what);
    WGF_CHECK(n <= 4096, rd.source() << ": " << what << " of " << n << " bytes is out of range");
    std::string s(n, '\0');
    rd.get_bytes(s.data(), n, what);
    return s;
}

// A record whose embedded data (a "flow-end" source flow, possibly megabytes) is replaced by its
// digest: what step files after step 0 store, so that checkpoints do not repeat the source flow.
InitialRecord digest_form(InitialRecord r) {
    if (r.blob.empty()) return r;
    std::ostringstream os;
    os << "fnv1a64:" << std::hex << detail::fnv1a64(r.blob.data(), r.blob.size()) << ":" << std::dec << r.blob.size();
    r.blob = os.str();
    return r;
}

void put_initial(detail::BinaryWriter& w, const InitialRecord& r) {
    put_string(w, r.kind);
    put_string(w, r.name);
    w.put<std::uint32_t>(static_cast<std::uint32_t>(r.dim));
    w.put<std::uint64_t>(r.params.size());
    w.put_bytes(r.params.data(), r.params.size() * sizeof(double));
    w.put<std::uint64_t>(r.blob.size());
    w.put_bytes(r.blob.data(), r.blob.size());
}

InitialRecord get_initial_record(detail::BinaryReader& rd, std::uint32_t version, std::uint32_t D) {
    InitialRecord r;
    r.dim = static_cast<std::int32_t>(D);
    if (version == 1) {  // a Gaussian: mean[D], cov[D][D]
        r.kind = "gaussian";
        const std::size_t at = rd.position();
        const std::uint64_t n = static_cast<std::uint64_t>(D) + static_cast<std::uint64_t>(D) * D;
        r.params.resize(rd.check_count(n, sizeof(double), "rho0 mean and covariance (D + D*D values)", at));
        rd.get_bytes(r.params.data(), r.params.size() * sizeof(double), "rho0 mean and covariance");
        return r;
    }
    r.kind = get_string(rd, "rho0 kind");
    r.name = get_string(rd, "rho0 name");
    const auto dim = rd.get<std::uint32_t>("rho0 dim");
    WGF_CHECK(dim == D, rd.source() << ": the initial distribution has dimension " << dim << ", the flow " << D);
    const auto count = rd.get<std::uint64_t>("rho0 parameter count");
    WGF_CHECK(count <= rd.remaining() / sizeof(double),
              rd.source() << ": the initial distribution claims " << count << " parameters, more than the file holds");
    r.params.resize(static_cast<std::size_t>(count));
    rd.get_bytes(r.params.data(), r.params.size() * sizeof(double), "rho0 parameters");
    const auto blob = rd.get<std::uint64_t>("rho0 embedded data size");
    WGF_CHECK(blob <= rd.remaining(), rd.source() << ": the initial distribution claims " << blob
                                                  << " bytes of embedded data, more than the file holds");
    r.blob.resize(static_cast<std::size_t>(blob));
    rd.get_bytes(r.blob.data(), r.blob.size(), "rho0 embedded data");
    return r;
}

// The distribution a record stands for: a built-in, or the program's own for kind "user".
std::shared_ptr<const InitialDistribution> resolve_initial(const InitialRecord& r, detail::BinaryReader& rd,
                                                           const std::shared_ptr<const InitialDistribution>& user) {
    if (r.kind == "user" && user != nullptr) {
        WGF_CHECK(user->record() == r, rd.source() << ": the flow starts from the user-defined distribution '" << r.name
                                                   << "' in D = " << r.dim << ", but the one given is "
                                                   << user->describe());
        return user;
    }
    try {
        return make_initial(r);
    } catch (const Error& e) {
        WGF_FAIL(rd.source() << ": initial distribution: " << e.what());
    }
}

std::uint32_t check_magic(detail::BinaryReader& rd, const char* magic, const char* what) {
    char m[8];
    rd.get_bytes(m, 8, "magic");
    WGF_CHECK(std::memcmp(m, magic, 8) == 0, rd.source() << ": not a " << what << " (bad magic)");
    const auto version = rd.get<std::uint32_t>("version");
    WGF_CHECK(version >= kOldestVersion && version <= kVersion,
              rd.source() << ": " << what << " version " << version << " is not supported (reads " << kOldestVersion
                          << " to " << kVersion << ")");
    return version;
}

bool file_exists(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
}
}  // namespace

template <typename T>
void Flow<T>::save(const std::string& path) const {
    detail::write_file_atomic(path, to_bytes());
}

template <typename T>
std::string Flow<T>::to_bytes() const {
    detail::BinaryWriter w;
    w.put_bytes(kFlowMagic, 8);
    w.put<std::uint32_t>(kVersion);
    w.put<std::uint32_t>(static_cast<std::uint32_t>(dim()));
    w.put<std::uint32_t>(static_cast<std::uint32_t>(steps()));
    put_initial(w, m_initial->record());
    w.put_checksum();
    for (int k = 0; k < steps(); ++k) {
        w.put<double>(m_tau[static_cast<std::size_t>(k)]);
        icnn_write(w, m_maps[static_cast<std::size_t>(k)]);
        w.put_checksum();
    }
    return w.bytes();
}

template <typename T>
Flow<T> Flow<T>::load(const std::string& path, std::shared_ptr<const InitialDistribution> user_initial) {
    const std::string source = "flow file '" + path + "'";
    const auto head = [&](const std::string& h) {  // magic and version before the rest is read
        detail::BinaryReader rd(h, source);
        check_magic(rd, kFlowMagic, "wgf flow file");
    };
    return from_bytes(detail::read_file(path, "flow file", detail::InputFile::kNoSizeLimit, 12, head), source,
                      std::move(user_initial));
}

template <typename T>
Flow<T> Flow<T>::from_bytes(const std::string& bytes, const std::string& source,
                            std::shared_ptr<const InitialDistribution> user_initial) {
    detail::BinaryReader rd(bytes, source);
    const std::uint32_t version = check_magic(rd, kFlowMagic, "wgf flow file");
    const auto D = rd.get<std::uint32_t>("dim");
    const auto K = rd.get<std::uint32_t>("steps");
    WGF_CHECK(D >= 1 && D <= 100000, rd.source() << ": dimension " << D << " is out of range");
    const InitialRecord record = get_initial_record(rd, version, D);
    rd.check_checksum();  // before the record is trusted
    Flow<T> flow(resolve_initial(record, rd, user_initial));
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
std::string Flow<T>::save_step(const std::string& dir, int k, const std::string& settings) const {
    WGF_CHECK(settings.size() <= kMaxSettingsBytes, "Flow::save_step: run settings of " << settings.size()
                                                                                       << " bytes (at most "
                                                                                       << kMaxSettingsBytes << ")");
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
    // Step 0 holds ρ⁰'s full record; later steps its digest form (same check on resume, no copies of a
    // flow-end source in every step file).
    put_initial(w, k == 0 ? m_initial->record() : digest_form(m_initial->record()));
    w.put<double>(m_tau[static_cast<std::size_t>(k)]);
    w.put<std::uint32_t>(static_cast<std::uint32_t>(settings.size()));
    w.put_bytes(settings.data(), settings.size());
    w.put_checksum();
    icnn_write(w, m_maps[static_cast<std::size_t>(k)]);
    w.put_checksum();
    const std::string path = step_path(dir, k);
    detail::write_file_atomic(path, w.bytes());
    return path;
}

template <typename T>
Flow<T> Flow<T>::load_steps(const std::string& dir, std::shared_ptr<const InitialDistribution> user_initial,
                            std::string* settings) {
    if (settings) settings->clear();
    if (!file_exists(step_path(dir, 0)))
        throw NoCheckpoint("Flow::load_steps: no step files in '" + dir + "' (expected " + step_path(dir, 0) + ")");
    Flow<T> flow;
    InitialRecord first;
    bool have_initial = false;
    for (int k = 0;; ++k) {
        const std::string path = step_path(dir, k);
        if (!file_exists(path)) break;
        const std::string source = "step file '" + path + "'";
        const std::string bytes = detail::read_file(path, "step file", detail::InputFile::kNoSizeLimit, 12,
                                                    [&](const std::string& h) {
                                                        detail::BinaryReader hr(h, source);
                                                        check_magic(hr, kStepMagic, "wgf step file");
                                                    });
        detail::BinaryReader rd(bytes, source);
        const std::uint32_t version = check_magic(rd, kStepMagic, "wgf step file");
        const auto D = rd.get<std::uint32_t>("dim");
        const auto step = rd.get<std::uint32_t>("step");
        WGF_CHECK(step == static_cast<std::uint32_t>(k), rd.source() << ": holds step " << step << ", expected " << k);
        WGF_CHECK(D >= 1 && D <= 100000, rd.source() << ": dimension " << D << " is out of range");
        const InitialRecord record = get_initial_record(rd, version, D);
        const double tau = rd.get<double>("tau");
        std::string step_settings;
        if (version >= 3) {
            const auto len = rd.get<std::uint32_t>("run settings length");
            WGF_CHECK(len <= kMaxSettingsBytes && len <= rd.remaining(),
                      rd.source() << ": run settings of " << len << " bytes at byte " << rd.position() - 4
                                  << " (at most " << kMaxSettingsBytes << ", and within the file)");
            step_settings.resize(len);
            rd.get_bytes(step_settings.data(), len, "run settings");
        }
        rd.check_checksum();
        Icnn<T> net = icnn_read<T>(rd);
        WGF_CHECK(rd.remaining() == 0, rd.source() << ": " << rd.remaining() << " unexpected trailing bytes");
        if (k == 0 && settings) *settings = step_settings;
        if (!have_initial) {
            flow = Flow<T>(resolve_initial(record, rd, user_initial));
            first = record;
            have_initial = true;
        } else {
            WGF_CHECK(record == digest_form(first) || record == first,
                      rd.source() << ": initial distribution differs from step 0's");
        }
        flow.push_back(std::move(net), tau);
    }
    return flow;
}

#define WGF_INSTANTIATE(T)                                                       \
    template void Flow<T>::save(const std::string&) const;                      \
    template Flow<T> Flow<T>::load(const std::string&, std::shared_ptr<const InitialDistribution>); \
    template std::string Flow<T>::to_bytes() const;                             \
    template Flow<T> Flow<T>::from_bytes(const std::string&, const std::string&, std::shared_ptr<const InitialDistribution>); \
    template std::string Flow<T>::step_path(const std::string&, int);           \
    template std::string Flow<T>::save_step(const std::string&, int, const std::string&) const; \
    template Flow<T> Flow<T>::load_steps(const std::string&, std::shared_ptr<const InitialDistribution>, std::string*);
WGF_INSTANTIATE(float)
WGF_INSTANTIATE(double)
#undef WGF_INSTANTIATE

}  // namespace wgf
