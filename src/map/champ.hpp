// The persistent map representation (COW_STRATEGY_STRUCTURAL): a compressed
// hash-array mapped prefix tree (CHAMP, Steindorfer and Vinju, OOPSLA 2015)
// on the keys' 64-bit hashes.
//
// A node at depth d sorts its keys by champ_bits bits of their hash (bits
// d*champ_bits and up): `datamap` marks the slots holding one entry inline,
// `nodemap` the slots holding a child, and each is stored packed in slot
// order (entries, then children). Below the last level, where the whole
// hash is used, a collision node keeps the entries whose hashes are equal
// in full, in a plain list. Nodes carry their own reference counts, so
// versions share every node neither of them changed; a write copies the
// nodes on its path that another version still holds, and changes the rest
// in place.
//
// The shape is canonical: no node below the root holds a single entry and
// nothing else (it goes back into its parent), so removing a key restores
// the tree the map had before the key was inserted.
//
// Entries are laid out as in flat tables (entries.hpp); long
// variable-length keys live in key blocks held by the header (keys.hpp),
// which a new version's header shares.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "keys.hpp"
#include "map.hpp"

#ifndef COW_TREE_BITS
#define COW_TREE_BITS 5
#endif

namespace cow::detail {

// Hash bits per level: the trees' branching bits, at most 5 (a 32-bit map).
constexpr unsigned champ_bits = COW_TREE_BITS < 5 ? COW_TREE_BITS : 5;
constexpr std::uint32_t champ_slots = 1u << champ_bits;
// Levels of bitmap nodes (depths 0 .. champ_levels - 1); collision nodes
// sit at depth champ_levels.
constexpr unsigned champ_levels = (64 + champ_bits - 1) / champ_bits;

// A node is this header, its children's addresses right after it (a lookup
// reads the maps and the next child from one cache line), then its
// entries at entries_at, aligned for them.
struct champ_node {
    std::atomic<std::uint64_t> refs;
    std::uint32_t datamap;        // a collision node: its number of entries
    std::uint32_t nodemap;        // a collision node: 0
    std::uint32_t entry_cap : 26; // room for entries
    std::uint32_t pad : 6;        // bytes between the allocation and the node
    std::uint16_t entries_at;     // offset of the entries
    std::uint8_t child_cap;       // room for children
    std::uint8_t collision;
};

struct champ_map : map_rep {
    champ_node *root;          // nullptr when empty
    std::size_t varkey_bytes;  // sum of variable-length key lengths
    key_store keys;            // the blocks of the long keys of every node it holds
    std::size_t node_slack;    // extra bytes allocated to align a node for its entries
    // Node copies of the write under way, counted in the lineage when it
    // succeeds.
    std::uint64_t write_nodes, write_bytes;
};

// map_new for the tree representation; consumes the seed on success.
cow_status champ_map_new(map_rep **out, const cow_type *key_type, const cow_type *value_type,
                         rep_seed &seed) noexcept;

// The entries a tree map is built from: `count` entries with distinct keys,
// laid out as src's (same types), whose long keys live in `keys`' blocks.
struct champ_build_source {
    const map_rep *src;
    const unsigned char *const *entries;
    std::size_t count;
    const key_store *keys;
    std::size_t varkey_bytes;    // the sum of the entries' variable-length key lengths
    std::size_t long_key_bytes;  // the part of it that lives in the blocks
};

// A tree map holding copies of the source's entries, built in one pass with
// each node allocated once. Variable-length keys are copied as stored: the
// new map holds a reference to each of the key blocks. Consumes the seed on
// success.
cow_status champ_map_build(map_rep **out, const champ_build_source &from, rep_seed &seed) noexcept;

// Two tree maps of the same types: equal entries, and each key that differs
// (true when the callback stopped the walk). Both skip shared subtrees.
bool champ_equal(const champ_map *a, const champ_map *b) noexcept;
bool champ_diff(const champ_map *a, const champ_map *b, cow_map_diff_fn fn, void *ctx) noexcept;

// The tree representation's operations (ADAPTIVE maps wrap them).
const map_impl &champ_map_ops() noexcept;

}  // namespace cow::detail
