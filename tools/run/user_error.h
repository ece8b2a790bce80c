// user_error.h — errors about the user's files and settings: plain messages (no source location, no
// check expression), thrown as wgf::Error like every other error.
#pragma once

#include <sstream>

#include "wgf/error.h"

#define WGF_USER_CHECK(cond, msg)              \
    do {                                       \
        if (!(cond)) {                         \
            std::ostringstream wgf_user_os_;   \
            wgf_user_os_ << msg;               \
            throw wgf::Error(wgf_user_os_.str()); \
        }                                      \
    } while (0)
