// icnn_io.cpp — save/load one ICNN in the binary format of docs/FORMATS.md ("ICNN file", v1):
//   "WGFICNN\0" | u32 version=1 | u32 scalar_bytes (4|8) | u32 D | u32 r | u32 L | u32 activation (0 =
//   softplus) | f64 strong_convexity | u32 widths[L] | u64 count | params[count] | u64 FNV-1a 64 of all
//   preceding bytes. Little-endian; params in the layout of wgf/icnn.h.
#include <cmath>
#include <cstring>

#include "binary_io.h"
#include "wgf/icnn.h"
#include "icnn_io.h"

namespace wgf {

namespace {
constexpr char kMagic[8] = {'W', 'G', 'F', 'I', 'C', 'N', 'N', '\0'};
constexpr std::uint32_t kVersion = 1;
}  // namespace

template <typename T>
void icnn_write(detail::BinaryWriter& w, const Icnn<T>& net) {
    const IcnnShape& s = net.shape();
    // What the reader refuses is not written: a file wgf could not load back would be lost work.
    const IcnnLayout& lay = net.layout();
    const auto nonneg = [&](std::size_t begin, std::size_t end, const std::string& block) {
        for (std::size_t i = begin; i < end; ++i)
            WGF_CHECK(!(net.data()[i] < T(0)), "ICNN save: parameter " << i << " (" << block << "[" << i - begin << "]) is "
                                                                       << net.data()[i] << " < 0: the network is not convex "
                                                                       << "(Icnn::project clamps C_l and c to >= 0)");
    };
    for (std::size_t i = 0; i < net.size(); ++i)
        WGF_CHECK(std::isfinite(net.data()[i]), "ICNN save: parameter " << i << " is not finite");
    for (const auto& block : lay.nonnegative_blocks()) nonneg(block.begin, block.end, block.name);
    w.put_bytes(kMagic, sizeof(kMagic));
    w.put<std::uint32_t>(kVersion);
    w.put<std::uint32_t>(sizeof(T));
    w.put<std::uint32_t>(static_cast<std::uint32_t>(s.dim));
    w.put<std::uint32_t>(static_cast<std::uint32_t>(s.rank));
    w.put<std::uint32_t>(static_cast<std::uint32_t>(s.depth()));
    w.put<std::uint32_t>(0u);
    w.put<double>(s.strong_convexity);
    for (int width : s.widths) w.put<std::uint32_t>(static_cast<std::uint32_t>(width));
    w.put<std::uint64_t>(net.size());
    w.put_bytes(net.data(), net.size() * sizeof(T));
}

namespace {
// The header's integer fields are u32 in the file and int in IcnnShape: a value above this is refused
// before it is converted (and before any product of them is formed).
constexpr std::uint32_t kMaxField = 0x7fffffffu;
constexpr std::uint32_t kMaxDepth = 1024;

// Checks a u32 header field read at byte `at` against [lo, hi] (the message names file, field, offset).
std::uint32_t get_field(detail::BinaryReader& rd, const char* field, std::uint32_t lo, std::uint32_t hi) {
    const std::size_t at = rd.position();
    const auto v = rd.get<std::uint32_t>(field);
    WGF_CHECK(v >= lo && v <= hi, rd.source() << ": '" << field << "' at byte " << at << " is " << v
                                              << ", out of range [" << lo << ", " << hi << "]");
    return v;
}

// a·b + c in u64, or false when it overflows.
bool mul_add(std::uint64_t a, std::uint64_t b, std::uint64_t c, std::uint64_t& out) {
    std::uint64_t p;
    return !__builtin_mul_overflow(a, b, &p) && !__builtin_add_overflow(p, c, &out);
}

// The header's magic and version (the first 12 bytes of an ICNN file; also what Icnn::load checks
// before reading the rest of the file).
void check_icnn_magic(detail::BinaryReader& rd) {
    char magic[8];
    rd.get_bytes(magic, sizeof(magic), "magic");
    WGF_CHECK(std::memcmp(magic, kMagic, sizeof(magic)) == 0, rd.source() << ": not a wgf ICNN file (bad magic)");
    const auto version = rd.get<std::uint32_t>("version");
    WGF_CHECK(version == kVersion, rd.source() << ": ICNN format version " << version << " is not supported (this wgf reads "
                                               << kVersion << ")");
}
}  // namespace

template <typename T>
Icnn<T> icnn_read(detail::BinaryReader& rd) {
    check_icnn_magic(rd);
    const std::size_t at_scalar = rd.position();
    const auto scalar_bytes = rd.get<std::uint32_t>("scalar_bytes");
    WGF_CHECK(scalar_bytes == 4 || scalar_bytes == 8, rd.source() << ": 'scalar_bytes' at byte " << at_scalar << " is "
                                                                  << scalar_bytes << ", not 4 or 8");
    // Every field is range-checked before any use: the products below cannot overflow, and nothing is
    // allocated before the parameter count is known to fit in the bytes left.
    IcnnShape shape;
    shape.dim = static_cast<int>(get_field(rd, "dim", 1, kMaxField));
    shape.rank = static_cast<int>(get_field(rd, "rank", 1, kMaxField));
    const std::uint32_t depth = get_field(rd, "depth", 1, kMaxDepth);
    const std::size_t at_activation = rd.position();
    const auto activation = rd.get<std::uint32_t>("activation");
    WGF_CHECK(activation == 0, rd.source() << ": 'activation' at byte " << at_activation << " is " << activation
                                           << ", unknown (0 = softplus)");
    const std::size_t at_s = rd.position();
    shape.strong_convexity = rd.get<double>("strong_convexity");
    WGF_CHECK(std::isfinite(shape.strong_convexity) && shape.strong_convexity >= 0.0,
              rd.source() << ": 'strong_convexity' at byte " << at_s << " is " << shape.strong_convexity
                          << ", must be finite and >= 0");
    rd.check_count(depth, sizeof(std::uint32_t), "depth", at_activation - 4);
    // Σ_l W_l (D(r+1) + 1 + W_{l−1}) + W_L, the layout's count, in checked u64 arithmetic.
    std::uint64_t expect = 0, prev = 0;
    const std::uint64_t D = static_cast<std::uint64_t>(shape.dim), r = static_cast<std::uint64_t>(shape.rank);
    std::uint64_t per_width = 0;
    bool fits = mul_add(D, r + 1, 1, per_width);
    for (std::uint32_t l = 0; l < depth; ++l) {
        const std::uint64_t w = get_field(rd, "widths", 1, kMaxField);
        shape.widths.push_back(static_cast<int>(w));
        std::uint64_t row = 0;
        fits = fits && !__builtin_add_overflow(per_width, prev, &row) && mul_add(w, row, expect, expect);
        prev = w;
    }
    fits = fits && !__builtin_add_overflow(expect, prev, &expect);
    const std::size_t at_count = rd.position();
    const auto count = rd.get<std::uint64_t>("param_count");
    WGF_CHECK(fits && count == expect,
              rd.source() << ": 'param_count' at byte " << at_count << " is " << count << ", which does not match the shape "
                          << shape.describe() << " (expects "
                          << (fits ? std::to_string(expect) : std::string("more than 2^64")) << ")");
    rd.check_count(count, scalar_bytes, "param_count", at_count);
    try {
        shape.validate();
    } catch (const Error& e) {
        WGF_FAIL(rd.source() << ": invalid shape: " << e.what());
    }
    const std::size_t at_params = rd.position();
    Icnn<T> net(shape);
    if (scalar_bytes == sizeof(T)) {
        rd.get_bytes(net.data(), count * sizeof(T), "params");
    } else if (scalar_bytes == 4) {
        std::vector<float> tmp(count);
        rd.get_bytes(tmp.data(), count * 4, "params");
        for (std::size_t i = 0; i < count; ++i) net.data()[i] = static_cast<T>(tmp[i]);
    } else {
        std::vector<double> tmp(count);
        rd.get_bytes(tmp.data(), count * 8, "params");
        for (std::size_t i = 0; i < count; ++i) net.data()[i] = static_cast<T>(tmp[i]);
    }
    rd.check_checksum();
    for (std::size_t i = 0; i < count; ++i)
        WGF_CHECK(std::isfinite(net.data()[i]), rd.source() << ": parameter " << i << " (byte "
                                                            << at_params + i * scalar_bytes << ") is not finite");
    // C_l ≥ 0 and c ≥ 0 (docs/FORMATS.md): otherwise ψ is not convex and ∇ψ not a transport map.
    const IcnnLayout& lay = net.layout();
    const auto check_nonneg = [&](std::size_t begin, std::size_t end, const std::string& block) {
        for (std::size_t i = begin; i < end; ++i)
            WGF_CHECK(!(net.data()[i] < T(0)), rd.source() << ": parameter " << i << " (" << block << "[" << i - begin
                                                           << "], byte " << at_params + i * scalar_bytes << ") is "
                                                           << net.data()[i] << ", but " << block
                                                           << " must be >= 0 (a convex ICNN)");
    };
    for (const auto& block : lay.nonnegative_blocks()) check_nonneg(block.begin, block.end, block.name);
    return net;
}

template <typename T>
void Icnn<T>::save(const std::string& path) const {
    WGF_CHECK(m_params.size() == m_layout.total && m_params.size() > 0, "Icnn::save: network is empty");
    detail::BinaryWriter w;
    icnn_write(w, *this);
    w.put_checksum();
    detail::write_file_atomic(path, w.bytes());
}

template <typename T>
Icnn<T> Icnn<T>::load(const std::string& path) {
    const std::string source = "ICNN file '" + path + "'";
    // The magic and version are checked on the first 12 bytes, before the rest is read.
    const std::string bytes = detail::read_file(path, "ICNN file", detail::InputFile::kNoSizeLimit, 12,
                                                [&](const std::string& head) {
                                                    detail::BinaryReader h(head, source);
                                                    check_icnn_magic(h);
                                                });
    detail::BinaryReader rd(bytes, source);
    Icnn<T> net = icnn_read<T>(rd);
    WGF_CHECK(rd.remaining() == 0, rd.source() << ": " << rd.remaining() << " unexpected trailing bytes");
    return net;
}

template <typename T>
Icnn<T> Icnn<T>::load(const std::string& path, const IcnnShape& expected) {
    Icnn<T> net = load(path);
    WGF_CHECK(net.shape() == expected, "ICNN file '" << path << "' has shape " << net.shape().describe()
                                                     << ", expected " << expected.describe());
    return net;
}

template void icnn_write<float>(detail::BinaryWriter&, const Icnn<float>&);
template void icnn_write<double>(detail::BinaryWriter&, const Icnn<double>&);
template Icnn<float> icnn_read<float>(detail::BinaryReader&);
template Icnn<double> icnn_read<double>(detail::BinaryReader&);
template void Icnn<float>::save(const std::string&) const;
template void Icnn<double>::save(const std::string&) const;
template Icnn<float> Icnn<float>::load(const std::string&);
template Icnn<double> Icnn<double>::load(const std::string&);
template Icnn<float> Icnn<float>::load(const std::string&, const IcnnShape&);
template Icnn<double> Icnn<double>::load(const std::string&, const IcnnShape&);

}  // namespace wgf
