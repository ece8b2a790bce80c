// tape.h (private) — a small reverse-mode tape over batched ops. Each op runs its forward computation
// when it is recorded and leaves a backward rule (a closure over the buffers it needs); backward()
// replays the rules in reverse order. Ops are batched over points: there is no per-scalar graph.
// The training losses (wgf/jko_loss.h) record the ICNN forward, gradient recursion, ∇q, ∇ψ
// assembly, Jacobian recursion, Hessian assembly, Cholesky log-det, potential, W₂ term and the
// mean reduction on a tape per block of points.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace wgf {

class Tape {
public:
    using Rule = std::function<void()>;

    /// Record op `name` whose forward has just run; `backward` accumulates its input adjoints.
    void record(const char* name, Rule backward) { m_ops.push_back({name, std::move(backward)}); }
    /// Run every backward rule, last recorded first, then clear the tape.
    void backward() {
        for (auto it = m_ops.rbegin(); it != m_ops.rend(); ++it) it->rule();
        m_ops.clear();
    }
    void clear() { m_ops.clear(); }
    std::size_t size() const { return m_ops.size(); }
    /// The recorded op names, in forward order (for diagnostics and tests).
    std::vector<std::string> names() const {
        std::vector<std::string> out;
        for (const auto& op : m_ops) out.push_back(op.name);
        return out;
    }

private:
    struct Op {
        const char* name;
        Rule rule;
    };
    std::vector<Op> m_ops;
};

}  // namespace wgf
