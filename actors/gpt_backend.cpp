// The GPT's CPU backend: a batch of text windows through gpt_model::loss_and_gradient.
#include "actors/compute_backend.hpp"

namespace tether {

namespace {

class gpt_backend final : public compute_backend {
public:
  gpt_backend(std::shared_ptr<const gpt_model> gpt, std::shared_ptr<const text_corpus> text)
    : gpt_(std::move(gpt)), text_(std::move(text)) {}

  result<float> step(std::span<const float> params, std::span<const uint32_t> indices,
                     std::span<float> grad) override {
    const size_t context = gpt_->config().context;
    tokens_.resize(indices.size() * (context + 1)); // grows once, then stays
    gather_text_batch(text_->train, context, indices, tokens_);
    return gpt_->loss_and_gradient(params, tokens_, indices.size(), grad, ws_);
  }

  std::string name() const override { return "cpu"; }

private:
  std::shared_ptr<const gpt_model> gpt_;
  std::shared_ptr<const text_corpus> text_;
  std::vector<uint8_t> tokens_;
  gpt_workspace ws_;
};

} // namespace

std::unique_ptr<compute_backend> make_gpt_backend(std::shared_ptr<const gpt_model> gpt,
                                                  std::shared_ptr<const text_corpus> text) {
  return std::make_unique<gpt_backend>(std::move(gpt), std::move(text));
}

} // namespace tether
