// The behaviour every vector representation gives, through the C API: one
// body per behaviour, compiled once per strategy. Each test_vec_<strategy>.cpp
// defines VEC_STRATEGY (a vec_test::strategy) and VEC_STRATEGY_NAME (its name
// as a string literal), then includes this file.
//
// Where representations differ by contract (structural.md: no contiguous
// access to trees, bytes_copied only bounded), the check depends on
// is_tree(S); where the strategy decides whether a clone copies, on
// clone_copies(S, v). Exact allocation counts of the flat layout are in
// test_vec_flat_allocations.cpp.
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "cow.h"
#include "positional_diff.hpp"
#include "support.hpp"
#include "vec_strategy.hpp"

#if !defined(VEC_STRATEGY) || !defined(VEC_STRATEGY_NAME)
#error "define VEC_STRATEGY and VEC_STRATEGY_NAME before including vec_generic.ipp"
#endif

namespace {

using namespace vec_test;
using test::copy_tracker;
using test::tracked_type;

const strategy &S = VEC_STRATEGY;

// Counts the generic tests as they register; a strategy the library does not
// accept yet has them registered as skipped, which doctest counts and prints.
int generic_tests_registered = 0;
doctest::skip run_if_available() {
    ++generic_tests_registered;
    return doctest::skip(!available(S));
}

cow_vec *make(const std::vector<int32_t> &values, std::uint32_t flags = 0) {
    return make_i32(values, S, flags);
}

}  // namespace

#define VEC_TEST(what) TEST_CASE("vec, " VEC_STRATEGY_NAME ": " what * run_if_available())

VEC_TEST("create and read: kind, length, type, elements held as copies") {
    test::leak_check leaks;
    cow_vec *e = make_vec(i32(), S);
    CHECK(cow_kind(e) == COW_KIND_VEC);
    CHECK(cow_vec_len(e) == 0);
    CHECK(cow_vec_type(e) == i32());
    CHECK(cow_vec_get(e, 0) == nullptr);
    CHECK(test::stats(e).representation ==
          (is_tree(S) ? COW_REPRESENTATION_TREE : COW_REPRESENTATION_FLAT));
    const void *data = nullptr;
    void *mut = nullptr;
    if (is_tree(S)) {
        CHECK(cow_vec_data(e, &data) == COW_ENOTCONTIGUOUS);  // empty trees included
        CHECK(data == nullptr);
        cow_vec *before = e;
        CHECK(cow_vec_make_mut(&e, &mut) == COW_ENOTCONTIGUOUS);
        CHECK(e == before);
        CHECK(mut == nullptr);
    } else {
        REQUIRE(cow_vec_data(e, &data) == COW_OK);
        CHECK(data != nullptr);  // never NULL, even when empty
        REQUIRE(cow_vec_make_mut(&e, &mut) == COW_OK);
        CHECK(mut != nullptr);
    }

    cow_options o = S.options();
    cow_vec *c = nullptr;
    REQUIRE(cow_vec_with_capacity(&c, i32(), 10, &o) == COW_OK);
    CHECK(cow_vec_len(c) == 0);

    int32_t src[] = {5, 6, 7};
    cow_vec *v = nullptr;
    REQUIRE(cow_vec_from_array(&v, i32(), src, 3, &o) == COW_OK);
    CHECK(items(v) == std::vector<int32_t>{5, 6, 7});
    CHECK(at(v, 2) == 7);
    CHECK(cow_vec_get(v, 3) == nullptr);
    src[0] = 99;  // the vector holds copies
    CHECK(at(v, 0) == 5);
    if (is_tree(S)) {
        CHECK(cow_vec_data(v, &data) == COW_ENOTCONTIGUOUS);
    } else {
        REQUIRE(cow_vec_data(v, &data) == COW_OK);
        CHECK(data == cow_vec_get(v, 0));
    }

    cow_vec *z = nullptr;
    REQUIRE(cow_vec_from_array(&z, i32(), nullptr, 0, &o) == COW_OK);
    CHECK(cow_vec_len(z) == 0);

    cow_vec_release(e);
    cow_vec_release(c);
    cow_vec_release(v);
    cow_release(z);
}

VEC_TEST("a clone shares or copies as the strategy says, and release lowers the count") {
    test::leak_check leaks;
    for (std::size_t n : {small_len, large_len}) {
        CAPTURE(n);
        const auto init = iota(n);
        const std::uint64_t bytes = n * sizeof(int32_t);
        cow_vec *v = make(init);
        const bool copies = clone_copies(S, v);
        cow_vec *w = cow_vec_clone(v);
        REQUIRE(w != nullptr);
        auto st = test::stats(v);
        CHECK(st.clones == 1);
        CHECK(st.live_handles == 2);
        CHECK(st.value_bytes == bytes);
        if (copies) {
            CHECK_FALSE(cow_ptr_eq(v, w));
            CHECK(strong(v) == 1);
            CHECK(strong(w) == 1);
            CHECK_FALSE(cow_is_shared(v));
            CHECK_FALSE(cow_is_shared(w));
            CHECK(st.copies == 1);
            CHECK(st.bytes_copied == bytes);
            CHECK(st.live_values == 2);
            CHECK(st.memory_saved == 0);
        } else {
            CHECK(cow_ptr_eq(v, w));
            CHECK(strong(v) == 2);
            CHECK(cow_is_shared(v));
            CHECK(cow_is_shared(w));
            CHECK(st.copies == 0);
            CHECK(st.bytes_copied == 0);
            CHECK(st.live_values == 1);
            CHECK(st.memory_saved == bytes);
        }
        CHECK(items(w) == init);
        cow_vec_release(w);
        CHECK(strong(v) == 1);
        CHECK_FALSE(cow_is_shared(v));
        CHECK(items(v) == init);

        // Several clones: every holder keeps its view when one of them writes.
        cow_vec *clones[5];
        for (auto &c : clones) {
            c = cow_vec_clone(v);
            REQUIRE(c != nullptr);
        }
        CHECK(strong(v) == (copies ? 1u : 6u));
        int32_t x = -1;
        REQUIRE(cow_vec_push(&clones[2], &x) == COW_OK);
        CHECK(strong(v) == (copies ? 1u : 5u));
        CHECK(strong(clones[2]) == 1);
        auto pushed = init;
        pushed.push_back(x);
        CHECK(items(clones[2]) == pushed);
        for (int i = 0; i < 5; ++i)
            if (i != 2) CHECK(items(clones[i]) == init);
        CHECK(items(v) == init);
        st = test::stats(v);
        CHECK(st.clones == 6);
        CHECK(st.copies == (copies ? 6u : 1u));  // every clone, or the one push
        for (auto c : clones) cow_vec_release(c);
        cow_vec_release(v);
    }
    cow_vec_release(nullptr);  // no effect
}

namespace {

// A write through a slot, and what it does to a model of the elements.
struct write_op {
    const char *name;
    std::function<cow_status(cow_vec **)> apply;
    std::function<void(std::vector<int32_t> &)> model;
};

std::vector<write_op> write_ops() {
    static const int32_t x = 100;
    static const int32_t more[] = {100, 101, 102};
    return {
        {"set", [](cow_vec **s) { return cow_vec_set(s, 1, &x, nullptr); },
         [](std::vector<int32_t> &m) { m[1] = x; }},
        {"push", [](cow_vec **s) { return cow_vec_push(s, &x); },
         [](std::vector<int32_t> &m) { m.push_back(x); }},
        {"pop", [](cow_vec **s) { return cow_vec_pop(s, nullptr); },
         [](std::vector<int32_t> &m) { m.pop_back(); }},
        {"insert", [](cow_vec **s) { return cow_vec_insert(s, 1, &x); },
         [](std::vector<int32_t> &m) { m.insert(m.begin() + 1, x); }},
        {"erase", [](cow_vec **s) { return cow_vec_erase(s, 1, nullptr); },
         [](std::vector<int32_t> &m) { m.erase(m.begin() + 1); }},
        {"extend", [](cow_vec **s) { return cow_vec_extend(s, more, 3); },
         [](std::vector<int32_t> &m) { m.insert(m.end(), more, more + 3); }},
        {"truncate", [](cow_vec **s) { return cow_vec_truncate(s, cow_vec_len(*s) / 2); },
         [](std::vector<int32_t> &m) { m.resize(m.size() / 2); }},
        {"clear", [](cow_vec **s) { return cow_vec_clear(s); },
         [](std::vector<int32_t> &m) { m.clear(); }},
        {"reserve", [](cow_vec **s) { return cow_vec_reserve(s, 10); },
         [](std::vector<int32_t> &) {}},
        {"get_mut",
         [](cow_vec **s) {
             void *e = nullptr;
             cow_status st = cow_vec_get_mut(s, cow_vec_len(*s) - 1, &e);
             if (st == COW_OK) std::memcpy(e, &x, sizeof x);
             return st;
         },
         [](std::vector<int32_t> &m) { m.back() = x; }},
        {"make_mut", [](cow_vec **s) { return cow_vec_make_mut(s, nullptr); },
         [](std::vector<int32_t> &) {}},
        {"cow_make_mut", [](cow_vec **s) { return cow_make_mut(s); },
         [](std::vector<int32_t> &) {}},
    };
}

}  // namespace

VEC_TEST("writes to shared and unique vectors leave the other handles unchanged") {
    test::leak_check leaks;
    for (std::size_t n : {small_len, large_len, std::size_t(1000)}) {
        for (const auto &op : write_ops()) {
            std::string name = op.name;
            CAPTURE(n);
            CAPTURE(name);
            const auto init = iota(n);
            auto model = init;
            op.model(model);
            cow_vec *v = make(init);
            cow_vec *w = cow_vec_clone(v);
            REQUIRE(w != nullptr);
            REQUIRE(op.apply(&w) == COW_OK);
            CHECK(items(w) == model);
            CHECK(items(v) == init);
            CHECK_FALSE(cow_ptr_eq(v, w));
            CHECK(strong(v) == 1);
            CHECK(strong(w) == 1);
            CHECK(test::stats(v).copies == 1);  // at the clone or at the write

            // Both are unique now: writes are in place and seen by no one else.
            int32_t mark = -7;
            cow_vec *v_before = v, *w_before = w;
            REQUIRE(cow_vec_push(&v, &mark) == COW_OK);
            CHECK(v == v_before);
            auto init_marked = init;
            init_marked.push_back(mark);
            CHECK(items(v) == init_marked);
            CHECK(items(w) == model);
            mark = -8;
            REQUIRE(cow_vec_push(&w, &mark) == COW_OK);
            CHECK(w == w_before);
            model.push_back(mark);
            CHECK(items(w) == model);
            CHECK(items(v) == init_marked);
            CHECK(test::stats(v).copies == 1);
            cow_vec_release(v);
            cow_vec_release(w);
        }
    }
}

VEC_TEST("push to a shared vector copies once, counted, and the copy is then written in place") {
    test::leak_check leaks;
    cow_vec *v = make({1, 2, 3});
    cow_vec *w = cow_vec_clone(v);
    int32_t x = 4;
    REQUIRE(cow_vec_push(&w, &x) == COW_OK);
    CHECK_FALSE(cow_ptr_eq(v, w));
    CHECK(items(v) == std::vector<int32_t>{1, 2, 3});
    CHECK(items(w) == std::vector<int32_t>{1, 2, 3, 4});
    CHECK(strong(v) == 1);
    CHECK(strong(w) == 1);
    auto st = test::stats(w);
    CHECK(st.copies == 1);
    CHECK(st.clones == 1);
    if (is_tree(S))
        CHECK(st.bytes_copied <= 3 * sizeof(int32_t));  // the nodes on the path, at most all
    else
        CHECK(st.bytes_copied == 3 * sizeof(int32_t));
    CHECK(st.live_values == 2);
    CHECK(st.live_handles == 2);

    // The copy is unique now: the next write is in place.
    cow_vec *before = w;
    int32_t y = 9;
    REQUIRE(cow_vec_set(&w, 0, &y, nullptr) == COW_OK);
    CHECK(w == before);
    CHECK(items(w) == std::vector<int32_t>{9, 2, 3, 4});
    CHECK(test::stats(w).copies == 1);
    cow_vec_release(v);
    cow_vec_release(w);
}

VEC_TEST("set by index") {
    test::leak_check leaks;
    cow_vec *v = make({1, 2, 3});
    const bool copies = clone_copies(S, v);
    cow_vec *w = cow_vec_clone(v);
    int32_t x = 20, old = 0;
    REQUIRE(cow_vec_set(&w, 1, &x, &old) == COW_OK);
    CHECK(old == 2);
    CHECK(items(v) == std::vector<int32_t>{1, 2, 3});
    CHECK(items(w) == std::vector<int32_t>{1, 20, 3});
    CHECK(test::stats(w).copies == 1);
    if (copies)
        CHECK(test::stats(w).bytes_copied == 3 * sizeof(int32_t));  // the whole value, at the clone
    else if (is_tree(S))
        CHECK(test::stats(w).bytes_copied <= 3 * sizeof(int32_t));
    else
        CHECK(test::stats(w).bytes_copied == 2 * sizeof(int32_t));  // the others, not the replaced one

    // Unique: in place.
    cow_vec *before = w;
    x = 30;
    REQUIRE(cow_vec_set(&w, 2, &x, &old) == COW_OK);
    CHECK(old == 3);
    CHECK(w == before);
    // Setting an element from itself.
    REQUIRE(cow_vec_set(&w, 0, cow_vec_get(w, 2), nullptr) == COW_OK);
    CHECK(items(w) == std::vector<int32_t>{30, 20, 30});
    CHECK(cow_vec_set(&w, 3, &x, nullptr) == COW_ERANGE);
    CHECK(test::stats(w).copies == 1);
    cow_vec_release(v);
    cow_vec_release(w);
}

VEC_TEST("pop, insert, erase, truncate, clear, reserve") {
    test::leak_check leaks;
    cow_vec *v = make({1, 2, 3, 4});
    const bool copies = clone_copies(S, v);

    SUBCASE("pop") {
        cow_vec *w = cow_vec_clone(v);
        int32_t out = 0;
        REQUIRE(cow_vec_pop(&w, &out) == COW_OK);
        CHECK(out == 4);
        CHECK(items(v) == std::vector<int32_t>{1, 2, 3, 4});
        CHECK(items(w) == std::vector<int32_t>{1, 2, 3});
        REQUIRE(cow_vec_pop(&w, nullptr) == COW_OK);
        REQUIRE(cow_vec_pop(&w, &out) == COW_OK);
        CHECK(out == 2);
        REQUIRE(cow_vec_pop(&w, &out) == COW_OK);
        CHECK(out == 1);
        CHECK(cow_vec_pop(&w, &out) == COW_ERANGE);
        CHECK(out == 1);
        CHECK(cow_vec_len(w) == 0);
        CHECK(items(v) == std::vector<int32_t>{1, 2, 3, 4});
        cow_vec_release(w);
    }
    SUBCASE("insert") {
        cow_vec *w = cow_vec_clone(v);
        int32_t x = 10;
        REQUIRE(cow_vec_insert(&w, 0, &x) == COW_OK);
        CHECK(items(w) == std::vector<int32_t>{10, 1, 2, 3, 4});
        CHECK(items(v) == std::vector<int32_t>{1, 2, 3, 4});
        x = 11;
        REQUIRE(cow_vec_insert(&w, 5, &x) == COW_OK);  // at the end
        x = 12;
        REQUIRE(cow_vec_insert(&w, 2, &x) == COW_OK);
        CHECK(items(w) == std::vector<int32_t>{10, 1, 12, 2, 3, 4, 11});
        CHECK(cow_vec_insert(&w, 8, &x) == COW_ERANGE);
        REQUIRE(cow_vec_reserve(&w, 4) == COW_OK);
        cow_vec *before = w;
        x = 13;
        REQUIRE(cow_vec_insert(&w, 1, &x) == COW_OK);  // unique: in place
        CHECK(w == before);
        CHECK(items(w) == std::vector<int32_t>{10, 13, 1, 12, 2, 3, 4, 11});
        cow_vec_release(w);
    }
    SUBCASE("erase") {
        cow_vec *w = cow_vec_clone(v);
        int32_t out = 0;
        REQUIRE(cow_vec_erase(&w, 1, &out) == COW_OK);
        CHECK(out == 2);
        CHECK(items(w) == std::vector<int32_t>{1, 3, 4});
        CHECK(items(v) == std::vector<int32_t>{1, 2, 3, 4});
        REQUIRE(cow_vec_erase(&w, 0, nullptr) == COW_OK);
        CHECK(items(w) == std::vector<int32_t>{3, 4});
        CHECK(cow_vec_erase(&w, 2, &out) == COW_ERANGE);
        REQUIRE(cow_vec_erase(&w, 1, &out) == COW_OK);
        CHECK(out == 4);
        CHECK(items(w) == std::vector<int32_t>{3});
        cow_vec_release(w);
    }
    SUBCASE("truncate and clear") {
        cow_vec *w = cow_vec_clone(v);
        cow_vec *before = w;
        CHECK(cow_vec_truncate(&w, 5) == COW_ERANGE);
        REQUIRE(cow_vec_truncate(&w, 4) == COW_OK);  // nothing to do: no copy
        CHECK(w == before);
        if (!copies) CHECK(cow_ptr_eq(v, w));
        CHECK(test::stats(w).copies == (copies ? 1u : 0u));
        REQUIRE(cow_vec_truncate(&w, 2) == COW_OK);
        CHECK(items(w) == std::vector<int32_t>{1, 2});
        CHECK(items(v) == std::vector<int32_t>{1, 2, 3, 4});
        if (copies)
            CHECK(test::stats(w).bytes_copied == 4 * sizeof(int32_t));  // at the clone
        else if (is_tree(S))
            CHECK(test::stats(w).bytes_copied <= 4 * sizeof(int32_t));
        else
            CHECK(test::stats(w).bytes_copied == 2 * sizeof(int32_t));  // only those kept
        cow_vec *u = cow_vec_clone(v);
        REQUIRE(cow_vec_clear(&u) == COW_OK);
        CHECK(cow_vec_len(u) == 0);
        CHECK(cow_vec_len(v) == 4);
        REQUIRE(cow_vec_clear(&u) == COW_OK);
        CHECK(cow_vec_len(u) == 0);
        before = w;
        REQUIRE(cow_vec_clear(&w) == COW_OK);  // unique: in place
        CHECK(w == before);
        CHECK(cow_vec_len(w) == 0);
        CHECK(items(v) == std::vector<int32_t>{1, 2, 3, 4});
        cow_vec_release(w);
        cow_vec_release(u);
    }
    SUBCASE("reserve") {
        cow_vec *w = cow_vec_clone(v);
        REQUIRE(cow_vec_reserve(&w, 0) == COW_OK);  // makes it unique even so
        CHECK_FALSE(cow_ptr_eq(v, w));
        CHECK(strong(v) == 1);
        CHECK_FALSE(cow_is_shared(w));
        REQUIRE(cow_vec_reserve(&w, 100) == COW_OK);
        for (int32_t i = 0; i < 100; ++i) REQUIRE(cow_vec_push(&w, &i) == COW_OK);
        CHECK(cow_vec_len(w) == 104);
        CHECK(at(w, 103) == 99);
        cow_vec *u = cow_vec_clone(w);
        REQUIRE(cow_vec_reserve(&u, 10) == COW_OK);
        CHECK_FALSE(cow_ptr_eq(u, w));
        CHECK_FALSE(cow_is_shared(u));
        CHECK(items(u) == items(w));
        cow_vec_release(u);
        cow_vec_release(w);
    }
    cow_vec_release(v);
}

VEC_TEST("extend and from_array, all or nothing") {
    test::leak_check leaks;
    cow_vec *v = make({1, 2});
    cow_vec *w = cow_vec_clone(v);
    int32_t more[] = {3, 4, 5};
    REQUIRE(cow_vec_extend(&w, more, 3) == COW_OK);
    CHECK(items(w) == std::vector<int32_t>{1, 2, 3, 4, 5});
    CHECK(items(v) == std::vector<int32_t>{1, 2});
    REQUIRE(cow_vec_extend(&w, nullptr, 0) == COW_OK);
    REQUIRE(cow_vec_extend(&w, more, 0) == COW_OK);
    CHECK(cow_vec_len(w) == 5);
    // Extending a unique vector with its own first span (the source moves
    // when a flat vector grows).
    cow_vec_cursor c;
    REQUIRE(cow_vec_cursor_init(&c, w) == COW_OK);
    const void *self = nullptr;
    std::size_t n = 0;
    REQUIRE(cow_vec_next_span(&c, &self, &n));
    REQUIRE(n <= 5);
    auto expected = items(w);
    expected.insert(expected.end(), expected.begin(), expected.begin() + std::ptrdiff_t(n));
    REQUIRE(cow_vec_extend(&w, self, n) == COW_OK);
    CHECK(items(w) == expected);
    if (!is_tree(S)) CHECK(items(w) == std::vector<int32_t>{1, 2, 3, 4, 5, 1, 2, 3, 4, 5});
    cow_vec_release(v);
    cow_vec_release(w);
}

VEC_TEST("values that point into the vector itself") {
    test::leak_check leaks;
    SUBCASE("push an element of a unique vector") {
        cow_vec *v = make({7, 8});  // flat: capacity == len, the push must grow
        REQUIRE(cow_vec_push(&v, cow_vec_get(v, 0)) == COW_OK);
        CHECK(items(v) == std::vector<int32_t>{7, 8, 7});
        cow_vec_release(v);
    }
    SUBCASE("push an element of a shared vector") {
        cow_vec *v = make({7, 8});
        cow_vec *w = cow_vec_clone(v);
        REQUIRE(cow_vec_push(&w, cow_vec_get(w, 1)) == COW_OK);
        CHECK(items(w) == std::vector<int32_t>{7, 8, 8});
        CHECK(items(v) == std::vector<int32_t>{7, 8});
        cow_vec_release(v);
        cow_vec_release(w);
    }
    SUBCASE("insert an element from the shifted tail, with room reserved") {
        cow_vec *v = make({1, 2, 3});
        REQUIRE(cow_vec_reserve(&v, 4) == COW_OK);
        REQUIRE(cow_vec_insert(&v, 0, cow_vec_get(v, 2)) == COW_OK);
        CHECK(items(v) == std::vector<int32_t>{3, 1, 2, 3});
        REQUIRE(cow_vec_insert(&v, 2, cow_vec_get(v, 0)) == COW_OK);
        CHECK(items(v) == std::vector<int32_t>{3, 1, 3, 2, 3});
        cow_vec_release(v);
    }
    SUBCASE("insert an element of a vector without room") {
        cow_vec *v = make({1, 2, 3});
        REQUIRE(cow_vec_insert(&v, 1, cow_vec_get(v, 2)) == COW_OK);
        CHECK(items(v) == std::vector<int32_t>{1, 3, 2, 3});
        cow_vec_release(v);
    }
}

VEC_TEST("span iteration never copies") {
    test::leak_check leaks;
    test::allocator_scope scope;
    cow_vec *v = make({1, 2, 3, 4, 5});
    const bool copies = clone_copies(S, v);
    cow_vec *w = cow_vec_clone(v);
    const auto copies_before = test::stats(v).copies;
    long before = allocations(scope);
    cow_vec_cursor c;
    REQUIRE(cow_vec_cursor_init(&c, w) == COW_OK);
    CHECK(c.size == sizeof(cow_vec_cursor));
    const void *data = nullptr;
    std::size_t n = 0;
    REQUIRE(cow_vec_next_span(&c, &data, &n));
    CHECK(data == cow_vec_get(w, 0));  // the storage itself
    if (!copies) CHECK(data == cow_vec_get(v, 0));  // shared with the other handle
    if (!is_tree(S)) CHECK(n == 5);  // a flat vector is one span
    std::size_t seen = n;
    CHECK(static_cast<const int32_t *>(data)[0] == 1);
    CHECK(static_cast<const int32_t *>(data)[n - 1] == int32_t(n));  // elements 1, 2, ...
    while (cow_vec_next_span(&c, &data, &n)) seen += n;
    CHECK(seen == 5);
    CHECK_FALSE(cow_vec_next_span(&c, &data, &n));
    CHECK(allocations(scope) == before);
    CHECK(cow_is_shared(w) == !copies);
    CHECK(strong(v) == (copies ? 1u : 2u));
    CHECK(test::stats(v).copies == copies_before);

    cow_vec *e = make_vec(i32(), S);
    REQUIRE(cow_vec_cursor_init(&c, e) == COW_OK);
    CHECK_FALSE(cow_vec_next_span(&c, &data, &n));  // empty: no span at all

    // Invalid cursors and arguments.
    cow_str *s = nullptr;
    REQUIRE(cow_str_new(&s, "x", 1, nullptr) == COW_OK);
    CHECK(cow_vec_cursor_init(nullptr, v) == COW_EINVAL);
    CHECK(cow_vec_cursor_init(&c, nullptr) == COW_EINVAL);
    CHECK(cow_vec_cursor_init(&c, reinterpret_cast<const cow_vec *>(s)) == COW_ETYPE);
    REQUIRE(cow_vec_cursor_init(&c, v) == COW_OK);
    CHECK_FALSE(cow_vec_next_span(nullptr, &data, &n));
    CHECK_FALSE(cow_vec_next_span(&c, nullptr, &n));
    CHECK_FALSE(cow_vec_next_span(&c, &data, nullptr));
    cow_vec_cursor bad = c;
    bad.size = 4;  // never initialised by cow_vec_cursor_init
    CHECK_FALSE(cow_vec_next_span(&bad, &data, &n));
    bad = c;
    bad.vec = reinterpret_cast<const cow_vec *>(s);
    CHECK_FALSE(cow_vec_next_span(&bad, &data, &n));
    bad.vec = nullptr;
    CHECK_FALSE(cow_vec_next_span(&bad, &data, &n));
    CHECK(cow_vec_next_span(&c, &data, &n));  // the good cursor still works
    CHECK(data == cow_vec_get(v, 0));
    cow_str_release(s);
    cow_vec_release(e);
    cow_vec_release(v);
    cow_vec_release(w);
}

VEC_TEST("spans cover every element in order, from any caller-set position") {
    test::leak_check leaks;
    const auto init = iota(5000);
    cow_vec *v = make(init);
    cow_vec *w = cow_vec_clone(v);
    int32_t x = -1;
    REQUIRE(cow_vec_set(&w, 2500, &x, nullptr) == COW_OK);  // a copy, or a copied path
    auto model = init;
    model[2500] = x;
    CHECK(items(v) == init);
    CHECK(items(w) == model);

    // A cursor whose next is set by the caller resumes there.
    for (std::size_t from : {std::size_t(0), std::size_t(1), std::size_t(2500), std::size_t(4999)}) {
        CAPTURE(from);
        cow_vec_cursor c;
        REQUIRE(cow_vec_cursor_init(&c, w) == COW_OK);
        c.next = from;
        std::vector<int32_t> rest;
        const void *data;
        std::size_t n;
        while (cow_vec_next_span(&c, &data, &n)) {
            REQUIRE(n >= 1);
            CHECK(data == cow_vec_get(w, from + rest.size()));
            auto *p = static_cast<const int32_t *>(data);
            rest.insert(rest.end(), p, p + n);
        }
        CHECK(rest == std::vector<int32_t>(model.begin() + std::ptrdiff_t(from), model.end()));
    }
    cow_vec_cursor c;
    REQUIRE(cow_vec_cursor_init(&c, w) == COW_OK);
    c.next = 5000;
    const void *data;
    std::size_t n;
    CHECK_FALSE(cow_vec_next_span(&c, &data, &n));  // past the end: nothing
    cow_vec_release(v);
    cow_vec_release(w);
}

VEC_TEST("data, make_mut, get_mut") {
    test::leak_check leaks;
    cow_vec *v = make({1, 2, 3});
    const bool copies = clone_copies(S, v);
    cow_vec *w = cow_vec_clone(v);
    const void *d = nullptr;
    void *m = nullptr;
    if (is_tree(S)) {
        CHECK(cow_vec_data(w, &d) == COW_ENOTCONTIGUOUS);
        cow_vec *before = w;
        CHECK(cow_vec_make_mut(&w, &m) == COW_ENOTCONTIGUOUS);  // changes nothing
        CHECK(w == before);
        CHECK(m == nullptr);
        CHECK(cow_ptr_eq(v, w));
        REQUIRE(cow_vec_make_mut(&w, nullptr) == COW_OK);  // makes the root private
        CHECK_FALSE(cow_ptr_eq(v, w));
        CHECK_FALSE(cow_is_shared(w));
        int32_t x = 100;
        REQUIRE(cow_vec_set(&w, 0, &x, nullptr) == COW_OK);
    } else {
        REQUIRE(cow_vec_data(w, &d) == COW_OK);
        CHECK(d == cow_vec_get(w, 0));
        if (!copies) CHECK(d == cow_vec_get(v, 0));
        REQUIRE(cow_vec_make_mut(&w, &m) == COW_OK);
        CHECK_FALSE(cow_ptr_eq(v, w));
        static_cast<int32_t *>(m)[0] = 100;
        void *m2 = nullptr;
        REQUIRE(cow_vec_make_mut(&w, &m2) == COW_OK);  // unique: same storage
        CHECK(m2 == m);
        cow_vec *before = w;
        REQUIRE(cow_vec_make_mut(&w, nullptr) == COW_OK);
        CHECK(w == before);
    }
    CHECK(items(w) == std::vector<int32_t>{100, 2, 3});
    CHECK(items(v) == std::vector<int32_t>{1, 2, 3});

    cow_vec *u = cow_vec_clone(v);
    cow_vec *u_before = u;
    void *e = nullptr;
    CHECK(cow_vec_get_mut(&u, 3, &e) == COW_ERANGE);
    CHECK(u == u_before);  // a refused call copies nothing
    if (!copies) CHECK(cow_ptr_eq(u, v));
    REQUIRE(cow_vec_get_mut(&u, 2, &e) == COW_OK);
    *static_cast<int32_t *>(e) = 33;
    CHECK(items(u) == std::vector<int32_t>{1, 2, 33});
    CHECK(items(v) == std::vector<int32_t>{1, 2, 3});
    void *e2 = nullptr;
    REQUIRE(cow_vec_get_mut(&u, 2, &e2) == COW_OK);
    CHECK(e2 == e);

    // The generic cow_make_mut works on vectors too.
    cow_vec *t = cow_vec_clone(v);
    REQUIRE(cow_make_mut(&t) == COW_OK);
    CHECK_FALSE(cow_ptr_eq(t, v));
    CHECK(items(t) == std::vector<int32_t>{1, 2, 3});
    cow_vec *t_before = t;
    REQUIRE(cow_make_mut(&t) == COW_OK);
    CHECK(t == t_before);
    CHECK(test::stats(v).copies == 3);  // one for each of w, u and t
    cow_vec_release(t);
    cow_vec_release(u);
    cow_vec_release(v);
    cow_vec_release(w);
}

VEC_TEST("into hands the elements over and consumes the handle") {
    test::leak_check leaks;
    SUBCASE("unique") {
        cow_vec *v = make({1, 2, 3});
        cow_owned o{};
        REQUIRE(cow_vec_into(&v, &o) == COW_OK);
        CHECK(v == nullptr);
        REQUIRE(o.data != nullptr);
        CHECK(o.len == 3);
        CHECK(o.alloc_size >= o.offset + 3 * sizeof(int32_t));
        CHECK(static_cast<int32_t *>(o.data)[0] == 1);
        CHECK(static_cast<int32_t *>(o.data)[2] == 3);
        CHECK(test::global().live_values == 0);
        cow_owned_free(&o);
        CHECK(o.data == nullptr);
    }
    SUBCASE("shared: a copy, the original untouched") {
        cow_vec *v = make({1, 2, 3});
        cow_vec *w = cow_vec_clone(v);
        cow_owned o{};
        REQUIRE(cow_vec_into(&w, &o) == COW_OK);
        CHECK(w == nullptr);
        CHECK(o.data != cow_vec_get(v, 0));
        CHECK(o.len == 3);
        CHECK(std::memcmp(o.data, cow_vec_get(v, 0), 3 * sizeof(int32_t)) == 0);
        CHECK(strong(v) == 1);
        CHECK(items(v) == std::vector<int32_t>{1, 2, 3});
        cow_owned_free(&o);
        cow_vec_release(v);
    }
    SUBCASE("large and shared, after a write to the other handle") {
        const auto init = iota(1000);
        cow_vec *v = make(init);
        cow_vec *w = cow_vec_clone(v);
        int32_t x = -1;
        REQUIRE(cow_vec_set(&v, 10, &x, nullptr) == COW_OK);
        cow_owned o{};
        REQUIRE(cow_vec_into(&w, &o) == COW_OK);
        REQUIRE(o.len == 1000);
        CHECK(std::memcmp(o.data, init.data(), init.size() * sizeof(int32_t)) == 0);
        CHECK(at(v, 10) == -1);
        cow_owned_free(&o);
        cow_vec_release(v);
    }
    SUBCASE("empty: data is still not NULL") {
        cow_vec *v = make_vec(i32(), S);
        cow_owned o{};
        REQUIRE(cow_vec_into(&v, &o) == COW_OK);
        CHECK(o.data != nullptr);
        CHECK(o.len == 0);
        cow_owned_free(&o);
    }
}

VEC_TEST("element handles are cloned and released exactly once") {
    test::leak_check leaks;
    cow_str *a = nullptr, *b = nullptr;
    REQUIRE(cow_str_new(&a, "alpha", 5, nullptr) == COW_OK);
    REQUIRE(cow_str_new(&b, "beta", 4, nullptr) == COW_OK);
    cow_vec *v = make_vec(cow_type_handle(), S);
    REQUIRE(cow_vec_push(&v, &a) == COW_OK);
    REQUIRE(cow_vec_push(&v, &b) == COW_OK);
    CHECK(strong(a) == 2);  // the caller and the vector
    CHECK(strong(b) == 2);
    cow_str *held;
    std::memcpy(&held, cow_vec_get(v, 0), sizeof held);
    CHECK(cow_ptr_eq(held, a));

    const bool copies = clone_copies(S, v);
    cow_vec *w = cow_vec_clone(v);
    // A shared vector shares its elements; a copied one clones its handles.
    CHECK(strong(a) == (copies ? 3u : 2u));
    cow_str *c = nullptr;
    REQUIRE(cow_str_new(&c, "gamma", 5, nullptr) == COW_OK);
    REQUIRE(cow_vec_push(&w, &c) == COW_OK);  // w is a copy now: its handles are cloned
    // ... where their storage was copied: a tree's versions may still share
    // the leaf that holds them (then both read them at the same address).
    const bool shares_leaf = cow_vec_get(w, 0) == cow_vec_get(v, 0);
    CHECK(shares_leaf == (is_tree(S) && cow_vec_get(w, 1) == cow_vec_get(v, 1)));
    CHECK(strong(a) == (shares_leaf ? 2u : 3u));
    CHECK(strong(b) == (shares_leaf ? 2u : 3u));
    CHECK(strong(c) == 2);

    // Values handed back are the caller's: one reference each.
    cow_str *popped = nullptr;
    REQUIRE(cow_vec_pop(&w, &popped) == COW_OK);
    CHECK(cow_ptr_eq(popped, c));
    CHECK(strong(c) == 2);
    cow_str_release(popped);
    cow_str *old = nullptr;
    REQUIRE(cow_vec_set(&w, 0, &c, &old) == COW_OK);
    CHECK(cow_ptr_eq(old, a));
    CHECK(strong(a) == 3);  // moved out, not released
    cow_str_release(old);
    CHECK(strong(a) == 2);
    REQUIRE(cow_vec_set(&w, 1, &c, nullptr) == COW_OK);  // the old one is dropped
    CHECK(strong(b) == 2);
    CHECK(strong(c) == 3);

    // into a shared vector clones the handles; into a unique one moves them.
    cow_vec *x = cow_vec_clone(v);
    cow_owned o{};
    REQUIRE(cow_vec_into(&x, &o) == COW_OK);
    CHECK(strong(a) == 3);
    auto *hs = static_cast<cow_str **>(o.data);
    for (std::size_t i = 0; i < o.len; ++i) cow_str_release(hs[i]);
    cow_owned_free(&o);
    CHECK(strong(a) == 2);

    // Nested edit through get_mut: one copy per level.
    cow_vec *y = cow_vec_clone(v);
    void *slot = nullptr;
    REQUIRE(cow_vec_get_mut(&y, 0, &slot) == COW_OK);
    REQUIRE(cow_str_append(static_cast<cow_str **>(slot), "!", 1) == COW_OK);
    cow_str *edited;
    std::memcpy(&edited, cow_vec_get(y, 0), sizeof edited);
    CHECK(cow_str_len(edited) == 6);
    CHECK(cow_str_len(a) == 5);
    CHECK(strong(a) == 2);  // y's copy now holds the edited string instead
    std::memcpy(&held, cow_vec_get(v, 0), sizeof held);
    CHECK(cow_ptr_eq(held, a));  // v still holds the original

    cow_vec_release(y);
    cow_vec_release(v);
    cow_vec_release(w);
    CHECK(strong(a) == 1);
    CHECK(strong(b) == 1);
    CHECK(strong(c) == 1);
    cow_str_release(a);
    cow_str_release(b);
    cow_str_release(c);
    CHECK(test::global().live_values == 0);
}

VEC_TEST("no statistics: the lineage counts nothing, the value still has its size") {
    test::leak_check leaks;
    cow_vec *v = make({1, 2}, COW_OPT_NO_STATS);
    cow_vec *w = cow_vec_clone(v);
    REQUIRE(w != nullptr);
    int32_t x = 3;
    REQUIRE(cow_vec_push(&w, &x) == COW_OK);
    auto st = test::stats(v);
    CHECK(st.enabled == 0);
    CHECK(st.clones == 0);
    CHECK(st.copies == 0);
    CHECK(st.value_bytes == 2 * sizeof(int32_t));
    CHECK(test::stats(w).value_bytes == 3 * sizeof(int32_t));
    cow_vec_release(v);
    cow_vec_release(w);
}

VEC_TEST("many pushes to a unique vector keep every element and copy nothing") {
    test::leak_check leaks;
    cow_vec *v = make_vec(i32(), S);
    cow_vec *before = v;
    for (int32_t k = 0; k < 10000; ++k) REQUIRE(cow_vec_push(&v, &k) == COW_OK);
    CHECK(v == before);
    CHECK(cow_vec_len(v) == 10000);
    CHECK(at(v, 9999) == 9999);
    CHECK(items(v) == iota(10000, 0));
    CHECK(test::stats(v).copies == 0);
    cow_vec_release(v);
}

VEC_TEST("element alignment up to COW_MAX_ALIGN") {
    test::leak_check leaks;
    for (std::size_t align : {std::size_t(1), std::size_t(2), std::size_t(8), std::size_t(16),
                              std::size_t(32), std::size_t(64)}) {
        CAPTURE(align);
        cow_type t;
        cow_type_init(&t, align * 3, align);  // sizes that are not powers of two too
        cow_vec *v = make_vec(&t, S);
        std::vector<unsigned char> elem(t.elem_size);
        for (int i = 0; i < 40; ++i) {
            std::memset(elem.data(), i, elem.size());
            REQUIRE(cow_vec_push(&v, elem.data()) == COW_OK);
            CHECK(reinterpret_cast<uintptr_t>(cow_vec_get(v, 0)) % align == 0);
        }
        cow_vec *w = cow_vec_clone(v);
        REQUIRE(cow_vec_insert(&w, 3, elem.data()) == COW_OK);
        for (std::size_t i = 0; i < 41; ++i)
            REQUIRE(reinterpret_cast<uintptr_t>(cow_vec_get(w, i)) % align == 0);
        for (int i = 0; i < 40; ++i) {
            auto *p = static_cast<const unsigned char *>(cow_vec_get(v, std::size_t(i)));
            CHECK(p[0] == i);
            CHECK(p[t.elem_size - 1] == i);
        }
        CHECK(static_cast<const unsigned char *>(cow_vec_get(w, 3))[0] == 39);
        CHECK(static_cast<const unsigned char *>(cow_vec_get(w, 4))[0] == 3);
        const void *d;
        if (is_tree(S)) {
            CHECK(cow_vec_data(w, &d) == COW_ENOTCONTIGUOUS);
        } else {
            REQUIRE(cow_vec_data(w, &d) == COW_OK);
            CHECK(reinterpret_cast<uintptr_t>(d) % align == 0);
        }
        // Handed-over elements keep their alignment, unique and shared alike.
        cow_vec *keep = cow_vec_clone(w);
        cow_owned shared_out{};
        REQUIRE(cow_vec_into(&w, &shared_out) == COW_OK);
        CHECK(reinterpret_cast<uintptr_t>(shared_out.data) % align == 0);
        CHECK(shared_out.len == 41);
        cow_owned_free(&shared_out);
        cow_vec_release(keep);
        cow_owned o{};
        REQUIRE(cow_vec_into(&v, &o) == COW_OK);
        CHECK(o.len == 40);
        CHECK(reinterpret_cast<uintptr_t>(o.data) % align == 0);
        CHECK(static_cast<unsigned char *>(o.data)[39 * t.elem_size] == 39);
        cow_owned_free(&o);
    }
}

VEC_TEST("invalid arguments") {
    test::leak_check leaks;
    const cow_options opts = S.options();
    cow_vec *made = nullptr;
    int32_t x = 1, out = 0;
    // Size overflow is refused before anything is allocated.
    {  // (nothing may be alive while the counting allocator is installed)
        test::allocator_scope scope;
        CHECK(cow_vec_with_capacity(&made, cow_type_u64(), SIZE_MAX, &opts) == COW_EOVERFLOW);
        CHECK(cow_vec_with_capacity(&made, cow_type_u64(), size_t(PTRDIFF_MAX) / 8 + 1, &opts) ==
              COW_EOVERFLOW);
        CHECK(cow_vec_from_array(&made, cow_type_u64(), &x, SIZE_MAX / 2, &opts) == COW_EOVERFLOW);
        CHECK(scope.allocator.calls == 0);
    }
    cow_vec *v = make({1, 2, 3});
    cow_str *s = nullptr;
    REQUIRE(cow_str_new(&s, "str", 3, nullptr) == COW_OK);
    auto *wrong = reinterpret_cast<cow_vec *>(s);
    cow_vec *null_vec = nullptr;
    void *p = nullptr;
    const void *cp = nullptr;
    cow_owned o{};

    // Creation: NULL out, bad types, bad options.
    CHECK(cow_vec_new(nullptr, i32(), &opts) == COW_EINVAL);
    CHECK(cow_vec_new(&made, nullptr, &opts) == COW_EINVAL);
    CHECK(cow_vec_with_capacity(nullptr, i32(), 1, &opts) == COW_EINVAL);
    CHECK(cow_vec_from_array(nullptr, i32(), &x, 1, &opts) == COW_EINVAL);
    CHECK(cow_vec_from_array(&made, i32(), nullptr, 1, &opts) == COW_EINVAL);
    cow_type bad;
    cow_type_init(&bad, 0, 1);
    CHECK(cow_vec_new(&made, &bad, &opts) == COW_EINVAL);  // elem_size 0
    cow_type_init(&bad, 4, 3);
    CHECK(cow_vec_new(&made, &bad, &opts) == COW_EINVAL);  // not a power of two
    cow_type_init(&bad, 4, 0);
    CHECK(cow_vec_new(&made, &bad, &opts) == COW_EINVAL);
    cow_type_init(&bad, 12, 8);
    CHECK(cow_vec_new(&made, &bad, &opts) == COW_EINVAL);  // size not a multiple of align
    cow_type_init(&bad, 128, 128);
    CHECK(cow_vec_new(&made, &bad, &opts) == COW_EINVAL);  // above COW_MAX_ALIGN
    cow_type_init(&bad, 4, 4);
    bad.flags = 1;
    CHECK(cow_vec_new(&made, &bad, &opts) == COW_EINVAL);
    cow_type_init(&bad, 4, 4);
    bad.size = 8;
    CHECK(cow_vec_new(&made, &bad, &opts) == COW_EINVAL);
    cow_type_init(&bad, PTRDIFF_MAX, 1);
    CHECK(cow_vec_new(&made, &bad, &opts) == COW_EINVAL);  // above PTRDIFF_MAX / 2
    CHECK(cow_vec_new(&made, cow_type_bytes(), &opts) == COW_EINVAL);  // map keys only
    CHECK(cow_vec_new(&made, cow_type_string(), &opts) == COW_EINVAL);
    cow_options with_reserved = opts;
    with_reserved.reserved = 1;
    CHECK(cow_vec_from_array(&made, i32(), &x, 1, &with_reserved) == COW_EINVAL);
    cow_options unknown_flag = opts;
    unknown_flag.flags = 2;
    CHECK(cow_vec_new(&made, i32(), &unknown_flag) == COW_EINVAL);
    CHECK(made == nullptr);

    cow_vec *before = v;
    CHECK(cow_vec_reserve(&v, SIZE_MAX) == COW_EOVERFLOW);
    CHECK(cow_vec_reserve(&v, size_t(PTRDIFF_MAX) / 4) == COW_EOVERFLOW);
    CHECK(cow_vec_extend(&v, &x, SIZE_MAX) == COW_EOVERFLOW);
    CHECK(cow_vec_extend(&v, &x, size_t(PTRDIFF_MAX) / 4 - 1) == COW_EOVERFLOW);
    CHECK(v == before);

    // Slot-taking calls: NULL slot, NULL handle, wrong kind.
    using slot_call = std::function<cow_status(cow_vec **)>;
    std::vector<slot_call> calls = {
        [&](cow_vec **sl) { return cow_vec_get_mut(sl, 0, &p); },
        [&](cow_vec **sl) { return cow_vec_set(sl, 0, &x, nullptr); },
        [&](cow_vec **sl) { return cow_vec_push(sl, &x); },
        [&](cow_vec **sl) { return cow_vec_pop(sl, &out); },
        [&](cow_vec **sl) { return cow_vec_insert(sl, 0, &x); },
        [&](cow_vec **sl) { return cow_vec_erase(sl, 0, &out); },
        [&](cow_vec **sl) { return cow_vec_extend(sl, &x, 1); },
        [&](cow_vec **sl) { return cow_vec_reserve(sl, 1); },
        [&](cow_vec **sl) { return cow_vec_clear(sl); },
        [&](cow_vec **sl) { return cow_vec_truncate(sl, 0); },
        [&](cow_vec **sl) { return cow_vec_make_mut(sl, &p); },
        [&](cow_vec **sl) { return cow_vec_into(sl, &o); },
    };
    for (std::size_t i = 0; i < calls.size(); ++i) {
        CAPTURE(i);
        CHECK(calls[i](nullptr) == COW_EINVAL);
        CHECK(calls[i](&null_vec) == COW_EINVAL);
        cow_vec *w = wrong;
        CHECK(calls[i](&w) == COW_ETYPE);
        CHECK(w == wrong);
    }
    CHECK(strong(s) == 1);
    CHECK(cow_str_len(s) == 3);

    // NULL element / output pointers.
    CHECK(cow_vec_get_mut(&v, 0, nullptr) == COW_EINVAL);
    CHECK(cow_vec_set(&v, 0, nullptr, nullptr) == COW_EINVAL);
    CHECK(cow_vec_push(&v, nullptr) == COW_EINVAL);
    CHECK(cow_vec_insert(&v, 0, nullptr) == COW_EINVAL);
    CHECK(cow_vec_extend(&v, nullptr, 1) == COW_EINVAL);
    CHECK(cow_vec_into(&v, nullptr) == COW_EINVAL);
    CHECK(cow_vec_data(v, nullptr) == COW_EINVAL);
    CHECK(cow_vec_data(nullptr, &cp) == COW_EINVAL);
    CHECK(cow_vec_data(wrong, &cp) == COW_ETYPE);

    // Index out of range.
    CHECK(cow_vec_get_mut(&v, 3, &p) == COW_ERANGE);
    CHECK(cow_vec_set(&v, 3, &x, nullptr) == COW_ERANGE);
    CHECK(cow_vec_insert(&v, 4, &x) == COW_ERANGE);
    CHECK(cow_vec_erase(&v, 3, nullptr) == COW_ERANGE);
    CHECK(cow_vec_erase(&v, SIZE_MAX, nullptr) == COW_ERANGE);
    CHECK(cow_vec_truncate(&v, 4) == COW_ERANGE);
    CHECK(v == before);
    CHECK(items(v) == std::vector<int32_t>{1, 2, 3});

    // Queries on NULL and on the wrong kind.
    CHECK(cow_vec_len(nullptr) == 0);
    CHECK(cow_vec_len(wrong) == 0);
    CHECK(cow_vec_type(nullptr) == nullptr);
    CHECK(cow_vec_type(wrong) == nullptr);
    CHECK(cow_vec_get(nullptr, 0) == nullptr);
    CHECK(cow_vec_get(wrong, 0) == nullptr);
    CHECK(cow_vec_clone(nullptr) == nullptr);
    CHECK(cow_vec_clone(wrong) == nullptr);
    cow_vec_release(wrong);  // not a vector: no effect
    CHECK(strong(s) == 1);
    CHECK(p == nullptr);
    CHECK(out == 0);
    CHECK(o.data == nullptr);

    cow_str_release(s);
    cow_vec_release(v);
}

// ---- failing allocator ------------------------------------------------------

namespace {

// Runs `op` on a fresh vector (shared with a clone or not, with room for
// `capacity` elements when not 0) failing its k-th allocation, for k = 1, 2,
// ...: each failure must give COW_ENOMEM and change nothing; the first run
// with no allocation left to fail must succeed.
void fail_each_allocation(bool shared, const std::vector<int32_t> &init, std::size_t capacity,
                          const std::function<cow_status(cow_vec **)> &op) {
    for (long k = 1;; ++k) {
        CAPTURE(k);
        test::leak_check leaks;
        test::allocator_scope scope;
        cow_vec *v = make(init);
        if (capacity) REQUIRE(cow_vec_reserve(&v, capacity - init.size()) == COW_OK);
        const bool copied_at_clone = shared && clone_copies(S, v);
        cow_vec *other = shared ? cow_vec_clone(v) : nullptr;
        const auto copies_before = test::stats(v).copies;
        long base = scope.allocator.calls;
        scope.allocator.fail_at = base + k;
        cow_vec *slot = v;
        cow_status s = op(&slot);
        long made = scope.allocator.calls - base;
        scope.allocator.fail_at = 0;
        if (s == COW_OK) {
            if (slot) cow_vec_release(slot);
            cow_vec_release(other);
            CHECK(made == k - 1);
            return;
        }
        CHECK(s == COW_ENOMEM);
        CHECK(slot == v);
        CHECK(items(v) == init);
        CHECK(strong(v) == (shared && !copied_at_clone ? 2u : 1u));
        CHECK(test::stats(v).copies == copies_before);
        if (other) CHECK(items(other) == init);
        cow_vec_release(v);
        cow_vec_release(other);
        REQUIRE(k < 20);
    }
}

}  // namespace

VEC_TEST("a failing allocator changes nothing and leaks nothing") {
    int32_t x = 42, out = -1;
    void *p = nullptr;
    cow_owned o{};
    const std::vector<int32_t> init = {1, 2, 3, 4};
    const auto large = iota(large_len);

    std::vector<std::pair<const char *, std::function<cow_status(cow_vec **)>>> writes = {
        {"push", [&](cow_vec **s) { return cow_vec_push(s, &x); }},
        {"insert", [&](cow_vec **s) { return cow_vec_insert(s, 1, &x); }},
        {"set", [&](cow_vec **s) { return cow_vec_set(s, 1, &x, &out); }},
        {"pop", [&](cow_vec **s) { return cow_vec_pop(s, &out); }},
        {"erase", [&](cow_vec **s) { return cow_vec_erase(s, 0, &out); }},
        {"extend", [&](cow_vec **s) { return cow_vec_extend(s, &init[0], 4); }},
        {"reserve", [&](cow_vec **s) { return cow_vec_reserve(s, 8); }},
        {"truncate", [&](cow_vec **s) { return cow_vec_truncate(s, 1); }},
        {"clear", [&](cow_vec **s) { return cow_vec_clear(s); }},
        {"make_mut", [&](cow_vec **s) { return cow_vec_make_mut(s, nullptr); }},
        {"get_mut", [&](cow_vec **s) { return cow_vec_get_mut(s, 0, &p); }},
        {"cow_make_mut", [&](cow_vec **s) { return cow_make_mut(s); }},
        {"into",
         [&](cow_vec **s) {
             cow_status st = cow_vec_into(s, &o);
             if (st == COW_OK) cow_owned_free(&o);
             return st;
         }},
    };
    for (bool shared : {true, false}) {
        for (const auto *values : {&init, &large}) {
            for (auto &[name, op] : writes) {
                std::string what = name;
                CAPTURE(shared);
                CAPTURE(values->size());
                CAPTURE(what);
                fail_each_allocation(shared, *values, 0, op);
            }
        }
    }
    CHECK(o.data == nullptr);
    // Unique with room: in place.
    fail_each_allocation(false, init, 8, [&](cow_vec **s) { return cow_vec_push(s, &x); });

    // A clone that copies can fail (cow_clone gives NULL); one that shares cannot.
    for (const auto *values : {&init, &large}) {
        fail_each_allocation(false, *values, 0, [&](cow_vec **s) {
            cow_vec *c = cow_vec_clone(*s);
            if (!c) return COW_ENOMEM;
            CHECK(items(c) == *values);
            cow_vec_release(c);
            return COW_OK;
        });
    }

    // Creation.
    const cow_options opts = S.options();
    std::vector<std::function<cow_status(cow_vec **)>> makers = {
        [&](cow_vec **m) { return cow_vec_from_array(m, i32(), init.data(), 4, &opts); },
        [&](cow_vec **m) { return cow_vec_with_capacity(m, i32(), 4, &opts); },
        [&](cow_vec **m) { return cow_vec_new(m, i32(), &opts); },
    };
    for (std::size_t i = 0; i < makers.size(); ++i) {
        for (long k = 1;; ++k) {
            CAPTURE(i);
            CAPTURE(k);
            test::leak_check leaks;
            test::allocator_scope scope(k);
            cow_vec *made = nullptr;
            cow_status s = makers[i](&made);
            if (s == COW_OK) {
                CHECK(k > 1);  // a value allocates something
                CHECK(cow_vec_len(made) == (i == 0 ? 4u : 0u));
                cow_vec_release(made);
                break;
            }
            CHECK(s == COW_ENOMEM);
            CHECK(made == nullptr);
            REQUIRE(k < 10);
        }
    }
}

VEC_TEST("a large element set on a unique vector survives failing allocations") {
    // Elements this large do not fit a small on-stack scratch buffer.
    test::leak_check leaks;
    cow_type big;
    cow_type_init(&big, 1024, 8);
    std::vector<unsigned char> a(1024, 'a'), b(1024, 'b');
    const cow_options opts = S.options();
    for (long k = 1;; ++k) {
        CAPTURE(k);
        test::allocator_scope scope;
        cow_vec *v = nullptr;
        REQUIRE(cow_vec_from_array(&v, &big, a.data(), 1, &opts) == COW_OK);
        cow_vec *before = v;
        scope.allocator.fail_at = scope.allocator.calls + k;
        cow_status s = cow_vec_set(&v, 0, b.data(), nullptr);
        scope.allocator.fail_at = 0;
        if (s == COW_OK) {
            CHECK(v == before);
            CHECK(static_cast<const unsigned char *>(cow_vec_get(v, 0))[1023] == 'b');
            // Replacing an element by itself.
            REQUIRE(cow_vec_set(&v, 0, cow_vec_get(v, 0), nullptr) == COW_OK);
            CHECK(static_cast<const unsigned char *>(cow_vec_get(v, 0))[0] == 'b');
            CHECK(static_cast<const unsigned char *>(cow_vec_get(v, 0))[1023] == 'b');
            cow_vec_release(v);
            break;
        }
        CHECK(s == COW_ENOMEM);
        CHECK(v == before);
        CHECK(static_cast<const unsigned char *>(cow_vec_get(v, 0))[0] == 'a');
        CHECK(static_cast<const unsigned char *>(cow_vec_get(v, 0))[1023] == 'a');
        cow_vec_release(v);
        REQUIRE(k < 10);
    }
}

// ---- failing copy callbacks --------------------------------------------------

VEC_TEST("a failing element copy changes nothing and leaks nothing") {
    test::leak_check leaks;
    copy_tracker tr;
    cow_type ty = tracked_type(tr);
    const cow_options opts = S.options();
    std::vector<int64_t> init = {10, 20, 30, 40};
    int64_t x = 99, out = -1;
    void *p = nullptr;
    cow_owned o{};

    enum mode { shared, unique_room, unique_full };
    struct named {
        const char *name;
        mode m;
        std::function<cow_status(cow_vec **)> op;
        bool consumes = false;  // into: the slot's reference is handed over
    };
    std::vector<named> ops = {
        {"push shared", shared, [&](cow_vec **s) { return cow_vec_push(s, &x); }},
        {"insert shared", shared, [&](cow_vec **s) { return cow_vec_insert(s, 2, &x); }},
        {"set shared", shared, [&](cow_vec **s) { return cow_vec_set(s, 2, &x, &out); }},
        {"pop shared", shared, [&](cow_vec **s) { return cow_vec_pop(s, &out); }},
        {"erase shared", shared, [&](cow_vec **s) { return cow_vec_erase(s, 1, &out); }},
        {"extend shared", shared, [&](cow_vec **s) { return cow_vec_extend(s, &init[0], 4); }},
        {"truncate shared", shared, [&](cow_vec **s) { return cow_vec_truncate(s, 2); }},
        {"reserve shared", shared, [&](cow_vec **s) { return cow_vec_reserve(s, 2); }},
        {"make_mut shared", shared, [&](cow_vec **s) { return cow_vec_make_mut(s, nullptr); }},
        {"get_mut shared", shared, [&](cow_vec **s) { return cow_vec_get_mut(s, 1, &p); }},
        {"cow_make_mut shared", shared, [&](cow_vec **s) { return cow_make_mut(s); }},
        {"into shared", shared, [&](cow_vec **s) { return cow_vec_into(s, &o); }, true},
        {"push unique", unique_room, [&](cow_vec **s) { return cow_vec_push(s, &x); }},
        {"push unique growing", unique_full, [&](cow_vec **s) { return cow_vec_push(s, &x); }},
        {"insert unique in place", unique_room,
         [&](cow_vec **s) { return cow_vec_insert(s, 1, &x); }},
        {"insert unique growing", unique_full,
         [&](cow_vec **s) { return cow_vec_insert(s, 1, &x); }},
        {"extend unique", unique_room, [&](cow_vec **s) { return cow_vec_extend(s, &init[0], 4); }},
        {"extend unique growing", unique_full,
         [&](cow_vec **s) { return cow_vec_extend(s, &init[0], 4); }},
        {"set unique", unique_room, [&](cow_vec **s) { return cow_vec_set(s, 0, &x, &out); }},
    };
    if (!is_tree(S)) {
        // The writable contiguous elements exist only for flat vectors.
        ops.push_back({"make_mut with data shared", shared,
                       [&](cow_vec **s) { return cow_vec_make_mut(s, &p); }});
    }

    for (auto &op : ops) {
        for (long k = 1;; ++k) {
            std::string name = op.name;
            CAPTURE(name);
            CAPTURE(k);
            cow_vec *v = nullptr;
            REQUIRE(cow_vec_from_array(&v, &ty, init.data(), init.size(), &opts) == COW_OK);
            if (op.m == unique_room) REQUIRE(cow_vec_reserve(&v, 4) == COW_OK);
            const bool copied_at_clone = op.m == shared && clone_copies(S, v);
            cow_vec *other = op.m == shared ? cow_vec_clone(v) : nullptr;
            long live_before = tr.live();
            tr.arm(k, k % 2 ? 1000 : COW_ENOMEM);  // a user code, or a libcow code passed through
            cow_vec *slot = v;
            out = -1;
            cow_status s = op.op(&slot);
            tr.arm(0);
            if (s == COW_OK) {
                if (op.consumes) {
                    CHECK(slot == nullptr);
                    auto *e = static_cast<int64_t *>(o.data);
                    REQUIRE(o.len == 4);
                    CHECK(e[3] == 40);
                    for (std::size_t i = 0; i < o.len; ++i) tracked_drop(&tr, &e[i]);
                    cow_owned_free(&o);
                }
                if (out != -1) tracked_drop(&tr, &out);  // a value handed back is ours
                cow_vec_release(slot);  // the write already dropped v's reference if it copied
                cow_vec_release(other);
                break;
            }
            CHECK(s == (k % 2 ? COW_ECALLBACK : COW_ENOMEM));
            CHECK(slot == v);
            CHECK(items<int64_t>(v) == init);
            CHECK(tr.live() == live_before);
            CHECK(out == -1);
            CHECK(o.data == nullptr);
            if (other) CHECK(strong(v) == (copied_at_clone ? 1u : 2u));
            cow_vec_release(v);
            cow_vec_release(other);
            CHECK(tr.live() == 0);
            REQUIRE(k < 20);
        }
        CHECK(tr.live() == 0);
    }

    // Creation reports the failure too, and so does a clone that copies.
    cow_vec *made = nullptr;
    tr.arm(3);
    CHECK(cow_vec_from_array(&made, &ty, init.data(), 4, &opts) == COW_ECALLBACK);
    CHECK(made == nullptr);
    CHECK(tr.live() == 0);
    tr.arm(0);
    REQUIRE(cow_vec_from_array(&made, &ty, init.data(), 4, &opts) == COW_OK);
    const bool copies = clone_copies(S, made);
    tr.arm(2);
    cow_vec *c = cow_vec_clone(made);
    tr.arm(0);
    if (copies) {
        CHECK(c == nullptr);
    } else {
        CHECK(cow_ptr_eq(c, made));  // a sharing clone copies no element
        cow_vec_release(c);
    }
    CHECK(tr.live() == 4);
    cow_vec_release(made);
    CHECK(tr.live() == 0);
    CHECK(tr.copies > 0);
}
#include "vec_whole.ipp"
