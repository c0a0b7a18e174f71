// The hash map representation behind cow_map.
//
// Open addressing over one block: `cap` control bytes (plus a mirror of the
// first group_width bytes, so a group can be read at any position without
// wrapping), then `cap` entries laid out as key bytes, then value bytes.
// A control byte is EMPTY, DELETED (a tombstone) or FULL holding 7 bits of
// the key's hash, so a probe compares 8 control bytes at a time and calls
// the key comparison only on a fingerprint match. Probing is linear by
// groups from the home slot; the capacity is any multiple of 8 (it grows by
// half), the home slot comes from a multiply, not a mask. Lookups are
// specialised per key mode (map_rep::find/get), chosen when the map is made.
//
// A write to a shared map copies the whole table once (keys and values
// through their type's copy) and then edits the copy in place.
#pragma once
#include <cstddef>
#include <cstdint>

#include "rep.hpp"

namespace cow::detail {

// How keys are compared: the common cases inline, the rest via type_equal.
enum class key_mode : std::uint8_t {
    varlen,  // cow_type_bytes / cow_type_string: a stored varkey
    word8,   // 8 bytes, byte-wise equality
    word4,   // 4 bytes, byte-wise equality
    bytes,   // other sizes, byte-wise equality
    custom,  // the type's equal and/or hash callback
};

// The slot storage: one block, absent (all zero) while the map has no slots.
struct map_table {
    unsigned char *ctrl;      // cap + 8 control bytes (the last 8 mirror the first)
    unsigned char *slots;     // cap entries of entry_size bytes
    std::size_t cap;          // 0 or a multiple of 8
    void *block;              // the allocation holding ctrl and slots
    std::size_t block_size;
};

struct map_rep;
// Index of the entry for key, or map_npos; gives the key's hash in `hash`.
using map_find_fn = std::size_t (*)(const map_rep *m, const void *key, std::size_t key_len,
                                    std::uint64_t &hash) noexcept;
// The value for key, or nullptr.
using map_get_fn = const void *(*)(const map_rep *m, const void *key, std::size_t key_len) noexcept;

struct map_rep : rep {
    map_find_fn find;         // the lookups for this key mode
    map_get_fn get;
    map_table table;
    std::size_t len;
    std::size_t growth_left;  // EMPTY slots that may still be filled
    std::size_t entry_size;
    std::size_t value_offset;
    key_mode mode;
    bool plain_copy;          // neither type has a copy callback: entries copy by memcpy
    bool needs_drop;          // a type has a drop callback
    const cow_type *key_type;
    const cow_type *value_type;
    std::uint64_t seed;       // process_seed(), read once
    std::size_t varkey_bytes; // sum of variable-length key lengths
};

extern const rep_ops map_ops;

inline map_rep *as_map(rep *r) noexcept { return static_cast<map_rep *>(r); }

constexpr std::size_t map_npos = ~std::size_t{0};

// Key and value types must have passed type_check; value not varlen.
cow_status map_new(map_rep **out, const cow_type *key_type, const cow_type *value_type,
                   const cow_options *options) noexcept;

// The arguments below are checked by the caller: key points at key_len bytes
// (variable-length keys) or at one key with key_len == elem_size.

// Index of the entry for key, or map_npos. Allocates nothing.
inline std::size_t map_find(const map_rep *m, const void *key, std::size_t key_len) noexcept {
    std::uint64_t hash;
    return m->find(m, key, key_len, hash);
}

// The value for key (borrowed), or nullptr. Allocates nothing.
inline const void *map_get(const map_rep *m, const void *key, std::size_t key_len) noexcept {
    return m->get(m, key, key_len);
}

inline unsigned char *map_entry(const map_rep *m, std::size_t i) noexcept {
    return m->table.slots + i * m->entry_size;
}
inline unsigned char *map_value(const map_rep *m, std::size_t i) noexcept {
    return map_entry(m, i) + m->value_offset;
}

cow_status map_insert(map_rep **slot, const void *key, std::size_t key_len, const void *value,
                      void *out_old, bool *out_replaced) noexcept;
cow_status map_remove(map_rep **slot, const void *key, std::size_t key_len,
                      void *out_value) noexcept;
cow_status map_get_mut(map_rep **slot, const void *key, std::size_t key_len,
                       void **out_value) noexcept;
cow_status map_clear(map_rep **slot) noexcept;

// The first full slot at or after `pos`, or map_npos.
std::size_t map_next_full(const map_rep *m, std::size_t pos) noexcept;
// The key of entry i as (pointer to its bytes, length).
void map_key_at(const map_rep *m, std::size_t i, const void **key, std::size_t *key_len) noexcept;

}  // namespace cow::detail
