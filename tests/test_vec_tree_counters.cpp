// The tree representation's complexity, checked with the library's internal
// counters (a build with -Dtree_counters=true): node reference count
// operations, node allocations and the nodes a comparison enters. They are
// per thread and deterministic. This program links the library's objects
// statically (the counters are internal, never exported) and calls the C API
// as users do. Bounds are written in the tree's shape (branching factor,
// leaf size, height), so they hold in the default and in the tiny build.
#include <cstdint>
#include <vector>

#include <doctest/doctest.h>

#include "cow.h"
#include "tree_counters.hpp"

namespace {

using cow::detail::tree_counters;
using cow::detail::tree_counters_of_thread;

constexpr std::uint64_t branches = std::uint64_t{1} << COW_TREE_BITS;

constexpr std::uint64_t leaf_elems(std::uint64_t elem_size) {
    std::uint64_t n = 1;
    while (2 * n * elem_size <= COW_TREE_LEAF_BYTES) n *= 2;
    return n;
}
constexpr std::uint64_t leaf = leaf_elems(sizeof(std::uint64_t));

// Inner levels above the leaves of a tree built by pushing n elements.
std::uint64_t pushed_height(std::uint64_t n) {
    std::uint64_t leaves = n / leaf, height = 0;
    for (std::uint64_t level = leaves; level > 1; level = (level + branches - 1) / branches) height += 1;
    return height;
}

// What one call did to the counters.
struct measured {
    tree_counters before = tree_counters_of_thread();
    tree_counters done() const {
        tree_counters now = tree_counters_of_thread(), d;
        d.retains = now.retains - before.retains;
        d.releases = now.releases - before.releases;
        d.allocations = now.allocations - before.allocations;
        d.visits = now.visits - before.visits;
        return d;
    }
};

cow_vec *pushed(std::uint64_t n, std::uint64_t first = 0) {
    cow_options o = COW_OPTIONS_INIT;
    o.strategy = COW_STRATEGY_STRUCTURAL;
    cow_vec *v = nullptr;
    REQUIRE(cow_vec_new(&v, cow_type_u64(), &o) == COW_OK);
    bool pushed_all = true;
    for (std::uint64_t i = 0; i < n; ++i) {
        std::uint64_t x = first + i;
        pushed_all = pushed_all && cow_vec_push(&v, &x) == COW_OK;
    }
    REQUIRE(pushed_all);
    return v;
}

std::uint64_t at(const cow_vec *v, std::size_t i) {
    auto *p = static_cast<const std::uint64_t *>(cow_vec_get(v, i));
    REQUIRE(p != nullptr);
    return *p;
}

int count_ranges(void *ctx, size_t, size_t) {
    *static_cast<std::uint64_t *>(ctx) += 1;
    return 0;
}

// Enough elements for three inner levels in either build.
const std::uint64_t n_deep = leaf * branches * branches * 3 + leaf / 2 + 3;

}  // namespace

TEST_CASE("tree counters: building by push allocates one node per leaf and inner node, and bumps no reference count") {
    measured m;
    cow_vec *v = pushed(n_deep);
    tree_counters d = m.done();
    std::uint64_t leaves = n_deep / leaf + 1;  // the tail too
    CHECK(d.retains == 0);
    CHECK(d.releases == 0);
    CHECK(d.allocations >= leaves);
    // Inner nodes: at most one per branches - 1 leaves (plus one per level).
    CHECK(d.allocations <= leaves + leaves / (branches - 1) + pushed_height(n_deep) + 1);
    cow_vec_release(v);
}

TEST_CASE("tree counters: a write to a shared vector copies at most height + 1 nodes and bumps their siblings only") {
    cow_vec *v = pushed(n_deep);
    std::uint64_t h = pushed_height(n_deep);
    REQUIRE(h >= 2);
    for (std::size_t i : {std::size_t{0}, std::size_t(n_deep / 2), std::size_t(n_deep - leaf - 1)}) {
        cow_vec *c = cow_vec_clone(v);
        std::uint64_t x = 7;
        measured m;
        REQUIRE(cow_vec_set(&c, i, &x, nullptr) == COW_OK);
        tree_counters d = m.done();
        CHECK(d.allocations <= h + 1);
        // Each copied inner node takes a reference to its other children;
        // the new header takes the root and the tail.
        CHECK(d.retains <= h * (branches - 1) + 2);
        CHECK(d.releases <= h + 3);
        CHECK(at(c, i) == 7);
        CHECK(at(v, i) == i);
        // A second write to the now private path copies nothing.
        measured again;
        REQUIRE(cow_vec_set(&c, i, &x, nullptr) == COW_OK);
        CHECK(again.done().allocations == 0);
        CHECK(again.done().retains == 0);
        cow_vec_release(c);
    }
    cow_vec_release(v);
}

TEST_CASE("tree counters: slicing allocates O(height) nodes and shares the rest") {
    cow_vec *v = pushed(n_deep);
    std::uint64_t h = pushed_height(n_deep);
    std::size_t offsets[] = {1, leaf / 2, leaf * branches + 3, std::size_t(n_deep / 3)};
    for (std::size_t off : offsets) {
        std::size_t len = n_deep - off - (leaf + 5);
        cow_vec *s = nullptr;
        measured m;
        REQUIRE(cow_vec_slice(&s, v, off, len) == COW_OK);
        tree_counters d = m.done();
        // Two trimmed edges: a leaf and the inner nodes above it on each side.
        CHECK(d.allocations <= 2 * (h + 1) + 1);
        CHECK(d.retains <= 2 * (h + 1) * branches);
        CHECK(cow_vec_len(s) == len);
        CHECK(at(s, 0) == off);
        CHECK(at(s, len - 1) == off + len - 1);
        cow_vec_release(s);
    }
    cow_vec_release(v);
}

TEST_CASE("tree counters: concatenating two trees allocates O(height) nodes") {
    cow_vec *a = pushed(n_deep);
    cow_vec *b = pushed(n_deep, n_deep);
    std::uint64_t h = pushed_height(n_deep);
    measured m;
    REQUIRE(cow_vec_concat(&a, b) == COW_OK);
    tree_counters d = m.done();
    // The nodes along the seam (up to three per level), and a new root.
    CHECK(d.allocations <= 3 * (h + 2) + 1);
    CHECK(d.retains <= 3 * (h + 2) * branches);
    REQUIRE(cow_vec_len(a) == 2 * n_deep);
    for (std::size_t i = 0; i < 2 * n_deep; i += 1 + n_deep / 97) CHECK(at(a, i) == i);
    // A slice of the join, joined again: still O(height).
    cow_vec *s = nullptr;
    REQUIRE(cow_vec_slice(&s, a, 5, n_deep) == COW_OK);
    measured again;
    REQUIRE(cow_vec_concat(&s, a) == COW_OK);
    CHECK(again.done().allocations <= 3 * (h + 3) + 1);
    CHECK(at(s, n_deep) == 0);
    cow_vec_release(s);
    cow_vec_release(a);
    cow_vec_release(b);
}

TEST_CASE("tree counters: diff and equal enter nodes in proportion to the changed leaves") {
    // Large enough for the changed paths to be a small part of the tree.
    std::uint64_t n = n_deep;
    while (n / leaf < 40 * 3 * (pushed_height(n) + 1) * branches) n *= 2;
    cow_vec *v = pushed(n);
    std::uint64_t h = pushed_height(n);
    cow_vec *c = cow_vec_clone(v);
    measured clones;
    CHECK(cow_vec_equal(v, c));
    CHECK(clones.done().visits == 0);  // the same value: nothing read

    const std::size_t changed[] = {3, std::size_t(n / 2), std::size_t(n - 2)};
    for (std::size_t i : changed) {
        std::uint64_t x = 0;
        REQUIRE(cow_vec_set(&c, i, &x, nullptr) == COW_OK);
    }
    measured walk;
    std::uint64_t ranges = 0;
    REQUIRE(cow_vec_diff(v, c, count_ranges, &ranges, nullptr) == COW_OK);
    std::uint64_t visits = walk.done().visits;
    CHECK(ranges == 3);
    // Both walkers enter the children of each node on a changed path, and
    // the two parts (tree and tail).
    CHECK(visits <= 2 * (std::size(changed) * (h + 1) * branches + 2));

    // An equal vector built apart shares nothing: every node is entered.
    cow_vec *apart = pushed(n);
    measured full;
    CHECK(cow_vec_equal(v, apart));
    CHECK(full.done().visits >= 2 * (n / leaf));
    CHECK(full.done().visits > 10 * visits);
    cow_vec_release(apart);
    cow_vec_release(c);
    cow_vec_release(v);
}
