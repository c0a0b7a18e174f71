// The whole-map calls for every representation: equality, hash, diff and
// entry. Two trees go through their shared-structure walks (champ.hpp);
// anything else looks each key of one map up in the other.
#include "champ.hpp"
#include "entries.hpp"

namespace cow::detail {
namespace {

bool same_types(const map_rep *a, const map_rep *b) noexcept {
    return a->key_type == b->key_type && a->value_type == b->value_type;
}

// Calls f(key, key_len, value) for each entry until it returns true;
// true when it did.
template <class F>
bool each_entry(const map_rep *m, F f) noexcept {
    cow_map_cursor c{};
    c.size = sizeof c;
    const void *key, *value;
    std::size_t key_len;
    while (map_next(m, &c, &key, &key_len, &value))
        if (f(key, key_len, value)) return true;
    return false;
}

}  // namespace

bool map_equal(const map_rep *a, const map_rep *b) noexcept {
    if (!a || !b) return (a ? a->len : 0) == (b ? b->len : 0);
    if (a == b) return true;
    if (!same_types(a, b) || a->len != b->len) return false;
    if (map_is_tree(a) && map_is_tree(b))
        return champ_equal(static_cast<const champ_map *>(a), static_cast<const champ_map *>(b));
    return !each_entry(a, [&](const void *key, std::size_t key_len, const void *value) {
        const void *other = map_get(b, key, key_len);
        return !other || !type_equal(a->value_type, value, other);
    });
}

std::uint64_t map_hash(const map_rep *m) noexcept {
    if (!m) return hash_mix(0);
    // A sum of the entries' hashes: the same whatever their order.
    std::uint64_t sum = 0;
    each_entry(m, [&](const void *key, std::size_t key_len, const void *value) {
        std::uint64_t k = hash_of_key(m, key, key_len), v = type_hash(m->value_type, value);
        sum += hash_mix(k ^ fold_mul(v, 0x9e3779b97f4a7c15ull));
        return false;
    });
    return hash_mix(sum ^ m->len);
}

cow_status map_diff(const map_rep *a, const map_rep *b, cow_map_diff_fn fn, void *ctx,
                    bool *out_stopped) noexcept {
    if (a && b && !same_types(a, b)) return COW_ETYPE;
    bool stopped = false;
    auto report = [&](cow_map_change_t kind, const void *key, std::size_t key_len, const void *old_v,
                      const void *new_v) { return stopped = fn(ctx, kind, key, key_len, old_v, new_v) != 0; };
    if (a == b) {
        // the same map, or both NULL: no difference
    } else if (a && b && map_is_tree(a) && map_is_tree(b)) {
        stopped = champ_diff(static_cast<const champ_map *>(a), static_cast<const champ_map *>(b), fn, ctx);
    } else {
        bool stop = a && each_entry(a, [&](const void *key, std::size_t key_len, const void *value) {
            const void *other = b ? map_get(b, key, key_len) : nullptr;
            if (!other) return report(COW_MAP_REMOVED, key, key_len, value, nullptr);
            return !type_equal(a->value_type, value, other) &&
                   report(COW_MAP_CHANGED, key, key_len, value, other);
        });
        if (!stop && b)
            each_entry(b, [&](const void *key, std::size_t key_len, const void *value) {
                return !(a && map_get(a, key, key_len)) && report(COW_MAP_ADDED, key, key_len, nullptr, value);
            });
    }
    if (out_stopped) *out_stopped = stopped;
    return COW_OK;
}

cow_status map_entry(map_rep **slot, const void *key, std::size_t key_len, const void *init_value,
                     void **out_value, bool *out_inserted) noexcept {
    bool inserted = false;
    if (!map_get(*slot, key, key_len)) {
        cow_status s = map_insert(slot, key, key_len, init_value, nullptr, nullptr);
        if (s != COW_OK) return s;
        inserted = true;
    }
    // After an insert the map is this slot's alone (its copy, or in place),
    // so this finds a private path and copies nothing, unless the value
    // inserted holds the map itself: then undo the insert on failure.
    cow_status s = map_get_mut(slot, key, key_len, out_value);
    if (s != COW_OK) {
        if (inserted) map_remove(slot, key, key_len, nullptr);
        return s;
    }
    if (out_inserted) *out_inserted = inserted;
    return COW_OK;
}

}  // namespace cow::detail
