#include "cli/cluster_options.hpp"

#include "cli/options.hpp"
#include "net/front.hpp"

#include <cmath>
#include <map>
#include <thread>

namespace tether {

namespace {

status bad(std::string message) {
  return status{errc::invalid_argument, std::move(message)};
}

const std::vector<subcommand_option>& coordinator_options() {
  static const std::vector<subcommand_option> options{
    {"listen", "HOST:PORT", "address the nodes join (e.g. 0.0.0.0:7070; port 0 picks one)"},
    {"min-nodes", "N", "nodes to wait for before training starts (default 1)"},
    {"tls-dir", "DIR", "ca.pem, cert.pem, key.pem of this machine (deploy/make-certs.sh)"},
    {"insecure", "", "plain TCP instead of TLS: only with loopback addresses (tests)"},
    {"heartbeat", "DURATION", "heartbeat interval on every connection (default 1s)"},
    {"heartbeat-timeout", "DURATION", "silence after which a peer is dead (default 5s)"},
    {"place-timeout", "DURATION", "how long a node may take to start a shard or worker (default 10s)"},
    {"handshake-timeout", "DURATION", "a connection's TLS and CAF handshakes must end within this (default 10s)"},
    {"max-frame", "SIZE", "largest message a peer may send, e.g. 64M or 1G (default 64M)"},
  };
  return options;
}

const std::vector<subcommand_option>& node_option_list() {
  static const std::vector<subcommand_option> options{
    {"join", "HOST:PORT", "the coordinator's --listen address"},
    {"tls-dir", "DIR", "ca.pem, cert.pem, key.pem of this machine (deploy/make-certs.sh)"},
    {"insecure", "", "plain TCP instead of TLS: only with loopback addresses (tests)"},
    {"cores", "N", "actors this node runs side by side (default: its hardware threads)"},
    {"name", "NAME", "this node's name in the cluster (default: the host name)"},
    {"data-dir", "DIR", "where this machine keeps the job's data (default: the job's --data-dir)"},
    {"heartbeat", "DURATION", "heartbeat interval (default 1s)"},
    {"heartbeat-timeout", "DURATION", "silence after which the coordinator is lost (default 5s)"},
    {"join-timeout", "DURATION", "how long to keep trying to reach the coordinator (default 60s)"},
    {"handshake-timeout", "DURATION", "a connection's TLS and CAF handshakes must end within this (default 10s)"},
    {"max-frame", "SIZE", "largest message a peer may send, e.g. 64M or 1G (default 64M)"},
    {"gpus", "LIST", "GPU workers on nodes (not built yet: refused)"},
  };
  return options;
}

result<uint32_t> parse_count(const std::string& text, const std::string& option, uint32_t max) {
  auto value = parse_whole(text, 1, max);
  if (!value)
    return bad("--" + option + "=" + text + ": " + value.error().message());
  return static_cast<uint32_t>(*value);
}

/// Fills the network settings shared by both commands from `values`.
status read_network(const std::map<std::string, std::string>& values, network_options& net) {
  if (auto it = values.find("tls-dir"); it != values.end())
    net.tls_dir = it->second;
  if (auto it = values.find("insecure"); it != values.end())
    net.insecure = it->second == "true";
  for (auto [name, field] : {std::pair{"heartbeat", &net.heartbeat},
                             std::pair{"heartbeat-timeout", &net.heartbeat_timeout}}) {
    if (auto it = values.find(name); it != values.end()) {
      auto d = parse_duration(it->second, name);
      if (!d)
        return d.error();
      *field = *d;
    }
  }
  if (auto it = values.find("handshake-timeout"); it != values.end()) {
    auto d = parse_duration(it->second, "handshake-timeout");
    if (!d)
      return d.error();
    if (*d < std::chrono::milliseconds{100} || *d > std::chrono::milliseconds{600000})
      return bad("--handshake-timeout=" + it->second + ": expected from 100ms to 600s");
    net.handshake_timeout = *d;
  }
  if (auto it = values.find("max-frame"); it != values.end()) {
    auto bytes = parse_max_frame(it->second, "max-frame");
    if (!bytes)
      return bytes.error();
    net.max_frame = *bytes;
  }
  if (net.tls_dir.empty() && !net.insecure)
    return bad("give --tls-dir=DIR (certificates from deploy/make-certs.sh), or --insecure on "
               "loopback addresses only");
  return status::ok();
}

} // namespace

result<uint64_t> parse_max_frame(const std::string& text, const std::string& option) {
  auto fail = bad("--" + option + "=" + text + ": expected a size such as 64M or 1G (bytes "
                  "without a suffix; K, M, G are KiB, MiB, GiB)");
  size_t unit = text.find_first_not_of("0123456789");
  if (unit == 0 || text.size() - (unit == std::string::npos ? text.size() : unit) > 1
      || unit > 12)
    return fail;
  uint64_t shift = 0;
  if (unit != std::string::npos) {
    char u = text[unit];
    shift = u == 'K' || u == 'k' ? 10 : u == 'M' || u == 'm' ? 20 : u == 'G' || u == 'g' ? 30 : 64;
    if (shift == 64)
      return fail;
  }
  uint64_t value = std::stoull(text.substr(0, unit));
  if (value > (uint64_t{1} << 40) >> shift)
    return bad("--" + option + "=" + text + ": far too large");
  value <<= shift;
  if (value < net::min_max_frame || value > net::max_max_frame)
    return bad("--" + option + "=" + text + ": expected from "
               + std::to_string(net::min_max_frame >> 20) + "M to "
               + std::to_string(net::max_max_frame >> 20) + "M");
  return value;
}

result<std::chrono::milliseconds> parse_duration(const std::string& text,
                                                 const std::string& option) {
  auto fail = bad("--" + option + "=" + text + ": expected a duration such as 500ms or 2s");
  size_t unit = text.find_first_not_of("0123456789.");
  if (unit == 0 || unit == std::string::npos)
    return fail;
  auto suffix = text.substr(unit);
  double scale = suffix == "ms" ? 1.0 : suffix == "s" ? 1000.0 : -1.0;
  if (scale < 0)
    return fail;
  double value = 0;
  try {
    size_t used = 0;
    value = std::stod(text.substr(0, unit), &used);
    if (used != unit)
      return fail;
  } catch (const std::exception&) {
    return fail;
  }
  double ms = value * scale;
  if (!std::isfinite(ms) || ms < 1 || ms > 3600e3)
    return bad("--" + option + "=" + text + ": expected from 1ms to 3600s");
  return std::chrono::milliseconds{static_cast<int64_t>(ms)};
}

result<coordinator_args> parse_coordinator_args(int argc, const char* const* argv) {
  coordinator_args out;
  std::vector<std::string> cluster_argv{"coordinator"};
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      out.show_help = true;
      return out;
    }
    bool ours = false;
    if (arg.starts_with("--")) {
      auto name = arg.substr(2, arg.find('=') - 2);
      for (auto& o : coordinator_options())
        ours = ours || o.name == name;
      if (ours) {
        cluster_argv.emplace_back(arg);
        if (arg.find('=') == std::string_view::npos && name != "insecure" && i + 1 < argc
            && !std::string_view(argv[i + 1]).starts_with("--"))
          cluster_argv.emplace_back(argv[++i]);
        continue;
      }
    }
    out.train_args.emplace_back(arg);
  }
  std::vector<const char*> cargv;
  for (auto& a : cluster_argv)
    cargv.push_back(a.c_str());
  auto values = parse_subcommand_options("coordinator", static_cast<int>(cargv.size()),
                                         cargv.data(), coordinator_options());
  if (!values)
    return values.error();
  auto& c = out.cluster;
  auto listen = values->find("listen");
  if (listen == values->end())
    return bad("tether coordinator needs --listen=HOST:PORT (e.g. 0.0.0.0:7070, or "
               "127.0.0.1:7070 with --insecure)");
  auto hp = parse_host_port(listen->second, "--listen");
  if (!hp)
    return hp.error();
  c.listen = *hp;
  if (auto it = values->find("min-nodes"); it != values->end()) {
    auto n = parse_count(it->second, "min-nodes", 1024);
    if (!n)
      return n.error();
    c.min_nodes = *n;
  }
  if (auto it = values->find("place-timeout"); it != values->end()) {
    auto d = parse_duration(it->second, "place-timeout");
    if (!d)
      return d.error();
    c.place_timeout = *d;
  }
  if (auto st = read_network(*values, c.net); !st)
    return st;
  return out;
}

result<node_args> parse_node_args(int argc, const char* const* argv) {
  node_args out;
  auto values = parse_subcommand_options("node", argc, argv, node_option_list());
  if (!values)
    return values.error();
  if (values->count("help")) {
    out.show_help = true;
    return out;
  }
  auto join = values->find("join");
  if (join == values->end())
    return bad("tether node needs --join=HOST:PORT, the coordinator's --listen address");
  auto hp = parse_host_port(join->second, "--join");
  if (!hp)
    return hp.error();
  if (hp->port == 0)
    return bad("--join=" + join->second + ": port 0 is not a coordinator's port");
  out.join = *hp;
  if (auto it = values->find("cores"); it != values->end()) {
    auto n = parse_count(it->second, "cores", 4096);
    if (!n)
      return n.error();
    out.cores = *n;
  }
  if (out.cores == 0)
    out.cores = std::max(1u, std::thread::hardware_concurrency());
  if (auto it = values->find("name"); it != values->end()) {
    if (it->second.empty() || it->second.size() > 64
        || it->second.find_first_of(" \t\n/\\") != std::string::npos)
      return bad("--name=" + it->second + ": expected 1 to 64 characters without spaces or slashes");
    out.name = it->second;
  }
  if (auto it = values->find("data-dir"); it != values->end())
    out.data_dir = it->second;
  if (auto it = values->find("join-timeout"); it != values->end()) {
    auto d = parse_duration(it->second, "join-timeout");
    if (!d)
      return d.error();
    out.join_timeout = *d;
  }
  if (auto it = values->find("gpus"); it != values->end())
    out.gpus = it->second;
  if (auto st = read_network(*values, out.net); !st)
    return st;
  return out;
}

std::string coordinator_help() {
  return subcommand_help(
    "coordinator", "--listen=HOST:PORT (--tls-dir=DIR | --insecure) [options] [tether train options]",
    "Runs a training job across machines: waits for --min-nodes `tether node`\n"
    "processes to join, places shards and workers on them, trains, writes the\n"
    "checkpoints here, and tells every node to exit when the job ends. Every option of\n"
    "`tether train` (see tether train --help) sets the job; exit codes as tether train's.",
    coordinator_options());
}

std::string node_help() {
  return subcommand_help(
    "node", "--join=HOST:PORT (--tls-dir=DIR | --insecure) [options]",
    "Joins a coordinator and runs the shards and workers it places here, until the\n"
    "job ends (exit 0). SIGTERM or SIGINT drains the node: its work moves to other\n"
    "nodes, then it exits 0. Exit 1: refused or the coordinator was lost; 2: bad\n"
    "option; 3: this machine's data differs from the coordinator's.",
    node_option_list());
}

} // namespace tether
