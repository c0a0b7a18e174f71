#include "type.hpp"

#include <cmath>
#include <limits>
#include <cstring>

#include "alloc.hpp"
#include "hash.hpp"
#include "bytes.hpp"
#include "rep.hpp"

namespace cow::detail {
namespace {

// ---- floats: +0.0 == -0.0 and NaN == NaN, hashed alike -------------------
template <class F>
F canonical(F f) {
    if (std::isnan(f)) return std::numeric_limits<F>::quiet_NaN();
    if (f == F(0)) return F(0);
    return f;
}
template <class F>
bool float_equal(void *, const void *a, const void *b) {
    F x, y;
    std::memcpy(&x, a, sizeof x);
    std::memcpy(&y, b, sizeof y);
    return (std::isnan(x) && std::isnan(y)) || x == y;
}
template <class F>
std::uint64_t float_hash(void *, const void *v, std::uint64_t seed) {
    F x;
    std::memcpy(&x, v, sizeof x);
    x = canonical(x);
    return hash_bytes(&x, sizeof x, seed);
}

// ---- handles: stored as a pointer; copying clones, dropping releases ------
cow_status handle_copy(void *, void *dst, const void *src) {
    void *h;
    std::memcpy(&h, src, sizeof h);
    if (h) {
        rep *r = rep_of(h);
        if (!r) return COW_ETYPE;
        rep *clone = nullptr;
        cow_status s = rep_try_clone(r, &clone);
        if (s != COW_OK) return s;  // COW_EOVERFLOW, or why an eager copy failed
        h = clone;
    }
    std::memcpy(dst, &h, sizeof h);
    return COW_OK;
}
void handle_drop(void *, void *value) {
    void *h;
    std::memcpy(&h, value, sizeof h);
    if (rep *r = rep_of(h)) rep_release(r);
}
// Byte values (buf, str) compare and hash by contents, other kinds by identity.
bool handle_equal(void *, const void *a, const void *b) {
    void *x, *y;
    std::memcpy(&x, a, sizeof x);
    std::memcpy(&y, b, sizeof y);
    if (x == y) return true;
    rep *rx = rep_of(x), *ry = rep_of(y);
    if (!rx || !ry || !rep_is_bytes(rx) || rep_kind(rx) != rep_kind(ry)) return false;
    bytes_span bx = bytes_contents(rx), by = bytes_contents(ry);
    return bytes_compare(bx.data, bx.len, by.data, by.len) == 0;
}
std::uint64_t handle_hash(void *, const void *v, std::uint64_t seed) {
    void *h;
    std::memcpy(&h, v, sizeof h);
    rep *r = rep_of(h);
    if (r && rep_is_bytes(r)) {
        bytes_span contents = bytes_contents(r);
        return hash_bytes(contents.data, contents.len, seed);
    }
    auto bits = reinterpret_cast<std::uintptr_t>(h);
    return hash_bytes(&bits, sizeof bits, seed);
}

// ---- variable-length keys ------------------------------------------------
cow_status varkey_copy(void *, void *dst, const void *src) {
    varkey k;
    std::memcpy(&k, src, sizeof k);
    char *p = static_cast<char *>(mem_alloc(k.len + 1));
    if (!p) return COW_ENOMEM;
    if (k.len) std::memcpy(p, k.data, k.len);
    p[k.len] = 0;
    varkey owned{p, k.len};
    std::memcpy(dst, &owned, sizeof owned);
    return COW_OK;
}
void varkey_drop(void *, void *value) {
    varkey k;
    std::memcpy(&k, value, sizeof k);
    mem_free(const_cast<char *>(k.data), k.len + 1);
}
bool varkey_equal(void *, const void *a, const void *b) {
    varkey x, y;
    std::memcpy(&x, a, sizeof x);
    std::memcpy(&y, b, sizeof y);
    return x.len == y.len && (x.len == 0 || std::memcmp(x.data, y.data, x.len) == 0);
}
std::uint64_t varkey_hash(void *, const void *v, std::uint64_t seed) {
    varkey k;
    std::memcpy(&k, v, sizeof k);
    return hash_bytes(k.data, k.len, seed);
}

template <class T>
constexpr cow_type plain(const char *name) {
    return cow_type{sizeof(cow_type), 0, sizeof(T), alignof(T), nullptr, nullptr, nullptr,
                    nullptr, nullptr, name};
}
template <class F>
constexpr cow_type floating(const char *name) {
    return cow_type{sizeof(cow_type), 0, sizeof(F), alignof(F), nullptr, nullptr, nullptr,
                    float_equal<F>, float_hash<F>, name};
}

}  // namespace

const cow_type builtin_u8 = plain<std::uint8_t>("u8");
const cow_type builtin_u16 = plain<std::uint16_t>("u16");
const cow_type builtin_u32 = plain<std::uint32_t>("u32");
const cow_type builtin_u64 = plain<std::uint64_t>("u64");
const cow_type builtin_i8 = plain<std::int8_t>("i8");
const cow_type builtin_i16 = plain<std::int16_t>("i16");
const cow_type builtin_i32 = plain<std::int32_t>("i32");
const cow_type builtin_i64 = plain<std::int64_t>("i64");
const cow_type builtin_f32 = floating<float>("f32");
const cow_type builtin_f64 = floating<double>("f64");
const cow_type builtin_ptr = plain<void *>("ptr");
const cow_type builtin_handle = {sizeof(cow_type), 0, sizeof(void *), alignof(void *), nullptr,
                                 handle_copy, handle_drop, handle_equal, handle_hash, "handle"};
const cow_type builtin_bytes = {sizeof(cow_type), 0, sizeof(varkey), alignof(varkey), nullptr,
                                varkey_copy, varkey_drop, varkey_equal, varkey_hash, "bytes"};
const cow_type builtin_string = {sizeof(cow_type), 0, sizeof(varkey), alignof(varkey), nullptr,
                                 varkey_copy, varkey_drop, varkey_equal, varkey_hash, "string"};

cow_status type_check(const cow_type *t) noexcept {
    if (!t) return COW_EINVAL;
    if (t->size < offsetof(cow_type, name) || t->flags != 0) return COW_EINVAL;
    if (t->elem_size == 0 || t->elem_size > max_alloc / 2) return COW_EINVAL;
    std::size_t a = t->elem_align;
    if (a == 0 || (a & (a - 1)) != 0 || a > COW_MAX_ALIGN) return COW_EINVAL;
    // As in C, a size is a multiple of the alignment, so arrays stay aligned.
    if (t->elem_size % a != 0) return COW_EINVAL;
    return COW_OK;
}

bool type_is_varlen(const cow_type *t) noexcept {
    return t == &builtin_bytes || t == &builtin_string;
}
cow_status value_type_check(const cow_type *t) noexcept {
    cow_status s = type_check(t);
    if (s != COW_OK) return s;
    return type_is_varlen(t) ? COW_EINVAL : COW_OK;
}

bool type_is_string(const cow_type *t) noexcept { return t == &builtin_string; }
bool type_is_handle(const cow_type *t) noexcept { return t == &builtin_handle; }

cow_status type_copy(const cow_type *t, void *dst, const void *src) noexcept {
    if (!t->copy) {
        std::memcpy(dst, src, t->elem_size);
        return COW_OK;
    }
    cow_status s = t->copy(t->ctx, dst, src);
    if (s == COW_OK) return COW_OK;
    return (s > COW_OK && s <= COW_ECALLBACK) ? s : COW_ECALLBACK;
}

cow_status type_copy_key(const cow_type *t, void *dst, const void *src) noexcept {
    if (t != &builtin_handle) return type_copy(t, dst, src);
    void *h;
    std::memcpy(&h, src, sizeof h);
    if (h) {
        rep *r = rep_of(h);
        if (!r) return COW_ETYPE;
        cow_status s = rep_add_handle(r);  // COW_EOVERFLOW at the limit
        if (s != COW_OK) return s;
    }
    std::memcpy(dst, &h, sizeof h);
    return COW_OK;
}

cow_status type_copy_n(const cow_type *t, void *dst, const void *src, std::size_t n) noexcept {
    if (!t->copy) {
        if (n) std::memcpy(dst, src, n * t->elem_size);
        return COW_OK;
    }
    auto *d = static_cast<unsigned char *>(dst);
    auto *s = static_cast<const unsigned char *>(src);
    for (std::size_t i = 0; i < n; ++i) {
        cow_status st = type_copy(t, d + i * t->elem_size, s + i * t->elem_size);
        if (st != COW_OK) {
            type_drop_n(t, dst, i);
            return st;
        }
    }
    return COW_OK;
}

bool type_has_drop(const cow_type *t) noexcept { return t->drop != nullptr; }

void type_drop(const cow_type *t, void *value) noexcept {
    if (t->drop) t->drop(t->ctx, value);
}

void type_drop_n(const cow_type *t, void *values, std::size_t n) noexcept {
    if (!t->drop) return;
    auto *p = static_cast<unsigned char *>(values);
    for (std::size_t i = 0; i < n; ++i) t->drop(t->ctx, p + i * t->elem_size);
}

bool type_equal(const cow_type *t, const void *a, const void *b) noexcept {
    if (t->equal) return t->equal(t->ctx, a, b);
    return std::memcmp(a, b, t->elem_size) == 0;
}

std::uint64_t type_hash(const cow_type *t, const void *value) noexcept {
    if (t->hash) return t->hash(t->ctx, value, process_seed());
    return hash_bytes(value, t->elem_size);
}

}  // namespace cow::detail
