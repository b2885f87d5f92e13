// The libc and OpenSSL functions that net/interposers.cpp replaces, found past the
// executable's own definitions (dlsym(RTLD_NEXT)). Resolved once, on first use.
#pragma once

#include <dlfcn.h>

namespace tether::net {

template <class Fn>
Fn real_call(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

} // namespace tether::net
