// cow_buf: argument checking and translation to the byte core.
#include <cstring>

#include "../src/alloc.hpp"
#include "../src/hash.hpp"
#include "api.hpp"

using namespace cow::detail;
using cow::capi::bytes_of;
using cow::capi::edit_bytes;
using cow::capi::handle_status;

namespace {
constexpr cow_kind_t K = COW_KIND_BUF;
const char *chars(const void *p) { return static_cast<const char *>(p); }
}  // namespace

extern "C" {

COW_API cow_status cow_buf_new(cow_buf **out, const void *bytes, size_t len,
                               const cow_options *options) noexcept {
    if (!out || (!bytes && len)) return COW_EINVAL;
    bytes_rep *b;
    cow_status s = bytes_new(&b, K, chars(bytes), len, 0, options);
    if (s == COW_OK) *out = handle_of<cow_buf>(b);
    return s;
}

COW_API cow_status cow_buf_with_capacity(cow_buf **out, size_t capacity,
                                         const cow_options *options) noexcept {
    if (!out) return COW_EINVAL;
    bytes_rep *b;
    cow_status s = bytes_new(&b, K, nullptr, 0, capacity, options);
    if (s == COW_OK) *out = handle_of<cow_buf>(b);
    return s;
}

COW_API cow_buf *cow_buf_clone(const cow_buf *buf) noexcept {
    return cow::capi::clone_of_kind(buf, K);
}

COW_API void cow_buf_release(cow_buf *buf) noexcept { cow::capi::release_of_kind(buf, K); }

COW_API size_t cow_buf_len(const cow_buf *buf) noexcept {
    bytes_rep *b = bytes_of(buf, K);
    return b ? b->len : 0;
}

COW_API const uint8_t *cow_buf_data(const cow_buf *buf) noexcept {
    bytes_rep *b = bytes_of(buf, K);
    return b ? reinterpret_cast<const uint8_t *>(b->data) : nullptr;
}

COW_API cow_status cow_buf_make_mut(cow_buf **slot, uint8_t **out_data) noexcept {
    // Fast path: a unique buffer with storage needs no call and no slot write.
    if (bytes_rep *b = slot ? bytes_of(*slot, K) : nullptr; b && bytes_writable_in_place(b, b->len)) {
        if (out_data) *out_data = reinterpret_cast<uint8_t *>(b->data);
        return COW_OK;
    }
    return edit_bytes(slot, K, [&](bytes_rep **b) {
        cow_status s = bytes_reserve_unique(b, (*b)->len, (*b)->len);
        if (s == COW_OK && out_data) *out_data = reinterpret_cast<uint8_t *>((*b)->data);
        return s;
    });
}

COW_API cow_status cow_buf_append(cow_buf **slot, const void *bytes, size_t len) noexcept {
    if (!bytes && len) return COW_EINVAL;
    return edit_bytes(slot, K, [&](bytes_rep **b) {
        return bytes_insert(b, (*b)->len, chars(bytes), len);
    });
}

COW_API cow_status cow_buf_insert(cow_buf **slot, size_t at, const void *bytes,
                                  size_t len) noexcept {
    if (!bytes && len) return COW_EINVAL;
    return edit_bytes(slot, K, [&](bytes_rep **b) {
        if (at > (*b)->len) return COW_ERANGE;
        return bytes_insert(b, at, chars(bytes), len);
    });
}

COW_API cow_status cow_buf_erase(cow_buf **slot, size_t at, size_t count) noexcept {
    return edit_bytes(slot, K, [&](bytes_rep **b) {
        std::size_t len = (*b)->len;
        if (at > len || count > len - at) return COW_ERANGE;
        return bytes_erase(b, at, count);
    });
}

COW_API cow_status cow_buf_truncate(cow_buf **slot, size_t new_len) noexcept {
    return edit_bytes(slot, K, [&](bytes_rep **b) {
        if (new_len > (*b)->len) return COW_ERANGE;
        return bytes_truncate(b, new_len);
    });
}

COW_API cow_status cow_buf_resize(cow_buf **slot, size_t new_len, uint8_t fill) noexcept {
    return edit_bytes(slot, K, [&](bytes_rep **b) { return bytes_resize(b, new_len, fill); });
}

COW_API bool cow_buf_equal(const cow_buf *a, const cow_buf *b) noexcept {
    return cow_buf_compare(a, b) == 0;
}

COW_API int cow_buf_compare(const cow_buf *a, const cow_buf *b) noexcept {
    bytes_rep *x = bytes_of(a, K), *y = bytes_of(b, K);
    return bytes_compare(x ? x->data : "", x ? x->len : 0, y ? y->data : "", y ? y->len : 0);
}

COW_API uint64_t cow_buf_hash(const cow_buf *buf) noexcept {
    bytes_rep *b = bytes_of(buf, K);
    return b ? hash_bytes(b->data, b->len) : hash_bytes("", 0);
}

COW_API cow_status cow_buf_slice(cow_buf **out, const cow_buf *buf, size_t offset,
                                 size_t len) noexcept {
    cow_status s = handle_status(buf, K);
    if (s != COW_OK) return s;
    if (!out) return COW_EINVAL;
    bytes_rep *b = bytes_of(buf, K);
    if (offset > b->len || len > b->len - offset) return COW_ERANGE;
    bytes_rep *view;
    s = bytes_slice(&view, b, offset, len);
    if (s == COW_OK) *out = handle_of<cow_buf>(view);
    return s;
}

COW_API cow_status cow_buf_into(cow_buf **slot, cow_owned *out) noexcept {
    if (!out) return COW_EINVAL;
    cow_owned result{};
    bool consumed = false;
    cow_status s = edit_bytes(slot, K, [&](bytes_rep **b) {
        cow_status st = bytes_into(b, &result);
        consumed = st == COW_OK;
        return st;
    });
    if (consumed) *out = result;
    return s;
}

}  // extern "C"
