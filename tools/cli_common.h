// cli_common.h — what the wgf subcommands share on their command lines (CLI11): strict option
// validators (decimal integers in a range, never wrapped or saturated; finite reals in a range),
// the parse step that turns every usage error into "wgf CMD: usage error: --option: ..." and exit
// status 2, checks that an output folder can be written before any work starts, and the guards that
// turn an impossible allocation into a message saying what was being allocated.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "wgf/error.h"

namespace wgf_cli {

/// The settings every wgf command shares: an option given twice takes the last value (as before CLI11:
/// scripts append overrides). Call before adding options.
inline void configure_app(CLI::App& app) {
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
}

/// A decimal integer in [lo, hi] ("+5", "-3"; no octal/hex, no spaces). The string is rewritten in
/// canonical form before CLI11 converts it (CLI11 would read "010" as octal).
CLI::Validator integer_in(std::int64_t lo, std::int64_t hi);
/// A decimal integer in [0, 2^64 − 1] (seeds); "-1" is refused, not wrapped.
CLI::Validator seed_value();
/// A finite real number with lo ≤ v ≤ hi (lo < v when lo_open); NaN and ±inf are refused.
CLI::Validator real_in(double lo, double hi = std::numeric_limits<double>::infinity(), bool lo_open = false);
/// A finite real number > 0.
inline CLI::Validator positive_real() { return real_in(0.0, std::numeric_limits<double>::infinity(), true); }
/// Any finite real number.
inline CLI::Validator finite_real() {
    return real_in(-std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity());
}

/// A comma-separated list option ("2,4,8"): every element must pass `each` (an empty element, as in
/// "2,,4" or "", is refused, not skipped); out keeps its value when the option is not given.
template <typename T>
CLI::Option* add_list_option(CLI::App& app, const std::string& name, std::vector<T>& out, const std::string& description,
                             CLI::Validator each) {
    CLI::Option* opt = app.add_option_function<std::string>(
        name,
        [&out, each, name](const std::string& text) {
            std::vector<T> values;
            std::size_t start = 0;
            while (true) {
                const std::size_t comma = text.find(',', start);
                std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
                const std::string why = each(item);
                if (!why.empty()) throw CLI::ValidationError(name, why);
                T v{};
                if (!CLI::detail::lexical_cast(item, v)) throw CLI::ValidationError(name, "cannot read '" + item + "'");
                values.push_back(v);
                if (comma == std::string::npos) break;
                start = comma + 1;
            }
            out = std::move(values);
        },
        description);
    std::string shown;
    for (std::size_t i = 0; i < out.size(); ++i) shown += (i ? "," : "") + CLI::detail::to_string(out[i]);
    opt->type_name("LIST:" + each.get_description())->default_str(shown);
    return opt;
}

/// Parses argv[2..] of `wgf CMD ...` into app, then runs `check` (cross-option checks that throw
/// CLI::ValidationError naming the option). Returns −1 to go on; otherwise the exit status: 0 after
/// --help, 2 after a usage error (printed as "wgf CMD: usage error: ...").
int parse_command_line(CLI::App& app, const std::string& cmd, int argc, char** argv,
                       const std::function<void()>& check = {});

/// The folder that will hold output file `path` (or files `path`.*) exists, is a folder and can be
/// written (a probe file is created and removed); `path` itself is not a folder. Throws wgf::Error
/// naming `option` and the path otherwise. Call before any work.
void check_output_path(const std::string& option, const std::string& path);
/// Creates folder `dir` (and its parents) and checks that files can be written in it (probe file).
/// Throws wgf::Error naming `option` and the folder otherwise.
void prepare_output_dir(const std::string& option, const std::string& dir);

/// Refuses (wgf::Error) `bytes` of memory for `what` when they exceed this machine's physical memory:
/// allocating them would fail or get the process killed while the memory is filled.
void check_memory(const std::string& what, long double bytes);
/// "1.5 GB", "12 MB", ...
std::string format_bytes(long double bytes);

/// Runs f(); a std::bad_alloc or std::length_error inside becomes a wgf::Error that says what was
/// being allocated.
template <typename F>
auto allocating(const std::string& what, F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const std::bad_alloc&) {
        throw wgf::Error("out of memory while allocating " + what);
    } catch (const std::length_error&) {
        throw wgf::Error("out of memory while allocating " + what + " (too large for one array)");
    }
}

}  // namespace wgf_cli
