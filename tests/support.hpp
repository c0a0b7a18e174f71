// Test helpers: a counting, optionally failing allocator installed through
// the public cow_set_allocator, and the library's live counters.
#pragma once
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <doctest/doctest.h>

#include "cow.h"

namespace test {

// Counts every allocation libcow makes while installed; can make the
// n-th allocation (1-based, counting malloc and realloc) fail.
struct counting_allocator {
    std::atomic<long> allocs{0};    // successful mallocs
    std::atomic<long> reallocs{0};  // successful reallocs
    std::atomic<long> frees{0};
    std::atomic<long> calls{0};     // malloc + realloc attempts
    long fail_at = 0;               // 0: never fail
    bool fail_all_after = false;    // fail every call from fail_at on

    static void *do_malloc(void *ctx, size_t n) {
        auto *self = static_cast<counting_allocator *>(ctx);
        if (self->should_fail()) return nullptr;
        self->allocs++;
        return std::malloc(n);
    }
    static void *do_realloc(void *ctx, void *p, size_t, size_t n) {
        auto *self = static_cast<counting_allocator *>(ctx);
        if (self->should_fail()) return nullptr;
        self->reallocs++;
        return std::realloc(p, n);
    }
    static void do_free(void *ctx, void *p, size_t) {
        static_cast<counting_allocator *>(ctx)->frees++;
        std::free(p);
    }
    bool should_fail() {
        long n = ++calls;
        if (fail_at == 0) return false;
        return fail_all_after ? n >= fail_at : n == fail_at;
    }
    long total() const { return allocs + reallocs; }
};

// Installs a counting allocator for the lifetime of the scope. libcow only
// accepts a new allocator while nothing is alive, which the scope checks.
struct allocator_scope {
    counting_allocator counter;
    explicit allocator_scope(long fail_at = 0, bool fail_all_after = false) {
        counter.fail_at = fail_at;
        counter.fail_all_after = fail_all_after;
        cow_allocator a{sizeof(cow_allocator), 0, &counter, counting_allocator::do_malloc,
                        counting_allocator::do_realloc, counting_allocator::do_free};
        REQUIRE(cow_set_allocator(&a) == COW_OK);
    }
    ~allocator_scope() {
        if (cow_set_allocator(nullptr) == COW_OK) return;
        // Something the test made is still alive, so libcow keeps this
        // allocator, whose counter dies with the scope: stop here rather
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


// An 8-byte element type whose copies and drops are counted; the n-th copy
// (1-based, counted from when it is armed) can be made to fail with a given
// status (1000, not a libcow code, is reported as COW_ECALLBACK).
struct tracker {
    long copies = 0;
    long drops = 0;
    long calls = 0;
    long fail_at = 0;
    cow_status fail_with = 1000;
    long live() const { return copies - drops; }
    void arm(long nth, cow_status with = 1000) {
        calls = 0;
        fail_at = nth;
        fail_with = with;
    }
};
inline cow_status tracked_copy(void *ctx, void *dst, const void *src) {
    auto *t = static_cast<tracker *>(ctx);
    if (t->fail_at && ++t->calls == t->fail_at) return t->fail_with;
    std::memcpy(dst, src, sizeof(std::uint64_t));
    ++t->copies;
    return COW_OK;
}
inline void tracked_drop(void *ctx, void *) { ++static_cast<tracker *>(ctx)->drops; }
inline cow_type tracked_type(tracker &t) {
    cow_type ty;
    cow_type_init(&ty, sizeof(std::uint64_t), alignof(std::uint64_t));
    ty.ctx = &t;
    ty.copy = tracked_copy;
    ty.drop = tracked_drop;
    ty.name = "tracked";
    return ty;
}

}  // namespace test
