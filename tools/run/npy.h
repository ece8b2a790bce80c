// npy.h — NumPy .npy files (format version 1.0, little-endian, C order) for the wgf tool's outputs
// and inputs: np.load(path) opens what wgf writes in one line; wgf reads float64/float32 [n][D] or
// [n] arrays that np.save writes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace wgf_cli {

/// Writes a float64 array of the given shape ({n} or {n, D}) atomically (temporary file + rename).
void npy_write(const std::string& path, const std::vector<double>& data, const std::vector<std::int64_t>& shape);

struct NpyArray {
    std::vector<double> data;          ///< converted to double
    std::vector<std::int64_t> shape;
};

/// Reads a float64 or float32 array in C order; throws wgf::Error naming the file and the problem.
NpyArray npy_read(const std::string& path);

}  // namespace wgf_cli
