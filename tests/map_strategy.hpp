// The strategies the map tests run with, what each one promises about
// clones and storage, and helpers that make, fill and read maps under one.
#pragma once
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "cow.h"
#include "strategy.hpp"
#include "support.hpp"

namespace map_test {

using u64 = std::uint64_t;

using test::strategy;

// THRESHOLD copies at clone below 256 bytes (16 u64 -> u64 entries) and
// shares above, so the tests' small maps take the eager side and their
// large ones the lazy.
inline constexpr std::uint64_t threshold_bytes = 256;
inline constexpr std::size_t small_len = 4;   // 64 bytes of u64 -> u64
inline constexpr std::size_t large_len = 40;  // 640 bytes of u64 -> u64

inline constexpr strategy lazy{"lazy", COW_STRATEGY_LAZY, 0};
inline constexpr strategy eager{"eager", COW_STRATEGY_EAGER, 0};
inline constexpr strategy threshold{"threshold", COW_STRATEGY_THRESHOLD, threshold_bytes};
inline constexpr strategy structural{"structural", COW_STRATEGY_STRUCTURAL, 0};
// At the default size floor (64 KiB) the tests' values stay flat: ADAPTIVE
// must then behave as LAZY does. Switches are tested in test_adaptive.cpp.
inline constexpr strategy adaptive{"adaptive", COW_STRATEGY_ADAPTIVE, 0};

// Values of this strategy are persistent trees: a write to a shared map
// copies the nodes on its path, not the whole map.
inline bool is_tree(const strategy &s) { return s.id == COW_STRATEGY_STRUCTURAL; }

// The representation cow_stats reports for maps of this strategy.
inline std::uint32_t representation(const strategy &s) {
    return is_tree(s) ? COW_REPRESENTATION_TREE : COW_REPRESENTATION_FLAT;
}

// Whether cow_clone of m copies at once (EAGER, THRESHOLD below its
// threshold) instead of sharing; decided on the map's current size.
inline bool clone_copies(const strategy &s, const cow_map *m) {
    switch (s.id) {
    case COW_STRATEGY_EAGER: return true;
    case COW_STRATEGY_THRESHOLD: return test::stats(m).value_bytes < s.threshold_bytes;
    default: return false;
    }
}

// Asks the library: does cow_map_new accept STRUCTURAL? Anything but
// COW_EUNSUPPORTED counts as accepted, so that a wrong answer fails the
// tests instead of skipping them.
inline bool structural_maps_available() {
    static const bool available = [] {
        cow_options o = structural.options();
        cow_map *m = nullptr;
        cow_status s = cow_map_new(&m, cow_type_u64(), cow_type_u64(), &o);
        cow_map_release(m);
        return s != COW_EUNSUPPORTED;
    }();
    return available;
}

inline bool available(const strategy &s) {
    return s.id != COW_STRATEGY_STRUCTURAL || structural_maps_available();
}

inline cow_map *make_map(const cow_type *key, const cow_type *value, const strategy &s,
                         std::uint32_t flags = 0) {
    cow_options o = s.options(flags);
    cow_map *m = nullptr;
    REQUIRE(cow_map_new(&m, key, value, &o) == COW_OK);
    REQUIRE(m != nullptr);
    return m;
}

// ---- keys and values as the C API takes them ---------------------------------

inline void put(cow_map **m, u64 k, u64 v) {
    REQUIRE(cow_map_insert(m, &k, sizeof k, &v, nullptr, nullptr) == COW_OK);
}
inline void put(cow_map **m, const std::string &k, u64 v) {
    REQUIRE(cow_map_insert(m, k.data(), k.size(), &v, nullptr, nullptr) == COW_OK);
}

inline std::optional<u64> value_at(const void *p) {
    if (!p) return std::nullopt;
    u64 v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
inline std::optional<u64> get(const cow_map *m, u64 k) { return value_at(cow_map_get(m, &k, sizeof k)); }
inline std::optional<u64> get(const cow_map *m, const std::string &k) {
    return value_at(cow_map_get(m, k.data(), k.size()));
}

// A u64 -> u64 map holding keys first, first + 1, ... (n of them), each
// with the value key * 10.
inline cow_map *make_u64(std::size_t n, const strategy &s, u64 first = 0, std::uint32_t flags = 0) {
    cow_map *m = make_map(cow_type_u64(), cow_type_u64(), s, flags);
    for (u64 k = first; k < first + n; ++k) put(&m, k, k * 10);
    return m;
}
inline std::map<u64, u64> model_u64(std::size_t n, u64 first = 0) {
    std::map<u64, u64> out;
    for (u64 k = first; k < first + n; ++k) out[k] = k * 10;
    return out;
}

// Every entry through the cursor: each key must appear once and the count
// must match cow_map_len; every value must be the one cow_map_get gives.
inline std::map<u64, u64> entries(const cow_map *m) {
    std::map<u64, u64> out;
    cow_map_cursor c;
    REQUIRE(cow_map_cursor_init(&c, m) == COW_OK);
    const void *k, *v;
    std::size_t klen;
    while (cow_map_next(&c, &k, &klen, &v)) {
        REQUIRE(klen == sizeof(u64));
        u64 key, val;
        std::memcpy(&key, k, sizeof key);
        std::memcpy(&val, v, sizeof val);
        CHECK(out.emplace(key, val).second);
        CHECK(cow_map_get(m, k, klen) == v);
    }
    CHECK(out.size() == cow_map_len(m));
    return out;
}
// The same for bytes and string keys (u64 values).
inline std::map<std::string, u64> str_entries(const cow_map *m) {
    std::map<std::string, u64> out;
    cow_map_cursor c;
    REQUIRE(cow_map_cursor_init(&c, m) == COW_OK);
    const void *k, *v;
    std::size_t klen;
    while (cow_map_next(&c, &k, &klen, &v)) {
        u64 val;
        std::memcpy(&val, v, sizeof val);
        CHECK(out.emplace(std::string(static_cast<const char *>(k), klen), val).second);
        CHECK(cow_map_get(m, k, klen) == v);
    }
    CHECK(out.size() == cow_map_len(m));
    return out;
}

// prefix + n, without the false -Wrestrict g++ 12 gives at -O3 for
// "k" + std::to_string(n).
inline std::string numbered(const char *prefix, long n) {
    std::string s = prefix;
    s += std::to_string(n);
    return s;
}

inline cow_str *make_str(const std::string &t) {
    cow_str *s = nullptr;
    REQUIRE(cow_str_new(&s, t.data(), t.size(), nullptr) == COW_OK);
    return s;
}

inline std::uint64_t strong(const void *h) { return cow_strong_count(h); }

inline long allocations(const test::allocator_scope &s) {
    return s.allocator.successful_allocations();
}

}  // namespace map_test
