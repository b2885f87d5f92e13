#include "actors/shard_link.hpp"

#include "actors/message_faults.hpp"

#include <map>

namespace tether {

namespace {

class direct_link final : public shard_link {
public:
  explicit direct_link(link_context ctx) : ctx_(std::move(ctx)) {}

  void pull(size_t s, pull_request req, slice_callbacks cb) override {
    ask(s, std::move(cb), pull_atom_v, std::move(req));
  }

  void push(size_t s, push_request req, slice_callbacks cb) override {
    ask(s, std::move(cb), push_atom_v, std::move(req));
  }

  void fire(uint64_t) override {}

private:
  template <class... Ts>
  void ask(size_t s, slice_callbacks cb, Ts&&... msg) {
    auto shard = (*ctx_.shards)[s];
    ctx_.self->request(shard, ctx_.timeout, std::forward<Ts>(msg)...)
      .then([answered = std::move(cb.answered)](param_slice& p) { answered(p); },
            [failed = std::move(cb.failed)](caf::error& err) { failed(err); });
  }

  link_context ctx_;
};

class faulty_link final : public shard_link {
public:
  faulty_link(link_context ctx, message_faults push_faults, message_faults pull_faults,
              splitmix64 draws)
    : ctx_(ctx), direct_(ctx), push_faults_(push_faults), pull_faults_(pull_faults),
      draws_(draws) {}

  void pull(size_t s, pull_request req, slice_callbacks cb) override {
    switch (draw_fate(draws_, pull_faults_)) {
      case message_fate::deliver:
        direct_.pull(s, std::move(req), std::move(cb));
        break;
      case message_fate::drop_request:
      case message_fate::flip: // a pull has nothing to flip but its worker and clock: drop it
        time_out(std::move(cb));
        break;
      case message_fate::drop_answer:
        direct_.pull(s, std::move(req), ignored());
        time_out(std::move(cb));
        break;
      case message_fate::duplicate:
        direct_.pull(s, req, std::move(cb));
        direct_.pull(s, std::move(req), ignored());
        break;
      case message_fate::delay:
        after(pull_faults_.delay_seconds, [this, s, req, cb]() mutable {
          direct_.pull(s, std::move(req), std::move(cb));
        });
        break;
    }
  }

  void push(size_t s, push_request req, slice_callbacks cb) override {
    switch (draw_fate(draws_, push_faults_)) {
      case message_fate::deliver:
        direct_.push(s, std::move(req), std::move(cb));
        break;
      case message_fate::drop_request:
        time_out(std::move(cb));
        break;
      case message_fate::drop_answer:
        direct_.push(s, std::move(req), ignored());
        time_out(std::move(cb));
        break;
      case message_fate::duplicate:
        direct_.push(s, req, std::move(cb));
        direct_.push(s, std::move(req), ignored());
        break;
      case message_fate::delay:
        after(push_faults_.delay_seconds, [this, s, req = std::move(req), cb]() mutable {
          direct_.push(s, std::move(req), std::move(cb));
        });
        break;
      case message_fate::flip:
        if (auto bent = flipped(draws_, req, decode_push))
          direct_.push(s, std::move(*bent), std::move(cb));
        else
          time_out(std::move(cb)); // the receiver could not decode it
        break;
    }
  }

  void fire(uint64_t token) override {
    auto it = pending_.find(token);
    if (it == pending_.end())
      return;
    auto action = std::move(it->second);
    pending_.erase(it);
    action();
  }

private:
  static slice_callbacks ignored() {
    return {[](param_slice&) {}, [](const caf::error&) {}};
  }

  void after(double seconds, std::function<void()> action) {
    auto token = next_token_++;
    pending_.emplace(token, std::move(action));
    ctx_.later(std::chrono::duration_cast<std::chrono::microseconds>(
                 std::chrono::duration<double>(seconds)),
               token);
  }

  /// A message that will never be answered: fail it after the timeout, as CAF would.
  void time_out(slice_callbacks cb) {
    after(std::chrono::duration<double>(ctx_.timeout).count(), [cb = std::move(cb)] {
      cb.failed(caf::make_error(caf::sec::request_timeout, "a message was dropped (--faults)"));
    });
  }

  link_context ctx_;
  direct_link direct_;
  message_faults push_faults_, pull_faults_;
  splitmix64 draws_;
  std::map<uint64_t, std::function<void()>> pending_;
  uint64_t next_token_ = 1;
};

} // namespace

std::unique_ptr<shard_link> make_direct_link(link_context ctx) {
  return std::make_unique<direct_link>(std::move(ctx));
}

std::unique_ptr<shard_link> make_faulty_link(link_context ctx, message_faults push_faults,
                                             message_faults pull_faults, splitmix64 draws) {
  return std::make_unique<faulty_link>(std::move(ctx), push_faults, pull_faults, draws);
}

} // namespace tether
