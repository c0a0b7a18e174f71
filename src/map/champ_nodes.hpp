// The tree map's nodes and the primitives every tree map operation uses:
// slots and bit counts, node memory, reference counts, key tests. Internal
// to src/map; internal linkage in each file that includes it, so the
// compiler inlines them as freely as its own helpers.
#pragma once
#include <cstring>
#include <new>

#include "../alloc.hpp"
#include "../tree_counters.hpp"
#include "../type.hpp"
#include "champ.hpp"
#include "entries.hpp"

namespace cow::detail {
namespace {

// Nodes on a path: the bitmap levels and one collision node.
constexpr unsigned max_path = champ_levels + 1;
constexpr std::uint32_t slot_mask = champ_slots - 1;

inline champ_map *as_champ(rep *r) noexcept { return static_cast<champ_map *>(r); }
inline const champ_map *as_champ(const rep *r) noexcept { return static_cast<const champ_map *>(r); }

// The slot of hash h in a bitmap node at depth d (< champ_levels).
inline std::uint32_t slot_bit(std::uint64_t h, unsigned d) noexcept {
    return 1u << ((h >> (d * champ_bits)) & slot_mask);
}
// Bits set in a 32-bit map. Inline arithmetic: without a CPU baseline that
// has a population count instruction, std::popcount is a library call,
// which took a third of a lookup's time.
inline std::uint32_t bits_set(std::uint32_t x) noexcept {
#ifdef __POPCNT__
    return static_cast<std::uint32_t>(__builtin_popcount(x));
#else
    x = x - ((x >> 1) & 0x55555555u);
    x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
    x = (x + (x >> 4)) & 0x0f0f0f0fu;
    return (x * 0x01010101u) >> 24;
#endif
}
inline std::uint32_t index_below(std::uint32_t map, std::uint32_t bit) noexcept {
    return bits_set(map & (bit - 1));
}

inline std::uint32_t entry_count(const champ_node *n) noexcept {
    return n->collision ? n->datamap : bits_set(n->datamap);
}
inline std::uint32_t child_count(const champ_node *n) noexcept {
    return bits_set(n->nodemap);
}

// ---- node memory ---------------------------------------------------------------

inline std::size_t entries_offset(const champ_map *m, std::uint32_t child_cap) noexcept {
    return round_up(sizeof(champ_node) + child_cap * sizeof(champ_node *), entry_align(m));
}
inline std::size_t node_bytes(const champ_map *m, std::uint32_t entry_cap,
                              std::uint32_t child_cap) noexcept {
    return entries_offset(m, child_cap) + entry_cap * m->entry_size + m->node_slack;
}
inline unsigned char *entry_at(const champ_map *m, const champ_node *n, std::uint32_t i) noexcept {
    auto *base = const_cast<unsigned char *>(reinterpret_cast<const unsigned char *>(n));
    return base + n->entries_at + i * m->entry_size;
}
inline champ_node **children(const champ_map *, const champ_node *n) noexcept {
    return reinterpret_cast<champ_node **>(const_cast<champ_node *>(n) + 1);
}

// An empty node with one reference and room for the given entries and
// children, or nullptr.
inline champ_node *node_alloc(const champ_map *m, std::uint32_t entry_cap, std::uint32_t child_cap) noexcept {
    COW_TREE_COUNT(allocations);
    void *block = mem_alloc(node_bytes(m, entry_cap, child_cap));
    if (!block) return nullptr;
    auto addr = reinterpret_cast<std::uintptr_t>(block);
    std::size_t align = m->node_slack + alignof(std::max_align_t);
    auto pad = static_cast<std::uint32_t>(-addr & (align - 1));
    auto *n = new (static_cast<unsigned char *>(block) + pad) champ_node();
    n->refs.store(1, std::memory_order_relaxed);
    n->datamap = n->nodemap = 0;
    n->entry_cap = entry_cap & ((1u << 26) - 1);
    n->pad = pad & 63;
    n->entries_at = static_cast<std::uint16_t>(entries_offset(m, child_cap));
    n->child_cap = static_cast<std::uint8_t>(child_cap);
    n->collision = 0;
    return n;
}

// Frees a node's memory only: its entries and children were moved out (or
// were never there).
inline void node_free(const champ_map *m, champ_node *n) noexcept {
    std::size_t size = node_bytes(m, n->entry_cap, n->child_cap);
    void *block = reinterpret_cast<unsigned char *>(n) - n->pad;
    n->~champ_node();
    mem_free(block, size);
}

// Room for `count` items in a node that grows in place: half as much again,
// up to what a bitmap node can hold.
inline std::uint32_t room_for(std::uint32_t count, bool collision) noexcept {
    std::uint32_t room = count + (count + 1) / 2;
    return !collision && room > champ_slots ? champ_slots : room;
}

// ---- reference counts ----------------------------------------------------------

inline void retain(champ_node *n) noexcept {
    COW_TREE_COUNT(retains);
    n->refs.fetch_add(1, std::memory_order_relaxed);
}
// Acquire pairs with the release in release(), as for handles (rep.hpp).
inline bool is_unique(const champ_node *n) noexcept {
    return n->refs.load(std::memory_order_acquire) == 1;
}

inline void destroy(const champ_map *m, champ_node *n) noexcept;

inline void release(const champ_map *m, champ_node *n) noexcept {
    COW_TREE_COUNT(releases);
    if (n->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy(m, n);
}

inline void destroy(const champ_map *m, champ_node *n) noexcept {
    if (m->needs_drop)
        for (std::uint32_t i = 0, e = entry_count(n); i < e; ++i) drop_entry(m, entry_at(m, n, i));
    champ_node **kids = children(m, n);
    std::uint32_t c = child_count(n);
    for (std::uint32_t k = 0; k < c; ++k) __builtin_prefetch(kids[k], 1);  // as in fill
    for (std::uint32_t k = 0; k < c; ++k) release(m, kids[k]);
    node_free(m, n);
}

inline bool has_key(const champ_map *m, const unsigned char *e, const void *key, std::size_t key_len) noexcept {
    switch (m->mode) {
    case key_mode::varlen: return entry_has_key<key_mode::varlen>(m, e, key, key_len);
    case key_mode::word8: return entry_has_key<key_mode::word8>(m, e, key, key_len);
    case key_mode::word4: return entry_has_key<key_mode::word4>(m, e, key, key_len);
    case key_mode::bytes: return entry_has_key<key_mode::bytes>(m, e, key, key_len);
    case key_mode::custom: break;
    }
    return entry_has_key<key_mode::custom>(m, e, key, key_len);
}


}  // namespace
}  // namespace cow::detail
