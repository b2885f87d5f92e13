# Finds tether's dependencies and wraps those without a CMake config in imported targets.
# Every package named here comes from deploy/install-deps.sh.

find_package(Threads REQUIRED)
find_package(ZLIB REQUIRED)

# OpenBLAS: Debian ships no CMake config; the cblas header lives in an alternatives folder.
find_path(OPENBLAS_INCLUDE_DIR cblas.h
  PATHS /usr/include/x86_64-linux-gnu /usr/include/openblas /usr/include
  PATH_SUFFIXES openblas-pthread openblas)
find_library(OPENBLAS_LIBRARY NAMES openblas)
if(NOT OPENBLAS_INCLUDE_DIR OR NOT OPENBLAS_LIBRARY)
  message(FATAL_ERROR "OpenBLAS not found: run deploy/install-deps.sh (package libopenblas-dev)")
endif()
add_library(tether::openblas INTERFACE IMPORTED)
target_include_directories(tether::openblas INTERFACE ${OPENBLAS_INCLUDE_DIR})
target_link_libraries(tether::openblas INTERFACE ${OPENBLAS_LIBRARY})

# CAF 0.17.6: Debian ships no CMake config for it: find the headers and libraries.
find_path(CAF_INCLUDE_DIR caf/all.hpp)
find_library(CAF_CORE_LIBRARY NAMES caf_core)
find_library(CAF_IO_LIBRARY NAMES caf_io)
find_library(CAF_OPENSSL_LIBRARY NAMES caf_openssl)
if(NOT CAF_INCLUDE_DIR OR NOT CAF_CORE_LIBRARY OR NOT CAF_IO_LIBRARY OR NOT CAF_OPENSSL_LIBRARY)
  message(FATAL_ERROR "CAF not found: run deploy/install-deps.sh (package libcaf-dev)")
endif()
add_library(tether::caf INTERFACE IMPORTED)
target_include_directories(tether::caf INTERFACE ${CAF_INCLUDE_DIR})
target_link_libraries(tether::caf INTERFACE ${CAF_IO_LIBRARY} ${CAF_CORE_LIBRARY} Threads::Threads)
# CAF's TLS module (the cluster's connections) and the OpenSSL it is built on.
find_package(OpenSSL REQUIRED)
add_library(tether::caf_openssl INTERFACE IMPORTED)
target_link_libraries(tether::caf_openssl INTERFACE ${CAF_OPENSSL_LIBRARY} tether::caf OpenSSL::SSL)

# Cap'n Proto 0.9.2 ships a CMake config.
find_package(CapnProto REQUIRED)

# doctest: header only.
find_path(DOCTEST_INCLUDE_DIR doctest/doctest.h)
if(TETHER_BUILD_TESTS AND NOT DOCTEST_INCLUDE_DIR)
  message(FATAL_ERROR "doctest not found: run deploy/install-deps.sh (package doctest-dev)")
endif()
