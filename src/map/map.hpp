// The map interface: everything capi/ knows about a cow_map, whatever its
// representation. A representation (flat.hpp: one open-addressing table)
// derives its struct from map_rep and implements map_impl; the functions
// below forward to it, except a lookup, which goes through the function
// the representation chose for its key kind when the map was made.
//
// Keys are passed checked by the caller: key points at key_len bytes
// (variable-length keys) or at one key with key_len == elem_size. Every edit
// takes the slot holding a valid map and leaves *slot and every value
// unchanged when it fails.
#pragma once
#include <cstddef>
#include <cstdint>

#include "../adaptive.hpp"
#include "../rep.hpp"

namespace cow::detail {

struct map_rep;

// How keys are compared: the common cases inline, the rest via type_equal.
enum class key_mode : std::uint8_t {
    varlen,  // cow_type_bytes / cow_type_string: a stored_key (keys.hpp)
    word8,   // 8 bytes, byte-wise equality
    word4,   // 4 bytes, byte-wise equality
    bytes,   // other sizes, byte-wise equality
    custom,  // the type's equal and/or hash callback
};

// The value for key (borrowed), or nullptr. Allocates nothing.
using map_get_fn = const void *(*)(const map_rep *m, const void *key, std::size_t key_len) noexcept;

// What a map representation implements. It extends rep_ops (copy,
// value_bytes, release), so one table per representation serves both.
struct map_impl : rep_ops {
    cow_status (*insert)(map_rep **slot, const void *key, std::size_t key_len, const void *value,
                         void *out_old, bool *out_replaced) noexcept;
    cow_status (*remove)(map_rep **slot, const void *key, std::size_t key_len,
                         void *out_value) noexcept;
    cow_status (*get_mut)(map_rep **slot, const void *key, std::size_t key_len,
                          void **out_value) noexcept;
    cow_status (*clear)(map_rep **slot) noexcept;
    // The entry after the cursor's position (false at the end).
    bool (*next)(const map_rep *m, cow_map_cursor *cursor, const void **out_key,
                 std::size_t *out_key_len, const void **out_value) noexcept;
};

struct map_rep : rep {
    map_get_fn get;  // the lookup for this representation and key kind
    const cow_type *key_type;
    const cow_type *value_type;
    std::size_t len;
    bool varlen_keys;  // cow_type_bytes / cow_type_string keys, passed as (bytes, length)
    // The entry layout every representation shares (entries.hpp).
    key_mode mode;
    bool plain_copy;          // neither type has a copy callback: entries copy by memcpy
    bool needs_drop;          // a type has a drop callback
    std::size_t entry_size;   // key, then the value at value_offset; aligned for both
    std::size_t value_offset;
    std::uint64_t seed;       // process_seed(), read once
    adaptive_history adapt;   // ADAPTIVE maps only
};

inline const map_impl *impl_of(const map_rep *m) noexcept {
    return static_cast<const map_impl *>(m->ops);
}

// A new empty map in the representation the options' strategy asks for.
// Key and value types must have passed type_check; value not varlen.
cow_status map_new(map_rep **out, const cow_type *key_type, const cow_type *value_type,
                   const cow_options *options) noexcept;

// Gives an ADAPTIVE map the writes that choose its representation at each
// copy (adaptive.cpp); other strategies keep their representation's.
void map_use_strategy_ops(map_rep *m) noexcept;

inline const void *map_get(const map_rep *m, const void *key, std::size_t key_len) noexcept {
    return m->get(m, key, key_len);
}
inline cow_status map_insert(map_rep **slot, const void *key, std::size_t key_len,
                             const void *value, void *out_old, bool *out_replaced) noexcept {
    return impl_of(*slot)->insert(slot, key, key_len, value, out_old, out_replaced);
}
inline cow_status map_remove(map_rep **slot, const void *key, std::size_t key_len,
                             void *out_value) noexcept {
    return impl_of(*slot)->remove(slot, key, key_len, out_value);
}
inline cow_status map_get_mut(map_rep **slot, const void *key, std::size_t key_len,
                              void **out_value) noexcept {
    return impl_of(*slot)->get_mut(slot, key, key_len, out_value);
}
inline cow_status map_clear(map_rep **slot) noexcept { return impl_of(*slot)->clear(slot); }
inline bool map_next(const map_rep *m, cow_map_cursor *cursor, const void **out_key,
                     std::size_t *out_key_len, const void **out_value) noexcept {
    return impl_of(m)->next(m, cursor, out_key, out_key_len, out_value);
}

inline bool map_is_tree(const map_rep *m) noexcept {
    return m->ops->representation == COW_REPRESENTATION_TREE;
}

// The whole-map calls (compare.cpp), for every representation; a and b
// are maps (the C API turns NULL into an empty map of the other's types).
bool map_equal(const map_rep *a, const map_rep *b) noexcept;
std::uint64_t map_hash(const map_rep *m) noexcept;
// COW_ETYPE for different key or value types; *out_stopped may be NULL.
cow_status map_diff(const map_rep *a, const map_rep *b, cow_map_diff_fn fn, void *ctx,
                    bool *out_stopped) noexcept;
// Finds or inserts key (with a copy of init_value) and gives its writable value.
cow_status map_entry(map_rep **slot, const void *key, std::size_t key_len, const void *init_value,
                     void **out_value, bool *out_inserted) noexcept;

}  // namespace cow::detail
