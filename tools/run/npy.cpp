// npy.cpp — see npy.h. Header: "\x93NUMPY" | u8 major=1 | u8 minor=0 | u16 header length | a Python
// dict literal {'descr': '<f8', 'fortran_order': False, 'shape': (n, D), } padded with spaces to a
// multiple of 64 bytes and ended by '\n'; then the raw data.
#include "npy.h"

#include <algorithm>
#include <cstring>
#include <sstream>

#include "binary_io.h"  // the library's atomic file write
#include "user_error.h"
#include "wgf/error.h"


namespace wgf_cli {

void npy_write(const std::string& path, const std::vector<double>& data, const std::vector<std::int64_t>& shape) {
    std::int64_t count = 1;
    for (auto s : shape) count *= s;
    WGF_USER_CHECK(!shape.empty() && count == static_cast<std::int64_t>(data.size()),
              "npy_write '" << path << "': " << data.size() << " values do not fill the shape");
    std::ostringstream dict;
    dict << "{'descr': '<f8', 'fortran_order': False, 'shape': (";
    for (std::size_t i = 0; i < shape.size(); ++i) dict << shape[i] << (shape.size() == 1 || i + 1 < shape.size() ? ", " : "");
    dict << "), }";
    std::string header = dict.str();
    const std::size_t total = 10 + header.size() + 1;
    header.append((64 - total % 64) % 64, ' ');
    header.push_back('\n');
    std::string bytes("\x93NUMPY\x01\x00", 8);
    const auto hl = static_cast<std::uint16_t>(header.size());
    bytes.push_back(static_cast<char>(hl & 0xff));
    bytes.push_back(static_cast<char>(hl >> 8));
    bytes += header;
    bytes.append(reinterpret_cast<const char*>(data.data()), data.size() * sizeof(double));
    wgf::detail::write_file_atomic(path, bytes);
}

NpyArray npy_read(const std::string& path) {
    // A regular file only (no /dev/zero, FIFO or directory); its size bounds everything below.
    wgf::detail::InputFile in(path, ".npy file");
    std::string bytes(static_cast<std::size_t>(std::min<std::uint64_t>(in.size(), 12)), '\0');
    in.read(bytes.data(), bytes.size());
    WGF_USER_CHECK(bytes.size() >= 10 && bytes.compare(0, 6, "\x93NUMPY") == 0, "'" << path << "' is not a .npy file");
    const int major = static_cast<unsigned char>(bytes[6]);
    std::uint64_t hl = 0, off = 0;
    if (major == 1) {
        hl = static_cast<unsigned char>(bytes[8]) | (static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8);
        off = 10;
    } else {
        WGF_USER_CHECK(major == 2 || major == 3, "'" << path << "': .npy format version " << major << " is not supported");
        WGF_USER_CHECK(bytes.size() >= 12, "'" << path << "' is truncated");
        hl = 0;
        for (int i = 0; i < 4; ++i) hl |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
        off = 12;
    }
    WGF_USER_CHECK(in.size() >= off + hl, "'" << path << "' is truncated (header of " << hl << " bytes at byte " << off
                                              << ", the file has " << in.size() << ")");
    // The header now; the data only once its size is known to match the header's shape.
    if (off + hl > bytes.size()) {
        const std::size_t have = bytes.size();
        bytes.resize(static_cast<std::size_t>(off + hl));
        in.read(bytes.data() + have, bytes.size() - have);
    }
    const std::string header = bytes.substr(static_cast<std::size_t>(off), static_cast<std::size_t>(hl));
    const auto field = [&](const std::string& key) {
        const std::size_t k = header.find("'" + key + "'");
        WGF_USER_CHECK(k != std::string::npos, "'" << path << "': the header has no '" << key << "'");
        const std::size_t colon = header.find(':', k);
        WGF_USER_CHECK(colon != std::string::npos, "'" << path << "': the header has no value for '" << key << "'");
        return header.substr(colon + 1);
    };
    const std::string descr = field("descr");
    std::size_t item = 0;
    if (descr.find("'<f8'") == 0 || descr.find(" '<f8'") == 0) item = 8;
    else if (descr.find("'<f4'") == 0 || descr.find(" '<f4'") == 0) item = 4;
    WGF_USER_CHECK(item != 0, "'" << path << "': dtype " << descr.substr(0, descr.find(',')) << " is not supported (float64 or float32, little-endian)");
    const std::string fortran = field("fortran_order");
    WGF_USER_CHECK(fortran.find("False") != std::string::npos && fortran.find("False") < fortran.find(','),
              "'" << path << "': Fortran-order arrays are not supported (save with np.ascontiguousarray)");
    const std::string shape_text = field("shape");
    const std::size_t open = shape_text.find('('), close = shape_text.find(')');
    WGF_USER_CHECK(open != std::string::npos && close != std::string::npos && open < close,
                   "'" << path << "': bad shape in the header");
    NpyArray a;
    std::stringstream ss(shape_text.substr(open + 1, close - open - 1));
    std::string part;
    // The product of the dimensions, capped: anything above the file's size is refused below.
    const std::uint64_t data_bytes = in.size() - off - hl;
    std::uint64_t count = 1;
    bool too_many = false;
    while (std::getline(ss, part, ',')) {
        const std::size_t b = part.find_first_not_of(" \t"), e = part.find_last_not_of(" \t");
        if (b == std::string::npos) continue;
        const std::string digits = part.substr(b, e - b + 1);
        WGF_USER_CHECK(digits.size() <= 19 && digits.find_first_not_of("0123456789") == std::string::npos,
                       "'" << path << "': bad shape entry '" << digits << "' in the header (a non-negative integer)");
        const std::uint64_t v = std::stoull(digits);
        a.shape.push_back(static_cast<std::int64_t>(v));
        std::uint64_t p = 0;
        if (__builtin_mul_overflow(count, v, &p) || p > data_bytes) too_many = true;
        count = too_many ? data_bytes + 1 : p;
    }
    WGF_USER_CHECK(!a.shape.empty(), "'" << path << "': a 0-d array is not a list of points");
    WGF_USER_CHECK(!too_many && data_bytes == count * item,
                   "'" << path << "': " << data_bytes << " data bytes for the shape in the header, which needs "
                       << (too_many ? std::string("more") : std::to_string(count * item)) << " (values of " << item
                       << " bytes)");
    const std::string raw = bytes.substr(static_cast<std::size_t>(off + hl)) + in.read_rest();  // (a head may hold data bytes)
    a.data.resize(static_cast<std::size_t>(count));
    for (std::size_t i = 0; i < a.data.size(); ++i) {
        if (item == 8) {
            std::memcpy(&a.data[i], raw.data() + i * 8, 8);
        } else {
            float f;
            std::memcpy(&f, raw.data() + i * 4, 4);
            a.data[i] = f;
        }
    }
    return a;
}

}  // namespace wgf_cli
