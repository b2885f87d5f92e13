// `tether generate`: text from the language model of a checkpoint.
//
//   tether generate --checkpoint=DIR|FILE [--prompt=TEXT] [--bytes=N] [--temperature=T]
//                   [--top-k=K] [--seed=S]
//
// Takes the newest good checkpoint of DIR (or the file), rebuilds its GPT from the model
// text stored in it, and prints the prompt's continuation (N bytes, without the prompt) on
// stdout, nothing else. Sampling is core/gpt_model.hpp generate(): softmax(logits / T)
// over the K most likely bytes with splitmix64(S), so the same checkpoint and arguments
// print the same bytes. Exit codes: 0, 2 bad option (a value out of range, a checkpoint
// of a model that is not a GPT), 4 no good checkpoint.
#pragma once

#include <iosfwd>

namespace tether {

int generate_command(int argc, const char* const* argv);
int generate_command(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

} // namespace tether
