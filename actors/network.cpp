#include "actors/network.hpp"

#include "net/front.hpp"

#include <caf/openssl/all.hpp>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <arpa/inet.h>

#include <cstdio>
#include <filesystem>
#include <memory>

namespace tether {

namespace {

status bad(std::string message) {
  return status{errc::invalid_argument, std::move(message)};
}

std::string openssl_reason() {
  auto code = ERR_get_error();
  ERR_clear_error();
  if (code == 0)
    return "not a PEM file";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof(buf));
  return buf;
}

struct file_closer {
  void operator()(FILE* f) const { std::fclose(f); }
};
struct x509_free {
  void operator()(X509* x) const { X509_free(x); }
};
struct pkey_free {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct store_free {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
struct store_ctx_free {
  void operator()(X509_STORE_CTX* c) const { X509_STORE_CTX_free(c); }
};

using file_ptr = std::unique_ptr<FILE, file_closer>;

result<file_ptr> open_pem(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    return status{errc::invalid_argument,
                  path + " is missing; make the cluster's certificates with deploy/make-certs.sh"};
  file_ptr f{std::fopen(path.c_str(), "r")};
  if (!f)
    return status{errc::invalid_argument, path + " cannot be read (permissions?)"};
  return f;
}

result<std::unique_ptr<X509, x509_free>> read_certificate(const std::string& path) {
  auto f = open_pem(path);
  if (!f)
    return f.error();
  std::unique_ptr<X509, x509_free> cert{PEM_read_X509(f->get(), nullptr, nullptr, nullptr)};
  if (!cert)
    return status{errc::invalid_argument,
                  path + " is not a PEM certificate (" + openssl_reason() + ")"};
  return cert;
}

status check_tls_dir(const std::string& dir) {
  if (dir.empty())
    return bad("give --tls-dir=DIR (ca.pem, cert.pem, key.pem from deploy/make-certs.sh), or "
               "--insecure on loopback addresses only");
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    return bad("--tls-dir=" + dir + " is not a directory; make one with deploy/make-certs.sh");
  auto ca = read_certificate(dir + "/ca.pem");
  if (!ca)
    return ca.error();
  auto cert = read_certificate(dir + "/cert.pem");
  if (!cert)
    return cert.error();
  auto key_file = open_pem(dir + "/key.pem");
  if (!key_file)
    return key_file.error();
  std::unique_ptr<EVP_PKEY, pkey_free> key{
    PEM_read_PrivateKey(key_file->get(), nullptr, nullptr, nullptr)};
  if (!key)
    return bad(dir + "/key.pem is not an unencrypted PEM private key (" + openssl_reason() + ")");
  if (X509_check_private_key(cert->get(), key.get()) != 1) {
    ERR_clear_error();
    return bad(dir + "/key.pem does not belong to " + dir + "/cert.pem; copy both from the "
               "same deploy/make-certs.sh output");
  }
  std::unique_ptr<X509_STORE, store_free> store{X509_STORE_new()};
  X509_STORE_add_cert(store.get(), ca->get());
  std::unique_ptr<X509_STORE_CTX, store_ctx_free> ctx{X509_STORE_CTX_new()};
  X509_STORE_CTX_init(ctx.get(), store.get(), cert->get(), nullptr);
  if (X509_verify_cert(ctx.get()) != 1) {
    auto why = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
    ERR_clear_error();
    return bad(dir + "/cert.pem is not signed by " + dir + "/ca.pem (" + why
               + "); every machine needs a certificate from the same cluster CA");
  }
  return status::ok();
}

} // namespace

result<host_port> parse_host_port(const std::string& text, const std::string& what) {
  auto fail = [&](const std::string& why) {
    return status{errc::invalid_argument,
                  what + "=" + text + ": " + why + "; expected HOST:PORT, e.g. 127.0.0.1:7070"};
  };
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return fail("no port");
  host_port out;
  out.host = text.substr(0, colon);
  if (out.host.size() > 2 && out.host.front() == '[' && out.host.back() == ']')
    out.host = out.host.substr(1, out.host.size() - 2);
  auto port_text = text.substr(colon + 1);
  if (port_text.empty() || port_text.size() > 5
      || port_text.find_first_not_of("0123456789") != std::string::npos)
    return fail("the port is not a number");
  auto port = std::stoul(port_text);
  if (port > 65535)
    return fail("the port is above 65535");
  out.port = static_cast<uint16_t>(port);
  return out;
}

bool is_loopback(const std::string& host) {
  if (host == "localhost" || host == "::1")
    return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1)
    return (ntohl(v4.s_addr) >> 24) == 127;
  return false;
}

status check_network(const network_options& opts, const std::vector<std::string>& hosts) {
  using namespace std::chrono_literals;
  if (opts.heartbeat <= 0ms)
    return bad("--heartbeat must be above 0 (e.g. 1s): without heartbeats a hung peer is "
               "never noticed");
  if (opts.heartbeat_timeout <= opts.heartbeat)
    return bad("--heartbeat-timeout must be longer than --heartbeat (e.g. 1s and 5s)");
  if (opts.max_frame < net::min_max_frame || opts.max_frame > net::max_max_frame)
    return bad("--max-frame=" + std::to_string(opts.max_frame) + ": expected from "
               + std::to_string(net::min_max_frame >> 20) + " MiB to "
               + std::to_string(net::max_max_frame >> 20) + " MiB");
  if (opts.insecure) {
    if (!opts.tls_dir.empty())
      return bad("--insecure and --tls-dir exclude each other; TLS is the default, --insecure "
                 "is for loopback tests only");
    for (const auto& h : hosts)
      if (!is_loopback(h))
        return bad("--insecure is allowed only on loopback addresses, and " + h
                   + " is not one; between machines use --tls-dir=DIR with certificates from "
                     "deploy/make-certs.sh");
    return status::ok();
  }
  return check_tls_dir(opts.tls_dir);
}

void configure_network(caf::actor_system_config& cfg, const network_options& opts) {
  net::front_limits limits = net::current_front_limits();
  limits.max_frame = opts.max_frame;
  limits.handshake_timeout = opts.handshake_timeout;
  net::set_front_limits(limits);
  cfg.load<caf::io::middleman>();
  cfg.set("middleman.heartbeat-interval", caf::timespan{opts.heartbeat});
  cfg.set("middleman.connection-timeout", caf::timespan{opts.heartbeat_timeout});
  // A cluster process waits on the network all the time: idle scheduler threads poll
  // without the 50 us sleeps between attempts (CAF wakes none of them when a message
  // arrives from the network), and the network thread deserializes messages itself
  // instead of handing each to a worker. On a 3-node loopback job: 1.3x the samples/s
  // without TLS, 1.7x with TLS (bench/RESULTS.md, "Transport").
  cfg.set("work-stealing.moderate-sleep-duration", caf::timespan{0});
  cfg.set("middleman.workers", size_t{0});
  if (!opts.insecure) {
    cfg.load<caf::openssl::manager>();
    cfg.openssl_cafile = opts.tls_dir + "/ca.pem";
    cfg.openssl_certificate = opts.tls_dir + "/cert.pem";
    cfg.openssl_key = opts.tls_dir + "/key.pem";
  }
}

caf::expected<uint16_t> publish_actor(const caf::actor& whom, const host_port& where,
                                      const network_options& opts) {
  const char* in = where.host.empty() ? nullptr : where.host.c_str();
  if (where.port != 0) // guarded before the first connection can come in
    net::guard_port(where.port);
  auto port = opts.insecure ? caf::io::publish(whom, where.port, in, true)
                            : caf::openssl::publish(whom, where.port, in, true);
  if (port)
    net::guard_port(*port);
  return port;
}

caf::expected<caf::actor> connect_actor(caf::actor_system& sys, const host_port& where,
                                        const network_options& opts) {
  net::guard_port(where.port);
  if (opts.insecure)
    return caf::io::remote_actor(sys, where.host, where.port);
  return caf::openssl::remote_actor(sys, where.host, where.port);
}

} // namespace tether
