#include "flat.hpp"

#include <bit>
#include <cstring>
#include <new>
#include <type_traits>

#include "../alloc.hpp"
#include "../hash.hpp"
#include "../scratch.hpp"
#include "../type.hpp"
#include "entries.hpp"

namespace cow::detail {
namespace {

constexpr std::size_t flat_npos = ~std::size_t{0};

inline flat_map *as_flat(rep *r) noexcept { return static_cast<flat_map *>(r); }

inline unsigned char *map_entry(const flat_map *m, std::size_t i) noexcept {
    return m->table.slots + i * m->entry_size;
}
inline unsigned char *map_value(const flat_map *m, std::size_t i) noexcept {
    return map_entry(m, i) + m->value_offset;
}

// ---- control bytes, read 8 at a time (SWAR) -------------------------------
// FULL bytes hold 7 bits of the hash (high bit clear); EMPTY and DELETED
// have the high bit set and differ in bit 1.
constexpr unsigned char ctrl_empty = 0x80;
constexpr unsigned char ctrl_deleted = 0xfe;
constexpr std::size_t group_width = 8;
constexpr std::uint64_t lsbs = 0x0101010101010101ull;
constexpr std::uint64_t msbs = 0x8080808080808080ull;

inline bool is_full(unsigned char c) noexcept { return c < 0x80; }

// The control bytes of slots p[0..8), byte k in bits 8k..8k+7.
inline std::uint64_t load_group(const unsigned char *p) noexcept {
    std::uint64_t g;
    std::memcpy(&g, p, sizeof g);
    if constexpr (std::endian::native == std::endian::big) g = __builtin_bswap64(g);
    return g;
}
// Bit 8k+7 set where byte k equals h2. May also flag a byte just above a
// true match (borrow): harmless, the keys are compared anyway.
inline std::uint64_t match_byte(std::uint64_t g, unsigned char h2) noexcept {
    std::uint64_t x = g ^ (lsbs * h2);
    return (x - lsbs) & ~x & msbs;
}
inline std::uint64_t match_empty(std::uint64_t g) noexcept { return g & ~(g << 6) & msbs; }
inline std::uint64_t match_free(std::uint64_t g) noexcept { return g & msbs; }
inline std::size_t lowest(std::uint64_t bits) noexcept {
    return static_cast<unsigned>(std::countr_zero(bits)) >> 3;
}

// ---- hash split: 7 low bits as fingerprint, the home slot from the high
// bits (a multiply maps them onto [0, cap) without a division) ------------
inline unsigned char fingerprint(std::uint64_t h) noexcept {
    return static_cast<unsigned char>(h & 0x7f);
}
inline std::size_t home(std::uint64_t h, std::size_t cap) noexcept {
    __extension__ typedef unsigned __int128 u128;
    return static_cast<std::size_t>((static_cast<u128>(h) * cap) >> 64);
}
inline std::size_t wrap(std::size_t i, std::size_t cap) noexcept { return i >= cap ? i - cap : i; }

// At most 7/8 of the slots are ever non-empty, so every probe meets an EMPTY.
inline std::size_t limit(std::size_t cap) noexcept { return cap - cap / 8; }

inline void set_ctrl(map_table &t, std::size_t i, unsigned char c) noexcept {
    t.ctrl[i] = c;
    if (i < group_width) t.ctrl[t.cap + i] = c;
}

// The first EMPTY or DELETED slot on h's probe path (cap > 0).
std::size_t find_free(const map_table &t, std::uint64_t h) noexcept {
    std::size_t pos = home(h, t.cap);
    for (;;) {
        std::uint64_t bits = match_free(load_group(t.ctrl + pos));
        if (bits) return wrap(pos + lowest(bits), t.cap);
        pos = wrap(pos + group_width, t.cap);
    }
}

// The entry on h's probe path whose key satisfies eq (its index in
// `index`), or nullptr.
template <class Eq>
inline const unsigned char *probe_find(const flat_map *m, std::uint64_t h, Eq eq,
                                       std::size_t &index) noexcept {
    const map_table &t = m->table;
    std::size_t pos = home(h, t.cap);
    // The entry is most often at its home slot: fetch it while the control
    // bytes load, so a cold lookup waits for one miss instead of two.
    __builtin_prefetch(t.slots + pos * m->entry_size);
    unsigned char h2 = fingerprint(h);
    if (t.cap == 0) return nullptr;
    // Ends: at most 7/8 of the slots are ever non-empty, so an EMPTY comes.
    for (;;) {
        std::uint64_t g = load_group(t.ctrl + pos);
        for (std::uint64_t bits = match_byte(g, h2); bits; bits &= bits - 1) {
            std::size_t i = wrap(pos + lowest(bits), t.cap);
            const unsigned char *e = t.slots + i * m->entry_size;
            if (eq(e)) {
                index = i;
                return e;
            }
        }
        if (match_empty(g)) return nullptr;
        pos = wrap(pos + group_width, t.cap);
    }
}

// Finds key: its entry (or nullptr), index and hash (needed to insert it
// when absent). Specialised per key mode so the common lookups stay short.
template <key_mode M>
[[gnu::always_inline]] inline const unsigned char *lookup_as(const flat_map *m, const void *key,
                                                             std::size_t key_len, std::uint64_t &h,
                                                             std::size_t &index) noexcept {
    if constexpr (M == key_mode::varlen) {
        // A borrowed varkey: the lookup allocates nothing.
        varkey probe{static_cast<const char *>(key), key_len};
        h = key_hash(m, &probe);
        return probe_find(
            m, h,
            [&](const unsigned char *e) {
                auto *k = reinterpret_cast<const stored_key *>(e);
                return k->len == key_len &&
                       same_bytes(stored_key_bytes(*k), static_cast<const char *>(key), key_len);
            },
            index);
    } else if constexpr (M == key_mode::word8 || M == key_mode::word4) {
        using word = std::conditional_t<M == key_mode::word8, std::uint64_t, std::uint32_t>;
        word want;
        std::memcpy(&want, key, sizeof want);
        h = word_hash(want, m->seed);  // key_hash of a word key
        return probe_find(
            m, h,
            [&](const unsigned char *e) {
                word k;
                std::memcpy(&k, e, sizeof k);
                return k == want;
            },
            index);
    } else if constexpr (M == key_mode::bytes) {
        h = key_hash(m, key);
        std::size_t size = key_len;
        return probe_find(
            m, h, [&](const unsigned char *e) { return std::memcmp(e, key, size) == 0; }, index);
    } else {
        const cow_type *kt = m->key_type;
        h = key_hash(m, key);
        return probe_find(
            m, h, [&](const unsigned char *e) { return type_equal(kt, e, key); }, index);
    }
}

template <key_mode M>
std::size_t find_as(const flat_map *m, const void *key, std::size_t key_len,
                    std::uint64_t &h) noexcept {
    std::size_t index = flat_npos;
    lookup_as<M>(m, key, key_len, h, index);
    return index;
}

template <key_mode M>
const void *get_as(const map_rep *r, const void *key, std::size_t key_len) noexcept {
    auto *m = static_cast<const flat_map *>(r);
    std::uint64_t h;
    std::size_t index;
    const unsigned char *e = lookup_as<M>(m, key, key_len, h, index);
    return e ? e + m->value_offset : nullptr;
}

// The lookup functions for a key mode, chosen once when the map is made.
template <key_mode M>
void use_mode(flat_map &m) noexcept {
    m.find = find_as<M>;
    m.get = get_as<M>;
}
void use_mode_for(flat_map &m, key_mode mode) noexcept {
    switch (mode) {
    case key_mode::varlen: return use_mode<key_mode::varlen>(m);
    case key_mode::word8: return use_mode<key_mode::word8>(m);
    case key_mode::word4: return use_mode<key_mode::word4>(m);
    case key_mode::bytes: return use_mode<key_mode::bytes>(m);
    case key_mode::custom: break;
    }
    use_mode<key_mode::custom>(m);
}

// A table of `cap` EMPTY slots (cap > 0, a multiple of 8). The allocator's
// alignment is not assumed: the slots are aligned inside the block.
cow_status alloc_table(const flat_map *m, std::size_t cap, map_table &out) noexcept {
    std::size_t align = entry_align(m), ctrl_bytes, slot_bytes, size;
    if (!add_size(cap, group_width, ctrl_bytes) || !mul_size(cap, m->entry_size, slot_bytes) ||
        !add_size(ctrl_bytes, align - 1, size) || !add_size(size, slot_bytes, size))
        return COW_EOVERFLOW;
    auto *block = static_cast<unsigned char *>(mem_alloc(size));
    if (!block) return COW_ENOMEM;
    std::memset(block, ctrl_empty, ctrl_bytes);
    auto addr = reinterpret_cast<std::uintptr_t>(block + ctrl_bytes);
    std::size_t pad = round_up(addr, align) - addr;
    out = map_table{block, block + ctrl_bytes + pad, cap, block, size};
    return COW_OK;
}

void free_table(map_table &t) noexcept {
    if (t.block) mem_free(t.block, t.block_size);
    t = map_table{};
}

void drop_entries(flat_map *m) noexcept {
    if (!m->needs_drop || m->len == 0) return;
    const map_table &t = m->table;
    for (std::size_t i = 0; i < t.cap; ++i)
        if (is_full(t.ctrl[i])) drop_entry(m, map_entry(m, i));
}

std::size_t value_bytes(const rep *r) noexcept {
    auto *m = static_cast<const flat_map *>(r);
    return m->len * (m->key_type->elem_size + m->value_type->elem_size) + m->varkey_bytes;
}


// Raw memory for a flat_map with the shape (types, layout) of `like`, not
// yet initialised as a rep.
flat_map *alloc_like(const flat_map *like) noexcept {
    void *mem = mem_alloc(sizeof(flat_map));
    if (!mem) return nullptr;
    auto *m = new (mem) flat_map();
    m->table = map_table{};
    m->len = m->growth_left = m->varkey_bytes = 0;
    m->keys = key_store{};
    same_layout(*m, *like);
    m->find = like->find;
    return m;
}

void free_unregistered(flat_map *m) noexcept {
    free_table(m->table);
    key_store_release(m->keys);
    m->~flat_map();
    mem_free(m, sizeof(flat_map));
}

void last_handle_released(rep *r) noexcept {
    flat_map *m = as_flat(r);
    drop_entries(m);
    free_table(m->table);
    key_store_release(m->keys);
    rep_retire(m);
    m->~flat_map();
    mem_free(m, sizeof(flat_map));
}

// "No entry": a copy where every value is copied.
constexpr std::size_t no_vacancy = ~std::size_t{0};

// Same capacity: control bytes verbatim, each entry copied to its own index.
// The value of entry `vacant` is not copied: the caller is about to replace
// or remove it, and copying it only to drop it would count a clone that no
// handle ever sees. The caller fills or removes that slot before anything
// reads it.
cow_status copy_same_layout(const flat_map *src, flat_map *c, std::size_t vacant) noexcept {
    const map_table &from = src->table;
    std::memcpy(c->table.ctrl, from.ctrl, from.cap + group_width);
    if (src->plain_copy) {
        std::memcpy(c->table.slots, from.slots, from.cap * src->entry_size);
    } else {
        for (std::size_t i = 0; i < from.cap; ++i) {
            if (!is_full(from.ctrl[i])) continue;
            const unsigned char *e = map_entry(src, i);
            cow_status s = i == vacant ? copy_key(src, e, map_entry(c, i))
                                       : copy_entry(src, e, map_entry(c, i));
            if (s != COW_OK) {
                for (std::size_t j = 0; j < i; ++j) {
                    if (!is_full(from.ctrl[j])) continue;
                    if (j == vacant) drop_key(c, map_entry(c, j));
                    else drop_entry(c, map_entry(c, j));
                }
                return s;
            }
        }
    }
    c->len = src->len;
    c->growth_left = src->growth_left;
    return COW_OK;
}

// Other capacity: every key rehashed into the fresh table (no tombstones).
cow_status copy_rehashed(const flat_map *src, flat_map *c) noexcept {
    const map_table &from = src->table;
    for (std::size_t i = 0; i < from.cap; ++i) {
        if (!is_full(from.ctrl[i])) continue;
        const unsigned char *e = map_entry(src, i);
        std::uint64_t h = entry_hash(src, e);
        std::size_t j = find_free(c->table, h);
        cow_status s = copy_entry(src, e, map_entry(c, j));
        if (s != COW_OK) {
            drop_entries(c);
            return s;
        }
        set_ctrl(c->table, j, fingerprint(h));
        ++c->len;
    }
    c->growth_left = limit(c->table.cap) - c->len;
    return COW_OK;
}

// Moves the long keys of m (which no other value sees: a copy being made, or
// a unique map) into one new block with `reserve` bytes to spare, when its
// blocks hold mostly bytes of removed keys. Optional: skipped when out of
// memory.
void compact_keys(flat_map *m, std::size_t reserve) noexcept {
    key_store &ks = m->keys;
    if (ks.count == 0 || !key_store_wasteful(ks)) return;
    key_block *b = key_block_new(ks.live_bytes + reserve);
    if (!b) return;
    const map_table &t = m->table;
    for (std::size_t i = 0; i < t.cap; ++i) {
        if (!is_full(t.ctrl[i])) continue;
        auto *k = reinterpret_cast<stored_key *>(map_entry(m, i));
        if (k->len <= inline_key_bytes) continue;
        char *at = b->room() + b->used;
        std::memcpy(at, k->far, k->len);
        k->far = at;
        b->used += k->len;
    }
    for (std::uint32_t k = 0; k < ks.count; ++k) key_block_release(ks.blocks[k]);
    ks.blocks[0] = b;
    ks.count = 1;
    ks.used_bytes = b->used;
}

// A private copy of src with `cap` slots, not yet initialised as a rep: the
// same layout when the capacity is src's and no rehash is asked for (to
// drop tombstones), else every key rehashed.
cow_status copy_map(const flat_map *src, std::size_t cap, bool rehashed, flat_map **out,
                     std::size_t vacant = no_vacancy) noexcept {
    flat_map *c = alloc_like(src);
    if (!c) return COW_ENOMEM;
    // Room in the block list for one block more: an insert's long key.
    cow_status s = src->mode == key_mode::varlen ? key_store_share(src->keys, c->keys, 1) : COW_OK;
    if (cap && s == COW_OK) {
        s = alloc_table(c, cap, c->table);
        if (s == COW_OK)
            s = rehashed || cap != src->table.cap ? copy_rehashed(src, c)
                                                  : copy_same_layout(src, c, vacant);
    }
    if (s != COW_OK) {
        free_unregistered(c);
        return s;
    }
    c->varkey_bytes = src->varkey_bytes;
    compact_keys(c, 0);
    *out = c;
    return COW_OK;
}

cow_status ops_copy(const rep *r, rep **out) noexcept {
    auto *m = static_cast<const flat_map *>(r);
    flat_map *c;
    cow_status s = copy_map(m, m->table.cap, false, &c);
    if (s == COW_OK) *out = c;
    return s;
}

// Registers the copy c of *slot, stores it in the slot, drops the original.
void commit_copy(flat_map **slot, flat_map *c) noexcept {
    flat_map *old = *slot;
    rep_init_copy(c, old, value_bytes(old), false);
    *slot = c;
    rep_release(old);
}

// Moves every entry of a unique map into a fresh table of `cap` slots (and
// compacts its long keys, keeping `key_reserve` bytes of room for a key
// about to be inserted).
cow_status rehash(flat_map *m, std::size_t cap, std::size_t key_reserve) noexcept {
    map_table fresh;
    cow_status s = alloc_table(m, cap, fresh);
    if (s != COW_OK) return s;
    const map_table &old = m->table;
    for (std::size_t i = 0; i < old.cap; ++i) {
        if (!is_full(old.ctrl[i])) continue;
        unsigned char *e = map_entry(m, i);
        std::uint64_t h = entry_hash(m, e);
        std::size_t j = find_free(fresh, h);
        std::memcpy(fresh.slots + j * m->entry_size, e, m->entry_size);
        set_ctrl(fresh, j, fingerprint(h));
    }
    free_table(m->table);
    m->table = fresh;
    m->growth_left = limit(cap) - m->len;
    compact_keys(m, key_reserve);
    return COW_OK;
}

// The capacity to rehash into when no EMPTY slot may be used: the same one
// when tombstones hold at least a quarter of the room (the rehash then buys
// that many inserts), else half as large again (growing by half, not by
// double, keeps memory per entry low at every size). 0 on overflow.
std::size_t next_capacity(const flat_map *m) noexcept {
    std::size_t cap = m->table.cap;
    if (cap == 0) return group_width;
    if (m->len <= limit(cap) / 4 * 3) return cap;
    if (cap > max_alloc / 2) return 0;
    return round_up(cap + cap / 2, group_width);
}

// A slot: EMPTY when no run of group_width non-empty slots contains it (no
// probe can have passed it), else DELETED so that probes go on.
void erase_slot(flat_map *m, std::size_t i) noexcept {
    map_table &t = m->table;
    std::uint64_t before = match_empty(load_group(t.ctrl + wrap(i + t.cap - group_width, t.cap)));
    std::uint64_t after = match_empty(load_group(t.ctrl + i));
    std::size_t lead = before ? static_cast<std::size_t>(std::countl_zero(before)) >> 3 : group_width;
    std::size_t trail = after ? lowest(after) : group_width;
    if (lead + trail < group_width) {
        set_ctrl(t, i, ctrl_empty);
        ++m->growth_left;
    } else {
        set_ctrl(t, i, ctrl_deleted);
    }
    --m->len;
}

cow_status replace_value(flat_map **slot, std::size_t i, const void *value, void *out_old) noexcept {
    flat_map *m = *slot;
    const cow_type *vt = m->value_type;
    std::size_t size = vt->elem_size;
    scratch fresh(size, vt->elem_align);
    if (!fresh.get()) return COW_ENOMEM;
    cow_status s = type_copy(vt, fresh.get(), value);
    if (s != COW_OK) return s;
    // The old value the caller does not take is dropped; a copy does not
    // copy it in the first place (the slot is vacant).
    bool drop_old = !out_old;
    if (rep_is_shared(m)) {
        flat_map *c;
        // Same layout: the entry keeps index i.
        s = copy_map(m, m->table.cap, false, &c, out_old ? no_vacancy : i);
        if (s != COW_OK) {
            type_drop(vt, fresh.get());
            return s;
        }
        commit_copy(slot, c);
        m = c;
        drop_old = false;
    }
    unsigned char *v = map_value(m, i);
    if (out_old) std::memcpy(out_old, v, size);
    if (drop_old) type_drop(vt, v);
    std::memcpy(v, fresh.get(), size);
    return COW_OK;
}

cow_status insert_new(flat_map **slot, std::uint64_t h, const void *key, std::size_t key_len,
                      const void *value) noexcept {
    flat_map *m = *slot;
    const cow_type *kt = m->key_type, *vt = m->value_type;
    // 1. Copy key and value (the only steps that may call user code).
    scratch entry(m->entry_size, entry_align(m));
    if (!entry.get()) return COW_ENOMEM;
    bool far = m->mode == key_mode::varlen && key_len > inline_key_bytes;
    cow_status s;
    if (m->mode == key_mode::varlen) {
        stored_key k{};
        k.len = key_len;
        if (!far && key_len) std::memcpy(k.bytes, key, key_len);
        if (far) k.far = nullptr;  // placed in step 3
        std::memcpy(entry.get(), &k, sizeof k);
    } else {
        s = type_copy_key(kt, entry.get(), key);
        if (s != COW_OK) return s;
    }
    s = type_copy(vt, entry.get() + m->value_offset, value);
    if (s != COW_OK) {
        drop_key(m, entry.get());
        return s;
    }
    // Tested after the copies: copying the value may have added a reference
    // to this very map (a map stored into itself stores a snapshot of it).
    // A unique map cannot become shared from here on.
    bool shared = rep_is_shared(m);
    // The room of a long key: a copy's blocks are shared with the original,
    // so there it goes into a new block; a unique map may append to its last.
    key_room room;
    if (far) {
        // The copy's block list has room for one more, unless it has none
        // (no block yet): then it is as empty as m's.
        const key_store *target = shared && m->keys.count ? nullptr : &m->keys;
        s = key_room_prepare(m->keys, target, key_len,
                             shared || !key_store_has_room(m->keys, key_len), room);
        if (s != COW_OK) {
            drop_entry(m, entry.get());
            return s;
        }
    }
    // 2. Make room: a private copy if shared, a bigger table if full.
    std::size_t cap = m->table.cap;
    bool full = m->growth_left == 0 &&
                (cap == 0 || m->table.ctrl[find_free(m->table, h)] == ctrl_empty);
    if (full) cap = next_capacity(m);
    if (cap == 0) {
        s = COW_EOVERFLOW;
    } else if (shared) {
        flat_map *c;
        s = copy_map(m, cap, full, &c);
        if (s == COW_OK) {
            commit_copy(slot, c);
            m = c;
        }
    } else if (full) {
        s = rehash(m, cap, far && !room.fresh ? key_len : 0);
    }
    if (s != COW_OK) {
        drop_entry(m, entry.get());
        key_room_discard(room);
        return s;
    }
    // 3. Place it: nothing can fail from here on.
    if (far) {
        const char *at = key_store_place(m->keys, room, key, key_len);
        std::memcpy(entry.get() + offsetof(stored_key, far), &at, sizeof at);
    }
    std::size_t j = find_free(m->table, h);
    if (m->table.ctrl[j] == ctrl_empty) --m->growth_left;
    std::memcpy(map_entry(m, j), entry.get(), m->entry_size);
    set_ctrl(m->table, j, fingerprint(h));
    ++m->len;
    if (m->mode == key_mode::varlen) m->varkey_bytes += key_len;
    return COW_OK;
}

// Makes *slot unique for an edit of the entry at index i (which a same-
// layout copy keeps).
// With `vacant`, the copy leaves that entry's value out (see
// copy_same_layout); *copied says whether a copy was made.
cow_status unique_for_entry(flat_map **slot, std::size_t vacant = no_vacancy,
                            bool *copied = nullptr) noexcept {
    flat_map *m = *slot;
    if (copied) *copied = false;
    if (!rep_is_shared(m)) return COW_OK;
    flat_map *c;
    cow_status s = copy_map(m, m->table.cap, false, &c, vacant);
    if (s != COW_OK) return s;
    commit_copy(slot, c);
    if (copied) *copied = true;
    return COW_OK;
}

// Index of the entry for key, or flat_npos. Allocates nothing.
std::size_t map_find(const flat_map *m, const void *key, std::size_t key_len) noexcept {
    std::uint64_t hash;
    return m->find(m, key, key_len, hash);
}

cow_status flat_insert(flat_map **slot, const void *key, std::size_t key_len, const void *value,
                      void *out_old, bool *out_replaced) noexcept {
    std::uint64_t h;
    std::size_t i = (*slot)->find(*slot, key, key_len, h);
    bool replaced = i != flat_npos;
    cow_status s = replaced ? replace_value(slot, i, value, out_old)
                            : insert_new(slot, h, key, key_len, value);
    if (s == COW_OK && out_replaced) *out_replaced = replaced;
    return s;
}

cow_status flat_remove(flat_map **slot, const void *key, std::size_t key_len,
                      void *out_value) noexcept {
    std::size_t i = map_find(*slot, key, key_len);
    if (i == flat_npos) return COW_ENOTFOUND;  // nothing copied, even when shared
    bool copied;
    cow_status s = unique_for_entry(slot, out_value ? no_vacancy : i, &copied);
    if (s != COW_OK) return s;
    flat_map *m = *slot;
    unsigned char *e = map_entry(m, i);
    if (out_value)
        std::memcpy(out_value, e + m->value_offset, m->value_type->elem_size);
    else if (!copied)  // a copy left this value out
        type_drop(m->value_type, e + m->value_offset);
    if (m->mode == key_mode::varlen) {
        std::size_t len = reinterpret_cast<const stored_key *>(e)->len;
        m->varkey_bytes -= len;
        if (len > inline_key_bytes) m->keys.live_bytes -= len;  // its bytes stay behind
    }
    drop_key(m, e);
    erase_slot(m, i);
    return COW_OK;
}

cow_status flat_get_mut(flat_map **slot, const void *key, std::size_t key_len,
                       void **out_value) noexcept {
    std::size_t i = map_find(*slot, key, key_len);
    if (i == flat_npos) return COW_ENOTFOUND;
    cow_status s = unique_for_entry(slot);
    if (s == COW_OK) *out_value = map_value(*slot, i);
    return s;
}

cow_status flat_clear(flat_map **slot) noexcept {
    flat_map *m = *slot;
    if (m->len == 0) return COW_OK;
    if (rep_is_shared(m)) {
        // The copy is empty: nothing to copy element by element.
        flat_map *c = alloc_like(m);
        if (!c) return COW_ENOMEM;
        rep_init_copy(c, m, 0, false);
        *slot = c;
        rep_release(m);
        return COW_OK;
    }
    drop_entries(m);
    std::memset(m->table.ctrl, ctrl_empty, m->table.cap + group_width);
    m->len = 0;
    m->growth_left = limit(m->table.cap);
    m->varkey_bytes = 0;
    key_store_release(m->keys);
    return COW_OK;
}

std::size_t map_next_full(const flat_map *m, std::size_t pos) noexcept {
    const map_table &t = m->table;
    for (std::size_t i = pos; i < t.cap; ++i)
        if (is_full(t.ctrl[i])) return i;
    return flat_npos;
}

// ---- map_impl: the slot functions on map_rep, forwarding to the above ------

template <class Edit>
cow_status on_flat(map_rep **slot, Edit edit) noexcept {
    flat_map *m = as_flat(*slot);
    cow_status s = edit(&m);
    *slot = m;  // unchanged on failure
    return s;
}

cow_status insert(map_rep **slot, const void *key, std::size_t key_len, const void *value,
                  void *out_old, bool *out_replaced) noexcept {
    return on_flat(slot, [&](flat_map **m) {
        return flat_insert(m, key, key_len, value, out_old, out_replaced);
    });
}
cow_status remove(map_rep **slot, const void *key, std::size_t key_len, void *out_value) noexcept {
    return on_flat(slot, [&](flat_map **m) { return flat_remove(m, key, key_len, out_value); });
}
cow_status get_mut(map_rep **slot, const void *key, std::size_t key_len, void **out_value) noexcept {
    return on_flat(slot, [&](flat_map **m) { return flat_get_mut(m, key, key_len, out_value); });
}
cow_status clear(map_rep **slot) noexcept {
    return on_flat(slot, [&](flat_map **m) { return flat_clear(m); });
}

// The cursor's `next` is the slot to look at next.
bool next(const map_rep *r, cow_map_cursor *cursor, const void **out_key, std::size_t *out_key_len,
          const void **out_value) noexcept {
    auto *m = static_cast<const flat_map *>(r);
    std::size_t i = map_next_full(m, cursor->next);
    if (i == flat_npos) {
        cursor->next = m->table.cap;
        return false;
    }
    const void *key;
    std::size_t key_len;
    key_of_entry(m, map_entry(m, i), &key, &key_len);
    if (out_key) *out_key = key;
    if (out_key_len) *out_key_len = key_len;
    if (out_value) *out_value = map_value(m, i);
    cursor->next = i + 1;
    return true;
}

const map_impl flat_impl = {
    {last_handle_released, ops_copy, value_bytes, nullptr, nullptr, COW_REPRESENTATION_FLAT},
    insert, remove, get_mut, clear, next,
};

}  // namespace

const map_impl &flat_map_ops() noexcept { return flat_impl; }

void flat_map_entries(const flat_map *m, const unsigned char **out) noexcept {
    for (std::size_t i = 0; i < m->table.cap; ++i)
        if (is_full(m->table.ctrl[i])) *out++ = map_entry(m, i);
}

cow_status flat_map_new(map_rep **out, const cow_type *key_type, const cow_type *value_type,
                        rep_seed &seed) noexcept {
    flat_map shape{};
    cow_status s = entry_layout(shape, key_type, value_type);
    if (s != COW_OK) return s;
    use_mode_for(shape, shape.mode);
    flat_map *m = alloc_like(&shape);
    if (!m) return COW_ENOMEM;
    rep_init_new(m, COW_KIND_MAP, &flat_impl, seed);
    *out = m;
    return COW_OK;
}

}  // namespace cow::detail
