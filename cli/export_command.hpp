// `tether export`: a checkpoint's model weights as a .npz or .safetensors file
// (docs/export.md), and the small option parser `tether export` and `tether inspect`
// share.
//
//   tether export --checkpoint=DIR|FILE [--format=npz|safetensors] --out=FILE
//
// Each command takes argv with argv[0] being the subcommand's name ("export"), returns
// the process exit code (cli/exit_codes.hpp: 2 usage, 4 checkpoint) and writes its
// messages to `out` and `err`. On any failure no output file is created or changed.
// --out is never an input: not the checkpoint read (by any path or link), not another
// checkpoint of its directory, not a checkpoint's name there (cli/output_paths.hpp).
#pragma once

#include "core/status.hpp"

#include <iosfwd>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tether {

/// One option of a small subcommand: "--name=VALUE" (or "--name VALUE"), or a flag.
struct subcommand_option {
  std::string_view name;        ///< without the dashes
  std::string_view placeholder; ///< "DIR"; empty for a flag
  std::string_view help;
};

/// Parses argv[1..argc) of `command` against `options`: "--name=value", "--name value",
/// flags without a value ("--json"; "--json=true|false" too), the later of a repeated
/// option wins. Unknown options, positional arguments and missing values are
/// errc::invalid_argument with a message naming the option and pointing at --help.
/// "--help"/"-h" anywhere gives the single entry {"help", ""}. Flags given map to "true".
result<std::map<std::string, std::string>>
parse_subcommand_options(std::string_view command, int argc, const char* const* argv,
                         const std::vector<subcommand_option>& options);

/// "usage: tether <command> ...\n" followed by one line per option.
std::string subcommand_help(std::string_view command, std::string_view synopsis,
                            std::string_view description,
                            const std::vector<subcommand_option>& options);

int export_command(int argc, const char* const* argv);
int export_command(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

} // namespace tether
