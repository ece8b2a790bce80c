// progress.cpp — see progress.h. The ETA is the mean wall time of the steps run in this process times
// the steps left.
#include "progress.h"

#include <unistd.h>

#include <cmath>

namespace wgf_cli {

std::string format_duration(double s) {
    char buf[32];
    if (!std::isfinite(s) || s < 0) return "?";
    if (s < 60) {
        std::snprintf(buf, sizeof buf, "%.1fs", s);
    } else if (s < 3600) {
        std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s / 60), static_cast<int>(s) % 60);
    } else {
        std::snprintf(buf, sizeof buf, "%dh%02dm", static_cast<int>(s / 3600), static_cast<int>(s / 60) % 60);
    }
    return buf;
}

Progress::Progress(int total, int done, std::FILE* stream, bool quiet)
    : m_total(total), m_start(done), m_out(stream), m_tty(isatty(fileno(stream)) != 0), m_quiet(quiet) {}

void Progress::step(int done, double t, double loss, double seconds) {
    m_seconds += seconds;
    if (m_quiet) return;
    const int run = done - m_start;
    const double per_step = run > 0 ? m_seconds / run : 0;
    const std::string eta = format_duration(per_step * (m_total - done));
    if (m_tty) {
        const int width = 30;
        const int filled = m_total > 0 ? width * done / m_total : width;
        std::string bar(static_cast<std::size_t>(filled), '#');
        bar.append(static_cast<std::size_t>(width - filled), '.');
        std::fprintf(m_out, "\r[%s] step %d/%d  t=%.4g  loss %.6g  %.2f s/step  ETA %s\033[K", bar.c_str(), done, m_total,
                     t, loss, per_step, eta.c_str());
        m_bar_drawn = true;
    } else {
        std::fprintf(m_out, "step %d/%d  t=%.4g  loss %.6g  %.2f s  ETA %s\n", done, m_total, t, loss, seconds, eta.c_str());
    }
    std::fflush(m_out);
}

void Progress::note(const std::string& line) {
    if (m_quiet) return;
    if (m_bar_drawn) std::fprintf(m_out, "\n");
    m_bar_drawn = false;
    std::fprintf(m_out, "%s\n", line.c_str());
    std::fflush(m_out);
}

void Progress::warn(const std::string& line) {
    if (m_bar_drawn) std::fprintf(m_out, "\n");
    m_bar_drawn = false;
    std::fprintf(m_out, "warning: %s\n", line.c_str());
    std::fflush(m_out);
}

void Progress::finish() {
    if (m_bar_drawn && !m_quiet) std::fprintf(m_out, "\n");
    m_bar_drawn = false;
}

}  // namespace wgf_cli
