// How many blocks a flat vector allocates: one per copy when its storage
// fits the header's block, else a header and an element block; geometric
// growth, writes in place that allocate nothing, into handing over an
// element block. These counts belong to the flat layout, so they
// run for the flat strategies only (LAZY, EAGER, THRESHOLD); the behaviour
// every representation gives is in vec_generic.ipp.
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "cow.h"
#include "support.hpp"
#include "vec_strategy.hpp"

using namespace vec_test;

namespace {

// Elements of a vector whose storage has a block of its own (4,000 bytes).
constexpr std::size_t own_block_len = 1000;

// Blocks a vector of n int32 with room for no more is made of: small
// storage shares the header's block (header and storage within 1,032
// bytes, glibc's per-thread cache), larger storage has a block of its own.
// The tests use sizes well on either side: up to 200 bytes, or 4,000.
long blocks_of(std::size_t n) {
    REQUIRE((n <= 50 || n >= own_block_len));
    return n <= 50 ? 1 : 2;
}

// Flat vectors whose clone shares them (LAZY at any size, THRESHOLD above
// its threshold), so that the first write to either handle makes the copy.
struct sharing_case {
    const strategy &s;
    std::vector<int32_t> init;
};
const std::vector<sharing_case> &sharing_cases() {
    static const std::vector<sharing_case> cases = {{lazy, {1, 2, 3, 4}},
                                                    {lazy, iota(large_len)},
                                                    {threshold, iota(large_len)},
                                                    {lazy, iota(own_block_len)}};
    return cases;
}

// Allocation calls `op` makes on a fresh vector of `init` (with room for
// `capacity` elements when not 0), shared with a clone or not.
long allocations_of(const strategy &s, bool shared, const std::vector<int32_t> &init,
                    std::size_t capacity, const std::function<cow_status(cow_vec **)> &op) {
    test::leak_check leaks;
    test::allocator_scope scope;
    cow_vec *v = make_i32(init, s);
    if (capacity) REQUIRE(cow_vec_reserve(&v, capacity - init.size()) == COW_OK);
    cow_vec *other = shared ? cow_vec_clone(v) : nullptr;
    if (shared) REQUIRE(cow_is_shared(v));
    long base = scope.allocator.calls;
    REQUIRE(op(&v) == COW_OK);
    long made = scope.allocator.calls - base;
    cow_vec_release(v);  // NULL after into
    cow_vec_release(other);
    return made;
}

}  // namespace

TEST_CASE("vec flat: a clone allocates nothing when it shares, the blocks of a new vector when it copies") {
    for (const auto &s : flat_strategies) {
        for (std::size_t n : {small_len, large_len, own_block_len}) {
            CAPTURE(s.name);
            CAPTURE(n);
            test::leak_check leaks;
            test::allocator_scope scope;
            cow_vec *v = make_i32(iota(n), s);
            const bool copies = clone_copies(s, v);
            long before = allocations(scope);
            cow_vec *w = cow_vec_clone(v);
            REQUIRE(w != nullptr);
            CHECK(allocations(scope) - before == (copies ? blocks_of(n) : 0));
            CHECK(scope.allocator.reallocs == 0);
            cow_vec_release(w);
            cow_vec_release(v);
        }
    }
}

TEST_CASE("vec flat: a write to a shared vector copies into the blocks of a new vector of the result's size") {
    int32_t x = 42, out = -1;
    void *p = nullptr;
    cow_owned o{};
    const auto init = iota(4);
    const std::vector<std::pair<const char *, std::function<cow_status(cow_vec **)>>> writes = {
        {"push", [&](cow_vec **s) { return cow_vec_push(s, &x); }},  // no copy-then-grow
        {"insert", [&](cow_vec **s) { return cow_vec_insert(s, 1, &x); }},
        {"set", [&](cow_vec **s) { return cow_vec_set(s, 1, &x, &out); }},
        {"pop", [&](cow_vec **s) { return cow_vec_pop(s, &out); }},
        {"erase", [&](cow_vec **s) { return cow_vec_erase(s, 0, &out); }},
        {"extend", [&](cow_vec **s) { return cow_vec_extend(s, init.data(), 4); }},
        {"reserve", [&](cow_vec **s) { return cow_vec_reserve(s, 8); }},
        {"truncate", [&](cow_vec **s) { return cow_vec_truncate(s, 1); }},
        {"make_mut", [&](cow_vec **s) { return cow_vec_make_mut(s, &p); }},
        {"get_mut", [&](cow_vec **s) { return cow_vec_get_mut(s, 0, &p); }},
        {"cow_make_mut", [&](cow_vec **s) { return cow_make_mut(s); }},
    };
    for (const auto &c : sharing_cases()) {
        const strategy &s = c.s;
        const auto &values = c.init;
        CAPTURE(s.name);
        CAPTURE(values.size());
        for (const auto &[name, op] : writes) {
            std::string what = name;
            CAPTURE(what);
            // The copy has room for the result: at most 8 more elements
            // (reserve), 1 after truncate.
            std::size_t room = what == "truncate" ? 1 : values.size() + 8;
            CHECK(allocations_of(s, true, values, 0, op) == blocks_of(room));
        }
        // A cleared copy needs a header only, and into a caller-owned block only.
        CHECK(allocations_of(s, true, values, 0, [](cow_vec **v) { return cow_vec_clear(v); }) == 1);
        CHECK(allocations_of(s, true, values, 0, [&](cow_vec **v) {
                  cow_status st = cow_vec_into(v, &o);
                  if (st == COW_OK) cow_owned_free(&o);
                  return st;
              }) == 1);
    }

    // Reading a shared vector's data allocates nothing and gives the shared
    // storage; the copy a write makes is then written in place.
    for (const auto &c : sharing_cases()) {
        const strategy &s = c.s;
        const auto &values = c.init;
        CAPTURE(s.name);
        CAPTURE(values.size());
        test::leak_check leaks;
        test::allocator_scope scope;
        cow_vec *v = make_i32(values, s);
        REQUIRE_FALSE(clone_copies(s, v));
        cow_vec *w = cow_vec_clone(v);
        long before = allocations(scope);
        const void *d = nullptr;
        REQUIRE(cow_vec_data(w, &d) == COW_OK);
        CHECK(d == cow_vec_get(v, 0));
        CHECK(allocations(scope) == before);
        REQUIRE(cow_vec_push(&w, &x) == COW_OK);
        CHECK(allocations(scope) - before == blocks_of(values.size() + 1));
        CHECK(scope.allocator.reallocs == 0);
        before = allocations(scope);
        REQUIRE(cow_vec_set(&w, 0, &x, nullptr) == COW_OK);
        CHECK(allocations(scope) == before);
        cow_vec_release(v);
        cow_vec_release(w);
    }
}

TEST_CASE("vec flat: unique pushes are in place and grow geometrically") {
    for (const auto &s : flat_strategies) {
        CAPTURE(s.name);
        test::leak_check leaks;
        test::allocator_scope scope;
        cow_options o = s.options();
        cow_vec *v = nullptr;
        REQUIRE(cow_vec_with_capacity(&v, i32(), 8, &o) == COW_OK);
        const void *data0;
        REQUIRE(cow_vec_data(v, &data0) == COW_OK);
        long before = allocations(scope);
        for (int32_t i = 0; i < 8; ++i) REQUIRE(cow_vec_push(&v, &i) == COW_OK);
        CHECK(allocations(scope) == before);  // within capacity: zero allocations
        const void *data1;
        REQUIRE(cow_vec_data(v, &data1) == COW_OK);
        CHECK(data1 == data0);
        int32_t i = 8;
        REQUIRE(cow_vec_push(&v, &i) == COW_OK);
        CHECK(allocations(scope) == before + 1);  // one new block
        cow_vec_release(v);

        v = make_vec(i32(), s);
        before = allocations(scope);
        for (int32_t k = 0; k < 10000; ++k) REQUIRE(cow_vec_push(&v, &k) == COW_OK);
        long grows = allocations(scope) - before;
        CHECK(grows >= 10);
        CHECK(grows <= 13);  // 4, 8, ..., 16384: logarithmic
        CHECK(cow_vec_len(v) == 10000);
        CHECK(at(v, 9999) == 9999);
        CHECK(test::stats(v).copies == 0);
        cow_vec_release(v);
    }
}

TEST_CASE("vec flat: writes to a unique vector with room allocate nothing and keep the storage") {
    for (const auto &s : flat_strategies) {
        CAPTURE(s.name);
        test::leak_check leaks;
        test::allocator_scope scope;
        cow_vec *v = make_i32({1, 2, 3, 4}, s);
        const void *d0, *d1;
        REQUIRE(cow_vec_data(v, &d0) == COW_OK);
        long before = allocations(scope);
        int32_t x = 30, old = 0;
        REQUIRE(cow_vec_set(&v, 2, &x, &old) == COW_OK);
        CHECK(old == 3);
        REQUIRE(cow_vec_pop(&v, nullptr) == COW_OK);
        REQUIRE(cow_vec_pop(&v, &old) == COW_OK);
        CHECK(old == 30);
        void *m = nullptr, *m2 = nullptr;
        REQUIRE(cow_vec_make_mut(&v, &m) == COW_OK);
        REQUIRE(cow_vec_make_mut(&v, &m2) == COW_OK);
        CHECK(m2 == m);
        CHECK(m == d0);
        REQUIRE(cow_vec_make_mut(&v, nullptr) == COW_OK);
        CHECK(allocations(scope) == before);
        REQUIRE(cow_vec_data(v, &d1) == COW_OK);
        CHECK(d1 == d0);

        REQUIRE(cow_vec_reserve(&v, 100) == COW_OK);
        before = allocations(scope);
        for (int32_t i = 0; i < 50; ++i) REQUIRE(cow_vec_insert(&v, 1, &i) == COW_OK);
        for (int32_t i = 0; i < 50; ++i) REQUIRE(cow_vec_push(&v, &i) == COW_OK);
        CHECK(allocations(scope) == before);
        CHECK(cow_vec_len(v) == 102);
        cow_vec_release(v);
    }
}

TEST_CASE("vec flat: allocations of writes to a unique vector: only growth allocates, one block") {
    int32_t x = 42;
    const std::vector<int32_t> init = {1, 2, 3, 4};
    for (const auto &s : flat_strategies) {
        CAPTURE(s.name);
        CHECK(allocations_of(s, false, init, 0, [&](cow_vec **v) { return cow_vec_push(v, &x); }) == 1);
        CHECK(allocations_of(s, false, init, 0, [&](cow_vec **v) { return cow_vec_insert(v, 0, &x); }) == 1);
        CHECK(allocations_of(s, false, init, 0,
                             [&](cow_vec **v) { return cow_vec_extend(v, init.data(), 4); }) == 1);
        CHECK(allocations_of(s, false, init, 0, [&](cow_vec **v) { return cow_vec_reserve(v, 1); }) == 1);
        CHECK(allocations_of(s, false, init, 8, [&](cow_vec **v) { return cow_vec_push(v, &x); }) == 0);
        CHECK(allocations_of(s, false, init, 0,
                             [&](cow_vec **v) { return cow_vec_set(v, 0, &x, nullptr); }) == 0);
    }
}

TEST_CASE("vec flat: into a unique vector hands over its element block without allocating; storage in the header's block is copied out") {
    for (const auto &s : flat_strategies) {
        for (std::size_t n : {small_len, own_block_len}) {
            CAPTURE(s.name);
            CAPTURE(n);
            test::leak_check leaks;
            test::allocator_scope scope;
            cow_vec *v = make_i32(iota(n), s);
            const void *d;
            REQUIRE(cow_vec_data(v, &d) == COW_OK);
            long before = allocations(scope);
            cow_owned o{};
            REQUIRE(cow_vec_into(&v, &o) == COW_OK);
            CHECK(v == nullptr);
            bool own_block = blocks_of(n) == 2;
            CHECK(allocations(scope) == before + (own_block ? 0 : 1));
            CHECK((o.data == d) == own_block);
            CHECK(o.len == n);
            CHECK(o.alloc_size == n * sizeof(int32_t));
            CHECK(std::memcmp(o.data, iota(n).data(), n * sizeof(int32_t)) == 0);
            cow_owned_free(&o);
        }
    }
}

TEST_CASE("vec flat: creating allocates a lineage and the vector's blocks") {
    int32_t init[] = {1, 2, 3, 4};
    const std::vector<int32_t> many = iota(own_block_len);
    for (const auto &s : flat_strategies) {
        CAPTURE(s.name);
        const cow_options o = s.options();
        const std::vector<std::pair<long, std::function<cow_status(cow_vec **)>>> makers = {
            {2, [&](cow_vec **m) { return cow_vec_from_array(m, i32(), init, 4, &o); }},
            {2, [&](cow_vec **m) { return cow_vec_with_capacity(m, i32(), 4, &o); }},
            {2, [&](cow_vec **m) { return cow_vec_new(m, i32(), &o); }},  // no element storage yet
            {3, [&](cow_vec **m) { return cow_vec_from_array(m, i32(), many.data(), many.size(), &o); }},
            {3, [&](cow_vec **m) { return cow_vec_with_capacity(m, i32(), own_block_len, &o); }},
        };
        for (std::size_t i = 0; i < makers.size(); ++i) {
            CAPTURE(i);
            test::leak_check leaks;
            test::allocator_scope scope;
            cow_vec *made = nullptr;
            REQUIRE(makers[i].second(&made) == COW_OK);
            CHECK(scope.allocator.calls == makers[i].first);
            cow_vec_release(made);
        }
    }
}

TEST_CASE("vec flat: setting an element on a unique vector allocates nothing, unless a large element is copied by a callback") {
    // A type without callbacks is stored directly, whatever its size; a copy
    // callback first copies into scratch room (the copy may fail), which
    // above the on-stack size is one temporary block.
    cow_type plain;
    cow_type_init(&plain, 1024, 8);
    cow_type copied = plain;
    copied.copy = [](void *, void *dst, const void *src) {
        std::memcpy(dst, src, 1024);
        return COW_OK;
    };
    std::vector<unsigned char> a(1024, 'a'), b(1024, 'b');
    for (const auto &s : flat_strategies) {
        for (const cow_type *type : {&plain, &copied}) {
            CAPTURE(s.name);
            CAPTURE(type == &copied);
            test::leak_check leaks;
            test::allocator_scope scope;
            const cow_options o = s.options();
            cow_vec *v = nullptr;
            REQUIRE(cow_vec_from_array(&v, type, a.data(), 1, &o) == COW_OK);
            long before = scope.allocator.calls, freed_before = scope.allocator.frees;
            REQUIRE(cow_vec_set(&v, 0, b.data(), nullptr) == COW_OK);
            long temporary = type == &copied ? 1 : 0;
            CHECK(scope.allocator.calls - before == temporary);
            CHECK(scope.allocator.frees - freed_before == temporary);
            CHECK(std::memcmp(cow_vec_get(v, 0), b.data(), 1024) == 0);
            cow_vec_release(v);
        }
    }
}
