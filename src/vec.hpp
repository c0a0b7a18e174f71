// The vector representation behind cow_vec: a header deriving from rep and
// a separate, aligned block of elements of one cow_type.
//
// Elements are moved with memcpy (the cow_type contract) and copied with the
// type's copy. A write to a shared vector builds the final copy in one
// storage allocation; a write to a unique one happens in place.
#pragma once
#include <cstddef>

#include "rep.hpp"

namespace cow::detail {

// Element storage. `block` is what was allocated (nullptr: no storage);
// `data` is the first element inside it, aligned to the element type.
struct vec_storage {
    unsigned char *data;     // never nullptr: a static empty area without storage
    std::size_t cap;         // elements that fit at data
    void *block;
    std::size_t block_size;  // bytes allocated at block
};

struct vec_rep : rep {
    const cow_type *type;
    std::size_t elem_size;  // type->elem_size, kept here to spare get() a dependent load
    std::size_t len;
    vec_storage store;
};

extern const rep_ops vec_ops;

inline vec_rep *as_vec(rep *r) noexcept { return static_cast<vec_rep *>(r); }

// Only flat vectors exist so far. A tree representation (structural
// strategy) would answer false here and take the non-flat branches.
inline bool vec_is_flat(const vec_rep *) noexcept { return true; }

inline unsigned char *vec_at(const vec_rep *v, std::size_t index) noexcept {
    return v->store.data + index * v->elem_size;
}

// A new vector of copies of elems[0..count) with room for `capacity`.
cow_status vec_new(vec_rep **out, const cow_type *t, const void *elems, std::size_t count,
                   std::size_t capacity, const cow_options *options) noexcept;

// The edits: the slot holds a valid vector, indexes are checked by the
// caller. Each leaves *slot unchanged on failure.
// Inserts copies of elems[0..count) before `at` (push, insert, extend).
cow_status vec_insert(vec_rep **slot, std::size_t at, const void *elems, std::size_t count) noexcept;
// Removes [at, at + count) into out (moved, caller-owned) or drops them.
cow_status vec_remove(vec_rep **slot, std::size_t at, std::size_t count, void *out) noexcept;
// Replaces element `index` by a copy of *elem; the old one goes to out_old
// or is dropped.
cow_status vec_set(vec_rep **slot, std::size_t index, const void *elem, void *out_old) noexcept;
// Makes *slot unique with room for len + additional elements.
cow_status vec_reserve(vec_rep **slot, std::size_t additional) noexcept;
// Hands the elements to the caller and consumes the slot.
cow_status vec_into(vec_rep **slot, cow_owned *out) noexcept;

}  // namespace cow::detail
