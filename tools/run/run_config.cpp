// run_config.cpp — reads a `wgf run` TOML file with toml++ (Debian libtomlplusplus-dev) into a
// RunConfig, checking every key before anything runs. docs/RUN.md lists the keys.
#include "run_config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include "binary_io.h"  // the library's bounded file read
#include "reference_instances.h"
#include "wgf/error.h"
#include "wgf/flow.h"
#include "wgf/metrics.h"
#include "wgf/random.h"

namespace wgf_cli {

namespace {

const char* type_name(const toml::node& n) {
    switch (n.type()) {
        case toml::node_type::table: return "a table";
        case toml::node_type::array: return "an array";
        case toml::node_type::string: return "a string";
        case toml::node_type::integer: return "an integer";
        case toml::node_type::floating_point: return "a number";
        case toml::node_type::boolean: return "a boolean";
        default: return "a date or time";
    }
}

// One [section] of the file: typed getters whose errors say file:line: [section] key: problem, and
// a record of the keys read so that anything else is reported as unknown.
class Section {
public:
    Section(const toml::table* table, std::string name, std::string file, int line)
        : m_table(table), m_name(std::move(name)), m_file(std::move(file)), m_line(line) {}

    bool present() const { return m_table != nullptr; }
    bool has(const std::string& key) {
        m_known.insert(key);
        return m_table != nullptr && m_table->contains(key);
    }

    [[noreturn]] void fail(const std::string& key, const std::string& msg) const {
        int line = m_line;
        if (m_table != nullptr && !key.empty())
            if (const toml::node* n = m_table->get(key)) line = static_cast<int>(n->source().begin.line);
        std::ostringstream os;
        os << m_file << ":" << line << ": [" << m_name << "]" << (key.empty() ? "" : " " + key) << ": " << msg;
        throw wgf::Error(os.str());
    }

    const toml::node& node(const std::string& key) {
        if (!has(key)) fail(key, "missing (required)");
        return *m_table->get(key);
    }

    double real(const std::string& key, const toml::node& n) const {
        if (auto v = n.value<double>(); v && (n.is_floating_point() || n.is_integer())) {
            if (!std::isfinite(*v)) fail(key, "must be finite");
            return *v;
        }
        fail(key, std::string("expected a number, got ") + type_name(n));
    }
    double real(const std::string& key) { return real(key, node(key)); }
    double real(const std::string& key, double fallback) { return has(key) ? real(key) : fallback; }
    double fraction(const std::string& key, double fallback) {  // (0, 1]
        const double v = real(key, fallback);
        if (!(v > 0 && v <= 1)) fail(key, "must be in (0, 1], got " + std::to_string(v));
        return v;
    }
    double positive(const std::string& key, double fallback) {
        const double v = real(key, fallback);
        if (!(v > 0)) fail(key, "must be > 0, got " + std::to_string(v));
        return v;
    }

    std::int64_t integer(const std::string& key) {
        const toml::node& n = node(key);
        if (!n.is_integer()) fail(key, std::string("expected an integer, got ") + type_name(n));
        return *n.value<std::int64_t>();
    }
    std::int64_t integer(const std::string& key, std::int64_t fallback, std::int64_t lo, std::int64_t hi) {
        const std::int64_t v = has(key) ? integer(key) : fallback;
        if (v < lo || v > hi) fail(key, "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + std::to_string(v));
        return v;
    }

    std::string str(const std::string& key, const std::string& fallback, const std::vector<std::string>& allowed = {}) {
        std::string v = fallback;
        if (has(key)) {
            const toml::node& n = node(key);
            if (!n.is_string()) fail(key, std::string("expected a string, got ") + type_name(n));
            v = *n.value<std::string>();
        }
        if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
            std::string list;
            for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + ("\"" + a + "\"");
            fail(key, "expected one of " + list + ", got \"" + v + "\"");
        }
        return v;
    }
    std::string required_str(const std::string& key, const std::vector<std::string>& allowed) {
        node(key);
        return str(key, "", allowed);
    }

    bool boolean(const std::string& key, bool fallback) {
        if (!has(key)) return fallback;
        const toml::node& n = node(key);
        if (!n.is_boolean()) fail(key, std::string("expected true or false, got ") + type_name(n));
        return *n.value<bool>();
    }

    // A list of numbers of length `len` (−1: any length ≥ 1).
    std::vector<double> vector(const std::string& key, int len) {
        const toml::node& n = node(key);
        const toml::array* a = n.as_array();
        if (a == nullptr) fail(key, std::string("expected an array of numbers, got ") + type_name(n));
        std::vector<double> v;
        for (const toml::node& e : *a) v.push_back(real(key, e));
        if (len >= 0 && static_cast<int>(v.size()) != len)
            fail(key, "expected " + std::to_string(len) + " numbers (the dimension), got " + std::to_string(v.size()));
        if (v.empty()) fail(key, "is empty");
        return v;
    }
    std::vector<double> vector(const std::string& key, int len, double fill) {
        return has(key) ? vector(key, len) : std::vector<double>(static_cast<std::size_t>(len), fill);
    }

    // rows × cols from an array of `rows` arrays of `cols` numbers (row-major).
    std::vector<double> matrix(const std::string& key, const toml::node& n, int rows, int cols) const {
        const toml::array* a = n.as_array();
        if (a == nullptr || static_cast<int>(a->size()) != rows)
            fail(key, "expected " + std::to_string(rows) + " rows of " + std::to_string(cols) + " numbers");
        std::vector<double> m;
        for (const toml::node& row : *a) {
            const toml::array* r = row.as_array();
            if (r == nullptr || static_cast<int>(r->size()) != cols)
                fail(key, "expected " + std::to_string(rows) + " rows of " + std::to_string(cols) + " numbers");
            for (const toml::node& e : *r) m.push_back(real(key, e));
        }
        return m;
    }
    std::vector<double> matrix(const std::string& key, int rows, int cols) { return matrix(key, node(key), rows, cols); }

    // A D×D matrix given as rows, or as a number c meaning c·I.
    std::vector<double> square_or_scalar(const std::string& key, int D, double fallback_scale) {
        std::vector<double> I(static_cast<std::size_t>(D) * D, 0.0);
        double c = fallback_scale;
        if (has(key)) {
            const toml::node& n = node(key);
            if (n.is_array()) return matrix(key, n, D, D);
            c = real(key, n);
        }
        for (int i = 0; i < D; ++i) I[static_cast<std::size_t>(i) * D + i] = c;
        return I;
    }

    // K covariance matrices: "covariances" (K matrices D×D) or "variance" (one number, or K numbers),
    // identity when neither is given.
    std::vector<double> covariances(int K, int D) {
        const bool c = has("covariances"), v = has("variance");
        if (c && v) fail("variance", "give either covariances or variance, not both");
        std::vector<double> out;
        if (c) {
            const toml::node& n = node("covariances");
            const toml::array* a = n.as_array();
            if (a == nullptr || static_cast<int>(a->size()) != K)
                fail("covariances", "expected " + std::to_string(K) + " matrices (one per component) of " +
                                        std::to_string(D) + "x" + std::to_string(D));
            for (const toml::node& m : *a) {
                const std::vector<double> one = matrix("covariances", m, D, D);
                out.insert(out.end(), one.begin(), one.end());
            }
            return out;
        }
        std::vector<double> var(static_cast<std::size_t>(K), 1.0);
        if (v) {
            const toml::node& n = node("variance");
            if (n.is_array()) {
                var = vector("variance", K);
            } else {
                var.assign(static_cast<std::size_t>(K), real("variance", n));
            }
        }
        for (int k = 0; k < K; ++k)
            for (int i = 0; i < D; ++i)
                for (int j = 0; j < D; ++j) out.push_back(i == j ? var[static_cast<std::size_t>(k)] : 0.0);
        return out;
    }

    void reject_unknown() const {
        if (m_table == nullptr) return;
        for (const auto& [k, n] : *m_table) {
            const std::string key(k.str());
            if (m_known.count(key) == 0) {
                std::string list;
                for (const auto& a : m_known) list += (list.empty() ? "" : ", ") + a;
                std::ostringstream os;
                os << m_file << ":" << n.source().begin.line << ": [" << m_name << "] unknown key '" << key
                   << "' (known here: " << list << ")";
                throw wgf::Error(os.str());
            }
        }
    }

    const std::string& name() const { return m_name; }

private:
    const toml::table* m_table;
    std::string m_name, m_file;
    int m_line;
    std::set<std::string> m_known;
};

Section section(const toml::table& root, const std::string& name, const std::string& file, bool required) {
    const toml::node* n = root.get(name);
    if (n == nullptr) {
        if (required) throw wgf::Error(file + ": the section [" + name + "] is missing (required)");
        return Section(nullptr, name, file, 1);
    }
    if (!n->is_table())
        throw wgf::Error(file + ":" + std::to_string(n->source().begin.line) + ": '" + name + "' must be a section [" +
                         name + "], got " + type_name(*n));
    return Section(n->as_table(), name, file, static_cast<int>(n->source().begin.line));
}

// A config file is text of a few kilobytes; anything larger is refused before it is read.
constexpr std::uint64_t kMaxConfigBytes = 1u << 20;
// The dense matrices a config describes (A, covariances: K·D·D values, filled in from a scalar or
// the identity) are capped, so that a short file cannot ask for gigabytes: 2^24 values (128 MiB) is
// D = 4096 for one matrix, far beyond what the D×D Hessians of the ICNN maps allow in practice.
constexpr std::uint64_t kMaxDenseValues = 1u << 24;
void check_dense(Section& s, const std::string& key, std::uint64_t K, std::uint64_t D) {
    if (K * D * D > kMaxDenseValues)
        s.fail(key, std::to_string(K) + " matrices of " + std::to_string(D) + "x" + std::to_string(D) +
                        " are more than the " + std::to_string(kMaxDenseValues) + " values a config may describe");
}

// Mixture parameters from a section: means [K][D] (K from its length), weights, covariances.
void read_mixture(Section& s, int D, std::vector<double>& w, std::vector<double>& mu, std::vector<double>& cov) {
    const toml::node& n = s.node("means");
    const toml::array* a = n.as_array();
    if (a == nullptr || a->empty()) s.fail("means", "expected an array of K means, each of D numbers");
    const int K = static_cast<int>(a->size());
    check_dense(s, "means", static_cast<std::uint64_t>(K), static_cast<std::uint64_t>(D));
    mu = s.matrix("means", n, K, D);
    w = s.has("weights") ? s.vector("weights", K) : std::vector<double>(static_cast<std::size_t>(K), 1.0);
    cov = s.covariances(K, D);
}

// Centres uniform in [−span, span]^D (K rows of D) from wgf's Rng(seed): the reference's
// distribution of "cube" instances (PAPER-SPEC §7.1), not its instances (reference_instances.h).
std::vector<double> wgf_cube_centres(int K, int D, double span, std::uint64_t seed) {
    wgf::Rng rng(seed);
    std::vector<double> mu(static_cast<std::size_t>(K) * static_cast<std::size_t>(D));
    for (auto& v : mu) v = -span + 2 * span * rng.uniform();
    return mu;
}

// The reference's random "cube" mixture: K equal-weight isotropic Gaussians of standard deviation
// std with the given centres.
void cube_mixture(int K, int D, double std, std::vector<double> centres, std::vector<double>& w,
                  std::vector<double>& mu, std::vector<double>& cov) {
    w.assign(static_cast<std::size_t>(K), 1.0);
    mu = std::move(centres);
    cov.assign(static_cast<std::size_t>(K) * D * D, 0.0);
    for (int k = 0; k < K; ++k)
        for (int i = 0; i < D; ++i) cov[(static_cast<std::size_t>(k) * D + i) * D + i] = std * std;
}

// A library error's message without its source location and check expression ("src/x.cpp:12: msg
// [check: expr]" → "msg"): in a config error the user's file and key are the location.
std::string plain(const std::string& what) {
    std::string m = what;
    const std::size_t cpp = m.find(".cpp:");
    if (cpp != std::string::npos) {
        const std::size_t colon = m.find(": ", cpp + 5);
        if (colon != std::string::npos) m = m.substr(colon + 2);
    }
    const std::size_t check = m.rfind(" [check: ");
    if (check != std::string::npos) m = m.substr(0, check);
    return m;
}

// Builds a library object and re-throws its wgf::Error as a config error on that section.
template <typename F>
auto checked(Section& s, const std::string& key, F&& make) -> decltype(make()) {
    try {
        return make();
    } catch (const wgf::Error& e) {
        s.fail(key, plain(e.what()));
    }
}

// An input file named in the config: relative to the config file's folder unless absolute.
std::string input_path(const std::string& config, const std::string& p) {
    if (p.empty() || std::filesystem::path(p).is_absolute()) return p;
    return (std::filesystem::path(config).parent_path() / p).lexically_normal().string();
}

}  // namespace

RunConfig load_run_config(const std::string& path, const std::vector<std::string>& overrides) {
    RunConfig cfg;
    cfg.file = path;
    toml::table root;
    try {
        // A regular file of at most kMaxConfigBytes (no /dev/zero, FIFO or directory).
        const std::string text = wgf::detail::read_file(path, "config file", kMaxConfigBytes);
        root = toml::parse(text, path);
    } catch (const toml::parse_error& e) {
        std::ostringstream os;
        os << path << ":" << e.source().begin.line << ":" << e.source().begin.column << ": not valid TOML: "
           << e.description();
        throw wgf::Error(os.str());
    }
    for (const std::string& o : overrides) {
        const std::size_t eq = o.find('='), dot = o.find('.');
        if (eq == std::string::npos || dot == std::string::npos || dot > eq || dot == 0 || dot + 1 == eq)
            throw wgf::Error("--set '" + o + "': expected section.key=value, e.g. training.iterations=20");
        const std::string sec = o.substr(0, dot), key = o.substr(dot + 1, eq - dot - 1);
        toml::table parsed;
        try {
            parsed = toml::parse("value = " + o.substr(eq + 1));
        } catch (const toml::parse_error& e) {
            throw wgf::Error("--set '" + o + "': the value is not valid TOML (" + std::string(e.description()) +
                             "; strings need quotes: key=\"text\")");
        }
        if (!root.contains(sec)) root.insert(sec, toml::table{});
        toml::table* t = root[sec].as_table();
        if (t == nullptr) throw wgf::Error("--set '" + o + "': '" + sec + "' is not a section");
        // A key set on the command line replaces its alternatives from the file.
        static const std::map<std::string, std::vector<std::string>> alternatives = {
            {"at_steps", {"at_times"}}, {"at_times", {"at_steps"}}, {"widths", {"width", "depth"}},
            {"width", {"widths"}},      {"depth", {"widths"}},      {"cov", {"variance"}},
            {"variance", {"cov", "covariances"}}, {"covariances", {"variance"}}};
        if (auto alt = alternatives.find(key); alt != alternatives.end())
            for (const std::string& other : alt->second) t->erase(other);
        t->insert_or_assign(key, *parsed.get("value"));
    }
    for (const auto& [k, n] : root) {
        const std::string key(k.str());
        static const std::set<std::string> sections = {"flow", "potential", "initial", "network", "training", "output"};
        if (sections.count(key) == 0)
            throw wgf::Error(path + ":" + std::to_string(n.source().begin.line) + ": unknown section or key '" + key +
                             "' (sections: flow, potential, initial, network, training, output)");
    }

    // [flow]
    Section flow = section(root, "flow", path, true);
    if (!flow.has("dim")) flow.fail("dim", "missing (required)");
    cfg.dim = static_cast<int>(flow.integer("dim", 0, 1, 100000));
    const int D = cfg.dim;
    check_dense(flow, "dim", 1, static_cast<std::uint64_t>(D));  // A, covariances: D×D
    if (!flow.has("tau")) flow.fail("tau", "missing (required)");
    cfg.jko.tau = flow.positive("tau", 0.0);
    if (!flow.has("steps")) flow.fail("steps", "missing (required)");
    cfg.jko.steps = static_cast<int>(flow.integer("steps", 0, 1, 1000000));
    cfg.jko.beta = flow.positive("beta", 1.0);
    cfg.jko.seed = static_cast<std::uint64_t>(flow.integer("seed", 0, 0, INT64_MAX));
    cfg.use_double = flow.str("precision", "float", {"float", "double"}) == "double";
    cfg.backend = flow.str("backend", "auto", {"auto", "host", "cuda"});
    cfg.threads = static_cast<int>(flow.integer("threads", 0, 0, 4096));
    flow.reject_unknown();

    // [potential]
    Section pot = section(root, "potential", path, true);
    cfg.potential_kind = pot.required_str("kind", {"quadratic", "gaussian-mixture", "cube-mixture"});
    if (cfg.potential_kind == "quadratic") {
        cfg.A = pot.square_or_scalar("A", D, 1.0);
        cfg.m = pot.vector("m", D, 0.0);
        checked(pot, "A", [&] { return wgf::QuadraticPotential<double>(cfg.A, cfg.m).dim(); });
    } else if (cfg.potential_kind == "gaussian-mixture") {
        read_mixture(pot, D, cfg.weights, cfg.means, cfg.covs);
        checked(pot, "means", [&] { return wgf::GaussianMixture(cfg.weights, cfg.means, cfg.covs, D).dim(); });
    } else {
        if (!pot.has("components")) pot.fail("components", "missing (required)");
        const int K = static_cast<int>(pot.integer("components", 0, 1, 100000));
        if (!pot.has("span")) pot.fail("span", "missing (required)");
        const double span = pot.positive("span", 0.0);
        const double std = pot.positive("std", 1.0);
        check_dense(pot, "components", static_cast<std::uint64_t>(K), static_cast<std::uint64_t>(D));
        if (pot.has("reference_key")) {  // the reference's own instance (PAPER-SPEC §11)
            if (pot.has("seed")) pot.fail("seed", "give either seed (wgf's generator) or reference_key and reference_run, not both");
            const std::string key = pot.str("reference_key", "");
            if (key.empty()) pot.fail("reference_key", "must not be empty");
            if (!pot.has("reference_run")) pot.fail("reference_run", "missing (required with reference_key)");
            const int run = static_cast<int>(pot.integer("reference_run", 0, 0, INT32_MAX));
            cube_mixture(K, D, std, reference_cube_centres(key, D, run, K, span), cfg.weights, cfg.means, cfg.covs);
        } else {
            if (pot.has("reference_run")) pot.fail("reference_run", "only with reference_key");
            const auto seed = static_cast<std::uint64_t>(pot.integer("seed", static_cast<std::int64_t>(cfg.jko.seed), 0, INT64_MAX));
            cube_mixture(K, D, std, wgf_cube_centres(K, D, span, seed), cfg.weights, cfg.means, cfg.covs);
        }
    }
    pot.reject_unknown();

    // [initial]
    Section ini = section(root, "initial", path, true);
    const std::string kind = ini.required_str("kind", {"gaussian", "gaussian-mixture", "uniform-box", "flow-end"});
    if (kind == "gaussian") {
        const std::vector<double> mean = ini.vector("mean", D, 0.0);
        if (ini.has("cov") && ini.has("variance")) ini.fail("variance", "give either cov or variance, not both");
        const std::vector<double> cov = ini.has("variance") ? ini.square_or_scalar("variance", D, 1.0)
                                                            : ini.square_or_scalar("cov", D, 1.0);
        cfg.initial = checked(ini, "cov", [&] { return std::make_shared<const wgf::Gaussian>(mean, cov); });
    } else if (kind == "gaussian-mixture") {
        std::vector<double> w, mu, cov;
        read_mixture(ini, D, w, mu, cov);
        cfg.initial = checked(ini, "means", [&] { return std::make_shared<const wgf::GaussianMixture>(w, mu, cov, D); });
    } else if (kind == "flow-end") {
        if (!ini.has("path")) ini.fail("path", "missing (required): the flow file (.wgfflow) whose end starts this flow");
        const std::string file = input_path(path, ini.str("path", ""));
        const int step = static_cast<int>(ini.integer("step", -1, -1, 1000000000));
        cfg.initial = checked(ini, "path", [&] {
            return std::make_shared<const wgf::FlowEnd<double>>(wgf::Flow<double>::load(file), step, cfg.threads);
        });
        if (cfg.initial->dim() != D) ini.fail("path", "the flow in '" + file + "' has D = " + std::to_string(cfg.initial->dim()) + ", [flow] dim is " + std::to_string(D));
    } else {
        const std::vector<double> lo = ini.vector("lower", D), hi = ini.vector("upper", D);
        cfg.initial = checked(ini, "lower", [&] { return std::make_shared<const wgf::UniformBox>(lo, hi); });
    }
    ini.reject_unknown();

    // [network]
    Section net = section(root, "network", path, false);
    if (net.has("widths")) {
        if (net.has("width") || net.has("depth")) net.fail("widths", "give either widths or width and depth, not both");
        for (double w : net.vector("widths", -1)) {
            if (w < 1 || w > 65536 || w != std::floor(w)) net.fail("widths", "entries must be integers in [1, 65536]");
            cfg.shape.widths.push_back(static_cast<int>(w));
        }
    } else {
        const int W = static_cast<int>(net.integer("width", 64, 1, 65536));
        const int L = static_cast<int>(net.integer("depth", 2, 1, 64));
        cfg.shape.widths.assign(static_cast<std::size_t>(L), W);
    }
    cfg.shape.dim = D;
    cfg.shape.rank = static_cast<int>(net.integer("rank", 5, 1, 4096));
    cfg.shape.strong_convexity = net.real("strong_convexity", 1e-6);
    if (cfg.shape.strong_convexity < 0) net.fail("strong_convexity", "must be >= 0");
    checked(net, "", [&] {
        cfg.shape.validate();
        return 0;
    });
    net.reject_unknown();

    // [training]
    Section tr = section(root, "training", path, false);
    cfg.jko.iterations = static_cast<int>(tr.integer("iterations", 500, 1, 100000000));
    cfg.jko.batch = tr.integer("batch", 1024, 1, 100000000);
    cfg.jko.lr = tr.positive("lr", 5e-3);
    if (tr.has("lr_schedule")) {
        const toml::node& n = tr.node("lr_schedule");
        const toml::array* a = n.as_array();
        if (a == nullptr || a->empty()) tr.fail("lr_schedule", "expected an array of [steps, lr] pairs");
        for (const toml::node& e : *a) {
            const toml::array* p = e.as_array();
            if (p == nullptr || p->size() != 2 || !(*p)[0].is_integer())
                tr.fail("lr_schedule", "expected an array of [steps, lr] pairs, steps an integer");
            const std::int64_t steps = *(*p)[0].value<std::int64_t>();
            const double lr = tr.real("lr_schedule", (*p)[1]);
            if (steps < 1 || !(lr > 0)) tr.fail("lr_schedule", "each pair needs steps >= 1 and lr > 0");
            cfg.jko.lr_schedule.emplace_back(static_cast<int>(steps), lr);
        }
    }
    const std::string init = tr.str("init", "pretrain", {"pretrain", "identity", "spread"});
    cfg.jko.init = init == "pretrain"   ? wgf::JkoInit::Pretrain
                   : init == "identity" ? wgf::JkoInit::Identity
                                        : wgf::JkoInit::Spread;
    cfg.jko.pretrain_iterations = static_cast<int>(tr.integer("pretrain_iterations", 4000, 0, 100000000));
    cfg.jko.pretrain_lr = tr.positive("pretrain_lr", 5e-3);
    cfg.jko.lr_end_ratio = tr.fraction("lr_end_ratio", 1.0);
    cfg.jko.average_tail = tr.real("average_tail", 0.0);
    if (!(cfg.jko.average_tail >= 0 && cfg.jko.average_tail <= 1)) tr.fail("average_tail", "must be in [0, 1]");
    cfg.jko.weight_decay = tr.real("weight_decay", 1e-9);
    cfg.jko.pretrain_weight_decay = tr.real("pretrain_weight_decay", 1e-8);
    cfg.jko.sample_pool = tr.boolean("pool", true);
    cfg.jko.pool_size = tr.integer("pool_size", 0, 0, INT64_MAX);
    cfg.jko.carry_pool = tr.boolean("carry_pool", false);
    cfg.jko.divergence_retries = static_cast<int>(tr.integer("divergence_retries", 2, 0, 100));
    checked(tr, "", [&] {
        cfg.jko.validate();
        return 0;
    });
    tr.reject_unknown();

    // [output]
    Section out = section(root, "output", path, false);
    const std::string stem = std::filesystem::path(path).stem().string();
    cfg.out_dir = out.str("dir", stem + "-out");
    if (cfg.out_dir.empty()) out.fail("dir", "is empty");
    cfg.checkpoints = out.boolean("checkpoints", true);
    if (out.has("at_steps") && out.has("at_times")) out.fail("at_times", "give either at_steps or at_times, not both");
    if (out.has("at_steps")) {
        for (double s : out.vector("at_steps", -1)) {
            if (s != std::floor(s) || s < 0 || s > cfg.jko.steps)
                out.fail("at_steps", "entries must be integers in [0, steps = " + std::to_string(cfg.jko.steps) + "]");
            cfg.at_steps.push_back(static_cast<int>(s));
        }
    } else if (out.has("at_times")) {
        for (double t : out.vector("at_times", -1)) {
            const double k = t / cfg.jko.tau;
            if (t < 0 || std::abs(k - std::round(k)) > 1e-6 * std::max(1.0, k) || std::round(k) > cfg.jko.steps)
                out.fail("at_times", "each time must be a multiple of tau = " + std::to_string(cfg.jko.tau) +
                                         " within steps * tau");
            cfg.at_steps.push_back(static_cast<int>(std::round(k)));
        }
    } else {
        cfg.at_steps = {cfg.jko.steps};
    }
    std::sort(cfg.at_steps.begin(), cfg.at_steps.end());
    cfg.at_steps.erase(std::unique(cfg.at_steps.begin(), cfg.at_steps.end()), cfg.at_steps.end());
    cfg.samples = out.integer("samples", 4096, 0, 100000000);
    cfg.points = input_path(path, out.str("points", ""));
    cfg.metrics = out.boolean("metrics", true);
    cfg.metric_samples = out.integer("metric_samples", 4096, 2, 100000000);
    cfg.step_kl_samples = out.integer("step_kl_samples", 0, 0, 100000000);
    if (cfg.step_kl_samples == 1) out.fail("step_kl_samples", "must be 0 (off) or >= 2");
    cfg.save_flow = out.boolean("save_flow", true);
    out.reject_unknown();
    if (cfg.checkpoints) cfg.jko.checkpoint_dir = cfg.out_dir + "/checkpoints";
    return cfg;
}

template <typename T>
std::shared_ptr<const wgf::Potential<T>> make_run_potential(const RunConfig& cfg) {
    if (cfg.potential_kind == "quadratic") return std::make_shared<const wgf::QuadraticPotential<T>>(cfg.A, cfg.m);
    return std::make_shared<const wgf::GaussianMixturePotential<T>>(cfg.weights, cfg.means, cfg.covs, cfg.dim,
                                                                    cfg.jko.beta);
}
template std::shared_ptr<const wgf::Potential<float>> make_run_potential<float>(const RunConfig&);
template std::shared_ptr<const wgf::Potential<double>> make_run_potential<double>(const RunConfig&);

std::shared_ptr<const wgf::InitialDistribution> reference_law(const RunConfig& cfg, double t, std::string* what) {
    const int D = cfg.dim;
    if (cfg.potential_kind == "quadratic") {
        if (const auto* g = dynamic_cast<const wgf::Gaussian*>(cfg.initial.get())) {
            if (what) *what = "ou-marginal";
            return std::make_shared<const wgf::Gaussian>(wgf::ou_marginal(*g, cfg.A, cfg.m, cfg.jko.beta, t));
        }
        // Stationary N(m, (βA)⁻¹): the OU marginal from a point mass is not a density, so take the
        // marginal at t → ∞ from any Gaussian start.
        std::vector<double> I(static_cast<std::size_t>(D) * D, 0.0);
        for (int i = 0; i < D; ++i) I[static_cast<std::size_t>(i) * D + i] = 1.0;
        if (what) *what = "stationary";
        return std::make_shared<const wgf::Gaussian>(wgf::ou_marginal(wgf::Gaussian(cfg.m, I), cfg.A, cfg.m, cfg.jko.beta, 1e6));
    }
    if (what) *what = "stationary";
    return std::make_shared<const wgf::GaussianMixture>(cfg.weights, cfg.means, cfg.covs, D);
}

}  // namespace wgf_cli
