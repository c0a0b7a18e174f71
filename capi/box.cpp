// cow_box: argument checking and translation to the box core.
#include "../src/box.hpp"
#include "../src/type.hpp"

#include "api.hpp"

using namespace cow::detail;
using cow::capi::handle_status;

namespace {
constexpr cow_kind_t K = COW_KIND_BOX;

box_rep *box_of(const void *h) noexcept { return cow::capi::rep_as<box_rep>(h, K); }

cow_box *handle(box_rep *b) noexcept { return handle_of<cow_box>(b); }

template <class Edit>
cow_status edit_box(cow_box **slot, Edit edit) noexcept {
    return cow::capi::edit_slot<box_rep>(slot, K, edit);
}
}  // namespace

extern "C" {

COW_API cow_status cow_box_new(cow_box **out, const cow_type *type, const void *value,
                               const cow_options *options) noexcept {
    if (!out || !value) return COW_EINVAL;
    cow_status s = value_type_check(type);
    if (s != COW_OK) return s;
    box_rep *b;
    s = box_new(&b, type, value, options);
    if (s == COW_OK) *out = handle(b);
    return s;
}

COW_API cow_box *cow_box_clone(const cow_box *box) noexcept {
    return cow::capi::clone_of_kind(box, K);
}

COW_API void cow_box_release(cow_box *box) noexcept { cow::capi::release_of_kind(box, K); }

COW_API const void *cow_box_get(const cow_box *box) noexcept {
    box_rep *b = box_of(box);
    return b ? b->value : nullptr;
}

COW_API const cow_type *cow_box_type(const cow_box *box) noexcept {
    box_rep *b = box_of(box);
    return b ? b->type : nullptr;
}

COW_API cow_status cow_box_make_mut(cow_box **slot, void **out_value) noexcept {
    return edit_box(slot, [&](box_rep **b) {
        rep *r = *b;
        cow_status s = rep_make_unique(&r);
        if (s != COW_OK) return s;
        *b = as_box(r);
        if (out_value) *out_value = (*b)->value;
        return COW_OK;
    });
}

COW_API cow_status cow_box_update(cow_box **slot, cow_update_fn fn, void *ctx) noexcept {
    if (!fn) return COW_EINVAL;
    return edit_box(slot, [&](box_rep **b) { return box_update(b, fn, ctx); });
}

COW_API cow_status cow_box_into(cow_box **slot, void *out_value) noexcept {
    if (!out_value) return COW_EINVAL;
    return edit_box(slot, [&](box_rep **b) { return box_into(b, out_value); });
}

}  // extern "C"
