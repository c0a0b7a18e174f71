// What only the tree representation (COW_STRATEGY_STRUCTURAL) promises,
// checked with counters that do not depend on time: the nodes a write
// copies (cow_stats nodes_copied), the blocks it allocates (cow_global_stats)
// and the handles it clones. The tree's shape comes from the same meson
// options as the library's (tree_bits, tree_leaf_bytes), so the expected
// counts hold in the default and in the tiny-branching build.
#include <cstdint>
#include <vector>

#include <doctest/doctest.h>

#include "cow.h"
#include "support.hpp"

namespace {

constexpr std::uint64_t branches = std::uint64_t{1} << COW_TREE_BITS;

// Elements in a leaf: the largest power of two that fits the leaf bytes.
constexpr std::uint64_t leaf_elems(std::uint64_t elem_size) {
    std::uint64_t n = 1;
    while (2 * n * elem_size <= COW_TREE_LEAF_BYTES) n *= 2;
    return n;
}

// The shape n pushes build: the last 1..L elements in the tail, the rest in
// full leaves under full inner nodes.
struct shape {
    std::uint64_t leaves = 0;  // in the tree, tail excluded
    std::uint64_t inner = 0;   // inner nodes
    std::uint64_t height = 0;  // inner levels above the leaves
};

shape pushed_shape(std::uint64_t n, std::uint64_t elem_size) {
    shape s;
    std::uint64_t l = leaf_elems(elem_size);
    std::uint64_t tail = n ? (n - 1) % l + 1 : 0;
    s.leaves = (n - tail) / l;
    for (std::uint64_t level = s.leaves; level > 1; level = (level + branches - 1) / branches) {
        s.inner += (level + branches - 1) / branches;
        s.height += 1;
    }
    return s;
}

cow_options structural() {
    cow_options o = COW_OPTIONS_INIT;
    o.strategy = COW_STRATEGY_STRUCTURAL;
    return o;
}

cow_vec *pushed(std::uint64_t n) {
    cow_options o = structural();
    cow_vec *v = nullptr;
    REQUIRE(cow_vec_new(&v, cow_type_u64(), &o) == COW_OK);
    for (std::uint64_t i = 0; i < n; ++i) REQUIRE(cow_vec_push(&v, &i) == COW_OK);
    return v;
}

std::uint64_t at(const cow_vec *v, std::size_t i) {
    return *static_cast<const std::uint64_t *>(cow_vec_get(v, i));
}

std::int64_t allocations() { return static_cast<std::int64_t>(test::global().live_allocations); }

}  // namespace

TEST_CASE("vec tree: building by push copies no path and allocates leaves and inner nodes only") {
    test::leak_check leaks;
    for (std::uint64_t n : {1ull, 64ull, 1000ull, 20000ull}) {
        CAPTURE(n);
        std::int64_t before = allocations();
        cow_vec *v = pushed(n);
        shape s = pushed_shape(n, 8);
        // header + lineage + tree leaves + tail + inner nodes
        CHECK(allocations() - before == std::int64_t(2 + s.leaves + 1 + s.inner));
        auto st = test::stats(v);
        CHECK(st.representation == COW_REPRESENTATION_TREE);
        CHECK(st.nodes_copied == 0);
        CHECK(st.copies == 0);
        CHECK(st.bytes_copied == 0);
        for (std::uint64_t i = 0; i < n; i += 1 + n / 50) CHECK(at(v, i) == i);
        cow_vec_release(v);
    }
}

TEST_CASE("vec tree: a write to a shared tree copies the path to one leaf, once") {
    test::leak_check leaks;
    for (std::uint64_t n : {1000ull, 50000ull}) {
        CAPTURE(n);
        cow_vec *v = pushed(n);
        shape s = pushed_shape(n, 8);
        cow_vec *w = cow_vec_clone(v);
        REQUIRE(w);
        CHECK(cow_is_shared(w));
        std::int64_t before = allocations();
        std::uint64_t x = 7;
        REQUIRE(cow_vec_set(&w, 5, &x, nullptr) == COW_OK);  // element 5 is in the tree part
        auto st = test::stats(w);
        CHECK(st.copies == 1);                     // the write found the root shared
        CHECK(st.nodes_copied == s.height + 1);    // the inner nodes on the path and the leaf
        CHECK(allocations() - before == std::int64_t(1 + s.height + 1));  // + a private header
        CHECK(st.bytes_copied <= leaf_elems(8) * 8 + s.height * branches * 16);
        CHECK_FALSE(cow_is_shared(w));
        CHECK(at(w, 5) == 7);
        CHECK(at(v, 5) == 5);

        // The path is this version's alone now: the next write there copies nothing.
        before = allocations();
        x = 8;
        std::size_t same_leaf = 5 - 5 % leaf_elems(8);  // the first element of 5's leaf
        REQUIRE(cow_vec_set(&w, same_leaf, &x, nullptr) == COW_OK);
        CHECK(test::stats(w).nodes_copied == s.height + 1);
        CHECK(allocations() == before);
        CHECK(at(w, same_leaf) == 8);
        CHECK(at(v, same_leaf) == same_leaf);

        // A write elsewhere copies only the part of its path not yet copied.
        before = allocations();
        REQUIRE(cow_vec_set(&w, n - leaf_elems(8) - 1, &x, nullptr) == COW_OK);
        std::uint64_t more = test::stats(w).nodes_copied - (s.height + 1);
        CHECK(more >= 1);  // at least the other leaf
        CHECK(more <= s.height + 1);
        CHECK(allocations() - before == std::int64_t(more));
        cow_vec_release(w);
        cow_vec_release(v);
    }
}

TEST_CASE("vec tree: make_mut and reserve make only the root private") {
    test::leak_check leaks;
    cow_vec *v = pushed(5000);
    cow_vec *w = cow_vec_clone(v);
    std::int64_t before = allocations();
    REQUIRE(cow_vec_make_mut(&w, nullptr) == COW_OK);
    CHECK(allocations() - before == 1);  // a header; every node stays shared
    CHECK_FALSE(cow_is_shared(w));
    CHECK(test::stats(w).nodes_copied == 0);
    CHECK(test::stats(w).copies == 1);
    void *data = &before;
    CHECK(cow_vec_make_mut(&w, &data) == COW_ENOTCONTIGUOUS);
    CHECK(data == &before);
    cow_vec *u = cow_vec_clone(w);
    before = allocations();
    REQUIRE(cow_vec_reserve(&u, 100) == COW_OK);
    CHECK(allocations() - before == 1);
    cow_vec_release(u);
    cow_vec_release(w);
    cow_vec_release(v);
}

TEST_CASE("vec tree: a write to a shared tree of handles clones only the handles of the leaf it copies") {
    test::leak_check leaks;
    const std::uint64_t l = leaf_elems(sizeof(void *));
    const std::uint64_t n = 4 * l + 1;  // four full leaves in the tree, one element in the tail
    std::vector<cow_str *> strs(n);
    cow_options o = structural();
    cow_vec *v = nullptr;
    REQUIRE(cow_vec_new(&v, cow_type_handle(), &o) == COW_OK);
    for (auto &s : strs) {
        REQUIRE(cow_str_new(&s, "x", 1, nullptr) == COW_OK);
        REQUIRE(cow_vec_push(&v, &s) == COW_OK);
    }
    cow_vec *w = cow_vec_clone(v);
    cow_str *other = nullptr;
    REQUIRE(cow_str_new(&other, "y", 1, nullptr) == COW_OK);
    REQUIRE(cow_vec_set(&w, l + 1, &other, nullptr) == COW_OK);  // in the second leaf
    for (std::uint64_t i = 0; i < n; ++i) {
        CAPTURE(i);
        bool copied_leaf = i / l == 1;
        std::uint64_t expected = copied_leaf ? (i == l + 1 ? 2u : 3u) : 2u;  // caller + vector(s)
        CHECK(cow_strong_count(strs[i]) == expected);
    }
    CHECK(cow_strong_count(other) == 2);
    cow_vec_release(w);
    for (auto s : strs) CHECK(cow_strong_count(s) == 2);
    cow_vec_release(v);
    for (auto s : strs) {
        CHECK(cow_strong_count(s) == 1);
        cow_release(s);
    }
    cow_release(other);
}

TEST_CASE("vec tree: insert and erase in the middle of a shared tree copy O(log n) nodes") {
    test::leak_check leaks;
    const std::uint64_t n = 20000;
    cow_vec *v = pushed(n);
    shape s = pushed_shape(n, 8);
    cow_vec *w = cow_vec_clone(v);
    std::uint64_t x = 99;
    REQUIRE(cow_vec_insert(&w, n / 2, &x) == COW_OK);
    // The path, and at most one more node per level where the leaf split upward.
    CHECK(test::stats(w).nodes_copied <= s.height + 1);
    std::int64_t live = allocations();
    REQUIRE(cow_vec_erase(&w, n / 3, nullptr) == COW_OK);
    CHECK(allocations() - live <= std::int64_t(2 * (s.height + 2)));
    CHECK(cow_vec_len(w) == n);
    CHECK(at(w, n / 2 - 1) == 99);  // one element erased before it
    CHECK(at(w, n / 2) == n / 2);
    CHECK(at(w, n / 2 - 2) == n / 2 - 1);
    CHECK(at(v, n / 2) == n / 2);
    cow_vec_release(w);
    cow_vec_release(v);
}

TEST_CASE("vec tree: 1,000,000 u64 take at most 1.15x the flat bytes, 999 one-set versions at most 4 MiB more [large]" *
          doctest::skip(COW_TREE_BITS != 5 || COW_TREE_LEAF_BYTES != 512)) {
    test::leak_check leaks;
    const std::uint64_t n = 1000000;
    auto bytes = [] { return static_cast<double>(test::global().live_bytes); };
    double base = bytes();
    cow_vec *v = pushed(n);
    double tree_bytes = bytes() - base;
    MESSAGE("tree bytes / flat bytes: " << tree_bytes / double(n * 8));
    CHECK(tree_bytes <= 1.15 * double(n * 8));
    std::vector<cow_vec *> versions{v};
    double before = bytes();
    for (std::uint64_t k = 1; k < 1000; ++k) {
        cow_vec *next = cow_vec_clone(versions.back());
        std::uint64_t x = k;
        REQUIRE(cow_vec_set(&next, (k * 7919) % n, &x, nullptr) == COW_OK);
        versions.push_back(next);
    }
    double added = bytes() - before;
    MESSAGE("999 versions add " << added / (1024.0 * 1024.0) << " MiB");
    CHECK(added <= 4.0 * 1024 * 1024);
    for (auto x : versions) cow_vec_release(x);
}

TEST_CASE("vec tree: 10,000,000 u64: versions, slices and joins read back right and free everything [large]" *
          doctest::skip(COW_TREE_BITS != 5 || COW_TREE_LEAF_BYTES != 512)) {
    test::leak_check leaks;
    const std::uint64_t n = 10000000;
    std::vector<std::uint64_t> src(n);
    for (std::uint64_t i = 0; i < n; ++i) src[i] = i;
    cow_options o = structural();
    cow_vec *v = nullptr;
    REQUIRE(cow_vec_from_array(&v, cow_type_u64(), src.data(), n, &o) == COW_OK);
    REQUIRE(cow_vec_len(v) == n);
    cow_vec *w = cow_vec_clone(v);
    std::uint64_t x = 0;
    for (std::uint64_t i : {std::uint64_t{1}, n / 2, n - 1}) REQUIRE(cow_vec_set(&w, i, &x, nullptr) == COW_OK);
    // Halves cut in the middle of leaves, joined back the other way round.
    cow_vec *front = nullptr, *back = nullptr;
    REQUIRE(cow_vec_slice(&front, v, 0, n / 2 + 7) == COW_OK);
    REQUIRE(cow_vec_slice(&back, v, n / 2 + 7, n - (n / 2 + 7)) == COW_OK);
    REQUIRE(cow_vec_concat(&back, front) == COW_OK);
    REQUIRE(cow_vec_len(back) == n);
    for (std::uint64_t i = 0; i < n; i += 999983) {
        CHECK(at(v, i) == i);
        CHECK(at(back, i) == (i + n / 2 + 7) % n);
    }
    std::vector<std::pair<std::size_t, std::size_t>> ranges;
    auto log = [](void *ctx, size_t off, size_t count) {
        static_cast<std::vector<std::pair<std::size_t, std::size_t>> *>(ctx)->push_back({off, count});
        return 0;
    };
    REQUIRE(cow_vec_diff(v, w, log, &ranges, nullptr) == COW_OK);
    CHECK(ranges == (std::vector<std::pair<std::size_t, std::size_t>>{{1, 1}, {n / 2, 1}, {n - 1, 1}}));
    CHECK_FALSE(cow_vec_equal(v, back));
    cow_vec *again = nullptr;
    REQUIRE(cow_vec_slice(&again, back, n - (n / 2 + 7), n / 2 + 7) == COW_OK);
    CHECK(cow_vec_equal(again, front));  // the front, back from the join
    REQUIRE(cow_vec_concat(&again, front) == COW_OK);  // the front twice
    CHECK(cow_vec_len(again) == 2 * (n / 2 + 7));
    CHECK(at(again, n / 2 + 7 + 5) == 5);
    for (cow_vec *h : {v, w, front, back, again}) cow_vec_release(h);
}
