// vec_new: the one place that knows every vector representation.
#include "vec.hpp"

#include "../alloc.hpp"
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
        s = flat_vec_new(out, t, elems, count, capacity, seed);
    if (s != COW_OK) seed_discard(seed);
    return s;
}

}  // namespace cow::detail
