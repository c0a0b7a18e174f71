// The behaviour every map representation gives, through the C API: one body
// per behaviour, compiled once per strategy. Each test_map_<strategy>.cpp
// defines MAP_STRATEGY (a map_test::strategy) and MAP_STRATEGY_NAME (its name
// as a string literal), then includes this file.
//
// Where the strategy decides whether a clone copies, the checks depend on
// clone_copies(S, m); where representations differ by contract (a tree's
// write copies the nodes on its path, so bytes_copied and the element copies
// of a write are only bounded), on is_tree(S). Exact allocation counts, table
// sizes and bytes copied by the flat table are in test_map_flat.cpp.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
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

#if !defined(MAP_STRATEGY) || !defined(MAP_STRATEGY_NAME)
#error "define MAP_STRATEGY and MAP_STRATEGY_NAME before including map_generic.ipp"
#endif

namespace {

using namespace map_test;
using test::copy_tracker;
using test::tracked_type;

const strategy &S = MAP_STRATEGY;

// Counts the generic tests as they register; a strategy the library does not
// accept yet has them registered as skipped, which doctest counts and prints.
int generic_tests_registered = 0;
doctest::skip run_if_available() {
    ++generic_tests_registered;
    return doctest::skip(!available(S));
}

cow_map *u64_map(std::uint32_t flags = 0) {
    return make_map(cow_type_u64(), cow_type_u64(), S, flags);
}

// The 8 bytes of a u64 key, as the cursor hands them out.
std::string key_bytes(u64 k) { return std::string(reinterpret_cast<const char *>(&k), sizeof k); }

// Every entry of a map with u64 values and keys of any kind, keyed by the
// key's bytes; each key once, each value the one cow_map_get gives.
std::map<std::string, u64> raw_entries(const cow_map *m) { return str_entries(m); }

// Whether the lineage counted exactly the copies a write to a shared value
// makes: the flat table copies all of it, a tree at most all of it.
void check_bytes_copied(std::uint64_t copied, std::uint64_t value_bytes) {
    if (is_tree(S))
        CHECK(copied <= value_bytes);
    else
        CHECK(copied == value_bytes);
}

}  // namespace

#define MAP_TEST(what) TEST_CASE("map, " MAP_STRATEGY_NAME ": " what * run_if_available())

#include "map_whole.ipp"

// ---- the map's contract, call by call -----------------------------------------

MAP_TEST("create and read: kind, types, length, representation, values held as copies") {
    test::leak_check leaks;
    cow_map *m = u64_map();
    CHECK(cow_kind(m) == COW_KIND_MAP);
    CHECK(cow_map_len(m) == 0);
    CHECK(cow_map_key_type(m) == cow_type_u64());
    CHECK(cow_map_value_type(m) == cow_type_u64());
    CHECK_FALSE(get(m, 0).has_value());
    CHECK(entries(m).empty());
    auto st = test::stats(m);
    CHECK(st.representation == representation(S));
    CHECK(st.value_bytes == 0);
    CHECK(st.enabled == 1);
    CHECK(strong(m) == 1);
    CHECK_FALSE(cow_is_shared(m));

    u64 k = 5, v = 50;
    bool replaced = true;
    u64 old = 777;
    REQUIRE(cow_map_insert(&m, &k, sizeof k, &v, &old, &replaced) == COW_OK);
    CHECK_FALSE(replaced);
    CHECK(old == 777);  // nothing replaced, nothing handed back
    k = 6;  // the map holds copies of the key and the value
    v = 60;
    CHECK(get(m, 5) == 50u);
    CHECK_FALSE(get(m, 6).has_value());
    u64 five = 5, six = 6;
    CHECK(cow_map_contains(m, &five, sizeof five));
    CHECK_FALSE(cow_map_contains(m, &six, sizeof six));
    CHECK(cow_map_len(m) == 1);
    CHECK(test::stats(m).value_bytes == 16);
    CHECK(test::stats(m).representation == representation(S));
    cow_map_release(m);
    cow_map_release(nullptr);  // no effect
}

MAP_TEST("a clone shares or copies as the strategy says, and release lowers the count") {
    test::leak_check leaks;
    for (std::size_t n : {small_len, large_len}) {
        CAPTURE(n);
        const auto init = model_u64(n);
        cow_map *m = make_u64(n, S);
        const std::uint64_t bytes = n * 16;
        REQUIRE(test::stats(m).value_bytes == bytes);
        const bool copies = clone_copies(S, m);
        cow_map *c = cow_map_clone(m);
        REQUIRE(c != nullptr);
        auto st = test::stats(m);
        CHECK(st.clones == 1);
        CHECK(st.live_handles == 2);
        CHECK(st.value_bytes == bytes);
        if (copies) {
            CHECK_FALSE(cow_ptr_eq(m, c));
            CHECK(strong(m) == 1);
            CHECK(strong(c) == 1);
            CHECK_FALSE(cow_is_shared(m));
            CHECK_FALSE(cow_is_shared(c));
            CHECK(st.copies == 1);
            CHECK(st.bytes_copied == bytes);
            CHECK(st.live_values == 2);
            CHECK(st.memory_saved == 0);
        } else {
            CHECK(cow_ptr_eq(m, c));
            CHECK(strong(m) == 2);
            CHECK(cow_is_shared(m));
            CHECK(cow_is_shared(c));
            CHECK(st.copies == 0);
            CHECK(st.bytes_copied == 0);
            CHECK(st.live_values == 1);
            CHECK(st.memory_saved == bytes);
        }
        CHECK(entries(c) == init);
        cow_map_release(c);
        CHECK(strong(m) == 1);
        CHECK_FALSE(cow_is_shared(m));
        CHECK(entries(m) == init);

        // Several clones (typed and generic): every holder keeps its view
        // when one of them writes.
        cow_map *clones[5];
        for (int i = 0; i < 5; ++i) {
            clones[i] = i % 2 ? cow_map_clone(m) : static_cast<cow_map *>(cow_clone(m));
            REQUIRE(clones[i] != nullptr);
        }
        CHECK(strong(m) == (copies ? 1u : 6u));
        put(&clones[2], 1000, 1);
        CHECK(strong(m) == (copies ? 1u : 5u));
        CHECK(strong(clones[2]) == 1);
        auto written = init;
        written[1000] = 1;
        CHECK(entries(clones[2]) == written);
        for (int i = 0; i < 5; ++i)
            if (i != 2) CHECK(entries(clones[i]) == init);
        CHECK(entries(m) == init);
        st = test::stats(m);
        CHECK(st.clones == 6);
        CHECK(st.copies == (copies ? 6u : 1u));  // every clone, or the one write
        for (auto c2 : clones) cow_map_release(c2);
        cow_map_release(m);
    }
}

MAP_TEST("a clone that shares allocates nothing") {
    test::leak_check leaks;
    test::allocator_scope scope;
    for (std::size_t n : {std::size_t(0), small_len, large_len}) {
        CAPTURE(n);
        cow_map *m = make_u64(n, S);
        const bool copies = clone_copies(S, m);
        long before = allocations(scope);
        cow_map *c = cow_map_clone(m);
        REQUIRE(c != nullptr);
        if (copies)
            CHECK(allocations(scope) > before);
        else
            CHECK(allocations(scope) == before);
        cow_map_release(c);
        cow_map_release(m);
    }
}

namespace {

// A write through a slot, and what it does to a model of a u64 -> u64 map
// holding keys 0..n-1 (each with value key * 10).
struct write_op {
    const char *name;
    std::function<cow_status(cow_map **)> apply;
    std::function<void(std::map<u64, u64> &)> model;
};

std::vector<write_op> write_ops() {
    return {
        {"insert a fresh key",
         [](cow_map **s) {
             u64 k = 5000, v = 1;
             bool replaced = true;
             cow_status st = cow_map_insert(s, &k, sizeof k, &v, nullptr, &replaced);
             CHECK_FALSE(replaced);
             return st;
         },
         [](std::map<u64, u64> &m) { m[5000] = 1; }},
        {"replace, old value handed back",
         [](cow_map **s) {
             u64 k = 1, v = 2, old = 0;
             bool replaced = false;
             cow_status st = cow_map_insert(s, &k, sizeof k, &v, &old, &replaced);
             CHECK(replaced);
             CHECK(old == 10);
             return st;
         },
         [](std::map<u64, u64> &m) { m[1] = 2; }},
        {"replace, old value dropped",
         [](cow_map **s) {
             u64 k = 2, v = 3;
             return cow_map_insert(s, &k, sizeof k, &v, nullptr, nullptr);
         },
         [](std::map<u64, u64> &m) { m[2] = 3; }},
        {"remove, value handed back",
         [](cow_map **s) {
             u64 k = 1, out = 0;
             cow_status st = cow_map_remove(s, &k, sizeof k, &out);
             CHECK(out == 10);
             return st;
         },
         [](std::map<u64, u64> &m) { m.erase(1); }},
        {"remove, value dropped",
         [](cow_map **s) {
             u64 k = 0;
             return cow_map_remove(s, &k, sizeof k, nullptr);
         },
         [](std::map<u64, u64> &m) { m.erase(0); }},
        {"get_mut",
         [](cow_map **s) {
             u64 k = 3;
             void *p = nullptr;
             cow_status st = cow_map_get_mut(s, &k, sizeof k, &p);
             if (st == COW_OK) {
                 u64 v = 33;
                 std::memcpy(p, &v, sizeof v);
             }
             return st;
         },
         [](std::map<u64, u64> &m) { m[3] = 33; }},
        {"clear", [](cow_map **s) { return cow_map_clear(s); },
         [](std::map<u64, u64> &m) { m.clear(); }},
        {"cow_map_make_mut", [](cow_map **s) { return cow_map_make_mut(s); },
         [](std::map<u64, u64> &) {}},
        {"cow_make_mut", [](cow_map **s) { return cow_make_mut(s); }, [](std::map<u64, u64> &) {}},
    };
}

}  // namespace

MAP_TEST("writes to shared and unique maps leave the other handles unchanged") {
    test::leak_check leaks;
    for (std::size_t n : {small_len, large_len, std::size_t(1000)}) {
        for (const auto &op : write_ops()) {
            std::string name = op.name;
            CAPTURE(n);
            CAPTURE(name);
            const auto init = model_u64(n);
            auto model = init;
            op.model(model);
            cow_map *m = make_u64(n, S);
            cow_map *w = cow_map_clone(m);
            REQUIRE(w != nullptr);
            REQUIRE(op.apply(&w) == COW_OK);
            CHECK(entries(w) == model);
            CHECK(entries(m) == init);
            CHECK_FALSE(cow_ptr_eq(m, w));
            CHECK(strong(m) == 1);
            CHECK(strong(w) == 1);
            if (is_tree(S) && name == "clear")
                CHECK(test::stats(m).copies <= 1);  // a tree may start an empty root instead
            else
                CHECK(test::stats(m).copies == 1);  // at the clone or at the write

            // Both are unique now: writes are in place and seen by no one else.
            cow_map *m_before = m, *w_before = w;
            put(&m, 7777, 1);
            CHECK(m == m_before);
            auto init_marked = init;
            init_marked[7777] = 1;
            CHECK(entries(m) == init_marked);
            CHECK(entries(w) == model);
            put(&w, 8888, 2);
            CHECK(w == w_before);
            model[8888] = 2;
            CHECK(entries(w) == model);
            CHECK(entries(m) == init_marked);
            CHECK(test::stats(m).copies == 1);
            cow_map_release(m);
            cow_map_release(w);
        }
    }
}

MAP_TEST("insert into a shared map copies once, counted; the original is unchanged") {
    test::leak_check leaks;
    cow_map *m = make_u64(5, S);
    cow_map *c = cow_map_clone(m);
    cow_map *before_write = c;
    put(&c, 100, 1000);
    if (!clone_copies(S, m)) CHECK(c != before_write);  // the write made the copy
    CHECK(strong(m) == 1);
    CHECK(strong(c) == 1);
    CHECK(cow_map_len(m) == 5);
    CHECK_FALSE(get(m, 100).has_value());
    CHECK(cow_map_len(c) == 6);
    CHECK(get(c, 100) == 1000u);
    for (u64 k = 0; k < 5; ++k) CHECK(get(c, k) == k * 10);
    auto st = test::stats(c);
    CHECK(st.copies == 1);
    CHECK(st.clones == 1);
    check_bytes_copied(st.bytes_copied, 5 * 16);
    CHECK(st.live_values == 2);
    CHECK(st.live_handles == 2);
    CHECK(test::stats(c).value_bytes == 6 * 16);
    CHECK(test::stats(m).value_bytes == 5 * 16);

    // Now unique: further writes are in place.
    cow_map *slot = c;
    put(&c, 101, 1);
    put(&c, 100, 2);  // replace
    u64 k0 = 0;
    CHECK(cow_map_remove(&c, &k0, sizeof k0, nullptr) == COW_OK);
    void *p = nullptr;
    u64 k1 = 1;
    REQUIRE(cow_map_get_mut(&c, &k1, sizeof k1, &p) == COW_OK);
    CHECK(p == cow_map_get(c, &k1, sizeof k1));
    CHECK(c == slot);
    CHECK(test::stats(c).copies == 1);
    CHECK(entries(m) == model_u64(5));
    CHECK(entries(c) ==
          std::map<u64, u64>{{1, 10}, {2, 20}, {3, 30}, {4, 40}, {100, 2}, {101, 1}});
    cow_map_release(c);
    cow_map_release(m);
}

MAP_TEST("make_mut copies a shared map once, never a unique one") {
    test::leak_check leaks;
    test::allocator_scope scope;
    for (bool generic : {false, true}) {
        CAPTURE(generic);
        auto make_mut = [generic](cow_map **s) { return generic ? cow_make_mut(s) : cow_map_make_mut(s); };
        cow_map *m = make_u64(large_len, S);
        cow_map *unique_slot = m;
        long before = allocations(scope);
        REQUIRE(make_mut(&m) == COW_OK);  // unique: nothing to do
        CHECK(m == unique_slot);
        CHECK(allocations(scope) == before);
        CHECK(test::stats(m).copies == 0);

        cow_map *c = cow_map_clone(m);
        REQUIRE(make_mut(&c) == COW_OK);
        CHECK_FALSE(cow_ptr_eq(m, c));
        CHECK_FALSE(cow_is_shared(c));
        CHECK_FALSE(cow_is_shared(m));
        CHECK(entries(c) == entries(m));
        auto st = test::stats(m);
        CHECK(st.copies == 1);
        check_bytes_copied(st.bytes_copied, large_len * 16);
        CHECK(st.live_values == 2);
        CHECK(st.live_handles == 2);
        cow_map *c_slot = c;
        put(&c, 3, 33);
        CHECK(c == c_slot);
        CHECK(get(m, 3) == 30u);
        CHECK(get(c, 3) == 33u);
        CHECK(test::stats(m).copies == 1);

        // A failed copy leaves the slot as it was.
        cow_map *c2 = cow_map_clone(m);
        REQUIRE(c2 != nullptr);
        const bool copied_at_clone = !cow_ptr_eq(c2, m);
        cow_map *c2_before = c2;
        scope.allocator.fail_nth_from_now(1);
        cow_status s = make_mut(&c2);
        scope.allocator.stop_failing();
        if (copied_at_clone) {
            CHECK(s == COW_OK);  // already unique
            CHECK(c2 == c2_before);
        } else {
            CHECK(s == COW_ENOMEM);
            CHECK(c2 == m);
            CHECK(strong(m) == 2);
        }
        CHECK(entries(c2) == model_u64(large_len));
        cow_map_release(c2);
        cow_map_release(c);
        cow_map_release(m);
    }
}

MAP_TEST("remove from a shared map copies once; an absent key copies nothing") {
    test::leak_check leaks;
    test::allocator_scope scope;
    cow_map *m = make_u64(20, S);
    const bool copies = clone_copies(S, m);
    cow_map *c = cow_map_clone(m);
    long before = allocations(scope);
    u64 absent = 999, out = 0;
    CHECK(cow_map_remove(&c, &absent, sizeof absent, &out) == COW_ENOTFOUND);
    CHECK(cow_map_remove(&c, &absent, sizeof absent, nullptr) == COW_ENOTFOUND);
    void *vp = nullptr;
    CHECK(cow_map_get_mut(&c, &absent, sizeof absent, &vp) == COW_ENOTFOUND);
    CHECK(vp == nullptr);
    CHECK(out == 0);
    CHECK(allocations(scope) == before);
    CHECK(cow_ptr_eq(m, c) == !copies);
    CHECK(test::stats(m).copies == (copies ? 1u : 0u));

    u64 k = 7;
    REQUIRE(cow_map_remove(&c, &k, sizeof k, &out) == COW_OK);
    CHECK(out == 70);
    CHECK_FALSE(cow_ptr_eq(m, c));
    CHECK(test::stats(m).copies == 1);
    CHECK(cow_map_len(m) == 20);
    CHECK(get(m, 7) == 70u);
    CHECK(cow_map_len(c) == 19);
    CHECK_FALSE(get(c, 7).has_value());
    CHECK(cow_map_remove(&c, &k, sizeof k, nullptr) == COW_ENOTFOUND);
    // Removing everything leaves an empty map that works as one.
    for (u64 i = 0; i < 20; ++i)
        if (i != 7) REQUIRE(cow_map_remove(&c, &i, sizeof i, nullptr) == COW_OK);
    CHECK(cow_map_len(c) == 0);
    CHECK(entries(c).empty());
    CHECK(test::stats(c).value_bytes == 0);
    put(&c, 7, 1);
    CHECK(entries(c) == std::map<u64, u64>{{7, 1}});
    CHECK(entries(m) == model_u64(20));
    cow_map_release(c);
    cow_map_release(m);
}

MAP_TEST("iteration neither copies nor allocates, even on a shared map") {
    test::leak_check leaks;
    test::allocator_scope scope;
    cow_map *m = u64_map();
    std::map<u64, u64> model;
    for (u64 k = 0; k < 300; ++k) {
        put(&m, k * 7919, k);
        model[k * 7919] = k;
    }
    cow_map *c = cow_map_clone(m);
    const bool shared = cow_ptr_eq(m, c);
    const auto copies = test::stats(c).copies;
    long before = allocations(scope);
    CHECK(entries(c) == model);
    // Keys only and values only: any out pointer may be NULL.
    cow_map_cursor cur;
    REQUIRE(cow_map_cursor_init(&cur, c) == COW_OK);
    CHECK(cur.size == sizeof(cow_map_cursor));
    CHECK(cur.map == c);
    std::vector<u64> keys, values;
    const void *p;
    while (cow_map_next(&cur, &p, nullptr, nullptr)) keys.push_back(*static_cast<const u64 *>(p));
    CHECK_FALSE(cow_map_next(&cur, &p, nullptr, nullptr));  // stays at the end
    REQUIRE(cow_map_cursor_init(&cur, c) == COW_OK);
    while (cow_map_next(&cur, nullptr, nullptr, &p)) values.push_back(*static_cast<const u64 *>(p));
    std::size_t n = 0;
    REQUIRE(cow_map_cursor_init(&cur, c) == COW_OK);
    while (cow_map_next(&cur, nullptr, nullptr, nullptr)) ++n;
    CHECK(allocations(scope) == before);
    CHECK(cow_ptr_eq(m, c) == shared);
    CHECK(test::stats(c).copies == copies);
    CHECK(n == 300);
    REQUIRE(keys.size() == 300);
    REQUIRE(values.size() == 300);
    // The walks give the entries in the same order, each key once.
    for (std::size_t i = 0; i < keys.size(); ++i) CHECK(model.at(keys[i]) == values[i]);
    std::vector<u64> model_keys;
    for (const auto &kv : model) model_keys.push_back(kv.first);
    std::sort(keys.begin(), keys.end());
    CHECK(keys == model_keys);

    // An empty map gives nothing, at once.
    cow_map *e = u64_map();
    REQUIRE(cow_map_cursor_init(&cur, e) == COW_OK);
    CHECK_FALSE(cow_map_next(&cur, &p, nullptr, nullptr));
    cow_map_release(e);
    cow_map_release(c);
    cow_map_release(m);
}

MAP_TEST("string keys from pairs: a repeated key replaces; listings through the cursor") {
    test::leak_check leaks;
    const std::vector<std::pair<std::string, u64>> pairs = {
        {"apple", 1}, {"banana", 2}, {"cherry", 3}, {"date", 4}, {"elderberry", 5},
        {"fig", 6},   {"grape", 7},  {"apple", 8},
    };
    cow_map *m = make_map(cow_type_string(), cow_type_u64(), S);
    std::map<std::string, u64> model;
    for (auto &[k, v] : pairs) {
        bool replaced = !model.count(k);
        u64 old = 0;
        REQUIRE(cow_map_insert(&m, k.data(), k.size(), &v, &old, &replaced) == COW_OK);
        CHECK(replaced == (model.count(k) == 1));
        if (replaced) CHECK(old == model[k]);
        model[k] = v;
    }
    CHECK(cow_map_len(m) == 7);
    CHECK(str_entries(m) == model);
    std::vector<std::string> keys;
    std::vector<u64> values;
    cow_map_cursor c;
    REQUIRE(cow_map_cursor_init(&c, m) == COW_OK);
    const void *k, *v;
    std::size_t klen = 0;
    while (cow_map_next(&c, &k, &klen, &v)) {
        keys.emplace_back(static_cast<const char *>(k), klen);
        values.push_back(*static_cast<const u64 *>(v));
    }
    std::sort(keys.begin(), keys.end());
    std::sort(values.begin(), values.end());
    CHECK(keys == std::vector<std::string>{"apple", "banana", "cherry", "date", "elderberry",
                                           "fig", "grape"});
    CHECK(values == std::vector<u64>{2, 3, 4, 5, 6, 7, 8});
    cow_map_release(m);
}

// ---- random operations against a model -----------------------------------------

namespace {

// Runs random operations with keys below key_space on maps of key_type
// (8-byte keys) and u64 values: inserts with and without out_old, removes
// with and without out_value, lookups, get_mut writes, make_mut, clear, and
// clones that stay alive as versions of their own, each with its model.
// Every answer must be the model's.
void random_ops(const cow_type *key_type, u64 key_space, int ops, std::uint64_t seed) {
    REQUIRE(key_type->elem_size == sizeof(u64));
    struct version {
        cow_map *m;
        std::unordered_map<u64, u64> model;
    };
    auto sorted = [](const std::unordered_map<u64, u64> &m) {
        return std::map<u64, u64>(m.begin(), m.end());
    };
    std::mt19937_64 rng(seed);
    std::vector<version> vs;
    vs.push_back({make_map(key_type, cow_type_u64(), S), {}});
    long full_checks = 0;
    for (int op = 0; op < ops; ++op) {
        CAPTURE(op);
        std::size_t i = rng() % 4 == 0 ? rng() % vs.size() : 0;  // mostly the first
        version &v = vs[i];
        u64 key = rng() % key_space;
        u64 val = rng();
        auto it = v.model.find(key);
        const bool present = it != v.model.end();
        unsigned what = static_cast<unsigned>(rng() % 64);
        bool released = false;
        if (what < 24) {
            bool replaced = !present;
            u64 old = 0x5a5a;
            const bool with_old = what % 2;
            REQUIRE(cow_map_insert(&v.m, &key, sizeof key, &val, with_old ? &old : nullptr,
                                   &replaced) == COW_OK);
            CHECK(replaced == present);
            if (with_old) CHECK(old == (present ? it->second : 0x5a5a));
            v.model[key] = val;
        } else if (what < 38) {
            u64 out = 0x5a5a;
            const bool with_out = what % 2;
            cow_status s = cow_map_remove(&v.m, &key, sizeof key, with_out ? &out : nullptr);
            if (!present) {
                CHECK(s == COW_ENOTFOUND);
            } else {
                REQUIRE(s == COW_OK);
                if (with_out) CHECK(out == it->second);
                v.model.erase(it);
            }
            if (!with_out) CHECK(out == 0x5a5a);
        } else if (what < 48) {
            CHECK(get(v.m, key) == (present ? std::optional<u64>(it->second) : std::nullopt));
            CHECK(cow_map_contains(v.m, &key, sizeof key) == present);
        } else if (what < 54) {
            void *p = nullptr;
            cow_status s = cow_map_get_mut(&v.m, &key, sizeof key, &p);
            if (!present) {
                CHECK(s == COW_ENOTFOUND);
                CHECK(p == nullptr);
            } else {
                REQUIRE(s == COW_OK);
                CHECK(value_at(p) == it->second);
                std::memcpy(p, &val, sizeof val);
                it->second = val;
            }
        } else if (what < 58) {
            if (vs.size() < 6) {
                cow_map *c = rng() % 2 ? cow_map_clone(v.m) : static_cast<cow_map *>(cow_clone(v.m));
                REQUIRE(c != nullptr);
                vs.push_back({c, v.model});
            } else {
                std::size_t j = 1 + rng() % (vs.size() - 1);
                CHECK(sorted(vs[j].model) == entries(vs[j].m));
                cow_map_release(vs[j].m);
                vs.erase(vs.begin() + static_cast<std::ptrdiff_t>(j));
                released = true;
            }
        } else if (what < 60) {
            REQUIRE((what % 2 ? cow_map_make_mut(&v.m) : cow_make_mut(&v.m)) == COW_OK);
            CHECK_FALSE(cow_is_shared(v.m));
        } else if (what == 60 && rng() % 8 == 0) {
            REQUIRE(cow_map_clear(&v.m) == COW_OK);
            v.model.clear();
        } else {
            ++full_checks;
            CHECK(entries(v.m) == sorted(v.model));
        }
        if (!released) REQUIRE(cow_map_len(vs[i].m) == vs[i].model.size());
    }
    CHECK(full_checks > 0);
    for (auto &v : vs) {
        CHECK(entries(v.m) == sorted(v.model));
        for (u64 k = 0; k < key_space; ++k) {
            auto it = v.model.find(k);
            REQUIRE(get(v.m, k) == (it != v.model.end() ? std::optional<u64>(it->second) : std::nullopt));
        }
        cow_map_release(v.m);
    }
}

}  // namespace

MAP_TEST("random operations on u64 keys and several live versions match a model") {
    test::leak_check leaks;
    random_ops(cow_type_u64(), 1500, 12000, 12345);
    random_ops(cow_type_u64(), 40, 3000, 777);  // small maps, many replaces and removes
}

MAP_TEST("a map grown to 10,000 entries after a snapshot keeps both views") {
    test::leak_check leaks;
    cow_map *m = make_u64(500, S);
    cow_map *snapshot = cow_map_clone(m);
    REQUIRE(snapshot != nullptr);
    for (u64 k = 0; k < 10000; ++k) put(&m, k + 1000000, k);
    for (u64 k = 0; k < 10000; ++k) REQUIRE(get(m, k + 1000000) == k);
    for (u64 k = 0; k < 500; ++k) REQUIRE(get(m, k) == k * 10);
    CHECK(cow_map_len(m) == 10500);
    CHECK(entries(snapshot) == model_u64(500));
    CHECK(test::stats(m).copies == 1);  // the clone or the first write after it
    CHECK(test::stats(m).value_bytes == 10500 * 16);
    cow_map_release(snapshot);
    cow_map_release(m);
}

MAP_TEST("many inserts to a unique map keep every entry and copy nothing") {
    test::leak_check leaks;
    cow_map *m = u64_map();
    cow_map *slot = m;
    for (u64 k = 0; k < 5000; ++k) put(&m, k * 2654435761u, k);
    CHECK(m == slot);
    CHECK(cow_map_len(m) == 5000);
    for (u64 k = 0; k < 5000; ++k) REQUIRE(get(m, k * 2654435761u) == k);
    auto st = test::stats(m);
    CHECK(st.copies == 0);
    CHECK(st.bytes_copied == 0);
    for (u64 k = 0; k < 5000; k += 2) {
        u64 key = k * 2654435761u;
        REQUIRE(cow_map_remove(&m, &key, sizeof key, nullptr) == COW_OK);
    }
    CHECK(m == slot);
    CHECK(cow_map_len(m) == 2500);
    for (u64 k = 0; k < 5000; ++k) REQUIRE(get(m, k * 2654435761u).has_value() == (k % 2 == 1));
    CHECK(test::stats(m).copies == 0);
    cow_map_release(m);
}

// ---- colliding hashes --------------------------------------------------------------

namespace {

u64 read_key(const void *v) {
    u64 x;
    std::memcpy(&x, v, sizeof x);
    return x;
}
bool key_equal(void *, const void *a, const void *b) { return read_key(a) == read_key(b); }
u64 hash_mod4(void *, const void *v, u64) { return read_key(v) % 4; }
u64 hash_constant(void *, const void *, u64) { return 0x1234567890abcdefull; }
// Equal in every bit but the top four: the hashes collide in every level a
// tree might take from the low bits.
u64 hash_top_bits(void *, const void *v, u64) { return (read_key(v) % 16) << 60; }

cow_type colliding_key(u64 (*hash)(void *, const void *, u64)) {
    cow_type t;
    cow_type_init(&t, sizeof(u64), alignof(u64));
    t.equal = key_equal;
    t.hash = hash;
    t.name = "colliding u64";
    return t;
}

}  // namespace

MAP_TEST("keys whose hashes take only 4 values: every operation gives the model's answers") {
    test::leak_check leaks;
    const cow_type key = colliding_key(hash_mod4);
    random_ops(&key, 400, 6000, 4);
}

MAP_TEST("keys whose hashes all collide: every operation gives the model's answers") {
    test::leak_check leaks;
    const cow_type key = colliding_key(hash_constant);
    random_ops(&key, 300, 3000, 1);
}

MAP_TEST("keys whose hashes differ only in their top bits: every operation gives the model's answers") {
    test::leak_check leaks;
    const cow_type key = colliding_key(hash_top_bits);
    random_ops(&key, 400, 4000, 16);
}

MAP_TEST("hundreds of keys with one hash: insert, replace, remove, clones and iteration") {
    test::leak_check leaks;
    copy_tracker keys, values;
    cow_type kt = tracked_type(keys);  // counts every key copy and drop
    kt.equal = key_equal;
    kt.hash = hash_constant;
    cow_type vt = tracked_type(values);
    cow_map *m = make_map(&kt, &vt, S);
    const u64 n = 300;
    for (u64 k = 0; k < n; ++k) {
        u64 v = k + 1;
        bool replaced = true;
        REQUIRE(cow_map_insert(&m, &k, sizeof k, &v, nullptr, &replaced) == COW_OK);
        CHECK_FALSE(replaced);
    }
    CHECK(cow_map_len(m) == n);
    CHECK(keys.live() == static_cast<long>(n));
    CHECK(values.live() == static_cast<long>(n));
    std::map<u64, u64> model;
    for (u64 k = 0; k < n; ++k) model[k] = k + 1;
    CHECK(entries(m) == model);
    for (u64 k = n; k < n + 50; ++k) CHECK_FALSE(get(m, k).has_value());

    // Replacing keeps one entry per key, and the old value comes back.
    for (u64 k = 0; k < n; k += 3) {
        u64 v = k + 1000, old = 0;
        bool replaced = false;
        REQUIRE(cow_map_insert(&m, &k, sizeof k, &v, &old, &replaced) == COW_OK);
        CHECK(replaced);
        CHECK(old == k + 1);
        tracked_drop(&values, &old);
        model[k] = v;
    }
    CHECK(cow_map_len(m) == n);
    CHECK(keys.live() == static_cast<long>(n));

    // A clone, then writes to it: the original keeps every colliding entry.
    cow_map *c = cow_map_clone(m);
    REQUIRE(c != nullptr);
    auto c_model = model;
    for (u64 k = 1; k < n; k += 2) {
        u64 out = 0;
        REQUIRE(cow_map_remove(&c, &k, sizeof k, &out) == COW_OK);
        CHECK(out == model[k]);
        tracked_drop(&values, &out);
        c_model.erase(k);
    }
    for (u64 k = 0; k < n; k += 4) {
        void *p = nullptr;
        REQUIRE(cow_map_get_mut(&c, &k, sizeof k, &p) == COW_OK);
        u64 v = 7;
        std::memcpy(p, &v, sizeof v);
        c_model[k] = v;
    }
    u64 fresh = n + 7, fv = 9;
    REQUIRE(cow_map_insert(&c, &fresh, sizeof fresh, &fv, nullptr, nullptr) == COW_OK);
    c_model[fresh] = fv;
    CHECK(entries(m) == model);
    CHECK(entries(c) == c_model);
    for (u64 k = 0; k < n + 10; ++k) {
        auto it = c_model.find(k);
        CHECK(get(c, k) == (it == c_model.end() ? std::nullopt : std::optional<u64>(it->second)));
    }
    cow_map_release(c);
    CHECK(keys.live() == static_cast<long>(n));
    CHECK(values.live() == static_cast<long>(n));

    // Remove all in another order, then reuse the emptied map.
    for (u64 k = n; k-- > 0;) REQUIRE(cow_map_remove(&m, &k, sizeof k, nullptr) == COW_OK);
    CHECK(cow_map_len(m) == 0);
    CHECK(keys.live() == 0);
    CHECK(values.live() == 0);
    CHECK(entries(m).empty());
    u64 k = 42, v = 1;
    REQUIRE(cow_map_insert(&m, &k, sizeof k, &v, nullptr, nullptr) == COW_OK);
    CHECK(entries(m) == std::map<u64, u64>{{42, 1}});
    cow_map_release(m);
    CHECK(keys.live() == 0);
    CHECK(values.live() == 0);
}

MAP_TEST("colliding keys equal by the type's callback, not by their bytes") {
    // 16-byte keys {id, tag}: equal when the ids are equal, whatever the
    // tags; every key hashes alike.
    test::leak_check leaks;
    cow_type t;
    cow_type_init(&t, 16, 8);
    t.equal = [](void *, const void *a, const void *b) { return read_key(a) == read_key(b); };
    t.hash = hash_constant;
    cow_map *m = make_map(&t, cow_type_u64(), S);
    for (u64 id = 0; id < 200; ++id) {
        u64 key[2] = {id, 1}, v = id;
        REQUIRE(cow_map_insert(&m, key, sizeof key, &v, nullptr, nullptr) == COW_OK);
    }
    for (u64 id = 0; id < 200; id += 2) {
        u64 key[2] = {id, 2}, v = id + 500, old = 0;
        bool replaced = false;
        REQUIRE(cow_map_insert(&m, key, sizeof key, &v, &old, &replaced) == COW_OK);
        CHECK(replaced);
        CHECK(old == id);
    }
    CHECK(cow_map_len(m) == 200);
    for (u64 id = 0; id < 210; ++id) {
        u64 key[2] = {id, 99};
        auto got = value_at(cow_map_get(m, key, sizeof key));
        if (id >= 200)
            CHECK_FALSE(got.has_value());
        else
            CHECK(got == (id % 2 ? id : id + 500));
    }
    u64 key[2] = {17, 12345};
    REQUIRE(cow_map_remove(&m, key, sizeof key, nullptr) == COW_OK);
    CHECK(cow_map_len(m) == 199);
    key[1] = 1;
    CHECK_FALSE(cow_map_contains(m, key, sizeof key));
    cow_map_release(m);
}

// ---- key kinds ----------------------------------------------------------------------

MAP_TEST("u32 keys; a key of the wrong length is never found") {
    test::leak_check leaks;
    cow_map *m = make_map(cow_type_u32(), cow_type_u64(), S);
    for (std::uint32_t k = 0; k < 1000; ++k) {
        u64 v = k * 3;
        REQUIRE(cow_map_insert(&m, &k, sizeof k, &v, nullptr, nullptr) == COW_OK);
    }
    CHECK(cow_map_len(m) == 1000);
    for (std::uint32_t k = 0; k < 1100; ++k) {
        const void *p = cow_map_get(m, &k, sizeof k);
        CHECK((p != nullptr) == (k < 1000));
        if (p) CHECK(value_at(p) == u64(k) * 3);
    }
    u64 wrong = 1;
    CHECK(cow_map_get(m, &wrong, sizeof wrong) == nullptr);  // 8 bytes for a 4-byte key
    CHECK(cow_map_insert(&m, &wrong, sizeof wrong, &wrong, nullptr, nullptr) == COW_EINVAL);
    CHECK(test::stats(m).value_bytes == 1000 * (4 + 8));
    cow_map_release(m);
}

MAP_TEST("fixed-size keys of 1 to 64 bytes compare every byte") {
    test::leak_check leaks;
    for (std::size_t size : {1, 2, 3, 5, 7, 8, 9, 12, 15, 16, 17, 24, 31, 32, 33, 40, 64}) {
        for (std::size_t align : {std::size_t(1), std::size_t(8)}) {
            if (size % align) continue;
            CAPTURE(size);
            CAPTURE(align);
            cow_type t;
            cow_type_init(&t, size, align);
            cow_map *m = make_map(&t, cow_type_u64(), S);
            // Keys that differ in one byte at a time, at every position.
            std::map<std::string, u64> model;
            u64 next = 0;
            const std::string base(size, '\x5c');
            for (std::size_t at = 0; at < size; ++at) {
                for (int b : {0, 1, 0x80, 0xff}) {
                    std::string k = base;
                    k[at] = static_cast<char>(b);
                    if (model.count(k)) continue;
                    model[k] = next;
                    alignas(64) char buf[64];
                    std::memcpy(buf, k.data(), size);
                    REQUIRE(cow_map_insert(&m, buf, size, &next, nullptr, nullptr) == COW_OK);
                    ++next;
                }
            }
            CHECK(cow_map_len(m) == model.size());
            CHECK(raw_entries(m) == model);
            for (auto &[k, v] : model) {
                alignas(64) char buf[64];
                std::memcpy(buf, k.data(), size);
                CHECK(value_at(cow_map_get(m, buf, size)) == v);
            }
            alignas(64) char absent[64];
            std::memset(absent, 0x5d, sizeof absent);
            CHECK_FALSE(cow_map_contains(m, absent, size));
            // Remove every other key; the rest are still found.
            bool odd = false;
            for (auto it = model.begin(); it != model.end();) {
                odd = !odd;
                if (!odd) {
                    ++it;
                    continue;
                }
                alignas(64) char buf[64];
                std::memcpy(buf, it->first.data(), size);
                REQUIRE(cow_map_remove(&m, buf, size, nullptr) == COW_OK);
                it = model.erase(it);
            }
            CHECK(raw_entries(m) == model);
            CHECK(test::stats(m).value_bytes == model.size() * (size + 8));
            cow_map_release(m);
        }
    }
}

MAP_TEST("built-in integer key types of every width") {
    test::leak_check leaks;
    auto check_type = [](const cow_type *t, int count) {
        const std::size_t size = t->elem_size;
        CAPTURE(size);
        cow_map *m = make_map(t, cow_type_u64(), S);
        for (int i = 0; i < count; ++i) {
            alignas(8) unsigned char key[8] = {};
            u64 x = static_cast<u64>(i) * 0x01010101u;  // spreads the bits over the bytes
            std::memcpy(key, &x, size);
            u64 v = static_cast<u64>(i);
            bool replaced = true;
            REQUIRE(cow_map_insert(&m, key, size, &v, nullptr, &replaced) == COW_OK);
            CHECK_FALSE(replaced);
        }
        CHECK(cow_map_len(m) == static_cast<std::size_t>(count));
        std::size_t found = 0;
        for (int i = 0; i < count; ++i) {
            alignas(8) unsigned char key[8] = {};
            u64 x = static_cast<u64>(i) * 0x01010101u;
            std::memcpy(key, &x, size);
            found += value_at(cow_map_get(m, key, size)) == static_cast<u64>(i);
        }
        CHECK(found == static_cast<std::size_t>(count));
        cow_map_release(m);
    };
    check_type(cow_type_u8(), 256);
    check_type(cow_type_i8(), 256);
    check_type(cow_type_u16(), 256);
    check_type(cow_type_i16(), 256);
    check_type(cow_type_u32(), 500);
    check_type(cow_type_i32(), 500);
    check_type(cow_type_u64(), 500);
    check_type(cow_type_i64(), 500);
}

MAP_TEST("a key type with only a hash callback compares bytes and uses that hash") {
    test::leak_check leaks;
    static long hash_calls = 0;
    hash_calls = 0;
    cow_type t;
    cow_type_init(&t, 8, 8);
    t.hash = [](void *, const void *v, u64 seed) {
        ++hash_calls;
        return read_key(v) ^ seed;  // weak on purpose
    };
    cow_map *m = make_map(&t, cow_type_u64(), S);
    for (u64 k = 0; k < 2000; ++k) put(&m, k << 12, k);
    CHECK(hash_calls >= 2000);
    for (u64 k = 0; k < 2000; ++k) CHECK(get(m, k << 12) == k);
    CHECK_FALSE(get(m, 1).has_value());
    cow_map_release(m);
}

MAP_TEST("case-insensitive 8-character codes use the type's equal and hash") {
    test::leak_check leaks;
    cow_type code;
    cow_type_init(&code, 8, 1);
    code.equal = [](void *, const void *a, const void *b) {
        auto *x = static_cast<const unsigned char *>(a), *y = static_cast<const unsigned char *>(b);
        for (int i = 0; i < 8; ++i)
            if (std::tolower(x[i]) != std::tolower(y[i])) return false;
        return true;
    };
    code.hash = [](void *, const void *v, u64 seed) {
        auto *x = static_cast<const unsigned char *>(v);
        u64 h = seed ^ 1469598103934665603ull;
        for (int i = 0; i < 8; ++i) h = (h ^ static_cast<u64>(std::tolower(x[i]))) * 1099511628211ull;
        return h;
    };
    cow_map *m = make_map(&code, cow_type_u64(), S);
    put(&m, std::string("ABCDEFGH"), 1);
    bool replaced = false;
    u64 two = 2, old = 0;
    REQUIRE(cow_map_insert(&m, "abcdefgh", 8, &two, &old, &replaced) == COW_OK);
    CHECK(replaced);
    CHECK(old == 1);
    CHECK(cow_map_len(m) == 1);
    CHECK(get(m, std::string("AbCdEfGh")) == 2u);
    CHECK_FALSE(get(m, std::string("abcdefgX")).has_value());
    for (int i = 0; i < 200; ++i) put(&m, numbered("code", 1000 + i), static_cast<u64>(i));
    CHECK(cow_map_len(m) == 201);
    CHECK(get(m, std::string("CODE1077")) == 77u);
    REQUIRE(cow_map_remove(&m, "Code1077", 8, nullptr) == COW_OK);
    CHECK_FALSE(get(m, std::string("code1077")).has_value());
    cow_map_release(m);
}

namespace {

// Keys of `len` bytes, distinct for distinct i, differing from each other in
// the first, a middle and the last byte.
std::string sized_key(std::size_t len, unsigned i, bool utf8) {
    std::string k(len, utf8 ? 'm' : '\x9c');
    if (len == 0) return k;
    k[0] = static_cast<char>(utf8 ? 'a' + i % 26 : i & 0xff);
    k[len / 2] = static_cast<char>(utf8 ? 'A' + (i / 26) % 26 : (i >> 8) & 0xff);
    k[len - 1] = static_cast<char>(utf8 ? '0' + i % 10 : (i * 7) & 0xff);
    return k;
}

}  // namespace

MAP_TEST("bytes and string keys of 0 to 40, 63 to 65, 200 and 1000 bytes") {
    test::leak_check leaks;
    std::vector<std::size_t> lengths;
    for (std::size_t n = 0; n <= 40; ++n) lengths.push_back(n);
    for (std::size_t n : {63, 64, 65, 200, 1000}) lengths.push_back(n);
    for (bool utf8 : {false, true}) {
        CAPTURE(utf8);
        test::allocator_scope scope;
        cow_map *m = make_map(utf8 ? cow_type_string() : cow_type_bytes(), cow_type_u64(), S);
        std::map<std::string, u64> model;
        std::size_t key_bytes = 0;
        u64 next = 0;
        for (std::size_t len : lengths) {
            for (unsigned i = 0; i < (len == 0 ? 1u : 12u); ++i) {
                std::string k = sized_key(len, i, utf8);
                if (model.count(k)) continue;
                // Insert from a buffer the caller changes afterwards: the map
                // holds its own copy of the key.
                std::vector<char> buf(k.begin(), k.end());
                buf.push_back('X');
                REQUIRE(cow_map_insert(&m, buf.data(), len, &next, nullptr, nullptr) == COW_OK);
                std::fill(buf.begin(), buf.end(), '\0');
                model[k] = next++;
                key_bytes += len;
            }
        }
        CHECK(cow_map_len(m) == model.size());
        CHECK(str_entries(m) == model);
        const std::size_t fixed = (utf8 ? cow_type_string() : cow_type_bytes())->elem_size + 8;
        CHECK(test::stats(m).value_bytes == model.size() * fixed + key_bytes);

        // Lookups by (pointer, length) allocate nothing, and read exactly
        // len bytes of an unterminated buffer.
        long before = allocations(scope);
        std::size_t wrong = 0;
        for (auto &[k, v] : model) {
            std::string padded = k + "pad";
            wrong += value_at(cow_map_get(m, padded.data(), k.size())) != v;
            wrong += !cow_map_contains(m, padded.data(), k.size());
            // One byte more and one byte less are other keys.
            if (!model.count(padded.substr(0, k.size() + 1)))
                wrong += cow_map_contains(m, padded.data(), k.size() + 1);
            if (!k.empty() && !model.count(k.substr(0, k.size() - 1)))
                wrong += cow_map_contains(m, k.data(), k.size() - 1);
            // The same length with the last byte changed.
            if (!k.empty()) {
                std::string other = k;
                other.back() = utf8 ? '#' : '\x01';
                if (!model.count(other)) wrong += cow_map_contains(m, other.data(), other.size());
            }
        }
        CHECK(wrong == 0);
        CHECK(allocations(scope) == before);

        // A clone edited at a key of each length.
        cow_map *c = cow_map_clone(m);
        REQUIRE(c != nullptr);
        auto c_model = model;
        for (std::size_t len : lengths) {
            std::string k = sized_key(len, 0, utf8);
            u64 out = 0;
            REQUIRE(cow_map_remove(&c, k.data(), k.size(), &out) == COW_OK);
            CHECK(out == model[k]);
            c_model.erase(k);
            if (len > 0) {
                std::string k1 = sized_key(len, 1, utf8);
                void *p = nullptr;
                REQUIRE(cow_map_get_mut(&c, k1.data(), k1.size(), &p) == COW_OK);
                u64 v = 4242;
                std::memcpy(p, &v, sizeof v);
                c_model[k1] = v;
            }
        }
        CHECK(str_entries(c) == c_model);
        CHECK(str_entries(m) == model);
        cow_map_release(c);
        cow_map_release(m);
    }
}

MAP_TEST("string keys: invalid UTF-8 is refused on insert and simply absent for lookups") {
    test::leak_check leaks;
    cow_map *m = make_map(cow_type_string(), cow_type_u64(), S);
    put(&m, std::string("caf\xc3\xa9"), 1);
    put(&m, std::string("\xf0\x9f\x90\x84"), 2);  // a 4-byte character
    const char bad[] = "ab\xff";
    u64 v = 1;
    cow_map *slot = m;
    CHECK(cow_map_insert(&m, bad, 3, &v, nullptr, nullptr) == COW_EUTF8);
    CHECK(cow_map_insert(&m, "\xc0\xaf", 2, &v, nullptr, nullptr) == COW_EUTF8);      // overlong
    CHECK(cow_map_insert(&m, "\xed\xa0\x80", 3, &v, nullptr, nullptr) == COW_EUTF8);  // surrogate
    CHECK(cow_map_insert(&m, "caf\xc3", 4, &v, nullptr, nullptr) == COW_EUTF8);       // truncated
    CHECK(m == slot);
    CHECK(cow_map_len(m) == 2);
    CHECK(cow_map_get(m, bad, 3) == nullptr);
    CHECK_FALSE(cow_map_contains(m, bad, 3));
    CHECK(cow_map_remove(&m, bad, 3, nullptr) == COW_ENOTFOUND);
    void *vp = nullptr;
    CHECK(cow_map_get_mut(&m, bad, 3, &vp) == COW_ENOTFOUND);
    CHECK(str_entries(m) == std::map<std::string, u64>{{"caf\xc3\xa9", 1}, {"\xf0\x9f\x90\x84", 2}});
    // The same bytes are fine as a bytes key.
    cow_map *b = make_map(cow_type_bytes(), cow_type_u64(), S);
    CHECK(cow_map_insert(&b, bad, 3, &v, nullptr, nullptr) == COW_OK);
    CHECK(cow_map_contains(b, bad, 3));
    cow_map_release(b);
    cow_map_release(m);
}

MAP_TEST("byte keys with embedded NULs and the empty key") {
    test::leak_check leaks;
    cow_map *m = make_map(cow_type_bytes(), cow_type_u64(), S);
    const std::string k1("a\0b", 3), k2("a\0c", 3), k3("a", 1), k4("", 0), k5("\0\0", 2);
    put(&m, k1, 1);
    put(&m, k2, 2);
    put(&m, k3, 3);
    put(&m, k4, 4);
    put(&m, k5, 5);
    CHECK(cow_map_len(m) == 5);
    CHECK(get(m, k1) == 1u);
    CHECK(get(m, k2) == 2u);
    CHECK(get(m, k3) == 3u);
    CHECK(get(m, k4) == 4u);
    CHECK(get(m, k5) == 5u);
    CHECK_FALSE(get(m, std::string("\0", 1)).has_value());
    // The empty key may be given as (NULL, 0).
    CHECK(cow_map_contains(m, nullptr, 0));
    CHECK(str_entries(m) == std::map<std::string, u64>{{k1, 1}, {k2, 2}, {k3, 3}, {k4, 4}, {k5, 5}});
    cow_map *c = cow_map_clone(m);
    REQUIRE(cow_map_remove(&c, nullptr, 0, nullptr) == COW_OK);
    CHECK_FALSE(cow_map_contains(c, "", 0));
    CHECK(cow_map_contains(m, "", 0));
    CHECK(test::stats(c).value_bytes == 4 * (cow_type_bytes()->elem_size + 8) + 3 + 3 + 1 + 2);
    CHECK(test::stats(m).value_bytes == 5 * (cow_type_bytes()->elem_size + 8) + 3 + 3 + 1 + 2);
    cow_map_release(c);
    cow_map_release(m);
}

MAP_TEST("byte keys of every length up to 40 that differ in just two adjacent bytes") {
    test::leak_check leaks;
    // For each length and each position, 256 keys that differ only in the
    // two bytes at that position: a key comparison that skipped any byte
    // range would confuse some of them.
    for (std::size_t len = 2; len <= 40; ++len) {
        for (std::size_t at = 0; at + 2 <= len; at += (len > 20 ? 3 : 1)) {
            CAPTURE(len);
            CAPTURE(at);
            cow_map *m = make_map(cow_type_bytes(), cow_type_u64(), S);
            std::vector<std::string> keys;
            for (u64 j = 0; j < 256; ++j) {
                std::string k(len, static_cast<char>('a' + len % 26));
                k[at] = static_cast<char>(j & 0x0f);
                k[at + 1] = static_cast<char>(j >> 4);
                keys.push_back(k);
                put(&m, k, j);
            }
            REQUIRE(cow_map_len(m) == 256);
            std::size_t wrong = 0;
            for (u64 j = 0; j < 256; ++j) wrong += get(m, keys[j]) != j;
            std::string shorter = keys[0].substr(0, len - 1);
            wrong += cow_map_contains(m, shorter.data(), shorter.size());
            CHECK(wrong == 0);
            cow_map_release(m);
        }
    }
}

MAP_TEST("float keys: -0.0 finds +0.0, NaN finds NaN") {
    test::leak_check leaks;
    {
        cow_map *m = make_map(cow_type_f64(), cow_type_u64(), S);
        double neg0 = -0.0, pos0 = 0.0, nan1 = std::numeric_limits<double>::quiet_NaN();
        double nan2;
        u64 bits = 0xfff8000000000123ull;  // another NaN: sign and payload differ
        std::memcpy(&nan2, &bits, sizeof nan2);
        REQUIRE(std::isnan(nan2));
        u64 one = 1, two = 2, three = 3;
        REQUIRE(cow_map_insert(&m, &neg0, sizeof neg0, &one, nullptr, nullptr) == COW_OK);
        REQUIRE(cow_map_insert(&m, &nan1, sizeof nan1, &two, nullptr, nullptr) == COW_OK);
        CHECK(value_at(cow_map_get(m, &pos0, sizeof pos0)) == 1u);
        CHECK(value_at(cow_map_get(m, &nan2, sizeof nan2)) == 2u);
        bool replaced = false;
        REQUIRE(cow_map_insert(&m, &pos0, sizeof pos0, &three, nullptr, &replaced) == COW_OK);
        CHECK(replaced);
        CHECK(cow_map_len(m) == 2);
        for (int i = 1; i <= 200; ++i) {
            double d = i * 0.25;
            u64 v = static_cast<u64>(i);
            REQUIRE(cow_map_insert(&m, &d, sizeof d, &v, nullptr, nullptr) == COW_OK);
        }
        CHECK(cow_map_len(m) == 202);
        double other = 1.5;
        CHECK(value_at(cow_map_get(m, &other, sizeof other)) == 6u);
        other = 1.6;
        CHECK_FALSE(cow_map_contains(m, &other, sizeof other));
        CHECK(cow_map_remove(&m, &nan2, sizeof nan2, nullptr) == COW_OK);
        CHECK_FALSE(cow_map_contains(m, &nan1, sizeof nan1));
        CHECK(cow_map_len(m) == 201);
        cow_map_release(m);
    }
    {
        cow_map *m = make_map(cow_type_f32(), cow_type_u8(), S);
        float neg0 = -0.0f, pos0 = 0.0f, nan1 = std::numeric_limits<float>::quiet_NaN(), nan2 = -nan1;
        std::uint8_t v = 9;
        REQUIRE(cow_map_insert(&m, &neg0, sizeof neg0, &v, nullptr, nullptr) == COW_OK);
        REQUIRE(cow_map_insert(&m, &nan1, sizeof nan1, &v, nullptr, nullptr) == COW_OK);
        CHECK(cow_map_contains(m, &pos0, sizeof pos0));
        CHECK(cow_map_contains(m, &nan2, sizeof nan2));
        CHECK(cow_map_len(m) == 2);
        cow_map_release(m);
    }
}

MAP_TEST("string handles as keys: found by contents, cloned in and released out") {
    test::leak_check leaks;
    cow_map *m = make_map(cow_type_handle(), cow_type_u64(), S);
    std::vector<cow_str *> held;
    for (int i = 0; i < 100; ++i) {
        cow_str *s = make_str(numbered("name-", i));
        u64 v = static_cast<u64>(i);
        REQUIRE(cow_map_insert(&m, &s, sizeof s, &v, nullptr, nullptr) == COW_OK);
        CHECK(strong(s) == 2);  // the map holds a reference of its own
        held.push_back(s);
    }
    CHECK(cow_map_len(m) == 100);
    // Another handle with the same contents finds the entry.
    cow_str *probe = make_str("name-42");
    CHECK(value_at(cow_map_get(m, &probe, sizeof probe)) == 42u);
    cow_str *absent = make_str("name-420");
    CHECK_FALSE(cow_map_contains(m, &absent, sizeof absent));
    cow_map *c = cow_map_clone(m);
    REQUIRE(cow_map_remove(&c, &probe, sizeof probe, nullptr) == COW_OK);
    CHECK(cow_map_len(c) == 99);
    CHECK(cow_map_contains(m, &probe, sizeof probe));
    cow_map_release(c);
    CHECK(strong(held[42]) == 2);
    cow_map_release(m);
    for (cow_str *s : held) {
        CHECK(strong(s) == 1);
        cow_str_release(s);
    }
    cow_str_release(probe);
    cow_str_release(absent);
}

// ---- handle values and nested copy on write -----------------------------------------

MAP_TEST("handle values are cloned and released exactly once") {
    test::leak_check leaks;
    cow_map *m = make_map(cow_type_u64(), cow_type_handle(), S);
    cow_str *one = make_str("one");
    cow_str *two = make_str("two");
    u64 k1 = 1, k2 = 2;
    REQUIRE(cow_map_insert(&m, &k1, sizeof k1, &one, nullptr, nullptr) == COW_OK);
    CHECK(strong(one) == 2);  // the caller keeps its reference
    const bool copies = clone_copies(S, m);
    cow_map *c = cow_map_clone(m);
    CHECK(strong(one) == (copies ? 3u : 2u));  // a shared map shares its values
    REQUIRE(cow_map_insert(&c, &k2, sizeof k2, &two, nullptr, nullptr) == COW_OK);
    CHECK(strong(one) == 3);  // the copy cloned the inner handle
    CHECK(strong(two) == 2);
    cow_map_release(c);
    CHECK(strong(one) == 2);
    CHECK(strong(two) == 1);

    // Replacing hands the old handle to the caller.
    cow_str *old = nullptr;
    bool replaced = false;
    REQUIRE(cow_map_insert(&m, &k1, sizeof k1, &two, &old, &replaced) == COW_OK);
    CHECK(replaced);
    CHECK(old == one);
    CHECK(strong(one) == 2);  // the map's reference is now the caller's
    CHECK(strong(two) == 2);
    cow_str_release(old);
    CHECK(strong(one) == 1);
    // Replacing without out_old drops the old value.
    REQUIRE(cow_map_insert(&m, &k1, sizeof k1, &one, nullptr, nullptr) == COW_OK);
    CHECK(strong(two) == 1);
    CHECK(strong(one) == 2);
    // Remove with out_value: the caller owns it.
    cow_str *removed = nullptr;
    REQUIRE(cow_map_remove(&m, &k1, sizeof k1, &removed) == COW_OK);
    CHECK(removed == one);
    CHECK(strong(one) == 2);
    cow_str_release(removed);
    // Replacing in a shared map: the copy's reference goes to out_old.
    REQUIRE(cow_map_insert(&m, &k1, sizeof k1, &one, nullptr, nullptr) == COW_OK);
    c = cow_map_clone(m);
    REQUIRE(cow_map_insert(&c, &k1, sizeof k1, &two, &old, nullptr) == COW_OK);
    CHECK(old == one);
    CHECK(strong(one) == 3);  // caller, m, and the reference handed back
    cow_str_release(old);
    cow_map_release(c);
    // A write to a shared map does not clone the value it is about to drop:
    // the dropped value's lineage counts no clone (beyond a clone that
    // copied at once) and only m keeps a reference.
    for (bool remove : {false, true}) {
        CAPTURE(remove);
        std::uint64_t clones_before = test::stats(one).clones;
        const bool copied_at_clone = clone_copies(S, m);
        c = cow_map_clone(m);
        if (remove)
            REQUIRE(cow_map_remove(&c, &k1, sizeof k1, nullptr) == COW_OK);
        else
            REQUIRE(cow_map_insert(&c, &k1, sizeof k1, &two, nullptr, nullptr) == COW_OK);
        CHECK(strong(one) == 2);  // caller and m
        CHECK(test::stats(one).clones == clones_before + (copied_at_clone ? 1u : 0u));
        CHECK(cow_map_len(c) == (remove ? 0u : 1u));
        CHECK(cow_map_len(m) == 1);
        cow_map_release(c);
    }
    cow_map_release(m);
    CHECK(strong(one) == 1);
    CHECK(strong(two) == 1);
    cow_str_release(one);
    cow_str_release(two);
}

MAP_TEST("editing one vector of a shared string -> vec map copies that vector only") {
    test::leak_check leaks;
    const std::vector<std::string> names = {"alpha", "beta", "gamma", "delta"};
    cow_map *m1 = make_map(cow_type_string(), cow_type_handle(), S);
    for (auto &n : names) {
        cow_vec *v = nullptr;
        REQUIRE(cow_vec_new(&v, cow_type_u32(), nullptr) == COW_OK);
        for (std::uint32_t x = 0; x < 3; ++x) REQUIRE(cow_vec_push(&v, &x) == COW_OK);
        REQUIRE(cow_map_insert(&m1, n.data(), n.size(), &v, nullptr, nullptr) == COW_OK);
        CHECK(strong(v) == 2);
        cow_vec_release(v);
    }
    auto vec_of = [](const cow_map *m, const std::string &k) {
        const void *p = cow_map_get(m, k.data(), k.size());
        REQUIRE(p);
        return *static_cast<cow_vec *const *>(p);
    };
    cow_map *m2 = cow_map_clone(m1);
    void *slot = nullptr;
    REQUIRE(cow_map_get_mut(&m2, "beta", 4, &slot) == COW_OK);
    CHECK(slot == cow_map_get(m2, "beta", 4));
    CHECK_FALSE(cow_ptr_eq(m1, m2));
    CHECK(test::stats(m1).copies == 1);
    for (auto &n : names) {
        CAPTURE(n);
        CHECK(cow_ptr_eq(vec_of(m1, n), vec_of(m2, n)));  // the map's copy shares the vectors
        if (n == "beta" || !is_tree(S))
            CHECK(strong(vec_of(m1, n)) == 2);  // a copied entry clones its handle
        else
            CHECK(strong(vec_of(m1, n)) <= 2);  // a tree copies only the entries on its path
    }
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
            CHECK(strong(a) == 1);
            CHECK(strong(b) == 1);
            CHECK(test::stats(b).copies == 1);
        } else {
            CHECK(cow_ptr_eq(a, b));
            CHECK(cow_vec_len(a) == 3);
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
    for (auto &n : names) CHECK(strong(vec_of(m1, n)) == 1);
    cow_map_release(m1);
}

MAP_TEST("nested strings: a map of str handles edited through get_mut") {
    test::leak_check leaks;
    cow_map *m1 = make_map(cow_type_u64(), cow_type_handle(), S);
    for (u64 k = 0; k < 3; ++k) {
        cow_str *s = make_str(numbered("v", static_cast<long>(k)));
        REQUIRE(cow_map_insert(&m1, &k, sizeof k, &s, nullptr, nullptr) == COW_OK);
        cow_str_release(s);
    }
    cow_map *m2 = cow_map_clone(m1);
    u64 k = 1;
    void *slot;
    REQUIRE(cow_map_get_mut(&m2, &k, sizeof k, &slot) == COW_OK);
    REQUIRE(cow_str_append(reinterpret_cast<cow_str **>(slot), "!", 1) == COW_OK);
    auto str_at = [](const cow_map *m, u64 key) {
        const void *p = cow_map_get(m, &key, sizeof key);
        REQUIRE(p);
        const cow_str *s = *static_cast<cow_str *const *>(p);
        return std::string(cow_str_data(s), cow_str_len(s));
    };
    CHECK(str_at(m1, 1) == "v1");
    CHECK(str_at(m2, 1) == "v1!");
    CHECK(str_at(m2, 0) == "v0");
    CHECK(str_at(m2, 2) == "v2");
    CHECK(test::stats(m1).copies == 1);
    cow_map_release(m1);
    cow_map_release(m2);
}

MAP_TEST("nested maps: an inner map edited through the outer one's get_mut") {
    test::leak_check leaks;
    cow_map *outer = make_map(cow_type_u64(), cow_type_handle(), S);
    for (u64 k = 0; k < 20; ++k) {
        cow_map *inner = make_u64(static_cast<std::size_t>(k), S);
        REQUIRE(cow_map_insert(&outer, &k, sizeof k, &inner, nullptr, nullptr) == COW_OK);
        cow_map_release(inner);
    }
    auto inner_of = [](const cow_map *m, u64 key) {
        const void *p = cow_map_get(m, &key, sizeof key);
        REQUIRE(p);
        return *static_cast<cow_map *const *>(p);
    };
    cow_map *copy = cow_map_clone(outer);
    for (u64 k : {u64(3), u64(17)}) {
        void *slot = nullptr;
        REQUIRE(cow_map_get_mut(&copy, &k, sizeof k, &slot) == COW_OK);
        auto **inner = reinterpret_cast<cow_map **>(slot);
        put(inner, 1000, 1);
        u64 zero = 0;
        REQUIRE(cow_map_remove(inner, &zero, sizeof zero, nullptr) == COW_OK);
    }
    for (u64 k = 0; k < 20; ++k) {
        CAPTURE(k);
        CHECK(entries(inner_of(outer, k)) == model_u64(k));
        auto expected = model_u64(k);
        if (k == 3 || k == 17) {
            expected.erase(0);
            expected[1000] = 1;
            CHECK_FALSE(cow_ptr_eq(inner_of(outer, k), inner_of(copy, k)));
        } else {
            // The outer map's copy cloned the inner handle: shared, unless
            // the inner map's own strategy copies at clone.
            CHECK(cow_ptr_eq(inner_of(outer, k), inner_of(copy, k)) ==
                  !clone_copies(S, inner_of(outer, k)));
        }
        CHECK(entries(inner_of(copy, k)) == expected);
    }
    cow_map_release(copy);
    for (u64 k = 0; k < 20; ++k) CHECK(strong(inner_of(outer, k)) == 1);
    cow_map_release(outer);
}

// ---- clear, statistics, layout ----------------------------------------------------

MAP_TEST("clear: in place when unique, an empty map without element copies when shared") {
    test::leak_check leaks;
    copy_tracker t;
    cow_type tt = tracked_type(t);
    cow_map *m = make_map(cow_type_u64(), &tt, S);
    for (u64 k = 0; k < 50; ++k) {
        u64 v = k;
        REQUIRE(cow_map_insert(&m, &k, sizeof k, &v, nullptr, nullptr) == COW_OK);
    }
    CHECK(t.live() == 50);
    const bool copies = clone_copies(S, m);
    cow_map *c = cow_map_clone(m);
    CHECK(t.live() == (copies ? 100 : 50));
    long copies_before = t.copies;
    REQUIRE(cow_map_clear(&c) == COW_OK);
    CHECK(t.copies == copies_before);  // no element copied
    CHECK(t.live() == 50);
    CHECK(cow_map_len(c) == 0);
    CHECK(cow_map_len(m) == 50);
    CHECK(test::stats(c).value_bytes == 0);
    CHECK(test::stats(m).value_bytes == 50 * 16);
    if (is_tree(S))
        CHECK(test::stats(m).copies <= 1);
    else
        CHECK(test::stats(m).copies == 1);  // at the clone or at the clear
    CHECK(cow_map_key_type(c) == cow_type_u64());
    CHECK(cow_map_value_type(c) == &tt);
    CHECK(test::stats(c).representation == representation(S));
    u64 one = 1;
    REQUIRE(cow_map_insert(&c, &one, sizeof one, &one, nullptr, nullptr) == COW_OK);
    CHECK(t.live() == 51);
    cow_map_release(c);
    CHECK(t.live() == 50);
    // Unique: drops the values in place.
    cow_map *slot = m;
    REQUIRE(cow_map_clear(&m) == COW_OK);
    CHECK(m == slot);
    CHECK(t.live() == 0);
    CHECK(cow_map_len(m) == 0);
    CHECK(entries(m).empty());
    for (u64 k = 0; k < 40; ++k) REQUIRE(cow_map_insert(&m, &k, sizeof k, &k, nullptr, nullptr) == COW_OK);
    CHECK(cow_map_len(m) == 40);
    CHECK(cow_map_clear(&m) == COW_OK);
    CHECK(cow_map_clear(&m) == COW_OK);  // already empty
    CHECK(m == slot);
    CHECK(t.live() == 0);
    cow_map_release(m);
}

MAP_TEST("no statistics: the lineage counts nothing, the value still has its size") {
    test::leak_check leaks;
    cow_map *m = make_u64(3, S, 0, COW_OPT_NO_STATS);
    cow_map *c = cow_map_clone(m);
    put(&c, 9, 9);
    auto st = test::stats(m);
    CHECK(st.enabled == 0);
    CHECK(st.clones == 0);
    CHECK(st.copies == 0);
    CHECK(st.bytes_copied == 0);
    CHECK(st.value_bytes == 3 * 16);
    CHECK(st.representation == representation(S));
    CHECK(test::stats(c).value_bytes == 4 * 16);
    CHECK(entries(m) == model_u64(3));
    cow_map_release(c);
    cow_map_release(m);
}

MAP_TEST("keys and values are aligned for their types; large values work") {
    test::leak_check leaks;
    {
        cow_type wide;
        cow_type_init(&wide, 64, 64);
        cow_map *m = make_map(cow_type_u8(), &wide, S);
        unsigned char value[64];
        for (int i = 0; i < 100; ++i) {
            std::uint8_t k = static_cast<std::uint8_t>(i);
            std::memset(value, i, sizeof value);
            REQUIRE(cow_map_insert(&m, &k, 1, value, nullptr, nullptr) == COW_OK);
        }
        cow_map_cursor c;
        REQUIRE(cow_map_cursor_init(&c, m) == COW_OK);
        const void *k, *v;
        std::size_t n = 0;
        while (cow_map_next(&c, &k, nullptr, &v)) {
            CHECK(reinterpret_cast<std::uintptr_t>(v) % 64 == 0);
            CHECK(*static_cast<const unsigned char *>(v) == *static_cast<const std::uint8_t *>(k));
            ++n;
        }
        CHECK(n == 100);
        cow_map *copy = cow_map_clone(m);
        std::uint8_t k5 = 5;
        void *mut;
        REQUIRE(cow_map_get_mut(&copy, &k5, 1, &mut) == COW_OK);
        CHECK(reinterpret_cast<std::uintptr_t>(mut) % 64 == 0);
        static_cast<unsigned char *>(mut)[0] = 200;
        CHECK(*static_cast<const unsigned char *>(cow_map_get(m, &k5, 1)) == 5);
        CHECK(*static_cast<const unsigned char *>(cow_map_get(copy, &k5, 1)) == 200);
        cow_map_release(copy);
        cow_map_release(m);
    }
    {
        // 32-byte keys aligned to 32, 1-byte values.
        cow_type key;
        cow_type_init(&key, 32, 32);
        cow_map *m = make_map(&key, cow_type_u8(), S);
        for (int i = 0; i < 100; ++i) {
            alignas(32) unsigned char k[32] = {};
            k[31] = static_cast<unsigned char>(i);
            std::uint8_t v = static_cast<std::uint8_t>(i);
            REQUIRE(cow_map_insert(&m, k, 32, &v, nullptr, nullptr) == COW_OK);
        }
        cow_map_cursor c;
        REQUIRE(cow_map_cursor_init(&c, m) == COW_OK);
        const void *k, *v;
        std::size_t n = 0, klen = 0;
        while (cow_map_next(&c, &k, &klen, &v)) {
            CHECK(klen == 32);
            CHECK(reinterpret_cast<std::uintptr_t>(k) % 32 == 0);
            CHECK(static_cast<const unsigned char *>(k)[31] == *static_cast<const std::uint8_t *>(v));
            ++n;
        }
        CHECK(n == 100);
        cow_map_release(m);
    }
    {
        cow_type big;
        cow_type_init(&big, 1000, 8);
        cow_map *m = make_map(cow_type_u64(), &big, S);
        std::vector<unsigned char> val(1000), old(1000);
        for (u64 k = 0; k < 20; ++k) {
            std::fill(val.begin(), val.end(), static_cast<unsigned char>(k));
            REQUIRE(cow_map_insert(&m, &k, sizeof k, val.data(), nullptr, nullptr) == COW_OK);
        }
        cow_map *c = cow_map_clone(m);
        u64 k = 3;
        std::fill(val.begin(), val.end(), 0xab);
        bool replaced = false;
        REQUIRE(cow_map_insert(&m, &k, sizeof k, val.data(), old.data(), &replaced) == COW_OK);
        CHECK(replaced);
        CHECK(old[0] == 3);
        CHECK(old[999] == 3);
        CHECK(static_cast<const unsigned char *>(cow_map_get(m, &k, sizeof k))[500] == 0xab);
        CHECK(static_cast<const unsigned char *>(cow_map_get(c, &k, sizeof k))[500] == 3);
        // Replacing a value by itself.
        REQUIRE(cow_map_insert(&m, &k, sizeof k, cow_map_get(m, &k, sizeof k), nullptr, nullptr) == COW_OK);
        CHECK(static_cast<const unsigned char *>(cow_map_get(m, &k, sizeof k))[999] == 0xab);
        REQUIRE(cow_map_remove(&m, &k, sizeof k, old.data()) == COW_OK);
        CHECK(old[0] == 0xab);
        CHECK(cow_map_len(m) == 19);
        CHECK(cow_map_len(c) == 20);
        cow_map_release(c);
        cow_map_release(m);
    }
}

// ---- error paths ------------------------------------------------------------------

MAP_TEST("cow_map_new refuses bad arguments and leaves out alone") {
    test::leak_check leaks;
    const cow_options o = S.options();
    cow_map *m = reinterpret_cast<cow_map *>(0x1);
    CHECK(cow_map_new(nullptr, cow_type_u64(), cow_type_u64(), &o) == COW_EINVAL);
    CHECK(cow_map_new(&m, nullptr, cow_type_u64(), &o) == COW_EINVAL);
    CHECK(cow_map_new(&m, cow_type_u64(), nullptr, &o) == COW_EINVAL);
    CHECK(cow_map_new(&m, cow_type_u64(), cow_type_bytes(), &o) == COW_EINVAL);
    CHECK(cow_map_new(&m, cow_type_u64(), cow_type_string(), &o) == COW_EINVAL);
    cow_type bad;
    cow_type_init(&bad, 0, 1);
    CHECK(cow_map_new(&m, &bad, cow_type_u64(), &o) == COW_EINVAL);
    cow_type_init(&bad, 8, 3);
    CHECK(cow_map_new(&m, cow_type_u64(), &bad, &o) == COW_EINVAL);
    cow_type_init(&bad, 8, 128);
    CHECK(cow_map_new(&m, &bad, cow_type_u64(), &o) == COW_EINVAL);
    cow_type_init(&bad, 8, 8);
    bad.flags = 1;
    CHECK(cow_map_new(&m, &bad, cow_type_u64(), &o) == COW_EINVAL);
    cow_type_init(&bad, 8, 8);
    bad.size = 4;
    CHECK(cow_map_new(&m, &bad, cow_type_u64(), &o) == COW_EINVAL);
    cow_type_init(&bad, std::numeric_limits<std::size_t>::max() / 2, 8);
    CHECK(cow_map_new(&m, &bad, cow_type_u64(), &o) == COW_EINVAL);
    cow_options flags = o;
    flags.flags = 0x80;
    CHECK(cow_map_new(&m, cow_type_u64(), cow_type_u64(), &flags) == COW_EINVAL);
    CHECK(m == reinterpret_cast<cow_map *>(0x1));
    // Any fixed-size key type is fine, handles included.
    cow_map *h = make_map(cow_type_handle(), cow_type_ptr(), S);
    CHECK(cow_map_len(h) == 0);
    cow_map_release(h);
}

MAP_TEST("every map call refuses NULL, wrong handle kinds and bad keys, and changes nothing") {
    test::leak_check leaks;
    cow_map *m = u64_map();
    put(&m, 1, 10);
    cow_map *s = make_map(cow_type_string(), cow_type_u64(), S);
    put(&s, std::string("x"), 1);
    cow_str *str = make_str("not a map");
    auto *wrong = reinterpret_cast<cow_map *>(str);
    cow_map *null_map = nullptr;
    u64 k = 1, v = 5, out = 0;
    void *vp = nullptr;
    bool replaced = false;

    // Queries answer "nothing" for invalid handles and keys.
    CHECK(cow_map_clone(nullptr) == nullptr);
    CHECK(cow_map_clone(wrong) == nullptr);
    cow_map_release(nullptr);
    cow_map_release(wrong);
    CHECK(strong(str) == 1);
    CHECK(cow_map_len(nullptr) == 0);
    CHECK(cow_map_len(wrong) == 0);
    CHECK(cow_map_key_type(nullptr) == nullptr);
    CHECK(cow_map_key_type(wrong) == nullptr);
    CHECK(cow_map_value_type(nullptr) == nullptr);
    CHECK(cow_map_value_type(wrong) == nullptr);
    CHECK(cow_map_get(nullptr, &k, sizeof k) == nullptr);
    CHECK(cow_map_get(wrong, &k, sizeof k) == nullptr);
    CHECK(cow_map_get(m, nullptr, sizeof k) == nullptr);
    CHECK(cow_map_get(m, &k, 4) == nullptr);
    CHECK(cow_map_get(m, &k, 0) == nullptr);
    CHECK(cow_map_get(s, nullptr, 1) == nullptr);
    CHECK_FALSE(cow_map_contains(nullptr, &k, sizeof k));
    CHECK_FALSE(cow_map_contains(wrong, &k, sizeof k));
    CHECK_FALSE(cow_map_contains(m, nullptr, sizeof k));
    CHECK_FALSE(cow_map_contains(m, &k, 9));
    CHECK_FALSE(cow_map_contains(s, nullptr, 1));
    CHECK_FALSE(cow_map_contains(s, "x", std::numeric_limits<std::size_t>::max()));
    CHECK(cow_map_contains(m, &k, sizeof k));

    // Insert.
    CHECK(cow_map_insert(nullptr, &k, sizeof k, &v, nullptr, nullptr) == COW_EINVAL);
    CHECK(cow_map_insert(&null_map, &k, sizeof k, &v, nullptr, nullptr) == COW_EINVAL);
    CHECK(cow_map_insert(&wrong, &k, sizeof k, &v, nullptr, nullptr) == COW_ETYPE);
    CHECK(cow_map_insert(&m, nullptr, sizeof k, &v, nullptr, nullptr) == COW_EINVAL);
    CHECK(cow_map_insert(&m, &k, 4, &v, nullptr, nullptr) == COW_EINVAL);
    CHECK(cow_map_insert(&m, &k, sizeof k, nullptr, &out, &replaced) == COW_EINVAL);
    CHECK(cow_map_insert(&s, nullptr, 2, &v, nullptr, nullptr) == COW_EINVAL);
    CHECK(cow_map_insert(&s, "x", std::numeric_limits<std::size_t>::max(), &v, nullptr, nullptr) ==
          COW_EOVERFLOW);
    CHECK(cow_map_insert(&s, "\xe2\x82", 2, &v, nullptr, nullptr) == COW_EUTF8);
    CHECK(out == 0);
    CHECK_FALSE(replaced);
    // Remove.
    CHECK(cow_map_remove(nullptr, &k, sizeof k, &out) == COW_EINVAL);
    CHECK(cow_map_remove(&null_map, &k, sizeof k, &out) == COW_EINVAL);
    CHECK(cow_map_remove(&wrong, &k, sizeof k, &out) == COW_ETYPE);
    CHECK(cow_map_remove(&m, nullptr, sizeof k, &out) == COW_EINVAL);
    CHECK(cow_map_remove(&m, &k, 7, &out) == COW_EINVAL);
    CHECK(cow_map_remove(&s, nullptr, 1, &out) == COW_EINVAL);
    CHECK(out == 0);
    // Get mut.
    CHECK(cow_map_get_mut(nullptr, &k, sizeof k, &vp) == COW_EINVAL);
    CHECK(cow_map_get_mut(&null_map, &k, sizeof k, &vp) == COW_EINVAL);
    CHECK(cow_map_get_mut(&wrong, &k, sizeof k, &vp) == COW_ETYPE);
    CHECK(cow_map_get_mut(&m, nullptr, sizeof k, &vp) == COW_EINVAL);
    CHECK(cow_map_get_mut(&m, &k, 1, &vp) == COW_EINVAL);
    CHECK(cow_map_get_mut(&m, &k, sizeof k, nullptr) == COW_EINVAL);
    CHECK(vp == nullptr);
    // Clear and make_mut.
    CHECK(cow_map_clear(nullptr) == COW_EINVAL);
    CHECK(cow_map_clear(&null_map) == COW_EINVAL);
    CHECK(cow_map_clear(&wrong) == COW_ETYPE);
    CHECK(cow_map_make_mut(nullptr) == COW_EINVAL);
    CHECK(cow_map_make_mut(&wrong) == COW_ETYPE);
    CHECK(cow_make_mut(nullptr) == COW_EINVAL);
    // Cursor.
    cow_map_cursor c;
    CHECK(cow_map_cursor_init(nullptr, m) == COW_EINVAL);
    CHECK(cow_map_cursor_init(&c, nullptr) == COW_EINVAL);
    CHECK(cow_map_cursor_init(&c, wrong) == COW_ETYPE);
    const void *key = nullptr;
    CHECK_FALSE(cow_map_next(nullptr, &key, nullptr, nullptr));
    REQUIRE(cow_map_cursor_init(&c, m) == COW_OK);
    c.size = 0;  // not initialised by the library
    CHECK_FALSE(cow_map_next(&c, &key, nullptr, nullptr));
    REQUIRE(cow_map_cursor_init(&c, m) == COW_OK);
    c.map = wrong;
    CHECK_FALSE(cow_map_next(&c, &key, nullptr, nullptr));
    c.map = nullptr;
    CHECK_FALSE(cow_map_next(&c, &key, nullptr, nullptr));
    CHECK(key == nullptr);
    CHECK(cow_kind(m) == COW_KIND_MAP);

    // Nothing changed.
    CHECK(wrong == reinterpret_cast<cow_map *>(str));
    CHECK(entries(m) == std::map<u64, u64>{{1, 10}});
    CHECK(str_entries(s) == std::map<std::string, u64>{{"x", 1}});
    CHECK(test::stats(m).copies == 0);
    cow_str_release(str);
    cow_map_release(s);
    cow_map_release(m);
}

// ---- failing allocations ------------------------------------------------------

namespace {

// A map to fail writes on: u64 keys 0..n-1 (value key * 10), or string keys
// of 1 to 40 bytes.
struct fixture {
    const char *name;
    std::function<cow_map *()> make;
    std::function<std::string(int)> key;  // the bytes of the i-th key
};

std::vector<fixture> fixtures() {
    return {
        {"u64 small", [] { return make_u64(small_len, S); }, [](int i) { return key_bytes(static_cast<u64>(i)); }},
        {"u64 large", [] { return make_u64(large_len, S); }, [](int i) { return key_bytes(static_cast<u64>(i)); }},
        {"strings",
         [] {
             cow_map *m = make_map(cow_type_string(), cow_type_u64(), S);
             for (int i = 0; i < 12; ++i) put(&m, std::string(1 + static_cast<std::size_t>(i) * 3, char('a' + i)), static_cast<u64>(i) * 10);
             return m;
         },
         [](int i) {
             return i < 12 ? std::string(1 + static_cast<std::size_t>(i) * 3, char('a' + i))
                           : std::string(45, 'z');
         }},
    };
}

// A write given a key's bytes; what it does to the model of the entries.
struct keyed_write {
    const char *name;
    int key;  // index of the key it writes (fixture::key); 100: a fresh key
    std::function<cow_status(cow_map **, const std::string &)> apply;
    std::function<void(std::map<std::string, u64> &, const std::string &)> model;
};

std::vector<keyed_write> keyed_writes() {
    return {
        {"insert fresh", 100,
         [](cow_map **s, const std::string &k) {
             u64 v = 5, old = 0;
             bool replaced = true;
             cow_status st = cow_map_insert(s, k.data(), k.size(), &v, &old, &replaced);
             if (st == COW_OK) CHECK_FALSE(replaced);
             return st;
         },
         [](std::map<std::string, u64> &m, const std::string &k) { m[k] = 5; }},
        {"replace with out_old", 2,
         [](cow_map **s, const std::string &k) {
             u64 v = 6, old = 0;
             bool replaced = false;
             cow_status st = cow_map_insert(s, k.data(), k.size(), &v, &old, &replaced);
             if (st == COW_OK) {
                 CHECK(replaced);
                 CHECK(old == 20);
             } else {
                 CHECK_FALSE(replaced);
                 CHECK(old == 0);
             }
             return st;
         },
         [](std::map<std::string, u64> &m, const std::string &k) { m[k] = 6; }},
        {"replace", 1,
         [](cow_map **s, const std::string &k) {
             u64 v = 7;
             return cow_map_insert(s, k.data(), k.size(), &v, nullptr, nullptr);
         },
         [](std::map<std::string, u64> &m, const std::string &k) { m[k] = 7; }},
        {"remove with out", 3,
         [](cow_map **s, const std::string &k) {
             u64 out = 0;
             cow_status st = cow_map_remove(s, k.data(), k.size(), &out);
             CHECK(out == (st == COW_OK ? 30u : 0u));
             return st;
         },
         [](std::map<std::string, u64> &m, const std::string &k) { m.erase(k); }},
        {"remove", 0,
         [](cow_map **s, const std::string &k) { return cow_map_remove(s, k.data(), k.size(), nullptr); },
         [](std::map<std::string, u64> &m, const std::string &k) { m.erase(k); }},
        {"get_mut", 2,
         [](cow_map **s, const std::string &k) {
             void *p = nullptr;
             cow_status st = cow_map_get_mut(s, k.data(), k.size(), &p);
             if (st == COW_OK) {
                 u64 v = 8;
                 std::memcpy(p, &v, sizeof v);
             } else {
                 CHECK(p == nullptr);
             }
             return st;
         },
         [](std::map<std::string, u64> &m, const std::string &k) { m[k] = 8; }},
        {"clear", 0, [](cow_map **s, const std::string &) { return cow_map_clear(s); },
         [](std::map<std::string, u64> &m, const std::string &) { m.clear(); }},
        {"cow_map_make_mut", 0, [](cow_map **s, const std::string &) { return cow_map_make_mut(s); },
         [](std::map<std::string, u64> &, const std::string &) {}},
        {"cow_make_mut", 0, [](cow_map **s, const std::string &) { return cow_make_mut(s); },
         [](std::map<std::string, u64> &, const std::string &) {}},
    };
}

}  // namespace

MAP_TEST("a failing allocation at each point of a write changes nothing and leaks nothing") {
    for (const auto &fx : fixtures()) {
        for (const auto &w : keyed_writes()) {
            for (bool shared : {true, false}) {
                std::string fname = fx.name, wname = w.name;
                CAPTURE(fname);
                CAPTURE(wname);
                CAPTURE(shared);
                const std::string key = w.key == 100 ? fx.key(99) : fx.key(w.key);
                for (long n = 1;; ++n) {
                    CAPTURE(n);
                    test::leak_check leaks;
                    test::allocator_scope scope;
                    cow_map *m = fx.make();
                    const auto init = raw_entries(m);
                    auto expected = init;
                    w.model(expected, key);
                    cow_map *other = shared ? cow_map_clone(m) : nullptr;
                    const bool copied_at_clone = other && !cow_ptr_eq(m, other);
                    const auto g = test::global();
                    const auto copies = test::stats(m).copies;
                    cow_map *slot = m;
                    scope.allocator.fail_nth_from_now(n);
                    cow_status s = w.apply(&slot, key);
                    scope.allocator.stop_failing();
                    if (s == COW_OK) {
                        CHECK(raw_entries(slot) == expected);
                        if (other) CHECK(raw_entries(other) == init);
                        cow_map_release(slot);
                        cow_map_release(other);
                        break;
                    }
                    CHECK(s == COW_ENOMEM);
                    CHECK(slot == m);
                    CHECK(raw_entries(m) == init);
                    const auto after = test::global();
                    CHECK(after.live_allocations == g.live_allocations);
                    CHECK(after.live_bytes == g.live_bytes);
                    CHECK(after.live_values == g.live_values);
                    CHECK(test::stats(m).copies == copies);
                    if (other) {
                        CHECK(strong(m) == (copied_at_clone ? 1u : 2u));
                        CHECK(raw_entries(other) == init);
                    }
                    cow_map_release(m);
                    cow_map_release(other);
                    REQUIRE(n < 100);
                }
            }
        }
    }
}

MAP_TEST("a failing allocation in a clone that copies gives NULL; in creation, no map") {
    for (const auto &fx : fixtures()) {
        std::string fname = fx.name;
        CAPTURE(fname);
        for (long n = 1;; ++n) {
            CAPTURE(n);
            test::leak_check leaks;
            test::allocator_scope scope;
            cow_map *m = fx.make();
            const bool copies = clone_copies(S, m);
            const auto init = raw_entries(m);
            const auto g = test::global();
            scope.allocator.fail_nth_from_now(n);
            cow_map *c = n % 2 ? cow_map_clone(m) : static_cast<cow_map *>(cow_clone(m));
            scope.allocator.stop_failing();
            if (c) {
                CHECK(raw_entries(c) == init);
                CHECK(cow_ptr_eq(c, m) == !copies);
                cow_map_release(c);
                cow_map_release(m);
                break;
            }
            CHECK(copies);  // only a clone that copies can fail
            CHECK(test::global().live_allocations == g.live_allocations);
            CHECK(strong(m) == 1);
            CHECK(raw_entries(m) == init);
            cow_map_release(m);
            REQUIRE(n < 100);
        }
    }
    const cow_options o = S.options();
    for (long n = 1;; ++n) {
        CAPTURE(n);
        test::leak_check leaks;
        test::allocator_scope scope(n);
        cow_map *m = nullptr;
        cow_status s = cow_map_new(&m, cow_type_string(), cow_type_u64(), &o);
        scope.allocator.stop_failing();
        if (s == COW_OK) {
            CHECK(n > 1);  // a map allocates something
            put(&m, std::string("k"), 1);
            CHECK(cow_map_len(m) == 1);
            cow_map_release(m);
            break;
        }
        CHECK(s == COW_ENOMEM);
        CHECK(m == nullptr);
        REQUIRE(n < 10);
    }
}

// ---- failing copy callbacks --------------------------------------------------------

MAP_TEST("a failing key or value copy aborts the write and changes nothing") {
    test::leak_check leaks;
    copy_tracker vt_track, kt_track;
    cow_type vt = tracked_type(vt_track), kt = tracked_type(kt_track);
    auto fill = [&] {
        cow_map *m = make_map(&kt, &vt, S);
        for (u64 k = 0; k < 10; ++k) {
            u64 v = k * 10;
            REQUIRE(cow_map_insert(&m, &k, sizeof k, &v, nullptr, nullptr) == COW_OK);
        }
        return m;
    };
    cow_map *m = fill();
    CHECK(vt_track.live() == 10);
    CHECK(kt_track.live() == 10);
    cow_map *orig = m;
    u64 k = 50, v = 500;

    // Fresh key: the key copy fails, then the value copy (the key copy is undone).
    kt_track.arm(1);
    CHECK(cow_map_insert(&m, &k, sizeof k, &v, nullptr, nullptr) == COW_ECALLBACK);
    kt_track.disarm();
    vt_track.arm(1, COW_ENOMEM);  // a libcow code is passed through
    CHECK(cow_map_insert(&m, &k, sizeof k, &v, nullptr, nullptr) == COW_ENOMEM);
    vt_track.disarm();
    CHECK(kt_track.live() == 10);
    CHECK(vt_track.live() == 10);
    // Replace: the new value's copy fails, the old value stays.
    u64 k3 = 3, old = 0;
    bool replaced = false;
    vt_track.arm(1);
    CHECK(cow_map_insert(&m, &k3, sizeof k3, &v, &old, &replaced) == COW_ECALLBACK);
    vt_track.disarm();
    CHECK_FALSE(replaced);
    CHECK(old == 0);
    CHECK(get(m, 3) == 30u);
    CHECK(m == orig);
    CHECK(cow_map_len(m) == 10);

    // Writes to a shared map whose n-th key or value copy fails: the copies
    // made are dropped and the slot is unchanged.
    cow_map *other = cow_map_clone(m);
    REQUIRE(other != nullptr);
    const bool shares = cow_ptr_eq(m, other);
    if (!shares) CHECK(vt_track.live() == 20);  // an eager clone copied every entry
    const long keys_live = kt_track.live(), values_live = vt_track.live();
    std::vector<std::pair<const char *, std::function<cow_status(cow_map **)>>> writes = {
        {"insert fresh", [&](cow_map **s) { return cow_map_insert(s, &k, sizeof k, &v, nullptr, nullptr); }},
        {"replace", [&](cow_map **s) { return cow_map_insert(s, &k3, sizeof k3, &v, &old, nullptr); }},
        {"remove with out", [&](cow_map **s) { return cow_map_remove(s, &k3, sizeof k3, &old); }},
        {"remove", [&](cow_map **s) { return cow_map_remove(s, &k3, sizeof k3, nullptr); }},
        {"get_mut",
         [&](cow_map **s) {
             void *p = nullptr;
             return cow_map_get_mut(s, &k3, sizeof k3, &p);
         }},
        {"make_mut", [&](cow_map **s) { return cow_map_make_mut(s); }},
    };
    for (auto &[name, write] : writes) {
        for (copy_tracker *t : {&vt_track, &kt_track}) {
            std::string what = name;
            CAPTURE(what);
            CAPTURE(t == &vt_track);
            for (long n = 1;; ++n) {
                CAPTURE(n);
                t->arm(n);
                cow_map *slot = m;
                old = 0;
                cow_status s = write(&slot);
                t->disarm();
                if (s == COW_OK) {
                    // Undo: the write went to a private map.
                    if (shares) CHECK_FALSE(cow_ptr_eq(slot, other));
                    if (old) tracked_drop(&vt_track, &old);
                    cow_map_release(slot);
                    m = cow_map_clone(other);
                    REQUIRE(m != nullptr);
                    break;
                }
                CHECK(s == COW_ECALLBACK);
                CHECK(slot == m);
                CHECK(old == 0);
                CHECK(kt_track.live() == keys_live);
                CHECK(vt_track.live() == values_live);
                CHECK(entries(m) == model_u64(10));
                REQUIRE(n < 40);
            }
        }
    }
    cow_map_release(m);
    cow_map_release(other);
    CHECK(vt_track.live() == 0);
    CHECK(kt_track.live() == 0);

    // A shared remove or replace without out leaves the dropped value out of
    // its copy: no copy of it is made, so none is dropped.
    for (bool remove : {true, false}) {
        CAPTURE(remove);
        cow_map *a = fill();
        const bool copied_at_clone = clone_copies(S, a);
        long copies_before = vt_track.copies;
        cow_map *b = cow_map_clone(a);
        const long copies_at_clone = vt_track.copies - copies_before;
        const long drops_before = vt_track.drops;
        copies_before = vt_track.copies;
        if (remove)
            REQUIRE(cow_map_remove(&b, &k3, sizeof k3, nullptr) == COW_OK);
        else
            REQUIRE(cow_map_insert(&b, &k3, sizeof k3, &v, nullptr, nullptr) == COW_OK);
        const long copies = vt_track.copies - copies_before - (remove ? 0 : 1);  // less the new value
        if (copied_at_clone) {
            CHECK(copies_at_clone == 10);
            CHECK(copies == 0);
            CHECK(vt_track.drops == drops_before + 1);  // the private map drops its own value
        } else {
            CHECK(copies_at_clone == 0);
            if (is_tree(S))
                CHECK(copies <= 9);
            else
                CHECK(copies == 9);
            CHECK(vt_track.drops == drops_before);
        }
        CHECK(get(a, 3) == 30u);
        CHECK(get(b, 3) == (remove ? std::nullopt : std::optional<u64>(v)));
        cow_map_release(b);
        cow_map_release(a);
        CHECK(vt_track.live() == 0);
    }

    // Creation of a copy that fails: a clone that copies gives NULL.
    cow_map *e = fill();
    const bool copies = clone_copies(S, e);
    vt_track.arm(3);
    cow_map *c = cow_map_clone(e);
    vt_track.disarm();
    if (copies) {
        CHECK(c == nullptr);
    } else {
        CHECK(cow_ptr_eq(c, e));  // a sharing clone copies nothing
        cow_map_release(c);
    }
    CHECK(vt_track.live() == 10);
    cow_map_release(e);
    CHECK(vt_track.live() == 0);
    CHECK(kt_track.live() == 0);
}
