// What only the flat table of a map gives (every strategy but STRUCTURAL):
// exact allocation counts of copies and writes (bytes and string keys of up
// to 32 bytes inside their entries, longer ones in a few shared key blocks:
// test_map_keys.cpp), growth steps, tombstones that never make the table
// grow, memory per entry, exact bytes copied, and the exact number of
// allocations and element copies a copying write makes before it fails.
// What every representation gives is in map_generic.ipp.
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include <doctest/doctest.h>

#include "cow.h"
#include "map_strategy.hpp"
#include "support.hpp"

namespace {

using namespace map_test;
using test::copy_tracker;
using test::tracked_type;

cow_map *new_map(const cow_type *k, const cow_type *v, const cow_options *o = nullptr) {
    cow_map *m = nullptr;
    REQUIRE(cow_map_new(&m, k, v, o) == COW_OK);
    REQUIRE(m != nullptr);
    return m;
}
cow_map *u64_map(const cow_options *o = nullptr) { return new_map(cow_type_u64(), cow_type_u64(), o); }

}  // namespace

// ---- copies of the table ------------------------------------------------------

TEST_CASE("insert into a shared map allocates its rep and table only and copies every entry's bytes") {
    test::leak_check lc;
    test::allocator_scope scope;
    cow_map *m = u64_map();
    for (u64 k = 0; k < 5; ++k) put(&m, k, k * 10);
    cow_map *c = cow_map_clone(m);
    cow_map *shared = c;
    long before = allocations(scope);
    put(&c, 100, 1000);
    CHECK(allocations(scope) == before + 2);  // the rep and its table, nothing else
    CHECK(c != shared);
    CHECK(cow_strong_count(m) == 1);
    CHECK(cow_strong_count(c) == 1);
    CHECK(cow_map_len(m) == 5);
    CHECK_FALSE(get(m, 100).has_value());
    CHECK(cow_map_len(c) == 6);
    CHECK(get(c, 100) == 1000u);
    for (u64 k = 0; k < 5; ++k) CHECK(get(c, k) == k * 10);
    auto st = test::stats(c);
    CHECK(st.copies == 1);
    CHECK(st.clones == 1);
    CHECK(st.bytes_copied == 5 * 16);
    CHECK(st.live_values == 2);
    // Now unique: further writes are in place, without allocating.
    cow_map *slot = c;
    before = allocations(scope);
    put(&c, 101, 1);
    put(&c, 100, 2);  // replace
    u64 k0 = 0;
    CHECK(cow_map_remove(&c, &k0, sizeof k0, nullptr) == COW_OK);
    CHECK(allocations(scope) == before);
    CHECK(c == slot);
    CHECK(test::stats(c).copies == 1);
    CHECK(entries(m) == std::map<u64, u64>{{0, 0}, {1, 10}, {2, 20}, {3, 30}, {4, 40}});
    CHECK(entries(c) ==
          std::map<u64, u64>{{1, 10}, {2, 20}, {3, 30}, {4, 40}, {100, 2}, {101, 1}});
    cow_map_release(c);
    cow_map_release(m);
}

TEST_CASE("cow_map_make_mut allocates a rep and a table for a shared map, nothing for a unique one") {
    test::leak_check lc;
    test::allocator_scope scope;
    cow_map *m = u64_map();
    for (u64 k = 0; k < 5; ++k) put(&m, k, k);
    cow_map *unique_slot = m;
    long before = allocations(scope);
    REQUIRE(cow_map_make_mut(&m) == COW_OK);  // unique: nothing to do
    CHECK(m == unique_slot);
    CHECK(allocations(scope) == before);
    cow_map *c = cow_map_clone(m);
    REQUIRE(cow_map_make_mut(&c) == COW_OK);  // shared: one copy of the table
    CHECK(c != m);
    CHECK(allocations(scope) == before + 2);
    CHECK_FALSE(cow_is_shared(c));
    CHECK(entries(c) == entries(m));
    CHECK(test::stats(m).copies == 1);
    cow_map *slot = c;
    put(&c, 7, 7);
    CHECK(c == slot);
    // A failed copy leaves the slot as it was.
    cow_map *c2 = cow_map_clone(m);
    scope.allocator.fail_at = scope.allocator.calls + 1;
    CHECK(cow_map_make_mut(&c2) == COW_ENOMEM);
    scope.allocator.fail_at = 0;
    CHECK(c2 == m);
    CHECK(cow_strong_count(m) == 2);
    cow_map_release(c2);
    cow_map_release(c);
    cow_map_release(m);
}

TEST_CASE("string keys of up to 32 bytes sit in their entries: only the growth steps allocate") {
    test::leak_check lc;
    test::allocator_scope scope;
    cow_map *m = new_map(cow_type_string(), cow_type_u64());
    std::vector<std::string> keys;
    for (int i = 0; i < 1000; ++i) keys.push_back(numbered("key-", i) + "-\xc3\xa9");
    long before = allocations(scope);
    for (size_t i = 0; i < keys.size(); ++i) put(&m, keys[i], i);
    long grown = allocations(scope) - before;
    CHECK(grown > 5);
    CHECK(grown < 40);
    // Longer keys go into shared key blocks, which grow with the map: a few
    // blocks (and their list) for 1,000 keys, not one allocation each.
    cow_map *l = new_map(cow_type_string(), cow_type_u64());
    before = allocations(scope);
    for (size_t i = 0; i < keys.size(); ++i) put(&l, keys[i] + std::string(40, 'x'), i);
    long with_blocks = allocations(scope) - before;
    CHECK(with_blocks > grown);
    CHECK(with_blocks < grown + 20);
    cow_map_release(l);
    // Replacing the value of a stored key allocates nothing.
    before = allocations(scope);
    put(&m, keys[8], 88);
    CHECK(allocations(scope) == before);
    cow_map_release(m);
}

// ---- handle values and nested copy on write -------------------------------

TEST_CASE("get_mut on a shared string -> vec map allocates the map's rep and table, not its keys or vectors") {
    test::leak_check lc;
    test::allocator_scope scope;
    const std::vector<std::string> names = {"alpha", "beta", "gamma", "delta"};
    cow_map *m1 = new_map(cow_type_string(), cow_type_handle());
    for (auto &n : names) {
        cow_vec *v = nullptr;
        REQUIRE(cow_vec_new(&v, cow_type_u32(), nullptr) == COW_OK);
        for (std::uint32_t x = 0; x < 3; ++x) REQUIRE(cow_vec_push(&v, &x) == COW_OK);
        REQUIRE(cow_map_insert(&m1, n.data(), n.size(), &v, nullptr, nullptr) == COW_OK);
        CHECK(cow_strong_count(v) == 2);
        cow_vec_release(v);
    }
    auto vec_of = [](const cow_map *m, const std::string &k) {
        const void *p = cow_map_get(m, k.data(), k.size());
        REQUIRE(p);
        return *static_cast<cow_vec *const *>(p);
    };
    cow_map *m2 = cow_map_clone(m1);
    long before = allocations(scope);
    void *slot = nullptr;
    REQUIRE(cow_map_get_mut(&m2, "beta", 4, &slot) == COW_OK);
    // One map copy: its rep and its table (the short keys are in the
    // entries); the vectors are shared.
    CHECK(allocations(scope) - before == 2);
    CHECK_FALSE(cow_ptr_eq(m1, m2));
    CHECK(test::stats(m1).copies == 1);
    for (auto &n : names) CHECK(cow_strong_count(vec_of(m1, n)) == 2);
    std::uint32_t x = 99;
    REQUIRE(cow_vec_push(reinterpret_cast<cow_vec **>(slot), &x) == COW_OK);
    CHECK(test::stats(m1).copies == 1);
    for (auto &n : names) {
        CAPTURE(n);
        cow_vec *a = vec_of(m1, n), *b = vec_of(m2, n);
        if (n == "beta") {
            CHECK_FALSE(cow_ptr_eq(a, b));
            CHECK(cow_vec_len(a) == 3);
            CHECK(cow_vec_len(b) == 4);
            CHECK(*static_cast<const std::uint32_t *>(cow_vec_get(b, 3)) == 99);
            CHECK(cow_strong_count(a) == 1);
            CHECK(cow_strong_count(b) == 1);
            CHECK(test::stats(b).copies == 1);
        } else {
            CHECK(cow_ptr_eq(a, b));
            CHECK(cow_strong_count(a) == 2);
            CHECK(test::stats(a).copies == 0);
        }
    }
    // A second edit of the same vector copies nothing more.
    cow_map *m2_before = m2;
    cow_vec *beta2 = vec_of(m2, "beta");
    REQUIRE(cow_map_get_mut(&m2, "beta", 4, &slot) == COW_OK);
    REQUIRE(cow_vec_push(reinterpret_cast<cow_vec **>(slot), &x) == COW_OK);
    CHECK(m2 == m2_before);
    CHECK(test::stats(m1).copies == 1);
    CHECK(test::stats(beta2).copies == 1);
    CHECK(cow_vec_len(vec_of(m2, "beta")) == 5);
    CHECK(cow_vec_len(vec_of(m1, "beta")) == 3);
    cow_map_release(m2);
    for (auto &n : names) CHECK(cow_strong_count(vec_of(m1, n)) == 1);
    cow_map_release(m1);
}

// ---- clear, strategies, statistics -----------------------------------------

TEST_CASE("clear: one allocation when shared; in place and keeping its room when unique") {
    test::leak_check lc;
    test::allocator_scope scope;
    copy_tracker t;
    cow_type tt = tracked_type(t);
    cow_map *m = new_map(cow_type_u64(), &tt);
    for (u64 k = 0; k < 50; ++k) {
        u64 v = k;
        REQUIRE(cow_map_insert(&m, &k, sizeof k, &v, nullptr, nullptr) == COW_OK);
    }
    CHECK(t.live() == 50);
    cow_map *c = cow_map_clone(m);
    long copies = t.copies, before = allocations(scope);
    REQUIRE(cow_map_clear(&c) == COW_OK);
    CHECK(t.copies == copies);  // no element copied
    CHECK(allocations(scope) - before == 1);
    CHECK(cow_map_len(c) == 0);
    CHECK(cow_map_len(m) == 50);
    CHECK(test::stats(m).copies == 1);
    CHECK(cow_map_key_type(c) == cow_type_u64());
    CHECK(cow_map_value_type(c) == &tt);
    put(&c, 1, 1);  // the empty copy works as a map
    CHECK(t.live() == 51);
    cow_map_release(c);
    CHECK(t.live() == 50);
    // Unique: drops the values in place and keeps its room.
    cow_map *slot = m;
    before = allocations(scope);
    REQUIRE(cow_map_clear(&m) == COW_OK);
    CHECK(m == slot);
    CHECK(t.live() == 0);
    CHECK(cow_map_len(m) == 0);
    CHECK(entries(m).empty());
    for (u64 k = 0; k < 40; ++k) put(&m, k, k);
    CHECK(allocations(scope) == before);
    CHECK(cow_map_clear(&m) == COW_OK);
    CHECK(cow_map_clear(&m) == COW_OK);  // already empty
    cow_map_release(m);
}

TEST_CASE("bytes copied by the flat table under each strategy") {
    test::leak_check lc;
    SUBCASE("make_mut copies a shared map once, never a unique one") {
        cow_map *m = u64_map();
        for (u64 k = 0; k < 10; ++k) put(&m, k, k);
        cow_map *slot = m;
        REQUIRE(cow_make_mut(&m) == COW_OK);
        CHECK(m == slot);
        cow_map *c = cow_map_clone(m);
        REQUIRE(cow_make_mut(&c) == COW_OK);
        CHECK_FALSE(cow_ptr_eq(m, c));
        CHECK(entries(c) == entries(m));
        auto st = test::stats(m);
        CHECK(st.copies == 1);
        CHECK(st.bytes_copied == 160);
        CHECK(st.value_bytes == 160);
        CHECK(st.live_values == 2);
        CHECK(st.live_handles == 2);
        cow_map *c_slot = c;
        put(&c, 3, 33);
        CHECK(c == c_slot);
        CHECK(get(m, 3) == 3u);
        cow_map_release(c);
        cow_map_release(m);
    }
    SUBCASE("eager clones copy at clone time, writes never copy") {
        cow_options o = COW_OPTIONS_INIT;
        o.strategy = COW_STRATEGY_EAGER;
        cow_map *m = new_map(cow_type_string(), cow_type_u64(), &o);
        put(&m, std::string("a"), 1);
        put(&m, std::string("bb"), 2);
        cow_map *c = static_cast<cow_map *>(cow_clone(m));
        REQUIRE(c);
        CHECK_FALSE(cow_ptr_eq(m, c));
        CHECK_FALSE(cow_is_shared(m));
        auto st = test::stats(m);
        CHECK(st.clones == 1);
        CHECK(st.copies == 1);
        CHECK(st.bytes_copied == 2 * 24 + 3);
        cow_map *slot = c;
        put(&c, std::string("ccc"), 3);
        CHECK(c == slot);
        CHECK(str_entries(m) == std::map<std::string, u64>{{"a", 1}, {"bb", 2}});
        CHECK(str_entries(c) == std::map<std::string, u64>{{"a", 1}, {"bb", 2}, {"ccc", 3}});
        cow_map *typed = cow_map_clone(c);  // the typed clone follows the strategy too
        CHECK_FALSE(cow_ptr_eq(typed, c));
        cow_map_release(typed);
        cow_map_release(c);
        cow_map_release(m);
    }
    SUBCASE("threshold: eager while small, shared once large") {
        cow_options o = COW_OPTIONS_INIT;
        o.strategy = COW_STRATEGY_THRESHOLD;
        o.threshold_bytes = 1000;
        cow_map *m = u64_map(&o);
        for (u64 k = 0; k < 10; ++k) put(&m, k, k);  // 160 bytes
        cow_map *c = cow_map_clone(m);
        CHECK_FALSE(cow_ptr_eq(m, c));
        cow_map_release(c);
        for (u64 k = 10; k < 100; ++k) put(&m, k, k);  // 1600 bytes
        c = cow_map_clone(m);
        CHECK(cow_ptr_eq(m, c));
        cow_map_release(c);
        cow_map_release(m);
    }
}

TEST_CASE("remove and insert cycles reuse room; memory per entry stays low") {
    test::leak_check lc;
    cow_map *m = u64_map();
    std::unordered_map<u64, u64> model;
    for (u64 k = 0; k < 1000; ++k) {
        put(&m, k, k);
        model[k] = k;
    }
    test::global();
    auto bytes_after_build = test::global().live_bytes;
    std::mt19937_64 rng(7);
    u64 next = 1000;
    for (int i = 0; i < 20000; ++i) {
        // Remove a random present key, insert a fresh one.
        u64 victim = rng() % next;
        while (!model.count(victim)) victim = rng() % next;
        REQUIRE(cow_map_remove(&m, &victim, sizeof victim, nullptr) == COW_OK);
        model.erase(victim);
        put(&m, next, next);
        model[next] = next;
        ++next;
    }
    CHECK(cow_map_len(m) == 1000);
    CHECK(entries(m) == std::map<u64, u64>(model.begin(), model.end()));
    CHECK(test::global().live_bytes <= bytes_after_build);  // tombstones never made it grow
    cow_map_release(m);

    // u64 -> u64 at 100,000 entries: 16 bytes of data, 1 control byte per slot,
    // at least 7/12 of the slots in use after any growth step.
    m = u64_map();
    for (u64 k = 0; k < 100000; ++k) put(&m, k * 2654435761u, k);
    double per_entry = double(test::global().live_bytes) / 100000.0;
    CHECK(per_entry < 30.0);
    cow_map_release(m);
}

namespace {
long equal_calls = 0;
bool counted_equal(void *, const void *a, const void *b) {
    ++equal_calls;
    return std::memcmp(a, b, sizeof(u64)) == 0;
}
}  // namespace

TEST_CASE("remove and insert cycles through shared copies stay correct and bounded") {
    test::leak_check lc;
    // Every write below goes to a shared map, so each one copies; when the
    // table runs out of EMPTY slots the copy must drop the tombstones.
    cow_type key;
    cow_type_init(&key, sizeof(u64), alignof(u64));
    key.equal = counted_equal;
    cow_map *m = new_map(&key, cow_type_u64());
    std::unordered_map<u64, u64> model;
    for (u64 k = 0; k < 100; ++k) {
        put(&m, k, k);
        model[k] = k;
    }
    std::mt19937_64 rng(99);
    u64 next = 100;
    u64 most_bytes = 0;
    for (int i = 0; i < 20000; ++i) {
        u64 victim = rng() % next;
        while (!model.count(victim)) victim = rng() % next;
        cow_map *keep = cow_map_clone(m);
        REQUIRE(cow_map_remove(&m, &victim, sizeof victim, nullptr) == COW_OK);
        model.erase(victim);
        cow_map_release(keep);
        keep = cow_map_clone(m);
        put(&m, next, next);
        model[next] = next;
        ++next;
        CHECK(get(keep, next - 1) == std::nullopt);
        cow_map_release(keep);
        u64 bytes = test::global().live_bytes;
        if (bytes > most_bytes) most_bytes = bytes;
    }
    CHECK(cow_map_len(m) == 100);
    CHECK(entries(m) == std::map<u64, u64>(model.begin(), model.end()));
    CHECK(test::stats(m).copies == 40000);
    CHECK(most_bytes < 100 * 64);  // never grew beyond a small multiple of the data
    // Absent keys stop at an EMPTY slot after a short probe: the fingerprint
    // filter then leaves few key comparisons (a table without EMPTY slots
    // would compare against ~100/128 of its keys per lookup).
    equal_calls = 0;
    for (u64 k = 0; k < 1000; ++k) CHECK_FALSE(get(m, next + k).has_value());
    CHECK(equal_calls < 300);
    cow_map_release(m);
}

TEST_CASE("a unique replace of a large value: the scratch block is its one allocation") {
    test::leak_check lc;
    {
        test::allocator_scope scope;
        cow_type big;
        cow_type_init(&big, 1000, 8);
        cow_map *m = new_map(cow_type_u64(), &big);
        std::vector<unsigned char> val(1000), old(1000);
        for (u64 k = 0; k < 20; ++k) {
            std::fill(val.begin(), val.end(), static_cast<unsigned char>(k));
            REQUIRE(cow_map_insert(&m, &k, sizeof k, val.data(), nullptr, nullptr) == COW_OK);
        }
        u64 k = 3;
        std::fill(val.begin(), val.end(), 0xab);
        bool replaced = false;
        REQUIRE(cow_map_insert(&m, &k, sizeof k, val.data(), old.data(), &replaced) == COW_OK);
        CHECK(replaced);
        CHECK(old[999] == 3);
        CHECK(static_cast<const unsigned char *>(cow_map_get(m, &k, sizeof k))[500] == 0xab);
        // The scratch block is the one allocation point of a unique replace.
        scope.allocator.fail_at = scope.allocator.calls + 1;
        CHECK(cow_map_insert(&m, &k, sizeof k, val.data(), nullptr, nullptr) == COW_ENOMEM);
        u64 fresh = 77;
        scope.allocator.fail_at = scope.allocator.calls + 1;
        CHECK(cow_map_insert(&m, &fresh, sizeof fresh, val.data(), nullptr, nullptr) == COW_ENOMEM);
        scope.allocator.fail_at = 0;
        CHECK(cow_map_len(m) == 20);
        CHECK(static_cast<const unsigned char *>(cow_map_get(m, &k, sizeof k))[0] == 0xab);
        REQUIRE(cow_map_remove(&m, &k, sizeof k, old.data()) == COW_OK);
        CHECK(old[0] == 0xab);
        CHECK(cow_map_len(m) == 19);
        cow_map_release(m);
    }
}

// ---- allocation failures ---------------------------------------------------

namespace {
// Runs `op` with the n-th allocation failing, n = 1, 2, ... until it
// succeeds. `setup` builds the state (not failing), `unchanged` checks it
// after each failure, `done` after the success; `teardown` releases it.
// Every failed attempt must report COW_ENOMEM and leave no new allocation.
struct fail_each {
    std::function<void()> setup, teardown;
    std::function<cow_status()> op;
    std::function<void()> unchanged, done;

    long run() {
        test::allocator_scope scope;
        for (long n = 1;; ++n) {
            CAPTURE(n);
            setup();
            auto g = test::global();
            scope.allocator.fail_at = scope.allocator.calls + n;
            cow_status s = op();
            scope.allocator.fail_at = 0;
            if (s == COW_OK) {
                done();
                teardown();
                return n;
            }
            CHECK(s == COW_ENOMEM);
            auto after = test::global();
            CHECK(after.live_allocations == g.live_allocations);
            CHECK(after.live_bytes == g.live_bytes);
            CHECK(after.live_values == g.live_values);
            unchanged();
            teardown();
            REQUIRE(n < 100);
        }
    }
};
}  // namespace

TEST_CASE("a failing allocation at each point of an insert changes nothing") {
    test::leak_check lc;
    cow_map *m = nullptr, *orig = nullptr, *other = nullptr;
    const std::map<std::string, u64> seven = {{"a", 1}, {"b", 2}, {"c", 3}, {"d", 4},
                                              {"e", 5}, {"f", 6}, {"g", 7}};
    auto fill = [&](size_t n) {
        m = new_map(cow_type_string(), cow_type_u64());
        size_t i = 0;
        for (auto &[k, v] : seven)
            if (i++ < n) put(&m, k, v);
        orig = m;
    };
    auto expected = [&](size_t n) {
        std::map<std::string, u64> e;
        size_t i = 0;
        for (auto &kv : seven)
            if (i++ < n) e.insert(kv);
        return e;
    };
    auto insert_h = [&] {
        u64 v = 8;
        return cow_map_insert(&m, "h", 1, &v, nullptr, nullptr);
    };
    SUBCASE("fresh short key, no growth: nothing to allocate") {
        long n = fail_each{[&] { fill(3); }, [&] { cow_map_release(m); }, insert_h,
                           [&] {
                               CHECK(m == orig);
                               CHECK(str_entries(m) == expected(3));
                           },
                           [&] { CHECK(get(m, std::string("h")) == 8u); }}
                     .run();
        CHECK(n == 1);
    }
    SUBCASE("fresh short key with growth: the bigger table") {
        long n = fail_each{[&] { fill(7); }, [&] { cow_map_release(m); }, insert_h,
                           [&] {
                               CHECK(m == orig);
                               CHECK(str_entries(m) == expected(7));
                           },
                           [&] { CHECK(cow_map_len(m) == 8); }}
                     .run();
        CHECK(n == 2);
    }
    SUBCASE("fresh key into a shared map with growth: rep, table") {
        long n = fail_each{[&] {
                               fill(7);
                               other = cow_map_clone(m);
                           },
                           [&] {
                               cow_map_release(m);
                               cow_map_release(other);
                           },
                           insert_h,
                           [&] {
                               CHECK(m == orig);
                               CHECK(cow_strong_count(m) == 2);
                               CHECK(str_entries(m) == expected(7));
                           },
                           [&] {
                               CHECK(cow_map_len(m) == 8);
                               CHECK(str_entries(other) == expected(7));
                           }}
                     .run();
        CHECK(n == 2 + 1);
    }
    SUBCASE("replacing in a shared map: rep, table") {
        long n = fail_each{[&] {
                               fill(5);
                               other = cow_map_clone(m);
                           },
                           [&] {
                               cow_map_release(m);
                               cow_map_release(other);
                           },
                           [&] {
                               u64 v = 100;
                               return cow_map_insert(&m, "c", 1, &v, nullptr, nullptr);
                           },
                           [&] {
                               CHECK(m == orig);
                               CHECK(str_entries(m) == expected(5));
                           },
                           [&] {
                               CHECK(get(m, std::string("c")) == 100u);
                               CHECK(get(other, std::string("c")) == 3u);
                           }}
                     .run();
        CHECK(n == 2 + 1);
    }
    SUBCASE("u64 keys into a full unique table: only the growth allocates") {
        cow_map *um = nullptr, *uorig = nullptr;
        long n = fail_each{[&] {
                               um = u64_map();
                               for (u64 k = 0; k < 7; ++k) put(&um, k, k);
                               uorig = um;
                           },
                           [&] { cow_map_release(um); },
                           [&] {
                               u64 k = 7;
                               return cow_map_insert(&um, &k, sizeof k, &k, nullptr, nullptr);
                           },
                           [&] {
                               CHECK(um == uorig);
                               CHECK(entries(um).size() == 7);
                           },
                           [&] { CHECK(get(um, 7) == 7u); }}
                     .run();
        CHECK(n == 2);
    }
}

TEST_CASE("a failing allocation at each point of a copying write changes nothing") {
    test::leak_check lc;
    cow_map *m = nullptr, *orig = nullptr, *other = nullptr;
    std::map<std::string, u64> model;
    auto setup = [&] {
        m = new_map(cow_type_string(), cow_type_handle());
        model.clear();
        for (int i = 0; i < 6; ++i) {
            std::string k = numbered("k", i);
            cow_str *s = make_str(numbered("v", i));
            REQUIRE(cow_map_insert(&m, k.data(), k.size(), &s, nullptr, nullptr) == COW_OK);
            cow_str_release(s);
        }
        other = cow_map_clone(m);
        orig = m;
    };
    auto teardown = [&] {
        cow_map_release(m);
        cow_map_release(other);
    };
    auto same = [&] {
        CHECK(m == orig);
        CHECK(cow_ptr_eq(m, other));
        CHECK(cow_map_len(m) == 6);
        cow_map_cursor c;
        REQUIRE(cow_map_cursor_init(&c, m) == COW_OK);
        const void *v;
        while (cow_map_next(&c, nullptr, nullptr, &v))
            CHECK(cow_strong_count(*static_cast<void *const *>(v)) == 1);
    };
    SUBCASE("remove") {
        long n = fail_each{setup, teardown,
                           [&] { return cow_map_remove(&m, "k2", 2, nullptr); }, same,
                           [&] {
                               CHECK(cow_map_len(m) == 5);
                               CHECK(cow_map_len(other) == 6);
                           }}
                     .run();
        CHECK(n == 2 + 1);
    }
    SUBCASE("get_mut") {
        void *slot = nullptr;
        long n = fail_each{setup, teardown,
                           [&] { return cow_map_get_mut(&m, "k4", 2, &slot); }, same,
                           [&] {
                               CHECK(slot == cow_map_get(m, "k4", 2));
                               CHECK_FALSE(cow_ptr_eq(m, other));
                           }}
                     .run();
        CHECK(n == 2 + 1);
    }
    SUBCASE("clear") {
        long n = fail_each{setup, teardown, [&] { return cow_map_clear(&m); }, same,
                           [&] { CHECK(cow_map_len(m) == 0); }}
                     .run();
        CHECK(n == 2);
    }
    SUBCASE("cow_make_mut") {
        long n = fail_each{setup, teardown, [&] { return cow_make_mut(&m); }, same,
                           [&] { CHECK_FALSE(cow_ptr_eq(m, other)); }}
                     .run();
        CHECK(n == 2 + 1);
    }
    SUBCASE("eager cow_clone returns NULL") {
        test::allocator_scope scope;
        cow_options o = COW_OPTIONS_INIT;
        o.strategy = COW_STRATEGY_EAGER;
        cow_map *e = new_map(cow_type_string(), cow_type_u64(), &o);
        put(&e, std::string("one"), 1);
        put(&e, std::string("two"), 2);
        auto g = test::global();
        for (long n = 1; n <= 2; ++n) {  // rep, table
            scope.allocator.fail_at = scope.allocator.calls + n;
            CHECK(cow_clone(e) == nullptr);
            scope.allocator.fail_at = scope.allocator.calls + n;
            CHECK(cow_map_clone(e) == nullptr);
            scope.allocator.fail_at = 0;
            CHECK(test::global().live_allocations == g.live_allocations);
        }
        cow_map *c = cow_map_clone(e);
        REQUIRE(c);
        CHECK(str_entries(c) == str_entries(e));
        cow_map_release(c);
        cow_map_release(e);
    }
}

// ---- user callback failures ------------------------------------------------

TEST_CASE("a failing user copy callback aborts the write and changes nothing") {
    test::leak_check lc;
    copy_tracker vt_track, kt_track;
    cow_type vt = tracked_type(vt_track), kt = tracked_type(kt_track);
    cow_map *m = new_map(&kt, &vt);
    for (u64 k = 0; k < 10; ++k) REQUIRE(cow_map_insert(&m, &k, sizeof k, &k, nullptr, nullptr) == COW_OK);
    CHECK(vt_track.live() == 10);
    CHECK(kt_track.live() == 10);
    cow_map *orig = m;
    u64 k = 50, v = 500;

    // Fresh key: key copy fails, then value copy fails (the key copy is undone).
    kt_track.arm(1);
    CHECK(cow_map_insert(&m, &k, sizeof k, &v, nullptr, nullptr) == COW_ECALLBACK);
    kt_track.arm(0);
    vt_track.arm(1, COW_ENOMEM);  // a libcow code is passed through
    CHECK(cow_map_insert(&m, &k, sizeof k, &v, nullptr, nullptr) == COW_ENOMEM);
    vt_track.arm(0);
    CHECK(kt_track.live() == 10);
    CHECK(vt_track.live() == 10);
    // Replace: the new value's copy fails, the old value stays.
    u64 k3 = 3;
    bool replaced = false;
    u64 old = 0;
    vt_track.arm(1);
    CHECK(cow_map_insert(&m, &k3, sizeof k3, &v, &old, &replaced) == COW_ECALLBACK);
    vt_track.arm(0);
    CHECK_FALSE(replaced);
    CHECK(old == 0);
    CHECK(get(m, 3) == 3u);
    CHECK(m == orig);
    CHECK(cow_map_len(m) == 10);

    // A copying write whose n-th element copy fails: the copies made are
    // dropped, the slot is unchanged.
    cow_map *other = cow_map_clone(m);
    for (long n = 1; n <= 10; ++n) {
        CAPTURE(n);
        vt_track.arm(n);
        CHECK(cow_map_insert(&m, &k, sizeof k, &v, nullptr, nullptr) == COW_ECALLBACK);
        vt_track.arm(n);
        CHECK(cow_map_remove(&m, &k3, sizeof k3, &old) == COW_ECALLBACK);
        // Without out_value the copy leaves the removed value out: 9 copies.
        vt_track.arm(n);
        if (n < 10) CHECK(cow_map_remove(&m, &k3, sizeof k3, nullptr) == COW_ECALLBACK);
        vt_track.arm(n);
        void *vp = nullptr;
        CHECK(cow_map_get_mut(&m, &k3, sizeof k3, &vp) == COW_ECALLBACK);
        CHECK(vp == nullptr);
        vt_track.arm(0);
        kt_track.arm(n + 1);  // +1: the insert copies its own key first
        CHECK(cow_map_insert(&m, &k, sizeof k, &v, nullptr, nullptr) == COW_ECALLBACK);
        kt_track.arm(0);
        CHECK(m == orig);
        CHECK(cow_ptr_eq(m, other));
        CHECK(kt_track.live() == 10);
        CHECK(vt_track.live() == 10);
    }
    // Eager clone with a failing copy gives NULL.
    cow_options o = COW_OPTIONS_INIT;
    o.strategy = COW_STRATEGY_EAGER;
    cow_map *e = new_map(cow_type_u64(), &vt, &o);
    for (u64 i = 0; i < 6; ++i) REQUIRE(cow_map_insert(&e, &i, sizeof i, &i, nullptr, nullptr) == COW_OK);
    vt_track.arm(3);
    CHECK(cow_clone(e) == nullptr);
    vt_track.arm(0);
    cow_map_release(e);

    // A shared remove or replace without out: 9 value copies, the 10th
    // value is left out rather than copied and dropped.
    long copies_before = vt_track.copies, drops_before = vt_track.drops;
    cow_map *r = cow_map_clone(other);
    REQUIRE(cow_map_remove(&r, &k3, sizeof k3, nullptr) == COW_OK);
    CHECK(vt_track.copies - copies_before == 9);
    CHECK(vt_track.drops == drops_before);
    cow_map_release(r);
    CHECK(vt_track.live() == 10);
    copies_before = vt_track.copies;
    r = cow_map_clone(other);
    REQUIRE(cow_map_insert(&r, &k3, sizeof k3, &v, nullptr, nullptr) == COW_OK);
    CHECK(vt_track.copies - copies_before == 9 + 1);  // 9 kept values and the new one
    CHECK(get(r, 3) == v);
    CHECK(get(other, 3) == 3u);
    cow_map_release(r);
    CHECK(vt_track.live() == 10);

    // Success after all that: the copy holds its own elements.
    REQUIRE(cow_map_insert(&m, &k, sizeof k, &v, nullptr, nullptr) == COW_OK);
    CHECK_FALSE(cow_ptr_eq(m, other));
    CHECK(vt_track.live() == 21);
    cow_map_release(other);
    cow_map_release(m);
    CHECK(vt_track.live() == 0);
    CHECK(kt_track.live() == 0);
}
