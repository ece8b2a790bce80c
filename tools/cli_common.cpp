// cli_common.cpp — see cli_common.h.
#include "cli_common.h"

#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <system_error>
#include <vector>

#include "run/user_error.h"

namespace wgf_cli {

namespace fs = std::filesystem;

namespace {

std::string number_text(double v) {
    std::ostringstream os;
    os << v;
    return os.str();
}

// A whole-string decimal integer (optional sign); false on anything else or out of V's range.
template <typename V>
bool parse_decimal(const std::string& s, V& v) {
    const char* first = s.data();
    const char* last = s.data() + s.size();
    if (first != last && *first == '+') ++first;
    if (first == last || (*first == '-' && std::is_unsigned<V>::value)) return false;
    const auto [end, ec] = std::from_chars(first, last, v, 10);
    return ec == std::errc() && end == last;
}

// Creates and removes a probe file in `dir`; "" when that worked, else why not.
std::string probe_write(const std::string& dir) {
    std::string name = dir + "/.wgf-probe-XXXXXX";
    std::vector<char> buf(name.begin(), name.end());
    buf.push_back('\0');
    const int fd = ::mkstemp(buf.data());
    if (fd < 0) return std::strerror(errno);
    const bool wrote = ::write(fd, "x", 1) == 1;
    const int err = errno;
    ::close(fd);
    ::unlink(buf.data());
    return wrote ? std::string() : std::string(std::strerror(err));
}

}  // namespace

CLI::Validator integer_in(std::int64_t lo, std::int64_t hi) {
    const std::string range = "[" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
    return CLI::Validator(
        [lo, hi, range](std::string& s) -> std::string {
            std::int64_t v = 0;
            if (!parse_decimal(s, v) || v < lo || v > hi) return "expected an integer in " + range + ", got '" + s + "'";
            s = std::to_string(v);
            return {};
        },
        range);
}

CLI::Validator seed_value() {
    return CLI::Validator(
        [](std::string& s) -> std::string {
            std::uint64_t v = 0;
            if (!parse_decimal(s, v)) return "expected an integer in [0, 18446744073709551615], got '" + s + "'";
            s = std::to_string(v);
            return {};
        },
        "[0, 2^64-1]");
}

CLI::Validator real_in(double lo, double hi, bool lo_open) {
    std::string range;
    if (std::isinf(lo) && std::isinf(hi)) range = "a finite number";
    else if (std::isinf(hi)) range = std::string("a finite number ") + (lo_open ? "> " : ">= ") + number_text(lo);
    else
        range = std::string("a finite number in ") + (lo_open ? "(" : "[") + number_text(lo) + ", " + number_text(hi) + "]";
    return CLI::Validator(
        [lo, hi, lo_open, range](std::string& s) -> std::string {
            char* end = nullptr;
            const bool blank = s.empty() || std::isspace(static_cast<unsigned char>(s[0]));  // strtod skips spaces
            const double v = blank ? std::nan("") : std::strtod(s.c_str(), &end);
            const bool whole = end != nullptr && *end == '\0';
            if (!whole || !std::isfinite(v) || v < lo || v > hi || (lo_open && v == lo))
                return "expected " + range + ", got '" + s + "'";
            return {};
        },
        range.substr(std::string("a ").size()));  // "finite number > 0" in --help
}

int parse_command_line(CLI::App& app, const std::string& cmd, int argc, char** argv, const std::function<void()>& check) {
    try {
        app.parse(argc - 1, argv + 1);  // argv[1] (the subcommand) stands for the program name
        if (check) check();
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);  // --help
        std::cerr << "wgf " << cmd << ": usage error: " << e.what() << "\n(wgf " << cmd << " --help lists the options)\n";
        return 2;
    }
    return -1;
}

void check_output_path(const std::string& option, const std::string& path) {
    WGF_USER_CHECK(!path.empty(), option << ": the path is empty");
    std::error_code ec;
    WGF_USER_CHECK(!fs::is_directory(path, ec), option << " '" << path << "' is a folder, not a file");
    std::string dir = fs::path(path).parent_path().string();
    if (dir.empty()) dir = ".";
    WGF_USER_CHECK(fs::exists(dir, ec), option << " '" << path << "': the folder '" << dir << "' does not exist");
    WGF_USER_CHECK(fs::is_directory(dir, ec), option << " '" << path << "': '" << dir << "' is not a folder");
    const std::string why = probe_write(dir);
    WGF_USER_CHECK(why.empty(), option << " '" << path << "': cannot write in the folder '" << dir << "': " << why);
}

void prepare_output_dir(const std::string& option, const std::string& dir) {
    WGF_USER_CHECK(!dir.empty(), option << ": the path is empty");
    std::error_code ec;
    const bool exists = fs::exists(dir, ec);
    WGF_USER_CHECK(!exists || fs::is_directory(dir, ec), option << " '" << dir << "' exists and is not a folder");
    if (!exists) {
        fs::create_directories(dir, ec);
        WGF_USER_CHECK(!ec && fs::is_directory(dir), option << ": cannot create the folder '" << dir << "': "
                                                            << (ec ? ec.message() : "not created"));
    }
    const std::string why = probe_write(dir);
    WGF_USER_CHECK(why.empty(), option << ": cannot write in the folder '" << dir << "': " << why);
}

std::string format_bytes(long double bytes) {
    static const char* units[] = {"bytes", "kB", "MB", "GB", "TB", "PB", "EB"};
    int u = 0;
    while (bytes >= 1000 && u < 6) {
        bytes /= 1000;
        ++u;
    }
    std::ostringstream os;
    os.precision(u == 0 ? 6 : 3);
    os << static_cast<double>(bytes) << " " << units[u];
    return os.str();
}

void check_memory(const std::string& what, long double bytes) {
    const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
    if (pages <= 0 || page <= 0) return;  // unknown: let the allocation decide
    const long double phys = static_cast<long double>(pages) * static_cast<long double>(page);
    WGF_USER_CHECK(bytes <= phys, what << " needs " << format_bytes(bytes) << ", more than this machine's memory ("
                                       << format_bytes(phys) << ")");
}

}  // namespace wgf_cli
