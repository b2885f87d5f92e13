# tether's checkpoint file: every parameter shard at one cut, plus what is needed to
# resume the job. One file is one Cap'n Proto message, serialized flat (segment table +
# segments, not packed), whose root is a CheckpointFile. messages/checkpoint_file.hpp
# reads and writes it; docs/formats.md describes the file and the directory around it.
#
# Float tensors are Data blobs of little-endian IEEE-754 float32 (one memcpy each way).
# Field numbers are forever: add fields at the end, never renumber or reuse one.
@0xb5c24a6df518c2b2;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("tether::wire");

struct CheckpointFile {
  crc32 @0 :UInt32;
  # zlib crc32 of capnp::canonicalize(body): the body's canonical encoding (one segment,
  # no far pointers, zeroes trimmed), so it does not depend on how the writer laid it out.
  body @1 :Checkpoint;
  # Everything else.
}

struct Checkpoint {
  formatVersion @0 :UInt32;
  # 1 for this schema. A reader refuses versions it does not know.
  updates @1 :UInt64;
  # Gradients applied to the whole model at the cut (count); the file name carries it too.
  model @2 :Text;
  # The model spec, canonical text (model_spec::to_string(), e.g. "mlp:784,256,128,10").
  layoutFingerprint @3 :UInt64;
  # param_layout::fingerprint() of the model's flat parameter layout.
  totalParams @4 :UInt64;
  # Length of the flat parameter vector (float32 elements).
  optimizer @5 :Text;
  # Server-side optimizer: "sgd", "momentum" or "adam".
  consistency @6 :Text;
  # Consistency model, e.g. "async".
  seed @7 :UInt64;
  # The job's random seed.
  workerSteps @8 :List(UInt64);
  # Per worker (index = worker): batches completed, i.e. its clock (count).
  shards @9 :List(ShardState);
  # Ordered by range; their ranges are contiguous and cover [0, totalParams).
  config @10 :Text;
  # The job's effective options, one "name=value" a line.
  createdUnixMs @11 :Int64;
  # When the checkpoint was taken: milliseconds since 1970-01-01 UTC.
  work @12 :WorkPosition;
  # Where the job is in its data (the batches handed out); absent in older files, which
  # resume at the same number of batches into their epoch.
}

struct BatchTicket {
  # One batch: batch `index` (runs of `batch` samples) of epoch `epoch`'s sample order.
  epoch @0 :UInt32;
  index @1 :UInt32;
}

struct WorkPosition {
  batch @0 :UInt32;
  # Samples per batch when the position was taken (count); 0: no position stored.
  next @1 :BatchTicket;
  # The next batch never handed out.
  pending @2 :List(BatchTicket);
  # Batches handed out but not done at the cut: done first after a resume.
  clock @3 :UInt64;
  # bsp: every worker's clock at the cut (the round next is the first batch of).
}

struct ShardState {
  # One parameter shard's complete state: enough to restart it exactly.
  index @0 :UInt32;
  # The shard's index in the job, 0-based.
  rangeBegin @1 :UInt64;
  # First element of the shard's key range in the flat vector (float32 elements).
  rangeEnd @2 :UInt64;
  # One past the last element of the range (float32 elements).
  version @3 :UInt64;
  # Gradients this shard has applied (count).
  params @4 :Data;
  # The parameters: little-endian float32, shape [rangeEnd - rangeBegin].
  slots @5 :List(Data);
  # Optimizer slots (none for sgd, velocity for momentum, m and v for adam): each
  # little-endian float32, shape [rangeEnd - rangeBegin].
  optimizerSteps @6 :UInt64;
  # Steps the shard's optimizer has taken (count; adam's bias correction uses it).
  appliedClocks @7 :List(UInt64);
  # Per worker (index = worker): clocks applied from it (count, 0 = none yet); makes
  # every gradient count exactly once after a restore.
  appliedCounts @8 :List(UInt64);
  # Per worker: how many of its gradients these parameters hold (count, distinct
  # clocks). Audits that no acknowledged gradient was lost. Absent in older files.
}
