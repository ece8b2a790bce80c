// wgf/error.h — the exceptions wgf throws and the argument-check macro used at every public entry.
// wgf never exits or aborts on bad input: it throws wgf::Error (what, where, why).
#pragma once

#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>

namespace wgf {

/// Every error wgf reports. what() reads "file:line: message [check: expr]".
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A Hessian that could not be factorised (wgf/icnn_status.h: indefinite, numerically singular or
/// non-finite), reported when the caller asked for log det without a per-point status buffer, and by
/// the training losses. `point` is the batch index, `status` the IcnnStatus code.
class NotPositiveDefinite : public Error {
public:
    NotPositiveDefinite(std::int64_t point, std::int32_t status, const std::string& msg)
        : Error(msg), m_point(point), m_status(status) {}
    std::int64_t point() const { return m_point; }
    std::int32_t status() const { return m_status; }

private:
    std::int64_t m_point;
    std::int32_t m_status;
};

/// No checkpoint to resume from: the checkpoint folder has no step 0 file (or does not exist).
/// A damaged checkpoint is a plain wgf::Error, never this.
class NoCheckpoint : public Error {
public:
    using Error::Error;
};

namespace detail {
[[noreturn]] inline void throw_error(const char* file, int line, const char* expr, const std::string& msg) {
    std::ostringstream os;
    os << file << ":" << line << ": " << msg;
    if (expr != nullptr && expr[0] != '\0') os << " [check: " << expr << "]";
    throw Error(os.str());
}
}  // namespace detail

}  // namespace wgf

/// WGF_CHECK(cond, stream-expr): always on. Example: WGF_CHECK(n > 0, "empty batch: n = " << n);
#define WGF_CHECK(cond, msg)                                                              \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            std::ostringstream wgf_check_os_;                                             \
            wgf_check_os_ << msg;                                                         \
            ::wgf::detail::throw_error(__FILE__, __LINE__, #cond, wgf_check_os_.str());   \
        }                                                                                 \
    } while (0)

/// WGF_FAIL(stream-expr): throw unconditionally.
#define WGF_FAIL(msg)                                                                     \
    do {                                                                                  \
        std::ostringstream wgf_check_os_;                                                 \
        wgf_check_os_ << msg;                                                             \
        ::wgf::detail::throw_error(__FILE__, __LINE__, "", wgf_check_os_.str());          \
    } while (0)
