// vec_new: the one place that knows every vector representation.
#include "vec.hpp"

#include "flat.hpp"

namespace cow::detail {

cow_status vec_new(vec_rep **out, const cow_type *t, const void *elems, std::size_t count,
                   std::size_t capacity, const cow_options *options) noexcept {
    return flat_vec_new(out, t, elems, count, capacity, options);
}

}  // namespace cow::detail
