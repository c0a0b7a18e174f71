#include "map.hpp"

#include <bit>
#include <cstring>
#include <new>
#include <type_traits>

#include "alloc.hpp"
#include "hash.hpp"
#include "scratch.hpp"
#include "type.hpp"

namespace cow::detail {
namespace {

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
inline const unsigned char *probe_find(const map_rep *m, std::uint64_t h, Eq eq,
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
// Built-in word keys get an inline, process-seeded mix instead of the
// general byte hash: their lookups are bound by the length of this chain.
inline std::uint64_t word_hash(std::uint64_t w, std::uint64_t seed) noexcept {
    return fold_mul(fold_mul(w ^ seed, 0xd6e8feb86659fd93ull) ^ seed, 0x9e3779b97f4a7c15ull);
}

// The hash of a key (a probe, or a stored key: a stored varkey hashes like
// a borrowed one), with the process seed read once per map. A type's own
// hash is mixed once more: both halves of the result are used and a user
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
    case key_mode::varlen: {  // what the built-in varkey hash does
        varkey k;
        std::memcpy(&k, key, sizeof k);
        return hash_bytes(k.data, k.len, m->seed);
    }
    case key_mode::bytes: break;
    case key_mode::custom:
        if (kt->hash) return fold_mul(kt->hash(kt->ctx, key, m->seed), 0x9e3779b97f4a7c15ull);
        break;
    }
    return hash_bytes(key, kt->elem_size, m->seed);
}

// Finds key: its entry (or nullptr), index and hash (needed to insert it
// when absent). Specialised per key mode so the common lookups stay short.
template <key_mode M>
[[gnu::always_inline]] inline const unsigned char *lookup_as(const map_rep *m, const void *key,
                                                             std::size_t key_len, std::uint64_t &h,
                                                             std::size_t &index) noexcept {
    if constexpr (M == key_mode::varlen) {
        // A borrowed varkey: the lookup allocates nothing.
        varkey probe{static_cast<const char *>(key), key_len};
        h = key_hash(m, &probe);
        return probe_find(
            m, h,
            [&](const unsigned char *e) {
                varkey k;
                std::memcpy(&k, e, sizeof k);
                return k.len == key_len && same_bytes(k.data, static_cast<const char *>(key), key_len);
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
std::size_t find_as(const map_rep *m, const void *key, std::size_t key_len,
                    std::uint64_t &h) noexcept {
    std::size_t index = map_npos;
    lookup_as<M>(m, key, key_len, h, index);
    return index;
}

template <key_mode M>
const void *get_as(const map_rep *m, const void *key, std::size_t key_len) noexcept {
    std::uint64_t h;
    std::size_t index;
    const unsigned char *e = lookup_as<M>(m, key, key_len, h, index);
    return e ? e + m->value_offset : nullptr;
}

// The lookup functions for a key mode, chosen once when the map is made.
template <key_mode M>
void use_mode(map_rep &m) noexcept {
    m.find = find_as<M>;
    m.get = get_as<M>;
}
void use_mode_for(map_rep &m, key_mode mode) noexcept {
    switch (mode) {
    case key_mode::varlen: return use_mode<key_mode::varlen>(m);
    case key_mode::word8: return use_mode<key_mode::word8>(m);
    case key_mode::word4: return use_mode<key_mode::word4>(m);
    case key_mode::bytes: return use_mode<key_mode::bytes>(m);
    case key_mode::custom: break;
    }
    use_mode<key_mode::custom>(m);
}

// ---- storage ---------------------------------------------------------------
std::size_t entry_align(const map_rep *m) noexcept {
    std::size_t ka = m->key_type->elem_align, va = m->value_type->elem_align;
    return ka > va ? ka : va;
}

std::size_t round_up(std::size_t n, std::size_t align) noexcept {
    return (n + align - 1) & ~(align - 1);
}

// A table of `cap` EMPTY slots (cap > 0, a multiple of 8). The allocator's
// alignment is not assumed: the slots are aligned inside the block.
cow_status alloc_table(const map_rep *m, std::size_t cap, map_table &out) noexcept {
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

void drop_entry(const map_rep *m, unsigned char *e) noexcept {
    type_drop(m->key_type, e);
    type_drop(m->value_type, e + m->value_offset);
}

void drop_entries(map_rep *m) noexcept {
    if (!m->needs_drop || m->len == 0) return;
    const map_table &t = m->table;
    for (std::size_t i = 0; i < t.cap; ++i)
        if (is_full(t.ctrl[i])) drop_entry(m, map_entry(m, i));
}

std::size_t value_bytes(const rep *r) noexcept {
    auto *m = static_cast<const map_rep *>(r);
    return m->len * (m->key_type->elem_size + m->value_type->elem_size) + m->varkey_bytes;
}


// Raw memory for a map_rep with the shape (types, layout) of `like`, not
// yet initialised as a rep.
map_rep *alloc_like(const map_rep *like) noexcept {
    void *mem = mem_alloc(sizeof(map_rep));
    if (!mem) return nullptr;
    auto *m = new (mem) map_rep();
    m->table = map_table{};
    m->len = m->growth_left = m->varkey_bytes = 0;
    m->entry_size = like->entry_size;
    m->value_offset = like->value_offset;
    m->mode = like->mode;
    m->plain_copy = like->plain_copy;
    m->needs_drop = like->needs_drop;
    m->key_type = like->key_type;
    m->value_type = like->value_type;
    m->seed = like->seed;
    m->find = like->find;
    m->get = like->get;
    return m;
}

void free_unregistered(map_rep *m) noexcept {
    free_table(m->table);
    m->~map_rep();
    mem_free(m, sizeof(map_rep));
}

void last_handle_released(rep *r) noexcept {
    map_rep *m = as_map(r);
    drop_entries(m);
    free_table(m->table);
    rep_retire(m);
    m->~map_rep();
    mem_free(m, sizeof(map_rep));
}

// Copies key and value of src's entry into dst's slot (uninitialised).
cow_status copy_entry(const map_rep *src, const unsigned char *from, unsigned char *to) noexcept {
    cow_status s = type_copy_key(src->key_type, to, from);
    if (s != COW_OK) return s;
    s = type_copy(src->value_type, to + src->value_offset, from + src->value_offset);
    if (s != COW_OK) type_drop(src->key_type, to);
    return s;
}

// "No entry": a copy where every value is copied.
constexpr std::size_t no_vacancy = ~std::size_t{0};

// Same capacity: control bytes verbatim, each entry copied to its own index.
// The value of entry `vacant` is not copied: the caller is about to replace
// or remove it, and copying it only to drop it would count a clone that no
// handle ever sees. The caller fills or removes that slot before anything
// reads it.
cow_status copy_same_layout(const map_rep *src, map_rep *c, std::size_t vacant) noexcept {
    const map_table &from = src->table;
    std::memcpy(c->table.ctrl, from.ctrl, from.cap + group_width);
    if (src->plain_copy) {
        std::memcpy(c->table.slots, from.slots, from.cap * src->entry_size);
    } else {
        for (std::size_t i = 0; i < from.cap; ++i) {
            if (!is_full(from.ctrl[i])) continue;
            const unsigned char *e = map_entry(src, i);
            cow_status s = i == vacant ? type_copy_key(src->key_type, map_entry(c, i), e)
                                       : copy_entry(src, e, map_entry(c, i));
            if (s != COW_OK) {
                for (std::size_t j = 0; j < i; ++j) {
                    if (!is_full(from.ctrl[j])) continue;
                    if (j == vacant) type_drop(c->key_type, map_entry(c, j));
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
cow_status copy_rehashed(const map_rep *src, map_rep *c) noexcept {
    const map_table &from = src->table;
    for (std::size_t i = 0; i < from.cap; ++i) {
        if (!is_full(from.ctrl[i])) continue;
        const unsigned char *e = map_entry(src, i);
        std::uint64_t h = key_hash(src, e);
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

// A private copy of src with `cap` slots, not yet initialised as a rep: the
// same layout when the capacity is src's and no rehash is asked for (to
// drop tombstones), else every key rehashed.
cow_status copy_map(const map_rep *src, std::size_t cap, bool rehashed, map_rep **out,
                     std::size_t vacant = no_vacancy) noexcept {
    map_rep *c = alloc_like(src);
    if (!c) return COW_ENOMEM;
    cow_status s = COW_OK;
    if (cap) {
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
    *out = c;
    return COW_OK;
}

cow_status ops_copy(const rep *r, rep **out) noexcept {
    auto *m = static_cast<const map_rep *>(r);
    map_rep *c;
    cow_status s = copy_map(m, m->table.cap, false, &c);
    if (s == COW_OK) *out = c;
    return s;
}

// Registers the copy c of *slot, stores it in the slot, drops the original.
void commit_copy(map_rep **slot, map_rep *c) noexcept {
    map_rep *old = *slot;
    rep_init_copy(c, old, value_bytes(old), false);
    *slot = c;
    rep_release(old);
}

// Moves every entry of a unique map into a fresh table of `cap` slots.
cow_status rehash(map_rep *m, std::size_t cap) noexcept {
    map_table fresh;
    cow_status s = alloc_table(m, cap, fresh);
    if (s != COW_OK) return s;
    const map_table &old = m->table;
    for (std::size_t i = 0; i < old.cap; ++i) {
        if (!is_full(old.ctrl[i])) continue;
        unsigned char *e = map_entry(m, i);
        std::uint64_t h = key_hash(m, e);
        std::size_t j = find_free(fresh, h);
        std::memcpy(fresh.slots + j * m->entry_size, e, m->entry_size);
        set_ctrl(fresh, j, fingerprint(h));
    }
    free_table(m->table);
    m->table = fresh;
    m->growth_left = limit(cap) - m->len;
    return COW_OK;
}

// The capacity to rehash into when no EMPTY slot may be used: the same one
// when tombstones hold at least a quarter of the room (the rehash then buys
// that many inserts), else half as large again (growing by half, not by
// double, keeps memory per entry low at every size). 0 on overflow.
std::size_t next_capacity(const map_rep *m) noexcept {
    std::size_t cap = m->table.cap;
    if (cap == 0) return group_width;
    if (m->len <= limit(cap) / 4 * 3) return cap;
    if (cap > max_alloc / 2) return 0;
    return round_up(cap + cap / 2, group_width);
}

// A slot: EMPTY when no run of group_width non-empty slots contains it (no
// probe can have passed it), else DELETED so that probes go on.
void erase_slot(map_rep *m, std::size_t i) noexcept {
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

cow_status replace_value(map_rep **slot, std::size_t i, const void *value, void *out_old) noexcept {
    map_rep *m = *slot;
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
        map_rep *c;
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

cow_status insert_new(map_rep **slot, std::uint64_t h, const void *key, std::size_t key_len,
                      const void *value) noexcept {
    map_rep *m = *slot;
    const cow_type *kt = m->key_type, *vt = m->value_type;
    // 1. Copy key and value (the only steps that may call user code).
    scratch entry(m->entry_size, entry_align(m));
    if (!entry.get()) return COW_ENOMEM;
    varkey probe{static_cast<const char *>(key), key_len};
    cow_status s = type_copy_key(kt, entry.get(), m->mode == key_mode::varlen ? &probe : key);
    if (s != COW_OK) return s;
    s = type_copy(vt, entry.get() + m->value_offset, value);
    if (s != COW_OK) {
        type_drop(kt, entry.get());
        return s;
    }
    // 2. Make room: a private copy if shared, a bigger table if full.
    std::size_t cap = m->table.cap;
    bool full = m->growth_left == 0 &&
                (cap == 0 || m->table.ctrl[find_free(m->table, h)] == ctrl_empty);
    if (full) cap = next_capacity(m);
    if (cap == 0) {
        s = COW_EOVERFLOW;
    } else if (rep_is_shared(m)) {
        map_rep *c;
        s = copy_map(m, cap, full, &c);
        if (s == COW_OK) {
            commit_copy(slot, c);
            m = c;
        }
    } else if (full) {
        s = rehash(m, cap);
    }
    if (s != COW_OK) {
        drop_entry(m, entry.get());
        return s;
    }
    // 3. Place it: nothing can fail from here on.
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
cow_status unique_for_entry(map_rep **slot, std::size_t vacant = no_vacancy,
                            bool *copied = nullptr) noexcept {
    map_rep *m = *slot;
    if (copied) *copied = false;
    if (!rep_is_shared(m)) return COW_OK;
    map_rep *c;
    cow_status s = copy_map(m, m->table.cap, false, &c, vacant);
    if (s != COW_OK) return s;
    commit_copy(slot, c);
    if (copied) *copied = true;
    return COW_OK;
}

key_mode mode_for(const cow_type *kt) noexcept {
    if (type_is_varlen(kt)) return key_mode::varlen;
    if (kt->equal || kt->hash) return key_mode::custom;
    if (kt->elem_size == 8) return key_mode::word8;
    if (kt->elem_size == 4) return key_mode::word4;
    return key_mode::bytes;
}

}  // namespace

const rep_ops map_ops = {last_handle_released, ops_copy, value_bytes, nullptr, nullptr,
                         COW_REPRESENTATION_FLAT};

cow_status map_new(map_rep **out, const cow_type *key_type, const cow_type *value_type,
                   const cow_options *options) noexcept {
    // Entry layout: key, then the value at its alignment; entries aligned
    // for both.
    std::size_t ka = key_type->elem_align, va = value_type->elem_align;
    std::size_t align = ka > va ? ka : va;
    std::size_t value_offset = round_up(key_type->elem_size, va);
    std::size_t end, entry_size;
    if (!add_size(value_offset, value_type->elem_size, end) || !add_size(end, align - 1, entry_size))
        return COW_EOVERFLOW;
    entry_size = round_up(end, align);

    rep_seed seed;
    cow_status s = seed_from_options(options, seed);
    if (s != COW_OK) return s;
    map_rep shape{};
    shape.entry_size = entry_size;
    shape.value_offset = value_offset;
    shape.mode = mode_for(key_type);
    use_mode_for(shape, shape.mode);
    shape.plain_copy = !key_type->copy && !value_type->copy;
    shape.needs_drop = key_type->drop || value_type->drop;
    shape.key_type = key_type;
    shape.value_type = value_type;
    shape.seed = process_seed();
    map_rep *m = alloc_like(&shape);
    if (!m) {
        seed_discard(seed);
        return COW_ENOMEM;
    }
    rep_init_new(m, COW_KIND_MAP, &map_ops, seed);
    *out = m;
    return COW_OK;
}

cow_status map_insert(map_rep **slot, const void *key, std::size_t key_len, const void *value,
                      void *out_old, bool *out_replaced) noexcept {
    std::uint64_t h;
    std::size_t i = (*slot)->find(*slot, key, key_len, h);
    bool replaced = i != map_npos;
    cow_status s = replaced ? replace_value(slot, i, value, out_old)
                            : insert_new(slot, h, key, key_len, value);
    if (s == COW_OK && out_replaced) *out_replaced = replaced;
    return s;
}

cow_status map_remove(map_rep **slot, const void *key, std::size_t key_len,
                      void *out_value) noexcept {
    std::size_t i = map_find(*slot, key, key_len);
    if (i == map_npos) return COW_ENOTFOUND;  // nothing copied, even when shared
    bool copied;
    cow_status s = unique_for_entry(slot, out_value ? no_vacancy : i, &copied);
    if (s != COW_OK) return s;
    map_rep *m = *slot;
    unsigned char *e = map_entry(m, i);
    if (out_value)
        std::memcpy(out_value, e + m->value_offset, m->value_type->elem_size);
    else if (!copied)  // a copy left this value out
        type_drop(m->value_type, e + m->value_offset);
    if (m->mode == key_mode::varlen) {
        varkey k;
        std::memcpy(&k, e, sizeof k);
        m->varkey_bytes -= k.len;
    }
    type_drop(m->key_type, e);
    erase_slot(m, i);
    return COW_OK;
}

cow_status map_get_mut(map_rep **slot, const void *key, std::size_t key_len,
                       void **out_value) noexcept {
    std::size_t i = map_find(*slot, key, key_len);
    if (i == map_npos) return COW_ENOTFOUND;
    cow_status s = unique_for_entry(slot);
    if (s == COW_OK) *out_value = map_value(*slot, i);
    return s;
}

cow_status map_clear(map_rep **slot) noexcept {
    map_rep *m = *slot;
    if (m->len == 0) return COW_OK;
    if (rep_is_shared(m)) {
        // The copy is empty: nothing to copy element by element.
        map_rep *c = alloc_like(m);
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
    return COW_OK;
}

std::size_t map_next_full(const map_rep *m, std::size_t pos) noexcept {
    const map_table &t = m->table;
    for (std::size_t i = pos; i < t.cap; ++i)
        if (is_full(t.ctrl[i])) return i;
    return map_npos;
}

void map_key_at(const map_rep *m, std::size_t i, const void **key, std::size_t *key_len) noexcept {
    const unsigned char *e = map_entry(m, i);
    if (m->mode == key_mode::varlen) {
        varkey k;
        std::memcpy(&k, e, sizeof k);
        *key = k.data;
        *key_len = k.len;
    } else {
        *key = e;
        *key_len = m->key_type->elem_size;
    }
}

}  // namespace cow::detail
