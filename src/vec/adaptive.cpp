// ADAPTIVE vectors: flat or tree, chosen at the copies writes make anyway
// (the rule is in ../adaptive.hpp). An ADAPTIVE vector's operations are its
// representation's, except the writes, which first ask the rule when the
// value is shared and may make their copy in the other representation.
#include "../adaptive.hpp"
#include "../alloc.hpp"

#include "flat.hpp"
#include "tree.hpp"

namespace cow::detail {
namespace {

struct vec_kind {
    static const vec_impl &base_ops(const vec_rep *v) noexcept {
        return vec_is_flat(v) ? flat_vec_ops() : tree_vec_ops();
    }
    static bool is_tree(const vec_rep *v) noexcept { return !vec_is_flat(v); }
    static std::uint64_t bytes(const vec_rep *v) noexcept { return v->len * v->elem_size; }
    static bool fits(const vec_rep *v, std::size_t growth) noexcept {
        std::size_t len;
        return add_size(v->len, growth, len) && len <= flat_vec_max_len(v->type);
    }
    static cow_status switched_copy(const vec_rep *v, vec_rep **out) noexcept;
    static void use_strategy_ops(vec_rep *v) noexcept { vec_use_strategy_ops(v); }
};

// A unique copy of v in the other representation, outside any lineage.
cow_status vec_kind::switched_copy(const vec_rep *v, vec_rep **out) noexcept {
    rep_seed seed;
    seed.strategy = v->strategy;
    seed.threshold = v->threshold;
    if (vec_is_flat(v)) return tree_vec_new(out, v->type, v->flat, v->len, seed);
    cow_status s = flat_vec_new(out, v->type, nullptr, 0, v->len, seed);
    if (s != COW_OK) return s;
    cow_vec_cursor c{};
    c.size = sizeof c;
    const void *span;
    std::size_t n;
    while (s == COW_OK && vec_next_span(v, &c, &span, &n))
        s = flat_vec_ops().insert(out, (*out)->len, span, n);  // room reserved: no reallocation
    if (s != COW_OK) rep_release(*out);
    return s;
}

template <class Write>
cow_status adaptive_write(vec_rep **slot, Write write, std::size_t growth = 0,
                          bool stay_flat = false) noexcept {
    return cow::detail::adaptive_write<vec_kind>(slot, write, growth, stay_flat);
}

cow_status get_mut(vec_rep **slot, std::size_t index, void **out_elem) noexcept {
    return adaptive_write(slot, [&](vec_rep **s, const vec_impl &o) {
        return o.get_mut(s, index, out_elem);
    });
}
// Writes that change nothing (no element inserted or removed) copy nothing
// under any representation: they never reach the rule.
cow_status insert(vec_rep **slot, std::size_t at, const void *elems, std::size_t count) noexcept {
    if (count == 0) return vec_kind::base_ops(*slot).insert(slot, at, elems, count);
    return adaptive_write(
        slot, [&](vec_rep **s, const vec_impl &o) { return o.insert(s, at, elems, count); }, count);
}
cow_status push(vec_rep **slot, const void *elem) noexcept {
    return adaptive_write(slot, [&](vec_rep **s, const vec_impl &o) { return o.push(s, elem); }, 1);
}
cow_status remove(vec_rep **slot, std::size_t at, std::size_t count, void *out) noexcept {
    if (count == 0) return vec_kind::base_ops(*slot).remove(slot, at, count, out);
    return adaptive_write(slot, [&](vec_rep **s, const vec_impl &o) {
        return o.remove(s, at, count, out);
    });
}
cow_status set(vec_rep **slot, std::size_t index, const void *elem, void *out_old) noexcept {
    return adaptive_write(slot, [&](vec_rep **s, const vec_impl &o) {
        return o.set(s, index, elem, out_old);
    });
}
cow_status reserve(vec_rep **slot, std::size_t additional) noexcept {
    return adaptive_write(
        slot, [&](vec_rep **s, const vec_impl &o) { return o.reserve(s, additional); }, additional);
}
cow_status make_mut(vec_rep **slot, void **out_data) noexcept {
    return adaptive_write(
        slot, [&](vec_rep **s, const vec_impl &o) { return o.make_mut(s, out_data); }, 0,
        out_data != nullptr);
}

// The representation's table with the writes above in place of its own.
vec_impl adaptive_ops(const vec_impl &base) noexcept {
    vec_impl t = base;
    t.get_mut = get_mut;
    t.insert = insert;
    t.push = push;
    t.remove = remove;
    t.set = set;
    t.reserve = reserve;
    t.make_mut = make_mut;
    return t;
}

}  // namespace

void vec_use_strategy_ops(vec_rep *v) noexcept {
    if (v->strategy != COW_STRATEGY_ADAPTIVE) return;
    static const vec_impl flat = adaptive_ops(flat_vec_ops());
    static const vec_impl tree = adaptive_ops(tree_vec_ops());
    v->ops = vec_is_flat(v) ? &flat : &tree;
}

}  // namespace cow::detail
