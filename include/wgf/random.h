// wgf/random.h — a small, portable, seedable generator (xoshiro256** seeded by splitmix64) with
// uniform and standard-normal draws. Results are identical on every platform and compiler, unlike
// std::normal_distribution, so seeds in tests and checkpoints mean the same thing everywhere.
#pragma once

#include <cmath>
#include <cstdint>

namespace wgf {

class Rng {
public:
    explicit Rng(std::uint64_t seed = 0x9E3779B97F4A7C15ull) {
        std::uint64_t z = seed;
        for (auto& s : m_s) s = splitmix64(z);
    }

    /// 64 random bits.
    std::uint64_t next_u64() {
        const std::uint64_t result = rotl(m_s[1] * 5, 7) * 9;
        const std::uint64_t t = m_s[1] << 17;
        m_s[2] ^= m_s[0];
        m_s[3] ^= m_s[1];
        m_s[1] ^= m_s[2];
        m_s[0] ^= m_s[3];
        m_s[2] ^= t;
        m_s[3] = rotl(m_s[3], 45);
        return result;
    }

    /// Uniform in [0, 1) with 53 random bits.
    double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

    /// Uniform integer in [0, n), n ≥ 1.
    std::uint64_t below(std::uint64_t n) { return static_cast<std::uint64_t>(uniform() * static_cast<double>(n)); }

    /// Standard normal (Box–Muller, both values used).
    double normal() {
        if (m_has_spare) {
            m_has_spare = false;
            return m_spare;
        }
        double u1 = uniform();
        while (u1 <= 0.0) u1 = uniform();
        const double u2 = uniform();
        const double r = std::sqrt(-2.0 * std::log(u1));
        const double th = 6.283185307179586476925 * u2;
        m_spare = r * std::sin(th);
        m_has_spare = true;
        return r * std::cos(th);
    }

private:
    static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    static std::uint64_t splitmix64(std::uint64_t& z) {
        std::uint64_t r = (z += 0x9E3779B97F4A7C15ull);
        r = (r ^ (r >> 30)) * 0xBF58476D1CE4E5B9ull;
        r = (r ^ (r >> 27)) * 0x94D049BB133111EBull;
        return r ^ (r >> 31);
    }
    std::uint64_t m_s[4];
    double m_spare = 0.0;
    bool m_has_spare = false;
};

}  // namespace wgf
