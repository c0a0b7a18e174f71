// cow_str: UTF-8 validation, character boundaries, then the byte core.
#include <cstring>
#include <string_view>

#include "../src/alloc.hpp"
#include "../src/hash.hpp"
#include "../src/utf8.hpp"
#include "api.hpp"

using namespace cow::detail;
using cow::capi::bytes_of;
using cow::capi::edit_bytes;
using cow::capi::handle_status;

namespace {
constexpr cow_kind_t K = COW_KIND_STR;

// Offset `at` is inside the string and on a character boundary.
cow_status check_offset(const bytes_rep *b, std::size_t at) {
    if (at > b->len) return COW_ERANGE;
    return utf8_boundary(b->data, b->len, at) ? COW_OK : COW_EINVAL;
}
cow_status check_range(const bytes_rep *b, std::size_t at, std::size_t count) {
    if (at > b->len || count > b->len - at) return COW_ERANGE;
    if (!utf8_boundary(b->data, b->len, at) || !utf8_boundary(b->data, b->len, at + count))
        return COW_EINVAL;
    return COW_OK;
}
cow_status check_text(const char *text, std::size_t len) {
    if (!text && len) return COW_EINVAL;
    if (len >= max_alloc) return COW_EOVERFLOW;
    return utf8_valid(text, len) ? COW_OK : COW_EUTF8;
}
}  // namespace

extern "C" {

COW_API cow_status cow_str_new(cow_str **out, const char *text, size_t len,
                               const cow_options *options) noexcept {
    if (!out) return COW_EINVAL;
    cow_status s = check_text(text, len);
    if (s != COW_OK) return s;
    bytes_rep *b;
    s = bytes_new(&b, K, text, len, 0, options);
    if (s == COW_OK) *out = handle_of<cow_str>(b);
    return s;
}

COW_API cow_status cow_str_from_cstr(cow_str **out, const char *text,
                                     const cow_options *options) noexcept {
    if (!text) return COW_EINVAL;
    return cow_str_new(out, text, std::strlen(text), options);
}

COW_API cow_str *cow_str_clone(const cow_str *str) noexcept {
    return cow::capi::clone_of_kind(str, K);
}

COW_API void cow_str_release(cow_str *str) noexcept { cow::capi::release_of_kind(str, K); }

COW_API size_t cow_str_len(const cow_str *str) noexcept {
    bytes_rep *b = bytes_of(str, K);
    return b ? b->len : 0;
}

COW_API const char *cow_str_data(const cow_str *str) noexcept {
    bytes_rep *b = bytes_of(str, K);
    return b ? b->data : nullptr;
}

COW_API cow_status cow_str_cstr(cow_str **slot, const char **out) noexcept {
    if (!out) return COW_EINVAL;
    const char *p = nullptr;
    cow_status s = edit_bytes(slot, K, [&](bytes_rep **b) { return bytes_cstr(b, &p); });
    if (s == COW_OK) *out = p;
    return s;
}

COW_API size_t cow_str_char_count(const cow_str *str) noexcept {
    bytes_rep *b = bytes_of(str, K);
    return b ? utf8_count(b->data, b->len) : 0;
}

COW_API cow_status cow_str_make_mut(cow_str **slot) noexcept {
    return edit_bytes(slot, K,
                      [&](bytes_rep **b) { return bytes_reserve_unique(b, (*b)->len, (*b)->len); });
}

COW_API cow_status cow_str_append(cow_str **slot, const char *text, size_t len) noexcept {
    cow_status s = check_text(text, len);
    if (s != COW_OK) return s;
    return edit_bytes(slot, K, [&](bytes_rep **b) { return bytes_insert(b, (*b)->len, text, len); });
}

COW_API cow_status cow_str_insert(cow_str **slot, size_t at, const char *text,
                                  size_t len) noexcept {
    cow_status s = check_text(text, len);
    if (s != COW_OK) return s;
    return edit_bytes(slot, K, [&](bytes_rep **b) {
        cow_status st = check_offset(*b, at);
        return st != COW_OK ? st : bytes_insert(b, at, text, len);
    });
}

COW_API cow_status cow_str_erase(cow_str **slot, size_t at, size_t count) noexcept {
    return edit_bytes(slot, K, [&](bytes_rep **b) {
        cow_status st = check_range(*b, at, count);
        return st != COW_OK ? st : bytes_erase(b, at, count);
    });
}

COW_API cow_status cow_str_truncate(cow_str **slot, size_t new_len) noexcept {
    return edit_bytes(slot, K, [&](bytes_rep **b) {
        cow_status st = check_offset(*b, new_len);
        return st != COW_OK ? st : bytes_truncate(b, new_len);
    });
}

COW_API cow_status cow_str_substr(cow_str **out, const cow_str *str, size_t offset,
                                  size_t len) noexcept {
    cow_status s = handle_status(str, K);
    if (s != COW_OK) return s;
    if (!out) return COW_EINVAL;
    bytes_rep *b = bytes_of(str, K);
    s = check_range(b, offset, len);
    if (s != COW_OK) return s;
    bytes_rep *view;
    s = bytes_slice(&view, b, offset, len);
    if (s == COW_OK) *out = handle_of<cow_str>(view);
    return s;
}

COW_API cow_status cow_str_find(const cow_str *str, const char *needle, size_t needle_len,
                                size_t from, size_t *out_pos) noexcept {
    cow_status s = handle_status(str, K);
    if (s != COW_OK) return s;
    if (!out_pos) return COW_EINVAL;
    s = check_text(needle, needle_len);
    if (s != COW_OK) return s;
    bytes_rep *b = bytes_of(str, K);
    s = check_offset(b, from);
    if (s != COW_OK) return s;
    // A valid needle starts with a lead byte, so every match starts on a
    // character boundary.
    std::string_view hay(b->data, b->len);
    std::size_t pos = hay.find(std::string_view(needle ? needle : "", needle_len), from);
    if (pos == std::string_view::npos) return COW_ENOTFOUND;
    *out_pos = pos;
    return COW_OK;
}

COW_API bool cow_str_equal(const cow_str *a, const cow_str *b) noexcept {
    return cow_str_compare(a, b) == 0;
}

COW_API int cow_str_compare(const cow_str *a, const cow_str *b) noexcept {
    bytes_rep *x = bytes_of(a, K), *y = bytes_of(b, K);
    return bytes_compare(x ? x->data : "", x ? x->len : 0, y ? y->data : "", y ? y->len : 0);
}

COW_API uint64_t cow_str_hash(const cow_str *str) noexcept {
    bytes_rep *b = bytes_of(str, K);
    return b ? hash_bytes(b->data, b->len) : hash_bytes("", 0);
}

COW_API cow_status cow_str_into(cow_str **slot, cow_owned *out) noexcept {
    if (!out) return COW_EINVAL;
    cow_owned result{};
    cow_status s = edit_bytes(slot, K, [&](bytes_rep **b) { return bytes_into(b, &result); });
    if (s == COW_OK) *out = result;
    return s;
}

}  // extern "C"
