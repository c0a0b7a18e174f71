// ADAPTIVE maps: flat or tree, chosen at the copies writes make anyway (the
// rule is in ../adaptive.hpp). An ADAPTIVE map's operations are its
// representation's, except the writes, which first ask the rule when the
// map is shared and may make their copy in the other representation.
#include "../adaptive.hpp"
#include "../scratch.hpp"

#include "champ.hpp"
#include "flat.hpp"

namespace cow::detail {
namespace {

// An entry a switched copy leaves out, because the write drops it: its value
// (where the source map holds it) and its key's length.
struct left_out {
    const void *value = nullptr;
    std::size_t key_len = 0;
};

struct map_kind {
    static const map_impl &base_ops(const map_rep *m) noexcept {
        return map_is_tree(m) ? champ_map_ops() : flat_map_ops();
    }
    static bool is_tree(const map_rep *m) noexcept { return map_is_tree(m); }
    static std::uint64_t bytes(const map_rep *m) noexcept { return m->ops->value_bytes(m); }
    static bool fits(const map_rep *, std::size_t) noexcept { return true; }  // one entry more
    static cow_status switched_copy(const map_rep *m, map_rep **out, left_out skip = {}) noexcept;
    static void use_strategy_ops(map_rep *m) noexcept { map_use_strategy_ops(m); }
};

cow_status tree_from_flat(const flat_map *f, map_rep **out, left_out skip, rep_seed &seed) noexcept {
    scratch list(f->len * sizeof(const unsigned char *), alignof(const unsigned char *));
    if (!list.get()) return COW_ENOMEM;
    auto *entries = reinterpret_cast<const unsigned char **>(list.get());
    flat_map_entries(f, entries);
    champ_build_source from{f, entries, f->len, &f->keys, f->varkey_bytes, f->keys.live_bytes};
    if (skip.value) {
        auto *entry = static_cast<const unsigned char *>(skip.value) - f->value_offset;
        std::size_t i = 0;
        while (entries[i] != entry) ++i;
        entries[i] = entries[--from.count];
        if (f->mode == key_mode::varlen) {
            from.varkey_bytes -= skip.key_len;
            if (skip.key_len > inline_key_bytes) from.long_key_bytes -= skip.key_len;
        }
    }
    return champ_map_build(out, from, seed);
}

cow_status flat_from_tree(const map_rep *m, map_rep **out, left_out skip, rep_seed &seed) noexcept {
    *out = nullptr;
    cow_status s = flat_map_new(out, m->key_type, m->value_type, seed);
    cow_map_cursor c{};
    c.size = sizeof c;
    const void *key, *value;
    std::size_t key_len;
    while (s == COW_OK && map_next(m, &c, &key, &key_len, &value))
        if (value != skip.value) s = flat_map_ops().insert(out, key, key_len, value, nullptr, nullptr);
    if (s != COW_OK && *out) rep_release(*out);
    return s;
}

// A unique copy of m in the other representation, outside any lineage
// (keys and values copied by their types, as any copy of a map does),
// without the entry `skip` names. A tree is built in one pass from the
// table's entries; a flat map by inserting the tree's entries.
cow_status map_kind::switched_copy(const map_rep *m, map_rep **out, left_out skip) noexcept {
    rep_seed seed;
    seed.strategy = m->strategy;
    seed.threshold = m->threshold;
    if (map_is_tree(m)) return flat_from_tree(m, out, skip, seed);
    return tree_from_flat(static_cast<const flat_map *>(m), out, skip, seed);
}

template <class Write>
cow_status adaptive_write(map_rep **slot, Write write) noexcept {
    return cow::detail::adaptive_write<map_kind>(slot, write);
}

// A replace or remove that drops the value it replaces (the caller does not
// take it) makes a switched copy without that entry, so the value is never
// copied (cow.h), as a flat copy leaves it out; a replace then inserts the
// key anew. The entry is looked up only then: a switch is rare, and the
// other writes keep their one lookup.
cow_status insert(map_rep **slot, const void *key, std::size_t key_len, const void *value,
                  void *out_old, bool *out_replaced) noexcept {
    auto write = [&](map_rep **s, const map_impl &o) {
        return o.insert(s, key, key_len, value, out_old, out_replaced);
    };
    if (out_old) return adaptive_write(slot, write);
    auto insert_in_copy = [&](const map_rep *m, map_rep **c) {
        const void *old = map_get(m, key, key_len);
        cow_status s = map_kind::switched_copy(m, c, left_out{old, key_len});
        if (s != COW_OK) return s;
        s = map_kind::base_ops(*c).insert(c, key, key_len, value, nullptr, out_replaced);
        if (s != COW_OK) {
            rep_release(*c);
            return s;
        }
        if (old && out_replaced) *out_replaced = true;  // the copy left the old entry out
        return COW_OK;
    };
    return adaptive_write_switching<map_kind>(slot, write, insert_in_copy);
}
// A remove or get_mut of a missing key answers COW_ENOTFOUND and copies
// nothing under any representation: it never reaches the rule.
cow_status remove(map_rep **slot, const void *key, std::size_t key_len, void *out_value) noexcept {
    if (rep_is_shared(*slot) && !map_get(*slot, key, key_len))
        return map_kind::base_ops(*slot).remove(slot, key, key_len, out_value);
    auto write = [&](map_rep **s, const map_impl &o) {
        return o.remove(s, key, key_len, out_value);
    };
    if (out_value) return adaptive_write(slot, write);
    // Only a shared map switches, and a shared map holds the key (above).
    auto remove_in_copy = [&](const map_rep *m, map_rep **c) {
        return map_kind::switched_copy(m, c, left_out{map_get(m, key, key_len), key_len});
    };
    return adaptive_write_switching<map_kind>(slot, write, remove_in_copy);
}
cow_status get_mut(map_rep **slot, const void *key, std::size_t key_len, void **out_value) noexcept {
    if (rep_is_shared(*slot) && !map_get(*slot, key, key_len))
        return map_kind::base_ops(*slot).get_mut(slot, key, key_len, out_value);
    return adaptive_write(slot, [&](map_rep **s, const map_impl &o) {
        return o.get_mut(s, key, key_len, out_value);
    });
}

// The representation's table with the writes above in place of its own.
// clear keeps the representation: converting entries it is about to drop
// would be a pass of its own.
map_impl adaptive_ops(const map_impl &base) noexcept {
    map_impl t = base;
    t.insert = insert;
    t.remove = remove;
    t.get_mut = get_mut;
    return t;
}

}  // namespace

void map_use_strategy_ops(map_rep *m) noexcept {
    if (m->strategy != COW_STRATEGY_ADAPTIVE) return;
    static const map_impl flat = adaptive_ops(flat_map_ops());
    static const map_impl tree = adaptive_ops(champ_map_ops());
    m->ops = map_is_tree(m) ? &tree : &flat;
}

}  // namespace cow::detail
