// The vector interface: everything capi/ knows about a cow_vec, whatever
// its representation. A representation (flat.hpp: one contiguous block)
// derives its struct from vec_rep and implements vec_impl; the functions
// below forward to it, except an element read from a flat vector, which
// stays inline behind one check.
//
// Every edit takes the slot holding a valid vector, with indexes already
// checked by the caller, and leaves *slot and every value unchanged when it
// fails. Elements are moved with memcpy and copied with the type's copy.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../adaptive.hpp"
#include "../rep.hpp"

namespace cow::detail {

struct vec_rep;

// What a vector representation implements. It extends rep_ops (copy,
// value_bytes, release), so one table per representation serves both.
struct vec_impl : rep_ops {
    // Element `index` (< len) of a vector that is not flat.
    const void *(*get)(const vec_rep *v, std::size_t index) noexcept;
    // Makes the element writable in place (copying what is shared) and
    // gives its address.
    cow_status (*get_mut)(vec_rep **slot, std::size_t index, void **out_elem) noexcept;
    // Inserts copies of elems[0..count) before `at` (insert, extend).
    cow_status (*insert)(vec_rep **slot, std::size_t at, const void *elems,
                         std::size_t count) noexcept;
    // Appends a copy of *elem (what vec_push's inline path does not take).
    cow_status (*push)(vec_rep **slot, const void *elem) noexcept;
    // Removes [at, at + count) into out (moved, caller-owned) or drops them.
    cow_status (*remove)(vec_rep **slot, std::size_t at, std::size_t count, void *out) noexcept;
    // Replaces element `index` by a copy of *elem; the old one goes to
    // out_old or is dropped.
    cow_status (*set)(vec_rep **slot, std::size_t index, const void *elem, void *out_old) noexcept;
    // Makes the value private with room for len + additional elements.
    cow_status (*reserve)(vec_rep **slot, std::size_t additional) noexcept;
    // Makes the value private; gives the contiguous elements in *out_data
    // when out_data is not NULL (COW_ENOTCONTIGUOUS where there are none).
    cow_status (*make_mut)(vec_rep **slot, void **out_data) noexcept;
    // The next span from cursor->next on (false at the end).
    bool (*next_span)(const vec_rep *v, cow_vec_cursor *cursor, const void **out_data,
                      std::size_t *out_count) noexcept;
    // Hands the elements to the caller and consumes the slot.
    cow_status (*into)(vec_rep **slot, cow_owned *out) noexcept;
};

struct vec_rep : rep {
    // The flat fast path reads only flat, flat_len and flat_cap. A value that
    // is not contiguous has nullptr, 0 and 0 there, so the bounds check of a
    // flat read or push also sends every other representation to its code.
    unsigned char *flat;    // the first element; never nullptr when flat, even empty
    std::size_t flat_len;   // len when flat, else 0
    std::size_t flat_cap;   // elements that fit at flat, else 0
    const cow_type *type;
    std::size_t elem_size;  // type->elem_size, kept here to spare get() a dependent load
    std::size_t len;        // elements, in every representation
    adaptive_history adapt; // ADAPTIVE values only
};

inline const vec_impl *impl_of(const vec_rep *v) noexcept {
    return static_cast<const vec_impl *>(v->ops);
}

inline bool vec_is_flat(const vec_rep *v) noexcept { return v->flat != nullptr; }

// A new vector of copies of elems[0..count) with room for `capacity`, in the
// representation the options' strategy asks for.
cow_status vec_new(vec_rep **out, const cow_type *t, const void *elems, std::size_t count,
                   std::size_t capacity, const cow_options *options) noexcept;

// Gives an ADAPTIVE vector the writes that choose its representation at
// each copy (adaptive.cpp); other strategies keep their representation's.
void vec_use_strategy_ops(vec_rep *v) noexcept;

inline std::size_t vec_len(const vec_rep *v) noexcept { return v->len; }

// Element `index`, or nullptr when index >= len.
inline const void *vec_get(const vec_rep *v, std::size_t index) noexcept {
    if (__builtin_expect(index < v->flat_len, 1)) return v->flat + index * v->elem_size;
    if (index >= v->len) return nullptr;
    return impl_of(v)->get(v, index);
}

inline cow_status vec_get_mut(vec_rep **slot, std::size_t index, void **out_elem) noexcept {
    return impl_of(*slot)->get_mut(slot, index, out_elem);
}
inline cow_status vec_insert(vec_rep **slot, std::size_t at, const void *elems,
                             std::size_t count) noexcept {
    return impl_of(*slot)->insert(slot, at, elems, count);
}
// Whether a push to v is one store into its room: a unique flat vector
// with room, of a type without a copy callback. (Vector storage is shared
// by handles only: rep_handles alone says "unique".)
inline bool vec_push_is_store(const vec_rep *v) noexcept {
    return v->flat_len < v->flat_cap && !v->type->copy && rep_handles(v) == 1;
}
// That store, of Size bytes (0: the element size). The value stays where it
// is: the caller's slot needs no write.
template <std::size_t Size = 0>
inline void vec_push_store(vec_rep *v, const void *elem) noexcept {
    std::size_t n = v->flat_len;
    std::size_t size = Size ? Size : v->elem_size;
    std::memcpy(v->flat + n * size, elem, size);
    v->len = v->flat_len = n + 1;
}
// Appends a copy of *elem.
inline cow_status vec_push(vec_rep **slot, const void *elem) noexcept {
    vec_rep *v = *slot;
    if (!vec_push_is_store(v)) return impl_of(v)->push(slot, elem);
    if (v->elem_size == sizeof(std::uint64_t))
        vec_push_store<sizeof(std::uint64_t)>(v, elem);  // the common size, inlined
    else
        vec_push_store(v, elem);
    return COW_OK;
}
inline cow_status vec_remove(vec_rep **slot, std::size_t at, std::size_t count,
                             void *out) noexcept {
    return impl_of(*slot)->remove(slot, at, count, out);
}
// Whether setting element `index` of v is one store: an element of a
// unique flat vector whose type has no callbacks, replaced without handing
// the old one out.
inline bool vec_set_is_store(const vec_rep *v, std::size_t index, const void *out_old) noexcept {
    return index < v->flat_len && !out_old && !v->type->copy && !v->type->drop && rep_handles(v) == 1;
}
// That store, of Size bytes (0: the element size); memmove, because elem
// may be that very element.
template <std::size_t Size = 0>
inline void vec_set_store(vec_rep *v, std::size_t index, const void *elem) noexcept {
    std::size_t size = Size ? Size : v->elem_size;
    std::memmove(v->flat + index * size, elem, size);
}
inline cow_status vec_set(vec_rep **slot, std::size_t index, const void *elem,
                          void *out_old) noexcept {
    vec_rep *v = *slot;
    if (!vec_set_is_store(v, index, out_old)) return impl_of(v)->set(slot, index, elem, out_old);
    if (v->elem_size == sizeof(std::uint64_t))
        vec_set_store<sizeof(std::uint64_t)>(v, index, elem);  // the common size, inlined
    else
        vec_set_store(v, index, elem);
    return COW_OK;
}
inline cow_status vec_reserve(vec_rep **slot, std::size_t additional) noexcept {
    return impl_of(*slot)->reserve(slot, additional);
}
inline cow_status vec_make_mut(vec_rep **slot, void **out_data) noexcept {
    return impl_of(*slot)->make_mut(slot, out_data);
}
// The contiguous elements, or COW_ENOTCONTIGUOUS.
inline cow_status vec_data(const vec_rep *v, const void **out_data) noexcept {
    if (!vec_is_flat(v)) return COW_ENOTCONTIGUOUS;
    *out_data = v->flat;
    return COW_OK;
}
inline bool vec_next_span(const vec_rep *v, cow_vec_cursor *cursor, const void **out_data,
                          std::size_t *out_count) noexcept {
    if (cursor->next >= v->len) return false;
    return impl_of(v)->next_span(v, cursor, out_data, out_count);
}
inline cow_status vec_into(vec_rep **slot, cow_owned *out) noexcept {
    return impl_of(*slot)->into(slot, out);
}

// ---- whole-vector operations (vec.cpp, compare.cpp) ----------------------------
// They take vectors of any representations, mixed. The caller has checked
// kinds; element types are checked here (COW_ETYPE).

// A new vector of elements [offset, offset + len) of v (a range the caller
// checked), with v's strategy and options, in v's representation.
cow_status vec_slice(vec_rep **out, const vec_rep *v, std::size_t offset, std::size_t len) noexcept;
// Appends other's elements to *slot (other may be *slot itself).
cow_status vec_concat(vec_rep **slot, const vec_rep *other) noexcept;
// nullptr is an empty vector in the three below.
bool vec_equal(const vec_rep *a, const vec_rep *b) noexcept;
std::uint64_t vec_hash(const vec_rep *v) noexcept;
cow_status vec_diff(const vec_rep *a, const vec_rep *b, cow_vec_diff_fn fn, void *ctx,
                    bool *out_stopped) noexcept;

}  // namespace cow::detail
