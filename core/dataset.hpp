// Datasets held in memory: IDX images and labels (Fashion-MNIST, MNIST), and the
// seeded synthetic linear-regression set.
//
// Pixels are scaled to [0, 1] as x / 255 and nothing else (no mean subtraction), so
// that exported weights work with the same one-line preprocessing elsewhere.
// A dataset is immutable once loaded and is shared read-only between workers
// (std::shared_ptr<const dataset>).
#pragma once

#include "core/status.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tether {

struct dataset {
  size_t count = 0;     ///< samples
  size_t features = 0;  ///< floats per sample
  size_t classes = 0;   ///< number of classes; 0 for regression
  std::vector<float> x; ///< count x features, row-major
  std::vector<float> y; ///< count targets: class index (as float) or value
};

/// A 64-bit fingerprint of a dataset's shape and every byte of its features and
/// targets: nodes of a cluster compare theirs with the coordinator's before training.
uint64_t fingerprint(const dataset& d);

struct text_corpus; // core/text_corpus.hpp

/// A job's data: a training and a test set of samples (the dense models), or a text
/// (the language model: train and test stay null, text holds both splits).
struct train_test {
  std::shared_ptr<const dataset> train;
  std::shared_ptr<const dataset> test;
  std::shared_ptr<const text_corpus> text;
};

/// Reads one IDX image file and its label file, gzip-compressed (.gz) or not
/// (zlib reads both). Checks the magic numbers (0x00000803 images, 0x00000801
/// labels), the dimensions, that the file holds exactly the announced bytes, that
/// both counts agree and that every label is below `classes`. Errors name the file.
result<dataset> load_idx(const std::string& images_path, const std::string& labels_path,
                         size_t classes = 10);

/// Loads DIR/train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
/// t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz (the .gz suffix is optional:
/// an uncompressed file of the same name without it is taken when the .gz is absent).
/// A missing directory or file is errc::not_found with the path and a hint
/// (the dataset-fashion-mnist package, or --data-dir). Both sets are read with
/// classes = 10; train and test must have the same number of pixels (errc::mismatch).
result<train_test> load_idx_dir(const std::string& dir);

/// The synthetic regression set: x ~ N(0, 1)^features, y = w* . x + b* + N(0, noise^2),
/// with w* ~ N(0, 1)^features and b* ~ N(0, 1), all from `seed` (the same seed gives
/// the same set on one standard library). Requires features >= 1 and noise >= 0.
struct linreg_data {
  train_test data;
  std::vector<float> true_weights; ///< features
  float true_bias = 0;
};
linreg_data make_linreg(uint64_t seed, size_t train_count = 10000, size_t test_count = 2000,
                        size_t features = 20, double noise = 0.1);

/// Closed-form least squares on the training set: argmin over (w, b) of
/// sum (w . x + b - y)^2, solved in double precision via the normal equations
/// (Cholesky). Returns features + 1 values: w then b. An empty set or singular
/// normal equations (collinear features, fewer than features + 1 samples) give
/// errc::invalid_argument.
result<std::vector<double>> least_squares(const dataset& train);

/// The first n samples of d, as a new dataset (n >= d.count gives d itself: datasets
/// are immutable, so sharing it is as good as a copy).
std::shared_ptr<const dataset> take_first(const std::shared_ptr<const dataset>& d, size_t n);

} // namespace tether
