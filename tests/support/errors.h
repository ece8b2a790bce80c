// errors.h — helpers for the bad-input tests: the message of the wgf::Error a call throws.
#pragma once

#include <functional>
#include <string>

#include "wgf/error.h"

namespace wgf_test {

/// what() of the wgf::Error thrown by f, or "<no exception>".
inline std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const wgf::Error& e) {
        return e.what();
    }
    return "<no exception>";
}

inline bool contains(const std::string& s, const std::string& what) { return s.find(what) != std::string::npos; }

}  // namespace wgf_test
