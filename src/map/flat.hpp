// The flat map representation: one hash table.
//
// Open addressing over one block: `cap` control bytes (plus a mirror of the
// first group_width bytes, so a group can be read at any position without
// wrapping), then `cap` entries laid out as key bytes, then value bytes.
// A control byte is EMPTY, DELETED (a tombstone) or FULL holding 7 bits of
// the key's hash, so a probe compares 8 control bytes at a time and calls
// the key comparison only on a fingerprint match. Probing is linear by
// groups from the home slot; the capacity is any multiple of 8 (it grows by
// half), the home slot comes from a multiply, not a mask. Lookups are
// specialised per key mode (flat_map::find, map_rep::get), chosen when the
// map is made.
//
// A write to a shared map copies the whole table once (values through their
// type's copy; variable-length keys as they are stored, sharing the key
// blocks of the long ones: keys.hpp) and then edits the copy in place.
#pragma once
#include <cstddef>
#include <cstdint>

#include "keys.hpp"
#include "map.hpp"

namespace cow::detail {

// The slot storage: one block, absent (all zero) while the map has no slots.
struct map_table {
    unsigned char *ctrl;      // cap + 8 control bytes (the last 8 mirror the first)
    unsigned char *slots;     // cap entries of entry_size bytes
    std::size_t cap;          // 0 or a multiple of 8
    void *block;              // the allocation holding ctrl and slots
    std::size_t block_size;
};

struct flat_map;
// Index of the entry for key, or flat_npos; gives the key's hash in `hash`.
using flat_find_fn = std::size_t (*)(const flat_map *m, const void *key, std::size_t key_len,
                                     std::uint64_t &hash) noexcept;

struct flat_map : map_rep {
    flat_find_fn find;        // the lookups for this key mode (map_rep::get too)
    map_table table;
    std::size_t growth_left;  // EMPTY slots that may still be filled
    std::size_t varkey_bytes; // sum of variable-length key lengths
    key_store keys;           // the blocks of the keys too long to sit in their entry
};

// map_new for the flat representation; consumes the seed on success.
cow_status flat_map_new(map_rep **out, const cow_type *key_type, const cow_type *value_type,
                        rep_seed &seed) noexcept;

// The addresses of m's m->len entries, in table order, into out.
void flat_map_entries(const flat_map *m, const unsigned char **out) noexcept;

// The flat representation's operations (ADAPTIVE maps wrap them).
const map_impl &flat_map_ops() noexcept;

}  // namespace cow::detail
