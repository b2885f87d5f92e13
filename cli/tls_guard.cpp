// Two repairs of CAF 0.17.6's OpenSSL module (libcaf_openssl), made by interposing the
// OpenSSL calls it makes: the executable's definitions win over libssl's for
// libcaf_openssl's calls; each calls the real function found with dlsym(RTLD_NEXT).
//
// 1. The error queue. OpenSSL requires the thread's error queue to be empty before
//    SSL_read/SSL_write/SSL_accept/SSL_connect, or SSL_get_error() misreads the result
//    (SSL_get_error(3)). CAF never clears it, and all its connections share one network
//    thread: when one peer's connection ended with an error (a drained node leaving),
//    the next would-block read on every other connection was taken for a fatal error and
//    the coordinator dropped all its nodes. Each call below clears the queue first.
// 2. Refusals. CAF closes a connection whose peer fails mutual authentication without
//    telling anyone; the coordinator must log each refusal. A failed SSL_accept is
//    reported with the peer's address and OpenSSL's reason through
//    messages/rejections.hpp (counted, and printed by the commands as a warning).
//
// Thread: runs on CAF's network thread; report_rejection is thread-safe.
#include "messages/rejections.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <string>

namespace {

std::string peer_of(SSL* ssl) {
  int fd = SSL_get_fd(ssl);
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (fd < 0 || getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return "an unknown peer";
  char host[INET6_ADDRSTRLEN] = {};
  uint16_t port = 0;
  if (addr.ss_family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
    port = ntohs(a->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
    port = ntohs(a->sin6_port);
  }
  return std::string(host) + ":" + std::to_string(port);
}

} // namespace

extern "C" int SSL_read(SSL* ssl, void* buf, int num) {
  using read_fn = int (*)(SSL*, void*, int);
  static auto real = reinterpret_cast<read_fn>(dlsym(RTLD_NEXT, "SSL_read"));
  ERR_clear_error();
  return real(ssl, buf, num);
}

extern "C" int SSL_write(SSL* ssl, const void* buf, int num) {
  using write_fn = int (*)(SSL*, const void*, int);
  static auto real = reinterpret_cast<write_fn>(dlsym(RTLD_NEXT, "SSL_write"));
  ERR_clear_error();
  return real(ssl, buf, num);
}

extern "C" int SSL_connect(SSL* ssl) {
  using connect_fn = int (*)(SSL*);
  static auto real = reinterpret_cast<connect_fn>(dlsym(RTLD_NEXT, "SSL_connect"));
  ERR_clear_error();
  return real(ssl);
}

extern "C" int SSL_accept(SSL* ssl) {
  using accept_fn = int (*)(SSL*);
  static auto real = reinterpret_cast<accept_fn>(dlsym(RTLD_NEXT, "SSL_accept"));
  ERR_clear_error();
  int result = real(ssl);
  if (result <= 0) {
    int why = SSL_get_error(ssl, result);
    if (why != SSL_ERROR_WANT_READ && why != SSL_ERROR_WANT_WRITE) {
      std::string reason;
      auto verify = SSL_get_verify_result(ssl);
      if (verify != X509_V_OK)
        reason = X509_verify_cert_error_string(verify);
      else if (auto code = ERR_peek_error(); code != 0) {
        char buf[256];
        ERR_error_string_n(code, buf, sizeof(buf));
        reason = buf;
      } else {
        reason = why == SSL_ERROR_SYSCALL ? "connection closed during the handshake"
                                          : "handshake failed";
      }
      tether::report_rejection("refused a TLS connection from " + peer_of(ssl) + ": " + reason);
    }
  }
  return result;
}
