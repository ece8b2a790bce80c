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

template <typename T>
Icnn<T> icnn_read(detail::BinaryReader& rd) {
    char magic[8];
    rd.get_bytes(magic, sizeof(magic), "magic");
    WGF_CHECK(std::memcmp(magic, kMagic, sizeof(magic)) == 0, rd.source() << ": not a wgf ICNN file (bad magic)");
    const auto version = rd.get<std::uint32_t>("version");
    WGF_CHECK(version == kVersion, rd.source() << ": ICNN format version " << version << " is not supported (this wgf reads "
                                               << kVersion << ")");
    const auto scalar_bytes = rd.get<std::uint32_t>("scalar_bytes");
    WGF_CHECK(scalar_bytes == 4 || scalar_bytes == 8, rd.source() << ": scalar size " << scalar_bytes << " is not 4 or 8");
    IcnnShape shape;
    shape.dim = static_cast<int>(rd.get<std::uint32_t>("dim"));
    shape.rank = static_cast<int>(rd.get<std::uint32_t>("rank"));
    const auto depth = rd.get<std::uint32_t>("depth");
    const auto activation = rd.get<std::uint32_t>("activation");
    WGF_CHECK(activation == 0, rd.source() << ": activation id " << activation << " is unknown (0 = softplus)");
    shape.strong_convexity = rd.get<double>("strong_convexity");
    WGF_CHECK(depth >= 1 && depth <= 1024, rd.source() << ": depth " << depth << " is out of range");
    for (std::uint32_t l = 0; l < depth; ++l) shape.widths.push_back(static_cast<int>(rd.get<std::uint32_t>("widths")));
    try {
        shape.validate();
    } catch (const Error& e) {
        WGF_FAIL(rd.source() << ": invalid shape: " << e.what());
    }
    const auto count = rd.get<std::uint64_t>("param_count");
    const std::size_t expect = IcnnLayout(shape).total;
    WGF_CHECK(count == expect, rd.source() << ": parameter count " << count << " does not match the shape "
                                           << shape.describe() << " (expects " << expect << ")");
    WGF_CHECK(count * scalar_bytes <= rd.remaining(), rd.source() << ": truncated: " << count << " parameters of "
                                                                  << scalar_bytes << " bytes need "
                                                                  << count * scalar_bytes << " bytes, "
                                                                  << rd.remaining() << " left");
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
        WGF_CHECK(std::isfinite(net.data()[i]), rd.source() << ": parameter " << i << " is not finite");
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
    const std::string bytes = detail::read_file(path);
    detail::BinaryReader rd(bytes, "ICNN file '" + path + "'");
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
