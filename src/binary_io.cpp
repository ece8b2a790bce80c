// binary_io.cpp — checksum, atomic write and whole-file read (see binary_io.h).
#include "binary_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <iterator>
#include <sstream>

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

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    WGF_CHECK(in.good(), "cannot open '" << path << "' for reading: " << std::strerror(errno));
    std::ostringstream os;
    os << in.rdbuf();
    WGF_CHECK(!in.bad(), "cannot read '" << path << "'");
    return os.str();
}

}  // namespace detail
}  // namespace wgf
