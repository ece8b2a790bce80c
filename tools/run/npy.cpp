// npy.cpp — see npy.h. Header: "\x93NUMPY" | u8 major=1 | u8 minor=0 | u16 header length | a Python
// dict literal {'descr': '<f8', 'fortran_order': False, 'shape': (n, D), } padded with spaces to a
// multiple of 64 bytes and ended by '\n'; then the raw data.
#include "npy.h"

#include <cstring>
#include <fstream>
#include <iterator>
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
    std::ifstream in(path, std::ios::binary);
    WGF_USER_CHECK(in.good(), "cannot open '" << path << "'");
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    WGF_USER_CHECK(bytes.size() >= 10 && bytes.compare(0, 6, "\x93NUMPY") == 0, "'" << path << "' is not a .npy file");
    const int major = static_cast<unsigned char>(bytes[6]);
    std::size_t hl = 0, off = 0;
    if (major == 1) {
        hl = static_cast<unsigned char>(bytes[8]) | (static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8);
        off = 10;
    } else {
        WGF_USER_CHECK(major == 2 || major == 3, "'" << path << "': .npy format version " << major << " is not supported");
        WGF_USER_CHECK(bytes.size() >= 12, "'" << path << "' is truncated");
        hl = 0;
        for (int i = 0; i < 4; ++i) hl |= static_cast<std::size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
        off = 12;
    }
    WGF_USER_CHECK(bytes.size() >= off + hl, "'" << path << "' is truncated (header)");
    const std::string header = bytes.substr(off, hl);
    const auto field = [&](const std::string& key) {
        const std::size_t k = header.find("'" + key + "'");
        WGF_USER_CHECK(k != std::string::npos, "'" << path << "': the header has no '" << key << "'");
        return header.substr(header.find(':', k) + 1);
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
    WGF_USER_CHECK(open != std::string::npos && close != std::string::npos, "'" << path << "': bad shape in the header");
    NpyArray a;
    std::stringstream ss(shape_text.substr(open + 1, close - open - 1));
    std::string part;
    std::int64_t count = 1;
    while (std::getline(ss, part, ',')) {
        if (part.find_first_not_of(" \t") == std::string::npos) continue;
        const std::int64_t v = std::stoll(part);
        WGF_USER_CHECK(v >= 0, "'" << path << "': negative shape");
        a.shape.push_back(v);
        count *= v;
    }
    WGF_USER_CHECK(!a.shape.empty(), "'" << path << "': a 0-d array is not a list of points");
    const std::size_t data_off = off + hl;
    WGF_USER_CHECK(bytes.size() == data_off + static_cast<std::size_t>(count) * item,
              "'" << path << "': " << bytes.size() - data_off << " data bytes for " << count << " values of " << item
                  << " bytes");
    a.data.resize(static_cast<std::size_t>(count));
    for (std::int64_t i = 0; i < count; ++i) {
        if (item == 8) {
            std::memcpy(&a.data[i], bytes.data() + data_off + i * 8, 8);
        } else {
            float f;
            std::memcpy(&f, bytes.data() + data_off + i * 4, 4);
            a.data[i] = f;
        }
    }
    return a;
}

}  // namespace wgf_cli
