// The strategies the vector tests run with, what each one promises about
// clones and storage, and helpers that make and read vectors under one.
#pragma once
#include <cstdint>
#include <cstring>
#include <vector>

#include <doctest/doctest.h>

#include "cow.h"
#include "strategy.hpp"
#include "support.hpp"

namespace vec_test {

using test::strategy;

// THRESHOLD copies at clone below 64 bytes (16 int32s) and shares above, so
// the tests' small vectors take the eager side and their large ones the lazy.
inline constexpr std::uint64_t threshold_bytes = 64;
inline constexpr std::size_t small_len = 3;   // 12 bytes of int32
inline constexpr std::size_t large_len = 40;  // 160 bytes of int32

inline constexpr strategy lazy{"lazy", COW_STRATEGY_LAZY, 0};
inline constexpr strategy eager{"eager", COW_STRATEGY_EAGER, 0};
inline constexpr strategy threshold{"threshold", COW_STRATEGY_THRESHOLD, threshold_bytes};
inline constexpr strategy structural{"structural", COW_STRATEGY_STRUCTURAL, 0};
// At the default size floor (64 KiB) the tests' values stay flat: ADAPTIVE
// must then behave as LAZY does. Switches are tested in test_adaptive.cpp.
inline constexpr strategy adaptive{"adaptive", COW_STRATEGY_ADAPTIVE, 0};

inline constexpr strategy flat_strategies[] = {lazy, eager, threshold};

// Values of this strategy are persistent trees (structural.md's contracts).
inline bool is_tree(const strategy &s) { return s.id == COW_STRATEGY_STRUCTURAL; }

// Whether cow_clone of v copies at once (EAGER, THRESHOLD below its
// threshold) instead of sharing; decided on the value's current size.
inline bool clone_copies(const strategy &s, const cow_vec *v) {
    std::uint64_t bytes = cow_vec_len(v) * cow_vec_type(v)->elem_size;
    switch (s.id) {
    case COW_STRATEGY_EAGER: return true;
    case COW_STRATEGY_THRESHOLD: return bytes < s.threshold_bytes;
    default: return false;
    }
}

// Asks the library: does cow_vec_new accept STRUCTURAL? Anything but
// COW_EUNSUPPORTED counts as accepted, so that a wrong answer fails the
// tests instead of skipping them.
inline bool structural_vectors_available() {
    static const bool available = [] {
        cow_options o = structural.options();
        cow_vec *v = nullptr;
        cow_status s = cow_vec_new(&v, cow_type_i32(), &o);
        cow_vec_release(v);
        return s != COW_EUNSUPPORTED;
    }();
    return available;
}

inline bool available(const strategy &s) {
    return s.id != COW_STRATEGY_STRUCTURAL || structural_vectors_available();
}

inline const cow_type *i32() { return cow_type_i32(); }

inline cow_vec *make_vec(const cow_type *type, const strategy &s, std::uint32_t flags = 0) {
    cow_options o = s.options(flags);
    cow_vec *v = nullptr;
    REQUIRE(cow_vec_new(&v, type, &o) == COW_OK);
    return v;
}

inline cow_vec *make_i32(const std::vector<std::int32_t> &values, const strategy &s,
                         std::uint32_t flags = 0) {
    cow_options o = s.options(flags);
    cow_vec *v = nullptr;
    REQUIRE(cow_vec_from_array(&v, i32(), values.data(), values.size(), &o) == COW_OK);
    return v;
}

// first, first + 1, ... (n values)
inline std::vector<std::int32_t> iota(std::size_t n, std::int32_t first = 1) {
    std::vector<std::int32_t> out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = first + static_cast<std::int32_t>(i);
    return out;
}

// The elements of an int32 (or tracked int64) vector, read through the span
// cursor; each span must be the storage cow_vec_get gives for its elements.
template <class T = std::int32_t>
std::vector<T> items(const cow_vec *v) {
    std::vector<T> out;
    cow_vec_cursor c;
    REQUIRE(cow_vec_cursor_init(&c, v) == COW_OK);
    const void *data;
    std::size_t n;
    while (cow_vec_next_span(&c, &data, &n)) {
        REQUIRE(n >= 1);
        REQUIRE(data == cow_vec_get(v, out.size()));
        auto *p = static_cast<const T *>(data);
        out.insert(out.end(), p, p + n);
    }
    REQUIRE(out.size() == cow_vec_len(v));
    return out;
}

inline std::int32_t at(const cow_vec *v, std::size_t i) {
    const void *p = cow_vec_get(v, i);
    REQUIRE(p != nullptr);
    std::int32_t x;
    std::memcpy(&x, p, sizeof x);
    return x;
}

inline std::uint64_t strong(const void *h) { return cow_strong_count(h); }

inline long allocations(const test::allocator_scope &s) {
    return s.allocator.successful_allocations();
}

}  // namespace vec_test
