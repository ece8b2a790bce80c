// logreg_data.cpp — readers of the logistic-regression datasets (wgf/logreg_data.h). Each file is
// read whole through detail::read_file (regular files only, size-capped before any read), then parsed
// line by line; errors read "<what> '<path>' line <k>: <why>" (lines counted from 1).
#include "wgf/logreg_data.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>
#include <unordered_set>
#include <vector>

#include "binary_io.h"
#include "wgf/error.h"

namespace wgf {

namespace {

/// Splits `text` into lines: '\n' ends a line, a trailing '\r' is dropped (CRLF files), and the
/// final newline does not start an empty last line. Any other empty line is an error.
template <typename OnLine>
void for_each_line(const std::string& text, const std::string& where, OnLine&& on_line) {
    std::size_t pos = 0;
    std::int64_t line = 0;
    while (pos < text.size()) {
        ++line;
        std::size_t end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        std::size_t stop = end;
        if (stop > pos && text[stop - 1] == '\r') --stop;
        WGF_CHECK(stop > pos, where << " line " << line << ": empty line");
        on_line(line, text.data() + pos, stop - pos);
        pos = end + 1;
    }
}

/// A decimal number occupying the whole field (no surrounding blanks), finite.
double parse_number(const char* p, std::size_t len, const std::string& where, std::int64_t line, std::size_t column) {
    const std::string field(p, len);
    WGF_CHECK(!field.empty(), where << " line " << line << ": field " << column << " is empty");
    const char c0 = field[0];
    WGF_CHECK(c0 == '-' || c0 == '+' || c0 == '.' || (c0 >= '0' && c0 <= '9'),
              where << " line " << line << ": field " << column << " '" << field << "' is not a number");
    errno = 0;
    char* endp = nullptr;
    const double v = std::strtod(field.c_str(), &endp);
    WGF_CHECK(endp == field.c_str() + field.size(),
              where << " line " << line << ": field " << column << " '" << field << "' is not a number");
    WGF_CHECK(std::isfinite(v) && errno != ERANGE,
              where << " line " << line << ": field " << column << " '" << field << "' is out of range");
    return v;
}

}  // namespace

LogRegTable read_logreg_csv(const std::string& path, std::uint64_t max_bytes) {
    const std::string where = "logistic-regression data file '" + path + "'";
    const std::string text = detail::read_file(path, "logistic-regression data file", max_bytes);
    LogRegTable t;
    int columns = -1;
    for_each_line(text, where, [&](std::int64_t line, const char* p, std::size_t len) {
        std::size_t column = 0, start = 0;
        for (std::size_t i = 0; i <= len; ++i) {
            if (i < len && p[i] != ',') continue;
            const double v = parse_number(p + start, i - start, where, line, column);
            if (column == 0) {
                WGF_CHECK(v == 1.0 || v == -1.0, where << " line " << line << ": label (field 0) is "
                                                       << std::string(p + start, i - start)
                                                       << ", not -1 or +1");
                t.y.push_back(v);
            } else {
                t.X.push_back(v);
            }
            ++column;
            start = i + 1;
        }
        if (columns < 0) {
            WGF_CHECK(column >= 2, where << " line " << line << ": " << column
                                         << " field(s); a row needs a label and at least one feature");
            columns = static_cast<int>(column);
        }
        WGF_CHECK(static_cast<int>(column) == columns,
                  where << " line " << line << ": ragged row: " << column << " fields, but line 1 has " << columns);
        ++t.rows;
    });
    WGF_CHECK(t.rows > 0, where << ": no rows (empty file)");
    t.dim = columns - 1;
    return t;
}

std::vector<std::int64_t> read_logreg_indices(const std::string& path, std::int64_t rows, std::uint64_t max_bytes) {
    const std::string where = "logistic-regression index file '" + path + "'";
    const std::string text = detail::read_file(path, "logistic-regression index file", max_bytes);
    std::vector<std::int64_t> out;
    std::unordered_set<std::int64_t> seen;
    for_each_line(text, where, [&](std::int64_t line, const char* p, std::size_t len) {
        std::int64_t v = 0;
        for (std::size_t i = 0; i < len; ++i) {
            WGF_CHECK(p[i] >= '0' && p[i] <= '9', where << " line " << line << ": '" << std::string(p, len)
                                                        << "' is not a non-negative integer");
            WGF_CHECK(len <= 18, where << " line " << line << ": index " << std::string(p, len)
                                       << " is out of range (the data has " << rows << " rows)");
            v = 10 * v + (p[i] - '0');
        }
        WGF_CHECK(v < rows, where << " line " << line << ": index " << v << " is out of range (the data has " << rows
                                  << " rows)");
        WGF_CHECK(seen.insert(v).second, where << " line " << line << ": index " << v << " is duplicated");
        out.push_back(v);
    });
    WGF_CHECK(!out.empty(), where << ": no indices (empty file)");
    return out;
}

LogRegDataset load_logreg_dataset(const std::string& folder, std::uint64_t max_bytes) {
    std::string dir = folder;
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    const LogRegTable table = read_logreg_csv(dir + "/data.csv", max_bytes);
    LogRegDataset ds;
    const std::size_t slash = dir.find_last_of('/');
    ds.name = slash == std::string::npos ? dir : dir.substr(slash + 1);
    ds.dim = table.dim;
    ds.rows = table.rows;
    ds.train_rows = read_logreg_indices(dir + "/train_idx.txt", table.rows, max_bytes);
    ds.test_rows = read_logreg_indices(dir + "/test_idx.txt", table.rows, max_bytes);
    std::unordered_set<std::int64_t> train(ds.train_rows.begin(), ds.train_rows.end());
    for (std::size_t k = 0; k < ds.test_rows.size(); ++k)
        WGF_CHECK(train.count(ds.test_rows[k]) == 0, "logistic-regression index file '"
                                                         << dir << "/test_idx.txt' line " << k + 1 << ": row "
                                                         << ds.test_rows[k] << " is also in train_idx.txt");
    const std::size_t d = static_cast<std::size_t>(table.dim);
    auto gather = [&](const std::vector<std::int64_t>& idx, std::vector<double>& X, std::vector<double>& y) {
        X.resize(idx.size() * d);
        y.resize(idx.size());
        for (std::size_t k = 0; k < idx.size(); ++k) {
            const std::size_t r = static_cast<std::size_t>(idx[k]);
            for (std::size_t j = 0; j < d; ++j) X[k * d + j] = table.X[r * d + j];
            y[k] = table.y[r];
        }
    };
    gather(ds.train_rows, ds.X_train, ds.y_train);
    gather(ds.test_rows, ds.X_test, ds.y_test);
    return ds;
}

std::vector<std::string> logreg_dataset_names() {
    return {"german", "diabetis", "twonorm", "ringnorm", "banana", "splice", "waveform", "image"};
}

}  // namespace wgf
