// Tests of cli/cluster_options.hpp and actors/network.hpp's address rules: the cluster
// options split from the train options, durations, HOST:PORT, the loopback rule, and the
// messages of every bad value.
#include <doctest/doctest.h>

#include "actors/network.hpp"
#include "cli/cluster_options.hpp"

using namespace tether;

namespace {

result<coordinator_args> coordinator(std::vector<const char*> args) {
  args.insert(args.begin(), "coordinator");
  return parse_coordinator_args(static_cast<int>(args.size()), args.data());
}

result<node_args> node(std::vector<const char*> args) {
  args.insert(args.begin(), "node");
  return parse_node_args(static_cast<int>(args.size()), args.data());
}

std::string error_of(const status& st) {
  return st.message();
}

} // namespace

TEST_CASE("the coordinator's own options are taken out, the rest is left for train") {
  auto c = coordinator({"--listen=127.0.0.1:7070", "--workers=4", "--min-nodes", "3",
                        "--insecure", "--epochs=2", "--heartbeat=250ms", "--place-timeout=2s"});
  REQUIRE(c);
  CHECK(c->cluster.listen.host == "127.0.0.1");
  CHECK(c->cluster.listen.port == 7070);
  CHECK(c->cluster.min_nodes == 3);
  CHECK(c->cluster.net.insecure);
  CHECK(c->cluster.net.heartbeat == std::chrono::milliseconds{250});
  CHECK(c->cluster.place_timeout == std::chrono::milliseconds{2000});
  CHECK(c->train_args == std::vector<std::string>{"--workers=4", "--epochs=2"});
}

TEST_CASE("bad cluster options name the option and what it expects") {
  CHECK(error_of(coordinator({"--insecure"}).error()).starts_with("tether coordinator needs --listen"));
  CHECK(error_of(coordinator({"--listen=7070", "--insecure"}).error()).starts_with("--listen=7070: no port"));
  CHECK(error_of(coordinator({"--listen=h:99999", "--insecure"}).error())
          .starts_with("--listen=h:99999: the port is above 65535"));
  CHECK(error_of(coordinator({"--listen=h:1", "--insecure", "--min-nodes=0"}).error())
          .starts_with("--min-nodes=0: expected a whole number from 1"));
  CHECK(error_of(coordinator({"--listen=h:1"}).error()).starts_with("give --tls-dir=DIR"));
  CHECK(error_of(node({"--insecure"}).error()).starts_with("tether node needs --join"));
  CHECK(error_of(node({"--join=h:0", "--insecure"}).error()).find("port 0") != std::string::npos);
  CHECK(error_of(node({"--join=h:1", "--insecure", "--name=a b"}).error()).starts_with("--name=a b"));
  CHECK(error_of(node({"--join=h:1", "--insecure", "--wat=1"}).error()).starts_with("unknown option --wat"));
  CHECK(error_of(node({"--join=h:1", "--insecure", "--heartbeat=5"}).error())
          .starts_with("--heartbeat=5: expected a duration such as 500ms or 2s"));
}

TEST_CASE("durations take ms and s, whole or fractional, within 1ms..3600s") {
  CHECK(*parse_duration("500ms", "x") == std::chrono::milliseconds{500});
  CHECK(*parse_duration("1.5s", "x") == std::chrono::milliseconds{1500});
  CHECK(*parse_duration("2s", "x") == std::chrono::milliseconds{2000});
  CHECK(!parse_duration("0ms", "x"));
  CHECK(!parse_duration("2h", "x"));
  CHECK(!parse_duration("s", "x"));
  CHECK(!parse_duration("1.2.3s", "x"));
  CHECK(!parse_duration("4000s", "x"));
}

TEST_CASE("HOST:PORT and the loopback rule") {
  CHECK(parse_host_port("[::1]:7070", "--join")->host == "::1");
  CHECK(is_loopback("127.0.0.1"));
  CHECK(is_loopback("127.8.9.10"));
  CHECK(is_loopback("localhost"));
  CHECK(is_loopback("::1"));
  CHECK(!is_loopback("0.0.0.0"));
  CHECK(!is_loopback("10.0.0.1"));
  CHECK(!is_loopback("128.0.0.1"));
  network_options insecure;
  insecure.insecure = true;
  CHECK(check_network(insecure, {"127.0.0.1"}));
  CHECK(!check_network(insecure, {"127.0.0.1", "10.0.0.2"}));
}
