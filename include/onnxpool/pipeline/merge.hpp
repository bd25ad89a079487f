#pragma once
// Merging the folders of a run's shards (shard.hpp) into the files of the whole run, byte for byte what
// one run over every item writes: each stacked <output>.npy (a header for the whole run, then each
// shard's rows in shard order), failures.jsonl (each shard's lines in shard order, only when an item
// failed) and top_k.csv (its header once, then each shard's rows).
//
// Everything is checked before anything is written: every folder holds a completed shard (its
// shard.json there, no journal and no .partial file of an unfinished run), all of one run (the same
// shard count, item count and identity), every shard exactly once, and each shard's files hold exactly
// its items' rows, of one element type and row shape. String outputs (numpy's '<U n') may have another
// width n in each shard; their elements are padded to the widest, as one run's file would be.
//
// A shard whose items all failed (or that has no items: fewer items than shards) has no stacked files,
// as a run whose items all fail has none; its rows are zeros in the merged file, as a failed item's are
// in a run's. When no shard has a file for an output, neither does the merged run.
//
// Per-item shards are not merged (their folders are already the whole run's: each item's folder is
// named by its index in the whole run, or its name), and merge says so.
//
// Memory stays flat: shard files are memory-mapped, copied a bounded piece at a time and their pages
// handed back. Each file is written under a temporary name (<file>.partial) and renamed only once every
// file is complete; on an error the temporaries are removed.
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace onnxpool {

struct MergeSummary {
  std::size_t shards = 0;
  std::size_t items = 0;                     // the whole run's
  std::size_t failed = 0;                    // of which failed, in all shards
  std::vector<std::filesystem::path> files;  // written, in `out`
};

// Merges the shard folders `shards` (in any order) into `out`, a folder that exists. Throws Error naming
// the folder or file at fault and what is wrong (a missing or doubled shard, a shard of another run,
// an unfinished one, a file cut short), with nothing written under a final name.
MergeSummary merge_shards(const std::vector<std::filesystem::path>& shards, const std::filesystem::path& out);

}  // namespace onnxpool
