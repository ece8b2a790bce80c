// reference_instances.h — the reference's own random target instances (PAPER-SPEC §7.1, §11), so
// that wgf's convergence study runs on exactly the mixtures the published numbers were measured on.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace wgf_cli {

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) of the bytes of s, as zlib.crc32.
std::uint32_t crc32(const std::string& s);

/// The centres (K rows of D, row-major) of the reference's "cube" mixture for run `run` of the
/// experiment keyed `key` (venus, earth, mars, saturn, jupiter, uran for D = 2 … 12): the reference
/// seeds torch with crc32("<key>@<D>@<run>pytorch") and draws Uniform(−span, span) of shape K×D in
/// float32, i.e. −span + 2·span·u with u = (w & 0xFFFFFF)·2⁻²⁴ for successive MT19937 words w.
std::vector<double> reference_cube_centres(const std::string& key, int D, int run, int K, double span);

}  // namespace wgf_cli
