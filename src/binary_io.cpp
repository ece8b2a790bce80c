// binary_io.cpp — checksum, atomic write, bounded input files and whole-file read (see binary_io.h).
#include "binary_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace wgf {
namespace detail {

std::uint64_t fnv1a64(const void* data, std::size_t bytes, std::uint64_t h) {
    const unsigned char* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < bytes; ++i) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
    const std::string tmp = path + ".tmp." + std::to_string(::getpid());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    WGF_CHECK(fd >= 0, "cannot create '" << tmp << "': " << std::strerror(errno));
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t k = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            const int err = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            WGF_FAIL("cannot write '" << tmp << "': " << std::strerror(err));
        }
        done += static_cast<std::size_t>(k);
    }
    const bool synced = ::fsync(fd) == 0;
    const int err = errno;
    ::close(fd);
    if (!synced) {
        ::unlink(tmp.c_str());
        WGF_FAIL("cannot flush '" << tmp << "': " << std::strerror(err));
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        const int e = errno;
        ::unlink(tmp.c_str());
        WGF_FAIL("cannot rename '" << tmp << "' to '" << path << "': " << std::strerror(e));
    }
}

InputFile::InputFile(const std::string& path, const std::string& what, std::uint64_t max_bytes)
    : m_path(path), m_what(what) {
    // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below anyway).
    m_fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    WGF_CHECK(m_fd >= 0, "cannot open " << what << " '" << path << "' for reading: " << std::strerror(errno));
    struct stat st;
    if (::fstat(m_fd, &st) != 0) {
        const int err = errno;
        ::close(m_fd);
        WGF_FAIL("cannot stat " << what << " '" << path << "': " << std::strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(m_fd);
        const char* kind = S_ISDIR(st.st_mode)    ? "a directory"
                           : S_ISCHR(st.st_mode)  ? "a character device"
                           : S_ISBLK(st.st_mode)  ? "a block device"
                           : S_ISFIFO(st.st_mode) ? "a FIFO (named pipe)"
                           : S_ISSOCK(st.st_mode) ? "a socket"
                                                  : "not a regular file";
        WGF_FAIL(what << " '" << path << "' is " << kind << ", not a regular file");
    }
    m_size = static_cast<std::uint64_t>(st.st_size);
    if (m_size > max_bytes) {
        ::close(m_fd);
        WGF_FAIL(what << " '" << path << "' has " << m_size << " bytes, more than the " << max_bytes
                      << " such a file may have");
    }
    // Back to blocking reads (a regular file never blocks; this only clears the flag).
    const int flags = ::fcntl(m_fd, F_GETFL);
    if (flags >= 0) ::fcntl(m_fd, F_SETFL, flags & ~O_NONBLOCK);
}

InputFile::~InputFile() {
    if (m_fd >= 0) ::close(m_fd);
}

void InputFile::read(void* dst, std::size_t n) {
    WGF_CHECK(n <= m_size - m_pos, what_at() << ": reading " << n << " bytes at byte " << m_pos << ", past its end ("
                                             << m_size << " bytes)");
    char* p = static_cast<char*>(dst);
    std::size_t done = 0;
    while (done < n) {
        const ssize_t k = ::read(m_fd, p + done, n - done);
        if (k < 0 && errno == EINTR) continue;
        WGF_CHECK(k >= 0, "cannot read " << what_at() << ": " << std::strerror(errno));
        WGF_CHECK(k > 0, what_at() << " ended at byte " << m_pos + done << " while reading; it had " << m_size
                                   << " bytes when opened (changed while being read?)");
        done += static_cast<std::size_t>(k);
    }
    m_pos += n;
}

std::string InputFile::read_rest() {
    std::string bytes(static_cast<std::size_t>(m_size - m_pos), '\0');
    read(bytes.data(), bytes.size());
    return bytes;
}

std::string read_file(const std::string& path, const std::string& what, std::uint64_t max_bytes,
                      std::size_t head_bytes, const std::function<void(const std::string& head)>& check_head) {
    InputFile in(path, what, max_bytes);
    if (!check_head) return in.read_rest();
    std::string bytes(static_cast<std::size_t>(std::min<std::uint64_t>(head_bytes, in.size())), '\0');
    in.read(bytes.data(), bytes.size());
    check_head(bytes);
    bytes += in.read_rest();
    return bytes;
}

}  // namespace detail
}  // namespace wgf
