// binary_io.h (private) — little-endian binary serialisation helpers shared by the file formats of
// docs/FORMATS.md: a writer into a byte string, a bounds-checked reader whose errors name the file,
// the field and the byte offset, an FNV-1a 64 checksum, and an atomic file write (temp + rename).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "wgf/error.h"

namespace wgf {
namespace detail {

std::uint64_t fnv1a64(const void* data, std::size_t bytes, std::uint64_t h = 0xcbf29ce484222325ull);

/// Writes `bytes` to `path` atomically: a temporary file in the same folder is written, flushed to
/// disk (fsync) and renamed over `path`, so a crash leaves either the old or the new file.
void write_file_atomic(const std::string& path, const std::string& bytes);
/// Reads a whole file; throws wgf::Error naming the path if it cannot be opened or read.
std::string read_file(const std::string& path);

class BinaryWriter {
public:
    template <typename V>
    void put(const V& v) {
        static_assert(std::is_trivially_copyable<V>::value, "put: trivially copyable only");
        m_bytes.append(reinterpret_cast<const char*>(&v), sizeof(V));
    }
    void put_bytes(const void* p, std::size_t n) { m_bytes.append(static_cast<const char*>(p), n); }
    void put_checksum() { put(fnv1a64(m_bytes.data(), m_bytes.size())); }
    const std::string& bytes() const { return m_bytes; }

private:
    std::string m_bytes;
};

class BinaryReader {
public:
    BinaryReader(const std::string& bytes, std::string source) : m_bytes(bytes), m_source(std::move(source)) {}

    template <typename V>
    V get(const char* field) {
        V v;
        get_bytes(&v, sizeof(V), field);
        return v;
    }
    void get_bytes(void* dst, std::size_t n, const char* field) {
        WGF_CHECK(n <= m_bytes.size() - m_pos, m_source << ": truncated: reading '" << field << "' at byte " << m_pos
                                                       << " needs " << n << " bytes, " << m_bytes.size() - m_pos
                                                       << " left");
        std::memcpy(dst, m_bytes.data() + m_pos, n);
        m_pos += n;
    }
    /// Checks the FNV-1a 64 checksum of everything read so far against the next 8 bytes.
    void check_checksum() {
        const std::uint64_t expect = fnv1a64(m_bytes.data(), m_pos);
        const std::uint64_t got = get<std::uint64_t>("checksum");
        WGF_CHECK(got == expect, m_source << ": checksum mismatch (file corrupted)");
    }
    std::size_t position() const { return m_pos; }
    std::size_t remaining() const { return m_bytes.size() - m_pos; }
    const std::string& source() const { return m_source; }

private:
    const std::string& m_bytes;
    std::string m_source;
    std::size_t m_pos = 0;
};

}  // namespace detail
}  // namespace wgf
