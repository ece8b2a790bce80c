// progress.h — the `wgf run` progress display: on a terminal one line redrawn in place (a bar, the
// step, the loss, seconds per step and the ETA); otherwise (a file, a pipe, CI) one plain line per
// step, so that logs stay readable.
#pragma once

#include <cstdio>
#include <string>

namespace wgf_cli {

class Progress {
public:
    /// total: steps to reach; done: steps already there (a resumed run); stream: where to write.
    Progress(int total, int done, std::FILE* stream, bool quiet);
    /// After each step: its 1-based count, the time it reached, its last loss and its wall time.
    void step(int done, double t, double loss, double seconds);
    /// A line of its own (below the bar on a terminal).
    void note(const std::string& line);
    /// "warning: line", on its own line, also when quiet.
    void warn(const std::string& line);
    void finish();

private:
    int m_total, m_start;
    std::FILE* m_out;
    bool m_tty, m_quiet, m_bar_drawn = false;
    double m_seconds = 0;
};

/// "1h02m", "3m05s", "12.3s".
std::string format_duration(double seconds);

}  // namespace wgf_cli
