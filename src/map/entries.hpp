// What every map representation stores the same way: the entry layout (a
// key, then its value at the value's alignment), how keys hash and compare
// per key mode, and how entries copy and drop. Flat tables and tree nodes
// hold the same entries, so a version moved between them hashes alike.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../alloc.hpp"
#include "../hash.hpp"
#include "../type.hpp"
#include "keys.hpp"
#include "map.hpp"

namespace cow::detail {
namespace {

inline std::size_t round_up(std::size_t n, std::size_t align) noexcept {
    return (n + align - 1) & ~(align - 1);
}

inline std::size_t entry_align(const map_rep *m) noexcept {
    std::size_t ka = m->varlen_keys ? alignof(stored_key) : m->key_type->elem_align;
    std::size_t va = m->value_type->elem_align;
    return ka > va ? ka : va;
}

inline key_mode mode_for(const cow_type *kt) noexcept {
    if (type_is_varlen(kt)) return key_mode::varlen;
    if (kt->equal || kt->hash) return key_mode::custom;
    if (kt->elem_size == 8) return key_mode::word8;
    if (kt->elem_size == 4) return key_mode::word4;
    return key_mode::bytes;
}

// Fills in the entry layout of a map of these types (the fields map_rep
// keeps for it): COW_EOVERFLOW when one entry would not fit in memory.
inline cow_status entry_layout(map_rep &m, const cow_type *key_type,
                               const cow_type *value_type) noexcept {
    bool varlen = type_is_varlen(key_type);
    std::size_t key_size = varlen ? sizeof(stored_key) : key_type->elem_size;
    std::size_t ka = varlen ? alignof(stored_key) : key_type->elem_align, va = value_type->elem_align;
    std::size_t align = ka > va ? ka : va;
    std::size_t value_offset = round_up(key_size, va);
    std::size_t end;
    if (!add_size(value_offset, value_type->elem_size, end) || end > max_alloc - align)
        return COW_EOVERFLOW;
    m.entry_size = round_up(end, align);
    m.value_offset = value_offset;
    m.mode = mode_for(key_type);
    // Variable-length keys copy and drop as stored (keys.hpp).
    m.plain_copy = (varlen || !key_type->copy) && !value_type->copy;
    m.needs_drop = (!varlen && key_type->drop) || value_type->drop;
    m.varlen_keys = varlen;
    m.key_type = key_type;
    m.value_type = value_type;
    m.seed = process_seed();
    return COW_OK;
}

// Gives `to` the types and entry layout of `from` (a new value like it).
inline void same_layout(map_rep &to, const map_rep &from) noexcept {
    to.get = from.get;
    to.key_type = from.key_type;
    to.value_type = from.value_type;
    to.varlen_keys = from.varlen_keys;
    to.mode = from.mode;
    to.plain_copy = from.plain_copy;
    to.needs_drop = from.needs_drop;
    to.entry_size = from.entry_size;
    to.value_offset = from.value_offset;
    to.seed = from.seed;
}

// a[0..n) == b[0..n): 8 to 32 bytes as four overlapping word compares
// (no call, no branch on the length), others through memcmp.
inline std::uint64_t load64(const char *p) noexcept {
    std::uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
inline bool same_bytes(const char *a, const char *b, std::size_t n) noexcept {
    if (n < 8 || n > 32) return n == 0 || std::memcmp(a, b, n) == 0;
    std::size_t last = n - 8, second = last < 8 ? last : 8, third = last < 16 ? last : 16;
    std::uint64_t diff = (load64(a) ^ load64(b)) | (load64(a + second) ^ load64(b + second)) |
                         (load64(a + third) ^ load64(b + third)) |
                         (load64(a + last) ^ load64(b + last));
    return diff == 0;
}

// ---- hashing --------------------------------------------------------------
inline std::uint64_t fold_mul(std::uint64_t a, std::uint64_t b) noexcept {
    __extension__ typedef unsigned __int128 u128;
    u128 p = static_cast<u128>(a) * b;
    return static_cast<std::uint64_t>(p) ^ static_cast<std::uint64_t>(p >> 64);
}
#ifndef COW_HASH_BITS
#define COW_HASH_BITS 64
#endif
// The bits of a key hash a build keeps: all of them, except in test builds
// that make keys collide in full (meson option hash_bits).
inline std::uint64_t kept_bits(std::uint64_t h) noexcept {
    if constexpr (COW_HASH_BITS >= 64) return h;
    else return h & ((std::uint64_t{1} << COW_HASH_BITS) - 1);
}

// Built-in word keys get an inline, process-seeded mix instead of the
// general byte hash: their lookups are bound by the length of this chain.
inline std::uint64_t word_hash(std::uint64_t w, std::uint64_t seed) noexcept {
    return kept_bits(fold_mul(fold_mul(w ^ seed, 0xd6e8feb86659fd93ull) ^ seed, 0x9e3779b97f4a7c15ull));
}

// The hash of a key given as a probe (a variable-length key as a borrowed
// varkey), with the process seed read once per map. A type's own
// hash is mixed once more: every bit of the result is used and a user
// hash may be weak in some bits.
inline std::uint64_t key_hash(const map_rep *m, const void *key) noexcept {
    const cow_type *kt = m->key_type;
    switch (m->mode) {
    case key_mode::word8: {
        std::uint64_t w;
        std::memcpy(&w, key, sizeof w);
        return word_hash(w, m->seed);
    }
    case key_mode::word4: {
        std::uint32_t w;
        std::memcpy(&w, key, sizeof w);
        return word_hash(w, m->seed);
    }
    case key_mode::varlen: {  // what the built-in bytes hash does
        varkey k;
        std::memcpy(&k, key, sizeof k);
        return kept_bits(hash_bytes(k.data, k.len, m->seed));
    }
    case key_mode::bytes: break;
    case key_mode::custom:
        if (kt->hash) return kept_bits(fold_mul(kt->hash(kt->ctx, key, m->seed), 0x9e3779b97f4a7c15ull));
        break;
    }
    return kept_bits(hash_bytes(key, kt->elem_size, m->seed));
}

// The hash of a key as the C API passes it and cursors hand it out:
// (bytes, length) for variable-length keys, else one key.
inline std::uint64_t hash_of_key(const map_rep *m, const void *key, std::size_t key_len) noexcept {
    if (m->mode != key_mode::varlen) return key_hash(m, key);
    varkey k{static_cast<const char *>(key), key_len};
    return key_hash(m, &k);
}

// A stored variable-length key as a borrowed varkey.
inline varkey stored_view(const unsigned char *e) noexcept {
    auto *k = reinterpret_cast<const stored_key *>(e);
    return varkey{stored_key_bytes(*k), k->len};
}

// The hash of the key of a stored entry.
inline std::uint64_t entry_hash(const map_rep *m, const unsigned char *e) noexcept {
    if (m->mode != key_mode::varlen) return key_hash(m, e);
    varkey k = stored_view(e);
    return key_hash(m, &k);
}

// The hash of a key as the C API passes it, and a test of a stored entry
// against it; specialised per key mode so the common lookups stay short.
template <key_mode M>
[[gnu::always_inline]] inline std::uint64_t probe_hash(const map_rep *m, const void *key,
                                                       std::size_t key_len) noexcept {
    if constexpr (M == key_mode::varlen) {
        // A borrowed varkey: the lookup allocates nothing.
        varkey probe{static_cast<const char *>(key), key_len};
        return key_hash(m, &probe);
    } else if constexpr (M == key_mode::word8) {
        std::uint64_t w;
        std::memcpy(&w, key, sizeof w);
        return word_hash(w, m->seed);
    } else if constexpr (M == key_mode::word4) {
        std::uint32_t w;
        std::memcpy(&w, key, sizeof w);
        return word_hash(w, m->seed);
    } else {
        return key_hash(m, key);
    }
}
template <key_mode M>
[[gnu::always_inline]] inline bool entry_has_key(const map_rep *m, const unsigned char *e,
                                                 const void *key, std::size_t key_len) noexcept {
    if constexpr (M == key_mode::varlen) {
        auto *k = reinterpret_cast<const stored_key *>(e);
        return k->len == key_len &&
               same_bytes(stored_key_bytes(*k), static_cast<const char *>(key), key_len);
    } else if constexpr (M == key_mode::word8 || M == key_mode::word4) {
        return std::memcmp(e, key, M == key_mode::word8 ? 8 : 4) == 0;
    } else if constexpr (M == key_mode::bytes) {
        return std::memcmp(e, key, key_len) == 0;
    } else {
        return type_equal(m->key_type, e, key);
    }
}

// ---- entries ----------------------------------------------------------------

// A variable-length key owns nothing of its own (its bytes are in the entry
// or in a key block the map holds): only other keys are dropped.
inline void drop_key(const map_rep *m, unsigned char *e) noexcept {
    if (m->mode != key_mode::varlen) type_drop(m->key_type, e);
}

inline void drop_entry(const map_rep *m, unsigned char *e) noexcept {
    drop_key(m, e);
    type_drop(m->value_type, e + m->value_offset);
}

// Copies the key of an entry into an uninitialised one. A variable-length
// key is copied as stored: the copy shares the original's key blocks.
inline cow_status copy_key(const map_rep *m, const unsigned char *from, unsigned char *to) noexcept {
    if (m->mode != key_mode::varlen) return type_copy_key(m->key_type, to, from);
    std::memcpy(to, from, sizeof(stored_key));
    return COW_OK;
}

// Copies key and value of an entry into an uninitialised one.
inline cow_status copy_entry(const map_rep *m, const unsigned char *from, unsigned char *to) noexcept {
    cow_status s = copy_key(m, from, to);
    if (s != COW_OK) return s;
    s = type_copy(m->value_type, to + m->value_offset, from + m->value_offset);
    if (s != COW_OK) drop_key(m, to);
    return s;
}

// The key of an entry as the C API gives it out.
inline void key_of_entry(const map_rep *m, const unsigned char *e, const void **key,
                         std::size_t *key_len) noexcept {
    if (m->mode == key_mode::varlen) {
        varkey k = stored_view(e);
        *key = k.data;
        *key_len = k.len;
    } else {
        *key = e;
        *key_len = m->key_type->elem_size;
    }
}

}  // namespace
}  // namespace cow::detail
