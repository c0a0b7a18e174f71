// Built-in cow_type descriptors.
#include <cstring>

#include "../src/type.hpp"
#include "cow.h"

using namespace cow::detail;

extern "C" {
COW_API const cow_type *cow_type_u8(void) noexcept { return &builtin_u8; }
COW_API const cow_type *cow_type_u16(void) noexcept { return &builtin_u16; }
COW_API const cow_type *cow_type_u32(void) noexcept { return &builtin_u32; }
COW_API const cow_type *cow_type_u64(void) noexcept { return &builtin_u64; }
COW_API const cow_type *cow_type_i8(void) noexcept { return &builtin_i8; }
COW_API const cow_type *cow_type_i16(void) noexcept { return &builtin_i16; }
COW_API const cow_type *cow_type_i32(void) noexcept { return &builtin_i32; }
COW_API const cow_type *cow_type_i64(void) noexcept { return &builtin_i64; }
COW_API const cow_type *cow_type_f32(void) noexcept { return &builtin_f32; }
COW_API const cow_type *cow_type_f64(void) noexcept { return &builtin_f64; }
COW_API const cow_type *cow_type_ptr(void) noexcept { return &builtin_ptr; }
COW_API const cow_type *cow_type_handle(void) noexcept { return &builtin_handle; }
COW_API const cow_type *cow_type_bytes(void) noexcept { return &builtin_bytes; }
COW_API const cow_type *cow_type_string(void) noexcept { return &builtin_string; }

COW_API void cow_type_init(cow_type *type, size_t elem_size, size_t elem_align) noexcept {
    if (!type) return;
    std::memset(type, 0, sizeof *type);
    type->size = sizeof(cow_type);
    type->elem_size = elem_size;
    type->elem_align = elem_align;
}
}
