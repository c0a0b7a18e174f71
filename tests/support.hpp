// Doctest glue over the test-support library: a scope that installs the
// failing allocator, the library's live counters, and a leak check.
#pragma once
#include <cstdio>
#include <cstdlib>

#include <doctest/doctest.h>

#include "copy_tracker.hpp"
#include "cow.h"
#include "failing_allocator.hpp"

namespace test {

// Installs a failing allocator for the lifetime of the scope. libcow only
// accepts a new allocator while nothing is alive, which the scope checks.
struct allocator_scope {
    failing_allocator allocator;
    explicit allocator_scope(long fail_at = 0, bool fail_all_after = false) {
        allocator.fail_at = fail_at;
        allocator.fail_all_after = fail_all_after;
        cow_allocator a = allocator.callbacks();
        REQUIRE(cow_set_allocator(&a) == COW_OK);
    }
    ~allocator_scope() {
        if (cow_set_allocator(nullptr) == COW_OK) return;
        // Something the test made is still alive, so libcow keeps this
        // allocator, whose context dies with the scope: stop here rather
        // than let later tests call through a dangling context.
        std::fprintf(stderr, "allocator_scope: libcow values outlive the scope (a leak); aborting\n");
        std::abort();
    }
    allocator_scope(const allocator_scope &) = delete;
    allocator_scope &operator=(const allocator_scope &) = delete;
};

inline cow_global_stats_info global() {
    cow_global_stats_info g COW_GLOBAL_STATS_INFO_INIT;
    REQUIRE(cow_global_stats(&g) == COW_OK);
    return g;
}

inline cow_stats_info stats(const void *h) {
    cow_stats_info s COW_STATS_INFO_INIT;
    REQUIRE(cow_stats(h, &s) == COW_OK);
    return s;
}

// Checks at the end of a test that everything it made was freed.
struct leak_check {
    ~leak_check() {
        auto g = global();
        CHECK(g.live_values == 0);
        CHECK(g.live_bytes == 0);
        CHECK(g.live_allocations == 0);
    }
};

}  // namespace test
