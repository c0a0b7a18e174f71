// The flat vector representation: one aligned block of elements. A write to
// a shared flat vector builds the final copy in one storage allocation; a
// write to a unique one happens in place.
#pragma once
#include <cstddef>

#include "vec.hpp"

namespace cow::detail {

struct flat_vec : vec_rep {
    void *block;             // the storage's own block; nullptr: none (flat is a static
                             // empty area, or lies in the header's block)
    std::size_t block_size;  // bytes allocated at block
    std::size_t header_room; // bytes allocated after the header, in its block, for storage
};

// vec_new for the flat representation; consumes the seed on success.
cow_status flat_vec_new(vec_rep **out, const cow_type *t, const void *elems, std::size_t count,
                        std::size_t capacity, rep_seed &seed) noexcept;

// The most elements a flat vector of type t can hold.
std::size_t flat_vec_max_len(const cow_type *t) noexcept;

// The flat representation's operations (ADAPTIVE vectors wrap them).
const vec_impl &flat_vec_ops() noexcept;

}  // namespace cow::detail
