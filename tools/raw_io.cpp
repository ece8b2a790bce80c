// raw_io.cpp — see raw_io.h.
#include "raw_io.h"

#include "binary_io.h"  // the library's bounded input file
#include "wgf/error.h"

namespace wgf_cli {

std::vector<double> read_raw_f64(const std::string& path, int dim, const std::string& what) {
    WGF_CHECK(dim >= 1, what << " '" << path << "': the row length D must be >= 1, got " << dim);
    wgf::detail::InputFile in(path, what);
    const std::uint64_t bytes = in.size(), row = sizeof(double) * static_cast<std::uint64_t>(dim);
    WGF_CHECK(bytes > 0 && bytes % row == 0, what << " '" << path << "' has " << bytes
                                                  << " bytes, not a positive whole number of float64 rows of D = " << dim);
    std::vector<double> x(static_cast<std::size_t>(bytes / sizeof(double)));
    in.read(x.data(), static_cast<std::size_t>(bytes));
    return x;
}

}  // namespace wgf_cli
