// cli_args.h — a tiny "--key value" / "--flag" argument parser for the wgf tool, with errors that
// name the option. No positional arguments beyond the subcommand.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "wgf/error.h"

namespace wgf_cli {

class Args {
public:
    /// argv[first..argc) as "--key value" pairs; keys listed in `flags` take no value.
    Args(int argc, char** argv, int first, const std::set<std::string>& known, const std::set<std::string>& flags = {});
    bool has(const std::string& key) const { return m_values.count(key) > 0; }
    std::string str(const std::string& key) const;
    std::string str(const std::string& key, const std::string& fallback) const;
    std::int64_t integer(const std::string& key) const;
    std::int64_t integer(const std::string& key, std::int64_t fallback) const;
    double real(const std::string& key) const;
    double real(const std::string& key, double fallback) const;
    std::vector<int> int_list(const std::string& key) const;  ///< "64,64" → {64, 64}
    std::vector<double> real_list(const std::string& key) const;

private:
    std::map<std::string, std::string> m_values;
};

}  // namespace wgf_cli
