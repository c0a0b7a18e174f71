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

inline bytes_rep *bytes_of(const void *h, cow_kind_t kind) noexcept {
    rep *r = detail::rep_of(h, kind);
    return r ? detail::as_bytes(r) : nullptr;
}

// Runs edit(bytes_rep **) on a private copy of the slot's pointer and stores
// the result back only on success: the caller's slot changes only then.
template <class Handle, class Edit>
inline cow_status edit_bytes(Handle **slot, cow_kind_t kind, Edit edit) noexcept {
    if (!slot) return COW_EINVAL;
    cow_status s = handle_status(*slot, kind);
    if (s != COW_OK) return s;
    bytes_rep *b = bytes_of(*slot, kind);
    s = edit(&b);
    if (s == COW_OK) *slot = reinterpret_cast<Handle *>(b);
    return s;
}

}  // namespace cow::capi
