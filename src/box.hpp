// The box representation behind cow_box: one value of a user cow_type,
// stored in the same block as its header (after it, aligned).
#pragma once
#include <cstddef>

#include "rep.hpp"

namespace cow::detail {

struct box_rep : rep {
    const cow_type *type;
    unsigned char *value;    // inside this block, aligned to type->elem_align
    std::size_t block_size;  // bytes allocated for header and value
};

extern const rep_ops box_ops;

inline box_rep *as_box(rep *r) noexcept { return static_cast<box_rep *>(r); }

// A new box holding a copy of *value (the type is checked by the caller).
cow_status box_new(box_rep **out, const cow_type *t, const void *value,
                   const cow_options *options) noexcept;
// Runs fn on a unique value; a copy made for it is kept only if fn succeeds.
cow_status box_update(box_rep **slot, cow_update_fn fn, void *ctx) noexcept;
// Moves the value into out (caller memory) and consumes the slot.
cow_status box_into(box_rep **slot, void *out) noexcept;

}  // namespace cow::detail
