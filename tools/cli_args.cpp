// cli_args.cpp — see cli_args.h.
#include "cli_args.h"

#include <sstream>

namespace wgf_cli {

Args::Args(int argc, char** argv, int first, const std::set<std::string>& known, const std::set<std::string>& flags) {
    for (int i = first; i < argc; ++i) {
        const std::string a = argv[i];
        WGF_CHECK(a.rfind("--", 0) == 0, "unexpected argument '" << a << "' (options look like --name value)");
        const std::string key = a.substr(2);
        WGF_CHECK(known.count(key) || flags.count(key), "unknown option --" << key);
        if (flags.count(key)) {
            m_values[key] = "1";
            continue;
        }
        WGF_CHECK(i + 1 < argc, "option --" << key << " needs a value");
        m_values[key] = argv[++i];
    }
}

std::string Args::str(const std::string& key) const {
    auto it = m_values.find(key);
    WGF_CHECK(it != m_values.end(), "missing required option --" << key);
    return it->second;
}
std::string Args::str(const std::string& key, const std::string& fallback) const {
    return has(key) ? str(key) : fallback;
}

std::int64_t Args::integer(const std::string& key) const {
    const std::string s = str(key);
    std::size_t used = 0;
    std::int64_t v = 0;
    try {
        v = std::stoll(s, &used);
    } catch (...) {
        used = 0;
    }
    WGF_CHECK(used == s.size() && !s.empty(), "option --" << key << ": '" << s << "' is not an integer");
    return v;
}
std::int64_t Args::integer(const std::string& key, std::int64_t fallback) const {
    return has(key) ? integer(key) : fallback;
}

double Args::real(const std::string& key) const {
    const std::string s = str(key);
    std::size_t used = 0;
    double v = 0;
    try {
        v = std::stod(s, &used);
    } catch (...) {
        used = 0;
    }
    WGF_CHECK(used == s.size() && !s.empty(), "option --" << key << ": '" << s << "' is not a number");
    return v;
}
double Args::real(const std::string& key, double fallback) const { return has(key) ? real(key) : fallback; }

std::vector<int> Args::int_list(const std::string& key) const {
    std::vector<int> out;
    std::stringstream ss(str(key));
    std::string item;
    while (std::getline(ss, item, ',')) {
        std::size_t used = 0;
        int v = 0;
        try {
            v = std::stoi(item, &used);
        } catch (...) {
            used = 0;
        }
        WGF_CHECK(used == item.size() && !item.empty(), "option --" << key << ": '" << item << "' is not an integer");
        out.push_back(v);
    }
    WGF_CHECK(!out.empty(), "option --" << key << " is empty");
    return out;
}

std::vector<double> Args::real_list(const std::string& key) const {
    std::vector<double> out;
    std::stringstream ss(str(key));
    std::string item;
    while (std::getline(ss, item, ',')) {
        std::size_t used = 0;
        double v = 0;
        try {
            v = std::stod(item, &used);
        } catch (...) {
            used = 0;
        }
        WGF_CHECK(used == item.size() && !item.empty(), "option --" << key << ": '" << item << "' is not a number");
        out.push_back(v);
    }
    WGF_CHECK(!out.empty(), "option --" << key << " is empty");
    return out;
}

}  // namespace wgf_cli
