// The one allocator behind every libcow block (replaceable: cow_set_allocator),
// and the size limits every request is checked against.
#pragma once
#include <cstddef>
#include <cstdint>

#include "cow.h"

namespace cow::detail {

// Returns nullptr on failure (never throws). size > 0.
void *mem_alloc(std::size_t size) noexcept;
// Grows or shrinks a block; nullptr on failure (the old block stays valid).
void *mem_realloc(void *ptr, std::size_t old_size, std::size_t new_size) noexcept;
void mem_free(void *ptr, std::size_t size) noexcept;

cow_status set_allocator(const cow_allocator *a) noexcept;

// Largest allocation we will ever ask for: sizes are bounded by PTRDIFF_MAX.
constexpr std::size_t max_alloc = static_cast<std::size_t>(PTRDIFF_MAX);

// a + b, or false when it would exceed max_alloc.
inline bool add_size(std::size_t a, std::size_t b, std::size_t &out) noexcept {
    if (a > max_alloc || b > max_alloc - a) return false;
    out = a + b;
    return true;
}
inline bool mul_size(std::size_t a, std::size_t b, std::size_t &out) noexcept {
    if (a != 0 && b > max_alloc / a) return false;
    out = a * b;
    return true;
}

}  // namespace cow::detail
