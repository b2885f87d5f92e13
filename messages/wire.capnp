# tether's wire format: the messages a worker and a parameter shard exchange when they
# live in different processes. Inside one process the actors pass the plain C++ types of
# messages/types.hpp instead; messages/codec.hpp converts between the two.
#
# Framing: one Cap'n Proto message, serialized flat (segment table + segments, not
# packed), normally one segment; its root is an Envelope. Float tensors travel as Data
# blobs of little-endian IEEE-754 float32, so encoding and decoding are one memcpy each.
# See docs/formats.md.
#
# Field numbers are forever: add fields at the end, never renumber or reuse one.
@0xfa9971f7010841f3;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("tether::wire");

struct Envelope {
  # The root of every wire message; the union says which message it carries.
  union {
    invalid @0 :Void;
    # Never sent: a zeroed or empty message decodes to this and is rejected.
    pull @1 :PullRequest;
    push @2 :PushRequest;
    slice @3 :ParamSlice;
  }
}

struct PullRequest {
  # worker -> shard: "send me your slice"; the shard replies with a ParamSlice when the
  # consistency model allows.
  worker @0 :UInt32;
  # The worker's index in the job, 0-based.
  clock @1 :UInt64;
  # The worker's clock: gradients it has pushed so far (count).
}

struct PushRequest {
  # worker -> shard: one gradient for the shard's key range.
  worker @0 :UInt32;
  # The worker's index in the job, 0-based.
  clock @1 :UInt64;
  # The worker's clock: gradients it pushed before this one (count).
  baseVersion @2 :UInt64;
  # The shard version (gradients applied, count) of the parameters this gradient was
  # computed on; version now - baseVersion is the gradient's staleness.
  rangeBegin @3 :UInt64;
  # Offset of grad[0] in the flat parameter vector (float32 elements); checks routing.
  grad @4 :Data;
  # The gradient: little-endian float32, shape [n] with n = the shard's range size,
  # so the blob is 4n bytes long.
}

struct ParamSlice {
  # shard -> worker: the shard's parameters at one version.
  version @0 :UInt64;
  # The shard version (gradients applied, count) these values are at.
  rangeBegin @1 :UInt64;
  # Offset of values[0] in the flat parameter vector (float32 elements).
  values @2 :Data;
  # The parameters: little-endian float32, shape [n] with n = the shard's range size,
  # so the blob is 4n bytes long.
}
