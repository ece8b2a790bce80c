// reference_instances.cpp — see reference_instances.h.
#include "reference_instances.h"

#include <random>

namespace wgf_cli {

std::uint32_t crc32(const std::string& s) {
    std::uint32_t c = 0xFFFFFFFFu;
    for (const unsigned char byte : s) {
        c ^= byte;
        for (int bit = 0; bit < 8; ++bit) c = (c & 1u) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
    }
    return ~c;
}

std::vector<double> reference_cube_centres(const std::string& key, int D, int run, int K, double span) {
    // torch.manual_seed(n) seeds a standard MT19937 (init_genrand), as std::mt19937(n) does.
    std::mt19937 mt(crc32(key + "@" + std::to_string(D) + "@" + std::to_string(run) + "pytorch"));
    const float low = static_cast<float>(-span), width = static_cast<float>(span) - low;
    std::vector<double> centres(static_cast<std::size_t>(K) * static_cast<std::size_t>(D));
    for (double& c : centres) {
        const float u = static_cast<float>(mt() & 0xFFFFFFu) * 0x1p-24f;  // torch.rand, float32
        // low + u·width with float32 rounding after each operation, as torch computes it. The
        // volatile product keeps the compiler (-march=native, -ffp-contract=fast) from fusing the
        // two into one FMA, whose single rounding differs in the last bit for about half the draws.
        const volatile float scaled = u * width;
        c = static_cast<double>(low + scaled);
    }
    return centres;
}

}  // namespace wgf_cli
