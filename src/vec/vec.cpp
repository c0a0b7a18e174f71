// vec_new, vec_slice and vec_concat: the one place that knows every vector
// representation.
#include "vec.hpp"

#include "../alloc.hpp"
#include "../scratch.hpp"
#include "flat.hpp"
#include "tree.hpp"

namespace cow::detail {

cow_status vec_new(vec_rep **out, const cow_type *t, const void *elems, std::size_t count,
                   std::size_t capacity, const cow_options *options) noexcept {
    // A size that no representation could hold is refused before anything
    // is allocated (the flat bound: one block of count elements).
    std::size_t cap = capacity > count ? capacity : count;
    if (cap > max_alloc / t->elem_size) return COW_EOVERFLOW;
    rep_seed seed;
    cow_status s = seed_from_options(options, seed, true);
    if (s != COW_OK) return s;
    if (seed.strategy == COW_STRATEGY_STRUCTURAL)
        s = tree_vec_new(out, t, elems, count, seed);  // no capacity to reserve
    else
        s = flat_vec_new(out, t, elems, count, capacity, seed);  // ADAPTIVE starts flat
    if (s != COW_OK) {
        seed_discard(seed);
        return s;
    }
    vec_use_strategy_ops(*out);
    return COW_OK;
}

cow_status vec_slice(vec_rep **out, const vec_rep *v, std::size_t offset, std::size_t len) noexcept {
    rep_seed seed;
    cow_status s = seed_like(v, seed);
    if (s != COW_OK) return s;
    if (vec_is_flat(v))
        s = flat_vec_new(out, v->type, v->flat + offset * v->elem_size, len, 0, seed);
    else
        s = tree_vec_slice(out, static_cast<const tree_vec *>(v), offset, len, seed);
    if (s != COW_OK) {
        seed_discard(seed);
        return s;
    }
    vec_use_strategy_ops(*out);
    return COW_OK;
}

namespace {

// Bit-wise images of other's elements, one contiguous run, for a call that
// copies them in with the type's copy: copying from an image of a live
// element is copying from the element (elements move with memcpy).
class contiguous_view {
public:
    explicit contiguous_view(const vec_rep *v) noexcept
        : images_(vec_is_flat(v) ? 0 : v->len * v->elem_size, v->type->elem_align) {
        if (vec_is_flat(v)) {
            data_ = v->flat;
            return;
        }
        data_ = images_.get();
        if (!data_) return;
        cow_vec_cursor c{};
        const void *span;
        std::size_t n, at = 0;
        while (vec_next_span(v, &c, &span, &n)) {
            std::memcpy(images_.get() + at * v->elem_size, span, n * v->elem_size);
            at += n;
        }
    }
    const unsigned char *data() const noexcept { return data_; }  // nullptr: out of memory

private:
    scratch images_;
    const unsigned char *data_ = nullptr;
};

}  // namespace

cow_status vec_concat(vec_rep **slot, const vec_rep *other) noexcept {
    vec_rep *v = *slot;
    if (v->type != other->type) return COW_ETYPE;
    std::size_t total;
    if (!add_size(v->len, other->len, total) || total > max_alloc / v->elem_size)
        return COW_EOVERFLOW;
    if (other->len == 0) return COW_OK;
    // Two trees join; a tree whose elements all sit in its tail (at most a
    // leaf) is appended element by element, as is anything into a flat vector.
    if (!vec_is_flat(v) && !vec_is_flat(other) && static_cast<const tree_vec *>(other)->root)
        return tree_vec_concat(slot, static_cast<const tree_vec *>(other));
    contiguous_view elems(other);
    if (!elems.data()) return COW_ENOMEM;
    return vec_insert(slot, v->len, elems.data(), other->len);
}

}  // namespace cow::detail
