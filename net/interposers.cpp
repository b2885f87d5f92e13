// The calls CAF's network thread makes, defined in the executable so that they land
// here first (an executable's definitions win over the shared libraries' for every
// library's calls); each goes on to the real function found with dlsym(RTLD_NEXT).
// Link this object into every executable that runs CAF's middleman (the binary, bench/).
//
// What they add (net/front.hpp says what is checked and why it lives here):
// - accept, connect, close, recv, epoll_ctl: the guarded connections' table, their
//   frame lengths, caps, handshake deadline, and held-back write interest
//   (net/connection_table.hpp);
// - SSL_read: the same frame check on the decrypted stream;
// - SSL_accept, SSL_connect: a handshake waiting for the peer holds back CAF's write
//   interest (CAF 0.17.6 otherwise spins on EPOLLOUT for as long as the peer is idle);
// - two repairs of CAF's OpenSSL module kept from before:
//   1. The error queue. OpenSSL requires the thread's error queue to be empty before
//      SSL_read/SSL_write/SSL_accept/SSL_connect, or SSL_get_error() misreads the result
//      (SSL_get_error(3)). CAF never clears it, and all its connections share one
//      network thread: when one peer's connection ended with an error (a drained node
//      leaving), the next would-block read on every other connection was taken for a
//      fatal error and the coordinator dropped all its nodes. Each call clears it first.
//   2. Refusals. CAF closes a connection whose peer fails mutual authentication without
//      telling anyone; a failed SSL_accept is reported with the peer's address and
//      OpenSSL's reason through messages/rejections.hpp.
//
// Thread: CAF's network thread (and whoever else calls these: untracked sockets and
// files go straight through).
#include "messages/rejections.hpp"
#include "net/connection_table.hpp"
#include "net/real_calls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <cstring>
#include <string>

using namespace tether::net;

namespace {

std::string peer_of(SSL* ssl) {
  int fd = SSL_get_fd(ssl);
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (fd < 0 || getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return "an unknown peer";
  return address_text(reinterpret_cast<sockaddr*>(&addr));
}

using close_fn = int (*)(int);

close_fn real_close() {
  static auto fn = real_call<close_fn>("close");
  return fn;
}

/// After SSL_accept/SSL_connect returned `result`: hold back CAF's write interest while
/// the handshake waits for the peer, give it back otherwise. Returns SSL_get_error's
/// answer (0 on success).
int follow_handshake(SSL* ssl, int result) {
  int why = result > 0 ? 0 : SSL_get_error(ssl, result);
  tls_waits_for_read(SSL_get_fd(ssl), why == SSL_ERROR_WANT_READ);
  return why;
}

} // namespace

extern "C" int accept(int listener, sockaddr* addr, socklen_t* addr_len) {
  using accept_fn = int (*)(int, sockaddr*, socklen_t*);
  static auto real = real_call<accept_fn>("accept");
  for (;;) {
    sockaddr_storage peer{};
    socklen_t peer_len = sizeof peer;
    int fd = real(listener, reinterpret_cast<sockaddr*>(&peer), &peer_len);
    if (fd < 0)
      return fd;
    if (admit_accepted(listener, fd, reinterpret_cast<sockaddr*>(&peer))) {
      if (addr && addr_len) {
        std::memcpy(addr, &peer, std::min<socklen_t>(*addr_len, peer_len));
        *addr_len = peer_len;
      }
      return fd;
    }
    real_close()(fd); // over a cap (reported); try the next one in the backlog
  }
}

extern "C" int connect(int fd, const sockaddr* addr, socklen_t len) {
  using connect_fn = int (*)(int, const sockaddr*, socklen_t);
  static auto real = real_call<connect_fn>("connect");
  if (addr)
    track_connected(fd, addr);
  return real(fd, addr, len);
}

extern "C" int close(int fd) {
  return forget_and_close(fd, real_close());
}

extern "C" ssize_t recv(int fd, void* buf, size_t n, int flags) {
  using recv_fn = ssize_t (*)(int, void*, size_t, int);
  static auto real = real_call<recv_fn>("recv");
  ssize_t got = real(fd, buf, n, flags);
  if (got > 0 && (flags & MSG_PEEK) == 0 && !check_bytes(fd, buf, static_cast<size_t>(got))) {
    errno = ECONNRESET;
    return -1;
  }
  return got;
}

extern "C" int epoll_ctl(int epfd, int op, int fd, epoll_event* ev) {
  using epoll_ctl_fn = int (*)(int, int, int, epoll_event*);
  static auto real = real_call<epoll_ctl_fn>("epoll_ctl");
  if (op != EPOLL_CTL_DEL && ev == nullptr)
    return real(epfd, op, fd, ev);
  return epoll_update(epfd, op, fd, ev, real);
}

extern "C" int SSL_read(SSL* ssl, void* buf, int num) {
  using read_fn = int (*)(SSL*, void*, int);
  static auto real = real_call<read_fn>("SSL_read");
  ERR_clear_error();
  int got = real(ssl, buf, num);
  if (got > 0 && !check_bytes(SSL_get_fd(ssl), buf, static_cast<size_t>(got)))
    return -1; // no error queued: SSL_get_error says SSL_ERROR_SYSCALL, CAF closes
  return got;
}

extern "C" int SSL_write(SSL* ssl, const void* buf, int num) {
  using write_fn = int (*)(SSL*, const void*, int);
  static auto real = real_call<write_fn>("SSL_write");
  ERR_clear_error();
  return real(ssl, buf, num);
}

extern "C" int SSL_connect(SSL* ssl) {
  using connect_fn = int (*)(SSL*);
  static auto real = real_call<connect_fn>("SSL_connect");
  ERR_clear_error();
  int result = real(ssl);
  follow_handshake(ssl, result);
  return result;
}

extern "C" int SSL_accept(SSL* ssl) {
  using accept_fn = int (*)(SSL*);
  static auto real = real_call<accept_fn>("SSL_accept");
  ERR_clear_error();
  int result = real(ssl);
  int why = follow_handshake(ssl, result);
  if (result > 0 || why == SSL_ERROR_WANT_READ || why == SSL_ERROR_WANT_WRITE ||
      is_refused(SSL_get_fd(ssl))) // closed here already, and reported then
    return result;
  std::string reason;
  auto verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK)
    reason = X509_verify_cert_error_string(verify);
  else if (auto code = ERR_peek_error(); code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    reason = buf;
  } else {
    reason =
        why == SSL_ERROR_SYSCALL ? "connection closed during the handshake" : "handshake failed";
  }
  tether::report_rejection("refused a TLS connection from " + peer_of(ssl) + ": " + reason);
  return result;
}
