// flow_end.cpp — FlowEnd: ρ^k of another flow as a ρ⁰ (wgf/flow.h). Record: kind "flow-end",
// params {bytes per value of the source (4 or 8), step}, blob = the source's flow file.
#include <sstream>

#include "binary_io.h"
#include "wgf/error.h"
#include "wgf/flow.h"

namespace wgf {

template <typename T>
FlowEnd<T>::FlowEnd(Flow<T> source, int step, int host_threads)
    : m_flow(std::make_shared<const Flow<T>>(std::move(source))),
      m_bytes(std::make_shared<const std::string>(m_flow->to_bytes())),
      m_step(step < 0 ? m_flow->steps() : step),
      m_ctx(std::make_shared<Context>(Backend::Host, host_threads)),
      m_mutex(std::make_shared<std::mutex>()) {
    WGF_CHECK(step >= -1 && m_step <= m_flow->steps(),
              "FlowEnd: step " << step << " out of range [-1, " << m_flow->steps() << "] of the source flow");
}

template <typename T>
FlowEnd<T> FlowEnd<T>::load(const std::string& path, int step, int host_threads) {
    return FlowEnd<T>(Flow<T>::load(path), step, host_threads);
}

template <typename T>
std::vector<double> FlowEnd<T>::sample(std::int64_t n, Rng& rng) const {
    std::lock_guard<std::mutex> lock(*m_mutex);
    const std::vector<T> x = m_flow->sample(*m_ctx, m_step, n, rng);
    return std::vector<double>(x.begin(), x.end());
}

template <typename T>
std::vector<double> FlowEnd<T>::sample_with_log_density(std::int64_t n, Rng& rng, std::vector<double>& logp) const {
    std::lock_guard<std::mutex> lock(*m_mutex);
    const std::vector<T> x = m_flow->sample(*m_ctx, m_step, n, rng, &logp);  // exact along the traces
    return std::vector<double>(x.begin(), x.end());
}

template <typename T>
void FlowEnd<T>::log_density(const double* x, std::int64_t n, double* out) const {
    WGF_CHECK(n >= 0, "FlowEnd::log_density: n must be >= 0, got " << n);
    if (n == 0) return;
    WGF_CHECK(x != nullptr && out != nullptr, "FlowEnd::log_density: x or out is null");
    std::lock_guard<std::mutex> lock(*m_mutex);
    InverseReport report;  // failures become NaN (not an exception): the caller counts them
    const std::vector<double> y(x, x + n * dim());
    const std::vector<double> lp = m_flow->log_density(*m_ctx, m_step, y, InverseOptions{}, &report);
    std::copy(lp.begin(), lp.end(), out);
}

template <typename T>
std::string FlowEnd<T>::describe() const {
    std::ostringstream os;
    os << "the end (step " << m_step << ", t = " << m_flow->time(m_step) << ") of a " << (sizeof(T) == 4 ? "float" : "double")
       << " flow of " << m_flow->steps() << " steps from " << m_flow->initial().describe();
    return os.str();
}

template <typename T>
InitialRecord FlowEnd<T>::record() const {
    InitialRecord r;
    r.kind = "flow-end";
    r.dim = dim();
    r.params = {static_cast<double>(sizeof(T)), static_cast<double>(m_step)};
    r.blob = *m_bytes;
    return r;
}

namespace detail {
std::shared_ptr<const InitialDistribution> make_flow_end(const InitialRecord& r) {
    WGF_CHECK(r.params.size() == 2 && (r.params[0] == 4 || r.params[0] == 8) && r.params[1] >= 0 && r.params[1] < 1e9,
              "initial distribution record 'flow-end': bad parameters (expected {4 or 8, step})");
    WGF_CHECK(!r.blob.empty(), "initial distribution record 'flow-end': the source flow is missing");
    // A source flow may itself start from a flow-end, and so on: each level holds (and re-serialises)
    // a copy of the rest, so the depth is bounded (memory and stack stay proportional to the file).
    constexpr int kMaxNesting = 16;
    static thread_local int nesting = 0;
    WGF_CHECK(nesting < kMaxNesting, "initial distribution record 'flow-end': source flows nested more than "
                                         << kMaxNesting << " deep (a flow-end whose source starts from a flow-end ...)");
    struct Depth {
        Depth() { ++nesting; }
        ~Depth() { --nesting; }
    } depth;
    const int step = static_cast<int>(r.params[1]);
    std::shared_ptr<const InitialDistribution> d;
    if (r.params[0] == 4)
        d = std::make_shared<const FlowEnd<float>>(Flow<float>::from_bytes(r.blob, "embedded source flow"), step);
    else
        d = std::make_shared<const FlowEnd<double>>(Flow<double>::from_bytes(r.blob, "embedded source flow"), step);
    WGF_CHECK(d->dim() == r.dim, "initial distribution record 'flow-end': the source flow has D = " << d->dim()
                                                                                                << ", the record " << r.dim);
    return d;
}
}  // namespace detail

template class FlowEnd<float>;
template class FlowEnd<double>;

}  // namespace wgf
