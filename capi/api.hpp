// Shared helpers of the C API layer: argument checks and slot handling.
// Everything here is internal; only the cow_* functions are exported.
#pragma once
#include "../src/bytes.hpp"
#include "../src/rep.hpp"
#include "cow.h"

namespace cow::capi {

using detail::bytes_rep;
using detail::rep;

// What is wrong with a handle argument: NULL, or not of the expected kind.
inline cow_status handle_status(const void *h, cow_kind_t kind) noexcept {
    if (!h) return COW_EINVAL;
    return detail::rep_of(h, kind) ? COW_OK : COW_ETYPE;
}

// The representation behind a handle of the given kind, or nullptr: its rep
// (rep_of), downcast to the kind's type.
template <class Rep>
inline Rep *rep_as(const void *h, cow_kind_t kind) noexcept {
    return static_cast<Rep *>(detail::rep_of(h, kind));
}

inline bytes_rep *bytes_of(const void *h, cow_kind_t kind) noexcept {
    return rep_as<bytes_rep>(h, kind);
}

// Runs edit(Rep **) on a private copy of the slot's pointer and stores the
// result back only on success: the caller's slot changes only then.
template <class Rep, class Handle, class Edit>
inline cow_status edit_slot(Handle **slot, cow_kind_t kind, Edit edit) noexcept {
    if (!slot) return COW_EINVAL;
    cow_status s = handle_status(*slot, kind);
    if (s != COW_OK) return s;
    Rep *r = rep_as<Rep>(*slot, kind);
    s = edit(&r);
    if (s == COW_OK) *slot = detail::handle_of<Handle>(r);
    return s;
}

// The typed clone and release calls (cow_buf_clone, ...): the generic ones
// restricted to one kind, ignoring any other handle.
template <class Handle>
inline Handle *clone_of_kind(const Handle *h, cow_kind_t kind) noexcept {
    rep *r = detail::rep_of(h, kind);
    return r ? detail::handle_of<Handle>(detail::rep_clone_or_null(r)) : nullptr;
}
inline void release_of_kind(void *h, cow_kind_t kind) noexcept {
    if (rep *r = detail::rep_of(h, kind)) detail::rep_release(r);
}

// rep_make_unique on a typed representation pointer.
template <class Rep>
inline cow_status make_unique(Rep **r) noexcept {
    rep *base = *r;
    cow_status s = detail::rep_make_unique(&base);
    if (s == COW_OK) *r = static_cast<Rep *>(base);
    return s;
}

template <class Handle, class Edit>
inline cow_status edit_bytes(Handle **slot, cow_kind_t kind, Edit edit) noexcept {
    return edit_slot<bytes_rep>(slot, kind, edit);
}

}  // namespace cow::capi
