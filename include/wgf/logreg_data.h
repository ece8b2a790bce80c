// wgf/logreg_data.h — the Bayesian logistic regression datasets of the paper's §7.4 (data/logreg/,
// data/logreg/PROVENANCE.md): one folder per dataset holding
//   data.csv       no header, comma-separated, one example per line: column 0 the label in {−1, +1},
//                  columns 1..d the features (decimal text)
//   train_idx.txt  0-based row indices into data.csv, one per line (the training subset, in order)
//   test_idx.txt   the same for the test subset
// No preprocessing is applied: the reference adds no bias column and standardises nothing (the
// stored features are what it reads), so X_train/X_test are the rows of data.csv as they are.
// Every file is read with a size cap and must be a regular file; a malformed file (ragged row,
// non-numeric or non-finite field, label outside {−1, +1}, index out of range, duplicated or shared
// between the splits, empty file) is a wgf::Error naming the file and the line.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace wgf {

/// data.csv as read: rows × (1 + d) numbers.
struct LogRegTable {
    int dim = 0;                ///< d, the number of features
    std::int64_t rows = 0;      ///< number of examples
    std::vector<double> X;      ///< [rows][d] row-major
    std::vector<double> y;      ///< [rows], each −1 or +1
};

/// A dataset split into its training and test subsets (rows in the order of the index files).
struct LogRegDataset {
    std::string name;           ///< the folder's last component ("german")
    int dim = 0;                ///< d (the sampled parameter has D = d + 1 coordinates: θ and log α)
    std::int64_t rows = 0;      ///< rows of data.csv
    std::vector<double> X_train, y_train;  ///< [n_train][d], [n_train]
    std::vector<double> X_test, y_test;    ///< [n_test][d], [n_test]
    std::vector<std::int64_t> train_rows, test_rows;  ///< the index files' contents
    std::int64_t n_train() const { return static_cast<std::int64_t>(y_train.size()); }
    std::int64_t n_test() const { return static_cast<std::int64_t>(y_test.size()); }
};

/// Largest file the readers accept by default (covtype's CSV, were it present, is ~75 MB).
constexpr std::uint64_t kLogRegMaxFileBytes = std::uint64_t{1} << 30;

/// Reads a data.csv (format above).
LogRegTable read_logreg_csv(const std::string& path, std::uint64_t max_bytes = kLogRegMaxFileBytes);

/// Reads an index file: one non-negative decimal integer per line, each < rows, no duplicates,
/// at least one index.
std::vector<std::int64_t> read_logreg_indices(const std::string& path, std::int64_t rows,
                                              std::uint64_t max_bytes = kLogRegMaxFileBytes);

/// Reads <folder>/data.csv, <folder>/train_idx.txt and <folder>/test_idx.txt; the two index sets
/// must be disjoint.
LogRegDataset load_logreg_dataset(const std::string& folder, std::uint64_t max_bytes = kLogRegMaxFileBytes);

/// The eight datasets stored in data/logreg/ (covtype's data is not available).
std::vector<std::string> logreg_dataset_names();

}  // namespace wgf
