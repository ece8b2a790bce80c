// raw_io.h — raw little-endian float64 arrays (the points files of `wgf icnn-eval --points` and
// `wgf jko-loss --points`): read from a regular file whose size alone sizes the result.
#pragma once

#include <string>
#include <vector>

namespace wgf_cli {

/// Reads a raw float64 array of rows of `dim` values (dim ≥ 1) from `path`. The file must be a regular
/// file (a directory, /dev/zero or a FIFO is refused before anything is read) holding a positive whole
/// number of rows; nothing larger than the file is allocated. `what` names the file in errors
/// ("points file"). Throws wgf::Error.
std::vector<double> read_raw_f64(const std::string& path, int dim, const std::string& what);

}  // namespace wgf_cli
