// cow_type handling shared by every container: checks, element copy/drop/
// equal/hash with defaults, and the variable-length byte keys.
#pragma once
#include <cstddef>
#include <cstdint>

#include "cow.h"

namespace cow::detail {

// How a variable-length key (cow_type_bytes / cow_type_string) is stored:
// owned bytes allocated with mem_alloc (len + 1, NUL-terminated). A lookup
// uses a borrowed varkey pointing at the caller's bytes: no allocation.
struct varkey {
    const char *data;
    std::size_t len;
};

// The built-in descriptors (static; compared by address).
extern const cow_type builtin_u8, builtin_u16, builtin_u32, builtin_u64, builtin_i8, builtin_i16,
    builtin_i32, builtin_i64, builtin_f32, builtin_f64, builtin_ptr, builtin_handle, builtin_bytes,
    builtin_string;

// COW_OK when t can describe elements (size, alignment, struct size).
cow_status type_check(const cow_type *t) noexcept;
bool type_is_varlen(const cow_type *t) noexcept;  // bytes or string keys
// COW_OK when t can be a vector element, map value or box value: a valid
// fixed-size type (the variable-length key types are for map keys only).
cow_status value_type_check(const cow_type *t) noexcept;
bool type_is_string(const cow_type *t) noexcept;  // UTF-8 keys
bool type_is_handle(const cow_type *t) noexcept;

// Copies one value into uninitialised dst; the status tells why it failed.
cow_status type_copy(const cow_type *t, void *dst, const void *src) noexcept;
// Copies one map key: as type_copy, except that a handle key becomes another
// reference to the same representation, never an eager copy. Vector, map
// and box handles are hashed and compared by identity, so the stored key
// must be the very value that was hashed.
cow_status type_copy_key(const cow_type *t, void *dst, const void *src) noexcept;
// Copies n values; on failure drops the ones already copied.
cow_status type_copy_n(const cow_type *t, void *dst, const void *src, std::size_t n) noexcept;
void type_drop(const cow_type *t, void *value) noexcept;
void type_drop_n(const cow_type *t, void *values, std::size_t n) noexcept;
bool type_has_drop(const cow_type *t) noexcept;
bool type_equal(const cow_type *t, const void *a, const void *b) noexcept;
std::uint64_t type_hash(const cow_type *t, const void *value) noexcept;

}  // namespace cow::detail
