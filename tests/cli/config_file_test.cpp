// `tether train --config=FILE`: the file's settings go through the option table's rows,
// before the command line, with errors naming the file, the line and the key.
#include "cli/config_file.hpp"

#include "cli/exit_codes.hpp"
#include "cli/options.hpp"

#include <doctest/doctest.h>
#include "tests/cli/parse_helpers.hpp"
#include "tests/temp_dir.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

using namespace tether;

namespace fs = std::filesystem;

namespace {

using namespace tether::testing;

using tether::testing::temp_dir;

} // namespace

TEST_CASE("a config file sets options by their command-line names") {
  temp_dir dir;
  auto conf = dir.write("run.conf", "workers = 4\n"
                                    "lr=0.01\n"
                                    "model = mlp:784,64,10\n"
                                    "consistency =  ssp  \n"
                                    "staleness = 2\r\n"
                                    "summary = out dir/run.json\n");
  auto cfg = train({"--config=" + conf});
  CHECK(cfg.workers == 4);
  CHECK(cfg.optimizer.lr == 0.01f);
  CHECK(cfg.model == "mlp:784,64,10");
  CHECK(cfg.consistency.model == consistency_model::ssp);
  CHECK(cfg.consistency.staleness == 2);
  CHECK(cfg.summary_path == "out dir/run.json");
  // The effective options are the values the job uses, from wherever they came.
  CHECK(cfg.effective_options == effective_options_text(cfg));
  CHECK(value_of(cfg, "workers") == "4");
  CHECK(value_of(cfg, "shards") == "2");
  CHECK(cfg.effective_options.find("config") == std::string::npos);
  // Both forms of the option.
  CHECK(train({"--config", conf}).workers == 4);
}

TEST_CASE("comments and blank lines are skipped, a '#' inside a value stays") {
  temp_dir dir;
  auto conf = dir.write("run.conf", "# a run\n"
                                    "\n"
                                    "   # indented comment\n"
                                    "workers = 3   # three workers\n"
                                    "\t\n"
                                    "summary = run#1.json\n"
                                    "epochs = 2# no space: part of the value\n");
  auto parsed = parse_train({"--config=" + conf});
  REQUIRE_FALSE(parsed.is_ok());
  CHECK(parsed.error().message() ==
        conf + ":7: epochs = 2# no space: part of the value: expected a whole number from 1 to "
               "100000");
  dir.write("run.conf", "# a run\n\nworkers = 3   # three workers\nsummary = run#1.json\n");
  auto cfg = train({"--config=" + conf});
  CHECK(cfg.workers == 3);
  CHECK(cfg.summary_path == "run#1.json");
  CHECK(train({"--config=" + dir.write("empty.conf", "")}).workers == job_config{}.workers);
}

TEST_CASE("the command line wins over the config file, wherever --config is") {
  temp_dir dir;
  auto conf = dir.write("run.conf", "workers = 4\nbatch = 16\noptimizer = sgd\n");
  for (auto args : {std::vector<std::string>{"--config=" + conf, "--workers=8"},
                    std::vector<std::string>{"--workers=8", "--config=" + conf}}) {
    auto cfg = train(args);
    CHECK(cfg.workers == 8);
    CHECK(cfg.batch == 16);
    CHECK(cfg.optimizer.kind == optimizer_kind::sgd);
    CHECK(cfg.optimizer.lr == doctest::Approx(0.1)); // sgd's own lr: no lr given anywhere
  }
  // lr in the file counts as given: --optimizer on the command line keeps it.
  dir.write("lr.conf", "lr = 0.3\n");
  CHECK(train({"--config=" + (dir.path / "lr.conf").string(), "--optimizer=sgd"}).optimizer.lr ==
        doctest::Approx(0.3));
  // A later line of the file wins over an earlier one; a later --config over an earlier.
  auto twice = dir.write("twice.conf", "workers = 4\nworkers = 5\n");
  CHECK(train({"--config=" + twice}).workers == 5);
  CHECK(train({"--config=" + conf, "--config=" + twice}).batch == job_config{}.batch);
}

TEST_CASE("linreg defaults apply only to options given nowhere") {
  temp_dir dir;
  auto conf = dir.write("linreg.conf", "dataset = linreg\nepochs = 3\n");
  auto cfg = train({"--config=" + conf, "--batch=8"});
  CHECK(cfg.dataset == dataset_kind::linreg);
  CHECK(cfg.epochs == 3);
  CHECK(cfg.batch == 8);
  CHECK(cfg.model == "linear");
  CHECK(cfg.optimizer.lr == 0.05f);
}

TEST_CASE("an unknown key names the file, the line and the key") {
  temp_dir dir;
  auto conf =
      dir.write("run.conf", "# header\n\nworkers = 2\nshards = 2\n\nlr = 0.01\nwokers = 3\n");
  CHECK(train_error({"--config=" + conf}) ==
        conf + ":7: unknown option \"wokers\" (did you mean workers?)");
  dir.write("run.conf", "frobnicate = 1\n");
  CHECK(train_error({"--config=" + conf}) ==
        conf + ":1: unknown option \"frobnicate\"; see tether train --help");
  dir.write("run.conf", "--workers = 2\n");
  CHECK(train_error({"--config=" + conf}) ==
        conf + ":1: unknown option \"--workers\" (did you mean workers?)");
  dir.write("run.conf", "\nconfig = other.conf\n");
  CHECK(train_error({"--config=" + conf}) ==
        conf + ":2: config cannot be set inside a config file");
  dir.write("run.conf", "workers 4\n");
  CHECK(train_error({"--config=" + conf}) ==
        conf + ":1: expected name = value, found \"workers 4\"");
  dir.write("run.conf", "= 4\n");
  CHECK(train_error({"--config=" + conf}) == conf + ":1: expected name = value, found \"= 4\"");
  dir.write("run.conf", "workers\n");
  CHECK(train_error({"--config=" + conf}) == conf + ":1: workers needs a value: workers = N");
}

TEST_CASE("a bad value names the file, the line, the key and what is expected") {
  temp_dir dir;
  auto conf = dir.write("run.conf", "workers = 2\nlr = fast\n");
  CHECK(train_error({"--config=" + conf}) ==
        conf + ":2: lr = fast: expected a finite number greater than 0");
  dir.write("run.conf", "\n\n\nworkers = 0\n");
  CHECK(train_error({"--config=" + conf, "--workers=3"}) ==
        conf + ":4: workers = 0: expected a whole number from 1 to 256");
  dir.write("run.conf", "dataset = mnist\n");
  CHECK(train_error({"--config=" + conf}) ==
        conf + ":1: dataset = mnist: expected fashion-mnist, idx, linreg, csv or text");
  dir.write("run.conf", "resume = maybe\n");
  CHECK(train_error({"--config=" + conf}).starts_with(conf + ":1: resume = maybe: expected true"));
}

TEST_CASE("a missing config file, a directory and a missing path are usage errors") {
  temp_dir dir;
  auto missing = (dir.path / "nope.conf").string();
  CHECK(train_error({"--config=" + missing}) ==
        "--config=" + missing + ": the config file \"" + missing + "\" does not exist");
  CHECK(train_error({"--config=" + dir.path.string()}).find("is a directory") != std::string::npos);
  CHECK(train_error({"--config"}) == "--config needs a value: --config=FILE");
  CHECK(train_error({"--config="}).starts_with("--config=: expected the path"));
  CHECK(train_error({"--confg=x"}).find("did you mean --config?") != std::string::npos);
  // --help wins over a bad config file.
  auto help = parse_train({"--config=" + missing, "--help"});
  REQUIRE(help.is_ok());
  CHECK(help->show_help);
}

TEST_CASE("a flag in the file: alone, or = true / false") {
  temp_dir dir;
  auto conf = dir.write("run.conf", "resume\nquiet = true\n");
  auto cfg = train({"--config=" + conf});
  CHECK(cfg.resume);
  CHECK(cfg.quiet);
  CHECK_FALSE(train({"--config=" + conf, "--resume=false"}).resume);
  dir.write("run.conf", "resume = false\n");
  CHECK_FALSE(train({"--config=" + conf}).resume);
  CHECK(train({"--config=" + conf, "--resume"}).resume);
}

TEST_CASE("--straggler repeated in the file adds up, on the command line it replaces the file's") {
  temp_dir dir;
  auto conf = dir.write("run.conf", "workers = 4\nstraggler = 0:3\nstraggler = 2:1.5,3:2\n");
  auto cfg = train({"--config=" + conf});
  REQUIRE(cfg.stragglers.size() == 3);
  CHECK(cfg.stragglers[0].worker == 0);
  CHECK(cfg.stragglers[1].worker == 2);
  CHECK(cfg.stragglers[2].factor == doctest::Approx(2.0));
  CHECK(value_of(cfg, "straggler") == "0:3,2:1.5,3:2");
  auto replaced = train({"--config=" + conf, "--straggler=1:4", "--straggler=3:2"});
  CHECK(value_of(replaced, "straggler") == "1:4,3:2");
  // A bad value in the file is an error even where the command line replaces it.
  dir.write("run.conf", "straggler = 0:3\nstraggler = 1:0.5\n");
  CHECK(train_error({"--config=" + conf, "--straggler=1:4"})
            .starts_with(conf + ":2: straggler = 1:0.5: expected WORKER:FACTOR"));
}

TEST_CASE("tether train --help mentions --config") {
  auto help = help_text("train");
  CHECK(help.find("--config=FILE") != std::string::npos);
  std::istringstream lines(help);
  for (std::string line; std::getline(lines, line);)
    CHECK_MESSAGE(line.size() <= 100, line);
}

TEST_CASE("a config file past 1 MiB, or endless, is refused, control bytes are shown escaped") {
  temp_dir dir;
  auto big = dir.write("big.conf", std::string(max_config_bytes + 1, '#'));
  CHECK(train_error({"--config=" + big})
            .find("has 1048577 bytes, more than the limit of "
                  "1048576 bytes") != std::string::npos);
  auto endless = train_error({"--config=/dev/zero"});
  CHECK(endless.starts_with("--config=/dev/zero: the config file \"/dev/zero\" goes on past "
                            "1048576 bytes"));
  auto nul = dir.write("nul.conf", std::string("work\0ers 4\x1b[2J\n", 15));
  CHECK(train_error({"--config=" + nul}) ==
        nul + ":1: expected name = value, found \"work\\x00ers 4\\x1b[2J\"");
}
