// Equality and differences of two tree maps, walking both tries at once.
// Equal maps have tries of the same shape (the shape depends only on the
// keys: see champ.hpp), so a walk compares node with node, skips every node
// both versions hold, and reads only the parts that differ.
#include "champ_nodes.hpp"

namespace cow::detail {
namespace {

// Whether the entries hold equal keys.
bool same_key(const champ_map *m, const unsigned char *x, const unsigned char *y) noexcept {
    const void *key;
    std::size_t key_len;
    key_of_entry(m, y, &key, &key_len);
    return has_key(m, x, key, key_len);
}

bool same_value(const champ_map *m, const unsigned char *x, const unsigned char *y) noexcept {
    return type_equal(m->value_type, x + m->value_offset, y + m->value_offset);
}

// The entry of the subtree under n (at depth d) with e's key, or nullptr.
const unsigned char *find_like(const champ_map *m, const champ_node *n, unsigned d,
                               const unsigned char *e) noexcept {
    std::uint64_t h = entry_hash(m, e);
    for (;; ++d) {
        COW_TREE_COUNT(visits);
        if (d == champ_levels) {
            for (std::uint32_t i = 0; i < n->datamap; ++i)
                if (same_key(m, entry_at(m, n, i), e)) return entry_at(m, n, i);
            return nullptr;
        }
        std::uint32_t bit = slot_bit(h, d);
        if (n->nodemap & bit) {
            n = children(m, n)[index_below(n->nodemap, bit)];
            continue;
        }
        if (!(n->datamap & bit)) return nullptr;
        const unsigned char *x = entry_at(m, n, index_below(n->datamap, bit));
        return same_key(m, x, e) ? x : nullptr;
    }
}

bool nodes_equal(const champ_map *m, const champ_node *x, const champ_node *y, unsigned d) noexcept {
    if (x == y) return true;
    COW_TREE_COUNT(visits);
    if (d == champ_levels) {  // lists of keys with equal hashes, in any order
        if (x->datamap != y->datamap) return false;
        for (std::uint32_t i = 0; i < x->datamap; ++i) {
            const unsigned char *e = entry_at(m, x, i), *f = find_like(m, y, d, e);
            if (!f || !same_value(m, e, f)) return false;
        }
        return true;
    }
    if (x->datamap != y->datamap || x->nodemap != y->nodemap) return false;
    for (std::uint32_t i = 0, n = entry_count(x); i < n; ++i) {
        const unsigned char *e = entry_at(m, x, i), *f = entry_at(m, y, i);
        if (!same_key(m, e, f) || !same_value(m, e, f)) return false;
    }
    champ_node *const *cx = children(m, x), *const *cy = children(m, y);
    for (std::uint32_t k = 0, n = child_count(x); k < n; ++k)
        if (!nodes_equal(m, cx[k], cy[k], d + 1)) return false;
    return true;
}

struct differ {
    const champ_map *m;
    cow_map_diff_fn fn;
    void *ctx;
    bool stopped = false;

    // Reports one key (old from a, new from b; either may be absent).
    bool report(cow_map_change_t kind, const unsigned char *old_e, const unsigned char *new_e) noexcept {
        if (stopped) return true;
        const void *key;
        std::size_t key_len;
        key_of_entry(m, old_e ? old_e : new_e, &key, &key_len);
        const void *ov = old_e ? old_e + m->value_offset : nullptr;
        const void *nv = new_e ? new_e + m->value_offset : nullptr;
        stopped = fn(ctx, kind, key, key_len, ov, nv) != 0;
        return stopped;
    }

    // Every entry of a subtree, but `skip`, as added (from b) or removed (from a).
    bool all(const champ_node *n, bool from_a, const unsigned char *skip = nullptr) noexcept {
        COW_TREE_COUNT(visits);
        for (std::uint32_t i = 0, c = entry_count(n); i < c; ++i) {
            const unsigned char *e = entry_at(m, n, i);
            if (e == skip) continue;
            if (from_a ? report(COW_MAP_REMOVED, e, nullptr) : report(COW_MAP_ADDED, nullptr, e))
                return true;
        }
        champ_node *const *kids = children(m, n);
        for (std::uint32_t k = 0, c = child_count(n); k < c; ++k)
            if (all(kids[k], from_a, skip)) return true;
        return false;
    }

    // One side has entry e in a slot where the other has the subtree n.
    bool entry_and_subtree(const unsigned char *e, bool e_from_a, const champ_node *n, unsigned d) noexcept {
        const unsigned char *f = find_like(m, n, d, e);
        if (!f) {
            if (e_from_a ? report(COW_MAP_REMOVED, e, nullptr) : report(COW_MAP_ADDED, nullptr, e))
                return true;
        } else if (!same_value(m, e, f)) {
            if (e_from_a ? report(COW_MAP_CHANGED, e, f) : report(COW_MAP_CHANGED, f, e)) return true;
        }
        return all(n, !e_from_a, f);
    }

    bool nodes(const champ_node *x, const champ_node *y, unsigned d) noexcept {
        if (x == y) return false;
        COW_TREE_COUNT(visits);
        if (d == champ_levels) {
            for (std::uint32_t i = 0; i < x->datamap; ++i) {
                const unsigned char *e = entry_at(m, x, i), *f = find_like(m, y, d, e);
                bool stop = !f ? report(COW_MAP_REMOVED, e, nullptr)
                               : !same_value(m, e, f) && report(COW_MAP_CHANGED, e, f);
                if (stop) return true;
            }
            for (std::uint32_t i = 0; i < y->datamap; ++i) {
                const unsigned char *f = entry_at(m, y, i);
                if (!find_like(m, x, d, f) && report(COW_MAP_ADDED, nullptr, f)) return true;
            }
            return false;
        }
        for (std::uint32_t s = 0; s < champ_slots; ++s) {
            std::uint32_t bit = 1u << s;
            const unsigned char *ex = x->datamap & bit ? entry_at(m, x, index_below(x->datamap, bit)) : nullptr;
            const unsigned char *ey = y->datamap & bit ? entry_at(m, y, index_below(y->datamap, bit)) : nullptr;
            const champ_node *cx = x->nodemap & bit ? children(m, x)[index_below(x->nodemap, bit)] : nullptr;
            const champ_node *cy = y->nodemap & bit ? children(m, y)[index_below(y->nodemap, bit)] : nullptr;
            bool stop = false;
            if (ex && ey) {
                if (!same_key(m, ex, ey))
                    stop = report(COW_MAP_REMOVED, ex, nullptr) || report(COW_MAP_ADDED, nullptr, ey);
                else if (!same_value(m, ex, ey))
                    stop = report(COW_MAP_CHANGED, ex, ey);
            } else if (ex && cy) {
                stop = entry_and_subtree(ex, true, cy, d + 1);
            } else if (cx && ey) {
                stop = entry_and_subtree(ey, false, cx, d + 1);
            } else if (cx && cy) {
                stop = nodes(cx, cy, d + 1);
            } else if (ex) {
                stop = report(COW_MAP_REMOVED, ex, nullptr);
            } else if (cx) {
                stop = all(cx, true);
            } else if (ey) {
                stop = report(COW_MAP_ADDED, nullptr, ey);
            } else if (cy) {
                stop = all(cy, false);
            }
            if (stop) return true;
        }
        return false;
    }
};

}  // namespace

bool champ_equal(const champ_map *a, const champ_map *b) noexcept {
    if (a->len != b->len) return false;
    if (!a->root || !b->root) return a->root == b->root;
    return nodes_equal(a, a->root, b->root, 0);
}

bool champ_diff(const champ_map *a, const champ_map *b, cow_map_diff_fn fn, void *ctx) noexcept {
    differ d{a, fn, ctx};
    if (a->root && b->root) return d.nodes(a->root, b->root, 0);
    if (a->root) return d.all(a->root, true);
    if (b->root) return d.all(b->root, false);
    return false;
}

}  // namespace cow::detail
