// binary_io.h (private) — little-endian binary serialisation helpers shared by the file formats of
// docs/FORMATS.md: a writer into a byte string, a bounds-checked reader whose errors name the file,
// the field and the byte offset, an FNV-1a 64 checksum, and an atomic file write (temp + rename).
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "wgf/error.h"

namespace wgf {
namespace detail {

std::uint64_t fnv1a64(const void* data, std::size_t bytes, std::uint64_t h = 0xcbf29ce484222325ull);

/// Writes `bytes` to `path` atomically: a temporary file in the same folder is written, flushed to
/// disk (fsync) and renamed over `path`, so a crash leaves either the old or the new file.
void write_file_atomic(const std::string& path, const std::string& bytes);
/// An input file opened for reading: only a regular file is accepted (a directory, a character or
/// block device such as /dev/zero, a FIFO or a socket is refused with a wgf::Error naming the path,
/// before anything is read), and its size, taken once at open, bounds every read: a reader sizes
/// its buffers from size(), never from the file's contents alone.
class InputFile {
public:
    /// `what` names the file in errors ("ICNN file", "points file"); max_bytes: larger files are
    /// refused before any read.
    InputFile(const std::string& path, const std::string& what, std::uint64_t max_bytes = kNoSizeLimit);
    ~InputFile();
    InputFile(const InputFile&) = delete;
    InputFile& operator=(const InputFile&) = delete;

    static constexpr std::uint64_t kNoSizeLimit = ~std::uint64_t{0};
    std::uint64_t size() const { return m_size; }
    std::uint64_t position() const { return m_pos; }
    /// Reads exactly n more bytes (n ≤ size() − position()); throws if the file ends early.
    void read(void* dst, std::size_t n);
    /// The rest of the file (size() − position() bytes).
    std::string read_rest();

private:
    std::string what_at() const { return m_what + " '" + m_path + "'"; }
    std::string m_path, m_what;
    int m_fd = -1;
    std::uint64_t m_size = 0, m_pos = 0;
};

/// Reads a whole regular file of at most max_bytes (see InputFile; `what` names it in errors). With
/// check_head, the first min(head_bytes, size) bytes are read and passed to it before the rest of the
/// file is read, so that a file of another kind (bad magic) is refused without reading it all.
std::string read_file(const std::string& path, const std::string& what = "file",
                      std::uint64_t max_bytes = InputFile::kNoSizeLimit, std::size_t head_bytes = 0,
                      const std::function<void(const std::string& head)>& check_head = {});

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
        if (n == 0) return;  // dst may be null (an empty vector's data()); memcpy forbids that even for 0 bytes
        std::memcpy(dst, m_bytes.data() + m_pos, n);
        m_pos += n;
    }
    /// Checks the FNV-1a 64 checksum of everything read so far against the next 8 bytes.
    void check_checksum() {
        const std::uint64_t expect = fnv1a64(m_bytes.data(), m_pos);
        const std::uint64_t got = get<std::uint64_t>("checksum");
        WGF_CHECK(got == expect, m_source << ": checksum mismatch (file corrupted)");
    }
    /// Checks, before anything is allocated for them, that `count` items of `item_bytes` bytes each
    /// fit in the bytes left; returns count as a size_t. `field` names the count's field, read at
    /// byte `at`.
    std::size_t check_count(std::uint64_t count, std::size_t item_bytes, const char* field, std::size_t at) const {
        WGF_CHECK(item_bytes > 0 && count <= remaining() / item_bytes,
                  m_source << ": truncated: '" << field << "' at byte " << at << " claims " << count << " items of "
                           << item_bytes << " bytes, more than the " << remaining() << " bytes left");
        return static_cast<std::size_t>(count);
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
