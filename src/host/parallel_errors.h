// parallel_errors.h (private) — exceptions and OpenMP regions. An exception that leaves an OpenMP
// structured block (a parallel region, a worksharing loop's body, a critical section) ends in
// std::terminate; one that leaves a thread's part of a worksharing loop early deadlocks the loop's
// barrier. So every task body of the host backend runs under ParallelErrors::run: the exception is
// caught inside the task, the one of the lowest task index is kept, tasks with a higher index than a
// failed one are skipped, and rethrow() raises it on the calling thread after the region. Which
// exception surfaces is therefore the same for every thread count and schedule (the lowest failing
// index always runs: only higher ones are skipped).
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <limits>
#include <mutex>

namespace wgf {
namespace detail {

class ParallelErrors {
public:
    /// Runs task `index` unless a task with a lower index has failed; catches what it throws.
    /// Returns false when the task threw or was skipped.
    template <typename F>
    bool run(std::int64_t index, F&& task) noexcept {
        if (index > m_first.load(std::memory_order_relaxed)) return false;
        try {
            task();
            return true;
        } catch (...) {
            const std::lock_guard<std::mutex> lock(m_mutex);
            if (index < m_first.load(std::memory_order_relaxed)) {
                m_error = std::current_exception();
                m_first.store(index, std::memory_order_relaxed);
            }
            return false;
        }
    }
    bool failed() const { return m_first.load(std::memory_order_relaxed) != kNone; }
    /// After the parallel region: rethrows the exception of the lowest failing task, if any.
    void rethrow() const {
        if (m_error) std::rethrow_exception(m_error);
    }

private:
    static constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::max();
    std::atomic<std::int64_t> m_first{kNone};
    std::mutex m_mutex;
    std::exception_ptr m_error;
};

/// Calls f() inside a critical section or any other structured block that must not be left by an
/// exception: returns the exception (or null) for the caller to rethrow outside the block.
template <typename F>
std::exception_ptr catch_inside(F&& f) noexcept {
    try {
        f();
        return nullptr;
    } catch (...) {
        return std::current_exception();
    }
}

}  // namespace detail
}  // namespace wgf
