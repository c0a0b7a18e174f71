// cow_vec: argument checking and translation to the vector core.
#include "../src/type.hpp"
#include "../src/vec/vec.hpp"

#include "api.hpp"

using namespace cow::detail;
using cow::capi::handle_status;

namespace {
constexpr cow_kind_t K = COW_KIND_VEC;

vec_rep *vec_of(const void *h) noexcept { return cow::capi::rep_as<vec_rep>(h, K); }

cow_vec *handle(vec_rep *v) noexcept { return handle_of<cow_vec>(v); }

template <class Edit>
cow_status edit_vec(cow_vec **slot, Edit edit) noexcept {
    return cow::capi::edit_slot<vec_rep>(slot, K, edit);
}


cow_status create(cow_vec **out, const cow_type *type, const void *elems, size_t count,
                  size_t capacity, const cow_options *options) noexcept {
    if (!out || (!elems && count)) return COW_EINVAL;
    cow_status s = value_type_check(type);
    if (s != COW_OK) return s;
    vec_rep *v;
    s = vec_new(&v, type, elems, count, capacity, options);
    if (s == COW_OK) *out = handle(v);
    return s;
}

// cow_vec_set and cow_vec_push where the write is more than one store into
// the vector's storage (a copy, growth, the type's callbacks, another
// element size), and every invalid argument. Kept out of line, so that the
// one-store paths need no stack frame.
[[gnu::noinline]] cow_status set_slow(cow_vec **slot, size_t index, const void *elem,
                                      void *out_old) noexcept {
    if (!elem) return COW_EINVAL;
    return edit_vec(slot, [&](vec_rep **v) {
        if (index >= vec_len(*v)) return COW_ERANGE;
        return vec_set(v, index, elem, out_old);
    });
}
[[gnu::noinline]] cow_status push_slow(cow_vec **slot, const void *elem) noexcept {
    if (!elem) return COW_EINVAL;
    return edit_vec(slot, [&](vec_rep **v) { return vec_push(v, elem); });
}

}  // namespace

extern "C" {

COW_API cow_status cow_vec_new(cow_vec **out, const cow_type *type,
                               const cow_options *options) noexcept {
    return create(out, type, nullptr, 0, 0, options);
}

COW_API cow_status cow_vec_with_capacity(cow_vec **out, const cow_type *type, size_t capacity,
                                         const cow_options *options) noexcept {
    return create(out, type, nullptr, 0, capacity, options);
}

COW_API cow_status cow_vec_from_array(cow_vec **out, const cow_type *type, const void *elems,
                                      size_t count, const cow_options *options) noexcept {
    return create(out, type, elems, count, 0, options);
}

COW_API cow_vec *cow_vec_clone(const cow_vec *vec) noexcept {
    return cow::capi::clone_of_kind(vec, K);
}

COW_API void cow_vec_release(cow_vec *vec) noexcept { cow::capi::release_of_kind(vec, K); }

COW_API size_t cow_vec_len(const cow_vec *vec) noexcept {
    vec_rep *v = vec_of(vec);
    return v ? vec_len(v) : 0;
}

COW_API const cow_type *cow_vec_type(const cow_vec *vec) noexcept {
    vec_rep *v = vec_of(vec);
    return v ? v->type : nullptr;
}

COW_API const void *cow_vec_get(const cow_vec *vec, size_t index) noexcept {
    vec_rep *v = vec_of(vec);
    return v ? vec_get(v, index) : nullptr;
}

COW_API cow_status cow_vec_get_mut(cow_vec **slot, size_t index, void **out_elem) noexcept {
    if (!out_elem) return COW_EINVAL;
    return edit_vec(slot, [&](vec_rep **v) {
        if (index >= vec_len(*v)) return COW_ERANGE;
        return vec_get_mut(v, index, out_elem);
    });
}

COW_API cow_status cow_vec_set(cow_vec **slot, size_t index, const void *elem,
                               void *out_old) noexcept {
    // As in cow_vec_push: an 8-byte element stored in place first.
    if (slot && elem) {
        vec_rep *v = vec_of(*slot);
        if (v && v->elem_size == sizeof(std::uint64_t) && vec_set_is_store(v, index, out_old)) {
            vec_set_store<sizeof(std::uint64_t)>(v, index, elem);
            return COW_OK;
        }
    }
    return set_slow(slot, index, elem, out_old);
}

COW_API cow_status cow_vec_push(cow_vec **slot, const void *elem) noexcept {
    // The common case first, 8-byte elements (u64, i64, double, pointers)
    // stored into room: in a few registers, with no stack frame and no slot
    // round trip.
    if (slot && elem) {
        vec_rep *v = vec_of(*slot);
        if (v && v->elem_size == sizeof(std::uint64_t) && vec_push_is_store(v)) {
            vec_push_store<sizeof(std::uint64_t)>(v, elem);
            return COW_OK;
        }
    }
    return push_slow(slot, elem);
}

COW_API cow_status cow_vec_pop(cow_vec **slot, void *out_elem) noexcept {
    return edit_vec(slot, [&](vec_rep **v) {
        if (vec_len(*v) == 0) return COW_ERANGE;
        return vec_remove(v, vec_len(*v) - 1, 1, out_elem);
    });
}

COW_API cow_status cow_vec_insert(cow_vec **slot, size_t index, const void *elem) noexcept {
    if (!elem) return COW_EINVAL;
    return edit_vec(slot, [&](vec_rep **v) {
        if (index > vec_len(*v)) return COW_ERANGE;
        return vec_insert(v, index, elem, 1);
    });
}

COW_API cow_status cow_vec_erase(cow_vec **slot, size_t index, void *out_elem) noexcept {
    return edit_vec(slot, [&](vec_rep **v) {
        if (index >= vec_len(*v)) return COW_ERANGE;
        return vec_remove(v, index, 1, out_elem);
    });
}

COW_API cow_status cow_vec_extend(cow_vec **slot, const void *elems, size_t count) noexcept {
    if (!elems && count) return COW_EINVAL;
    return edit_vec(slot, [&](vec_rep **v) { return vec_insert(v, vec_len(*v), elems, count); });
}

COW_API cow_status cow_vec_reserve(cow_vec **slot, size_t additional) noexcept {
    return edit_vec(slot, [&](vec_rep **v) { return vec_reserve(v, additional); });
}

COW_API cow_status cow_vec_clear(cow_vec **slot) noexcept {
    return edit_vec(slot, [&](vec_rep **v) { return vec_remove(v, 0, vec_len(*v), nullptr); });
}

COW_API cow_status cow_vec_truncate(cow_vec **slot, size_t new_len) noexcept {
    return edit_vec(slot, [&](vec_rep **v) {
        std::size_t len = vec_len(*v);
        if (new_len > len) return COW_ERANGE;
        return vec_remove(v, new_len, len - new_len, nullptr);
    });
}

COW_API cow_status cow_vec_data(const cow_vec *vec, const void **out_data) noexcept {
    cow_status s = handle_status(vec, K);
    if (s != COW_OK) return s;
    if (!out_data) return COW_EINVAL;
    return vec_data(vec_of(vec), out_data);
}

COW_API cow_status cow_vec_make_mut(cow_vec **slot, void **out_data) noexcept {
    return edit_vec(slot, [&](vec_rep **v) { return vec_make_mut(v, out_data); });
}

COW_API cow_status cow_vec_cursor_init(cow_vec_cursor *cursor, const cow_vec *vec) noexcept {
    cow_status s = handle_status(vec, K);
    if (s != COW_OK) return s;
    if (!cursor) return COW_EINVAL;
    // Only what a walk reads: clearing the whole struct (its tree path
    // included) costs more than iterating a small flat vector.
    cursor->size = sizeof(cow_vec_cursor);
    cursor->reserved = 0;
    cursor->vec = vec;
    cursor->next = 0;
    cursor->path[0] = 0;  // no cached tree path (see the tree's next_span)
    return COW_OK;
}

COW_API cow_status cow_vec_cursor_init_at(cow_vec_cursor *cursor, const cow_vec *vec,
                                          size_t index) noexcept {
    cow_status s = handle_status(vec, K);
    if (s != COW_OK) return s;
    if (!cursor) return COW_EINVAL;
    if (index > vec_len(vec_of(vec))) return COW_ERANGE;  // before the cursor is touched
    cow_vec_cursor_init(cursor, vec);
    cursor->next = index;
    return COW_OK;
}

COW_API bool cow_vec_next_span(cow_vec_cursor *cursor, const void **out_data,
                               size_t *out_count) noexcept {
    if (!cursor || !out_data || !out_count || cursor->size < sizeof(cow_vec_cursor)) return false;
    vec_rep *v = vec_of(cursor->vec);
    return v && vec_next_span(v, cursor, out_data, out_count);
}

COW_API cow_status cow_vec_into(cow_vec **slot, cow_owned *out) noexcept {
    if (!out) return COW_EINVAL;
    cow_owned result{};
    cow_status s = edit_vec(slot, [&](vec_rep **v) { return vec_into(v, &result); });
    if (s == COW_OK) *out = result;
    return s;
}

COW_API cow_status cow_vec_slice(cow_vec **out, const cow_vec *vec, size_t offset,
                                 size_t len) noexcept {
    cow_status s = handle_status(vec, K);
    if (s != COW_OK) return s;
    if (!out) return COW_EINVAL;
    vec_rep *v = vec_of(vec);
    if (offset > vec_len(v) || len > vec_len(v) - offset) return COW_ERANGE;
    vec_rep *made;
    s = vec_slice(&made, v, offset, len);
    if (s == COW_OK) *out = handle(made);
    return s;
}

COW_API cow_status cow_vec_concat(cow_vec **slot, const cow_vec *other) noexcept {
    cow_status s = handle_status(other, K);
    if (s != COW_OK) return s;
    // other stays alive through the call: the caller holds it (when it is
    // *slot, the slot's reference does).
    return edit_vec(slot, [&](vec_rep **v) { return vec_concat(v, vec_of(other)); });
}

// NULL is an empty vector; another kind of handle is not a vector at all.
static bool vec_or_empty(const cow_vec *h, vec_rep **out) noexcept {
    *out = vec_of(h);
    return !h || *out;
}

COW_API bool cow_vec_equal(const cow_vec *a, const cow_vec *b) noexcept {
    vec_rep *va, *vb;
    if (!vec_or_empty(a, &va) || !vec_or_empty(b, &vb)) return false;
    return vec_equal(va, vb);
}

COW_API uint64_t cow_vec_hash(const cow_vec *vec) noexcept {
    vec_rep *v;
    vec_or_empty(vec, &v);  // another kind hashes as empty
    return vec_hash(v);
}

COW_API cow_status cow_vec_diff(const cow_vec *a, const cow_vec *b, cow_vec_diff_fn callback,
                                void *ctx, bool *out_stopped) noexcept {
    vec_rep *va, *vb;
    if (!vec_or_empty(a, &va) || !vec_or_empty(b, &vb)) return COW_ETYPE;
    if (!callback) return COW_EINVAL;
    return vec_diff(va, vb, callback, ctx, out_stopped);
}

}  // extern "C"
