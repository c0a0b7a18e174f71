// cow_map through the C API: sharing, copy on write (one copy per write to a
// shared map, none to a unique one), every key kind, handle values and
// nested editing, iteration, every error path, allocation and callback
// failures.
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
#include "support.hpp"

namespace {

using u64 = std::uint64_t;

cow_map *new_map(const cow_type *k, const cow_type *v, const cow_options *o = nullptr) {
    cow_map *m = nullptr;
    REQUIRE(cow_map_new(&m, k, v, o) == COW_OK);
    REQUIRE(m != nullptr);
    return m;
}
cow_map *u64_map(const cow_options *o = nullptr) { return new_map(cow_type_u64(), cow_type_u64(), o); }

void put(cow_map **m, u64 k, u64 v) {
    REQUIRE(cow_map_insert(m, &k, sizeof k, &v, nullptr, nullptr) == COW_OK);
}
void put(cow_map **m, const std::string &k, u64 v) {
    REQUIRE(cow_map_insert(m, k.data(), k.size(), &v, nullptr, nullptr) == COW_OK);
}
std::optional<u64> get(const cow_map *m, u64 k) {
    const void *p = cow_map_get(m, &k, sizeof k);
    if (!p) return std::nullopt;
    u64 v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
std::optional<u64> get(const cow_map *m, const std::string &k) {
    const void *p = cow_map_get(m, k.data(), k.size());
    if (!p) return std::nullopt;
    u64 v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// Every entry through the cursor ("into"): each key must appear once and
// the count must match cow_map_len.
std::map<u64, u64> entries(const cow_map *m) {
    std::map<u64, u64> out;
    cow_map_cursor c;
    REQUIRE(cow_map_cursor_init(&c, m) == COW_OK);
    const void *k, *v;
    size_t klen;
    while (cow_map_next(&c, &k, &klen, &v)) {
        REQUIRE(klen == sizeof(u64));
        u64 key, val;
        std::memcpy(&key, k, sizeof key);
        std::memcpy(&val, v, sizeof val);
        CHECK(out.emplace(key, val).second);
    }
    CHECK(out.size() == cow_map_len(m));
    return out;
}
std::map<std::string, u64> str_entries(const cow_map *m) {
    std::map<std::string, u64> out;
    cow_map_cursor c;
    REQUIRE(cow_map_cursor_init(&c, m) == COW_OK);
    const void *k, *v;
    size_t klen;
    while (cow_map_next(&c, &k, &klen, &v)) {
        u64 val;
        std::memcpy(&val, v, sizeof val);
        CHECK(out.emplace(std::string(static_cast<const char *>(k), klen), val).second);
    }
    CHECK(out.size() == cow_map_len(m));
    return out;
}

long allocations(const test::allocator_scope &s) { return s.allocator.successful_allocations(); }

// "k" + std::to_string(n) would do, but gives g++ 12 at -O3 a false
// -Wrestrict inside std::string's insert.
std::string numbered(const char *prefix, long n) {
    std::string s = prefix;
    s += std::to_string(n);
    return s;
}

cow_str *make_str(const std::string &t) {
    cow_str *s = nullptr;
    REQUIRE(cow_str_new(&s, t.data(), t.size(), nullptr) == COW_OK);
    return s;
}

using test::copy_tracker;
using test::tracked_type;

}  // namespace

// ---- the map's contract, call by call ---------------------------------------

TEST_CASE("a new map is empty, typed, and a clone shares it") {
    test::leak_check lc;
    test::allocator_scope scope;
    cow_map *m = u64_map();
    CHECK(cow_kind(m) == COW_KIND_MAP);
    CHECK(cow_map_len(m) == 0);
    CHECK(cow_map_key_type(m) == cow_type_u64());
    CHECK(cow_map_value_type(m) == cow_type_u64());
    CHECK_FALSE(get(m, 1).has_value());
    CHECK(entries(m).empty());
    put(&m, 1, 10);
    put(&m, 2, 20);
    long before = allocations(scope);
    cow_map *c = cow_map_clone(m);
    CHECK(allocations(scope) == before);  // O(1), no copy
    CHECK(cow_ptr_eq(m, c));
    CHECK(cow_strong_count(m) == 2);
    CHECK(cow_is_shared(m));
    CHECK(test::stats(m).clones == 1);
    CHECK(test::stats(m).copies == 0);
    cow_map_release(c);
    CHECK(cow_strong_count(m) == 1);
    CHECK_FALSE(cow_is_shared(m));
    cow_map_release(m);
}

TEST_CASE("insert into a shared map copies once; the original is unchanged") {
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

TEST_CASE("cow_map_make_mut copies a shared map once, then nothing") {
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
    CHECK(cow_map_make_mut(nullptr) == COW_EINVAL);
    cow_buf *b = nullptr;
    REQUIRE(cow_buf_new(&b, "x", 1, nullptr) == COW_OK);
    cow_map *wrong = reinterpret_cast<cow_map *>(b);
    CHECK(cow_map_make_mut(&wrong) == COW_ETYPE);
    CHECK(wrong == reinterpret_cast<cow_map *>(b));
    cow_release(b);
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

TEST_CASE("remove from a shared map copies once; removing an absent key copies nothing") {
    test::leak_check lc;
    test::allocator_scope scope;
    cow_map *m = u64_map();
    for (u64 k = 0; k < 20; ++k) put(&m, k, k + 1);
    cow_map *c = cow_map_clone(m);
    long before = allocations(scope);
    u64 absent = 999;
    u64 out = 0;
    CHECK(cow_map_remove(&c, &absent, sizeof absent, &out) == COW_ENOTFOUND);
    void *vp = nullptr;
    CHECK(cow_map_get_mut(&c, &absent, sizeof absent, &vp) == COW_ENOTFOUND);
    CHECK(vp == nullptr);
    CHECK(out == 0);
    CHECK(allocations(scope) == before);
    CHECK(cow_ptr_eq(m, c));
    CHECK(test::stats(m).copies == 0);

    u64 k = 7;
    REQUIRE(cow_map_remove(&c, &k, sizeof k, &out) == COW_OK);
    CHECK(out == 8);
    CHECK_FALSE(cow_ptr_eq(m, c));
    CHECK(test::stats(m).copies == 1);
    CHECK(cow_map_len(m) == 20);
    CHECK(get(m, 7) == 8u);
    CHECK(cow_map_len(c) == 19);
    CHECK_FALSE(get(c, 7).has_value());
    CHECK(cow_map_remove(&c, &k, sizeof k, nullptr) == COW_ENOTFOUND);
    cow_map_release(c);
    cow_map_release(m);
}

TEST_CASE("iteration neither copies nor allocates, even on a shared map") {
    test::leak_check lc;
    test::allocator_scope scope;
    cow_map *m = u64_map();
    std::map<u64, u64> model;
    for (u64 k = 0; k < 300; ++k) {
        put(&m, k * 7919, k);
        model[k * 7919] = k;
    }
    cow_map *c = cow_map_clone(m);
    long before = allocations(scope);
    CHECK(entries(c) == model);
    // Keys only and values only: any out pointer may be NULL.
    cow_map_cursor cur;
    REQUIRE(cow_map_cursor_init(&cur, c) == COW_OK);
    CHECK(cur.size == sizeof(cow_map_cursor));
    std::vector<u64> keys, values;
    const void *p;
    while (cow_map_next(&cur, &p, nullptr, nullptr)) keys.push_back(*static_cast<const u64 *>(p));
    CHECK_FALSE(cow_map_next(&cur, &p, nullptr, nullptr));  // stays at the end
    REQUIRE(cow_map_cursor_init(&cur, c) == COW_OK);
    while (cow_map_next(&cur, nullptr, nullptr, &p)) values.push_back(*static_cast<const u64 *>(p));
    size_t n = 0;
    REQUIRE(cow_map_cursor_init(&cur, c) == COW_OK);
    while (cow_map_next(&cur, nullptr, nullptr, nullptr)) ++n;
    CHECK(allocations(scope) == before);
    CHECK(cow_ptr_eq(m, c));
    CHECK(test::stats(c).copies == 0);
    CHECK(n == 300);
    REQUIRE(keys.size() == 300);
    REQUIRE(values.size() == 300);
    for (size_t i = 0; i < keys.size(); ++i) CHECK(model.at(keys[i]) == values[i]);
    cow_map_release(c);
    cow_map_release(m);
}

TEST_CASE("contains and get") {
    test::leak_check lc;
    cow_map *m = u64_map();
    put(&m, 5, 50);
    u64 five = 5;
    CHECK(cow_map_contains(m, &five, sizeof five));
    u64 six = 6;
    CHECK_FALSE(cow_map_contains(m, &six, sizeof six));
    CHECK(get(m, 5) == 50u);
    CHECK_FALSE(get(m, 6).has_value());
    cow_map_release(m);
}

TEST_CASE("build from pairs and collect into a model; keys and values listings") {
    test::leak_check lc;
    const std::vector<std::pair<std::string, u64>> pairs = {
        {"apple", 1}, {"banana", 2}, {"cherry", 3}, {"date", 4}, {"elderberry", 5},
        {"fig", 6},   {"grape", 7},  {"apple", 8},  // a repeated key replaces
    };
    cow_map *m = new_map(cow_type_string(), cow_type_u64());
    std::map<std::string, u64> model;
    for (auto &[k, v] : pairs) {
        bool replaced = true;
        REQUIRE(cow_map_insert(&m, k.data(), k.size(), &v, nullptr, &replaced) == COW_OK);
        CHECK(replaced == (model.count(k) == 1));
        model[k] = v;
    }
    CHECK(cow_map_len(m) == 7);
    CHECK(str_entries(m) == model);
    // Listings through the cursor: the key pointer and length are the bytes.
    std::vector<std::string> keys;
    std::vector<u64> values;
    cow_map_cursor c;
    REQUIRE(cow_map_cursor_init(&c, m) == COW_OK);
    const void *k, *v;
    size_t klen = 0;
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

TEST_CASE("10,000 random operations with growth match std::unordered_map; snapshots stay put") {
    test::leak_check lc;
    cow_map *m = u64_map();
    std::unordered_map<u64, u64> model;
    std::mt19937_64 rng(12345);
    cow_map *snapshot = nullptr;
    std::unordered_map<u64, u64> snapshot_model;
    for (int op = 0; op < 10000; ++op) {
        u64 key = rng() % 4000;
        u64 val = rng();
        switch (rng() % 4) {
        case 0:
        case 1: {
            bool replaced = false;
            u64 old = 0;
            REQUIRE(cow_map_insert(&m, &key, sizeof key, &val, &old, &replaced) == COW_OK);
            auto it = model.find(key);
            REQUIRE(replaced == (it != model.end()));
            if (replaced) CHECK(old == it->second);
            model[key] = val;
            break;
        }
        case 2: {
            u64 out = 0;
            cow_status s = cow_map_remove(&m, &key, sizeof key, &out);
            auto it = model.find(key);
            if (it == model.end()) {
                CHECK(s == COW_ENOTFOUND);
            } else {
                REQUIRE(s == COW_OK);
                CHECK(out == it->second);
                model.erase(it);
            }
            break;
        }
        default: {
            auto it = model.find(key);
            auto got = get(m, key);
            CHECK(got.has_value() == (it != model.end()));
            if (got && it != model.end()) CHECK(*got == it->second);
        }
        }
        REQUIRE(cow_map_len(m) == model.size());
        if (op == 5000) {
            snapshot = cow_map_clone(m);
            snapshot_model = model;
        }
        if (op % 1000 == 999) {
            auto all = entries(m);
            CHECK(all == std::map<u64, u64>(model.begin(), model.end()));
        }
    }
    // Also a big unique build from scratch.
    for (u64 k = 0; k < 10000; ++k) put(&m, k + 1000000, k);
    for (u64 k = 0; k < 10000; ++k) REQUIRE(get(m, k + 1000000) == k);
    REQUIRE(snapshot);
    CHECK(entries(snapshot) == std::map<u64, u64>(snapshot_model.begin(), snapshot_model.end()));
    CHECK(test::stats(m).copies == 1);  // the first write after the snapshot
    cow_map_release(snapshot);
    cow_map_release(m);
}

TEST_CASE("u32 keys, 3-byte keys and custom-equality keys") {
    test::leak_check lc;
    SUBCASE("u32") {
        cow_map *m = new_map(cow_type_u32(), cow_type_u64());
        for (std::uint32_t k = 0; k < 1000; ++k) {
            u64 v = k * 3;
            REQUIRE(cow_map_insert(&m, &k, sizeof k, &v, nullptr, nullptr) == COW_OK);
        }
        for (std::uint32_t k = 0; k < 1100; ++k) {
            const void *p = cow_map_get(m, &k, sizeof k);
            CHECK((p != nullptr) == (k < 1000));
            if (p) CHECK(*static_cast<const u64 *>(p) == k * 3);
        }
        u64 wrong = 1;
        CHECK(cow_map_get(m, &wrong, sizeof wrong) == nullptr);  // 8 bytes for a 4-byte key
        cow_map_release(m);
    }
    SUBCASE("3-byte keys compare byte-wise") {
        cow_type t3;
        cow_type_init(&t3, 3, 1);
        cow_map *m = new_map(&t3, cow_type_u8());
        for (int i = 0; i < 500; ++i) {
            unsigned char key[3] = {static_cast<unsigned char>(i), static_cast<unsigned char>(i >> 8), 7};
            std::uint8_t v = static_cast<std::uint8_t>(i);
            REQUIRE(cow_map_insert(&m, key, 3, &v, nullptr, nullptr) == COW_OK);
        }
        CHECK(cow_map_len(m) == 500);
        for (int i = 0; i < 500; ++i) {
            unsigned char key[3] = {static_cast<unsigned char>(i), static_cast<unsigned char>(i >> 8), 7};
            const void *p = cow_map_get(m, key, 3);
            REQUIRE(p);
            CHECK(*static_cast<const std::uint8_t *>(p) == static_cast<std::uint8_t>(i));
            key[2] = 8;
            CHECK_FALSE(cow_map_contains(m, key, 3));
        }
        cow_map_release(m);
    }
    SUBCASE("a key type with only a hash callback compares bytes and uses that hash") {
        static long hash_calls = 0;
        cow_type t;
        cow_type_init(&t, 8, 8);
        t.hash = [](void *, const void *v, uint64_t seed) {
            ++hash_calls;
            u64 x;
            std::memcpy(&x, v, sizeof x);
            return x ^ seed;  // weak on purpose: the map mixes it again
        };
        cow_map *m = new_map(&t, cow_type_u64());
        for (u64 k = 0; k < 2000; ++k) put(&m, k << 12, k);
        CHECK(hash_calls >= 2000);
        for (u64 k = 0; k < 2000; ++k) CHECK(get(m, k << 12) == k);
        CHECK_FALSE(get(m, 1).has_value());
        cow_map_release(m);
    }
    SUBCASE("case-insensitive 8-char codes use the type's equal and hash") {
        cow_type code;
        cow_type_init(&code, 8, 1);
        code.equal = [](void *, const void *a, const void *b) {
            auto *x = static_cast<const unsigned char *>(a), *y = static_cast<const unsigned char *>(b);
            for (int i = 0; i < 8; ++i)
                if (std::tolower(x[i]) != std::tolower(y[i])) return false;
            return true;
        };
        code.hash = [](void *, const void *v, uint64_t seed) {
            auto *x = static_cast<const unsigned char *>(v);
            u64 h = seed ^ 1469598103934665603ull;
            for (int i = 0; i < 8; ++i) h = (h ^ static_cast<u64>(std::tolower(x[i]))) * 1099511628211ull;
            return h;
        };
        cow_map *m = new_map(&code, cow_type_u64());
        put(&m, std::string("ABCDEFGH"), 1);
        bool replaced = false;
        u64 two = 2, old = 0;
        REQUIRE(cow_map_insert(&m, "abcdefgh", 8, &two, &old, &replaced) == COW_OK);
        CHECK(replaced);
        CHECK(old == 1);
        CHECK(cow_map_len(m) == 1);
        CHECK(get(m, std::string("AbCdEfGh")) == 2u);
        CHECK_FALSE(get(m, std::string("abcdefgX")).has_value());
        cow_map_release(m);
    }
}

TEST_CASE("string keys: lookups by (pointer, length) allocate nothing; invalid UTF-8") {
    test::leak_check lc;
    test::allocator_scope scope;
    cow_map *m = new_map(cow_type_string(), cow_type_u64());
    std::vector<std::string> keys;
    for (int i = 0; i < 1000; ++i) keys.push_back(numbered("key-", i) + "-\xc3\xa9");
    long before = allocations(scope);
    for (size_t i = 0; i < keys.size(); ++i) put(&m, keys[i], i);
    // One allocation per stored key plus the tables of the growth steps.
    long grown = allocations(scope) - before - 1000;
    CHECK(grown > 5);
    CHECK(grown < 40);
    before = allocations(scope);
    for (size_t i = 0; i < keys.size(); ++i) {
        // Look up through a buffer that is not NUL-terminated after the key.
        std::string padded = keys[i] + "XYZ";
        REQUIRE(get(m, keys[i]) == i);
        CHECK(cow_map_contains(m, padded.data(), keys[i].size()));
        CHECK_FALSE(cow_map_contains(m, padded.data(), padded.size()));
    }
    CHECK_FALSE(cow_map_contains(m, "key-1", 5));
    CHECK(allocations(scope) - before == 0);

    // Invalid UTF-8: refused on insert, simply absent for lookups.
    const char bad[] = "ab\xff";
    u64 v = 1;
    cow_map *slot = m;
    CHECK(cow_map_insert(&m, bad, 3, &v, nullptr, nullptr) == COW_EUTF8);
    CHECK(cow_map_insert(&m, "\xc0\xaf", 2, &v, nullptr, nullptr) == COW_EUTF8);  // overlong
    CHECK(m == slot);
    CHECK(cow_map_len(m) == 1000);
    CHECK(cow_map_get(m, bad, 3) == nullptr);
    CHECK_FALSE(cow_map_contains(m, bad, 3));
    CHECK(cow_map_remove(&m, bad, 3, nullptr) == COW_ENOTFOUND);
    void *vp;
    CHECK(cow_map_get_mut(&m, bad, 3, &vp) == COW_ENOTFOUND);
    // The same bytes are fine as a bytes key.
    cow_map *b = new_map(cow_type_bytes(), cow_type_u64());
    CHECK(cow_map_insert(&b, bad, 3, &v, nullptr, nullptr) == COW_OK);
    CHECK(cow_map_contains(b, bad, 3));
    // value_bytes counts the key bytes too.
    size_t key_bytes = 0;
    for (auto &k : keys) key_bytes += k.size();
    CHECK(test::stats(m).value_bytes == 1000 * (cow_type_string()->elem_size + 8) + key_bytes);
    cow_map_release(b);
    cow_map_release(m);
}

TEST_CASE("byte keys with embedded NULs and the empty key") {
    test::leak_check lc;
    cow_map *m = new_map(cow_type_bytes(), cow_type_u64());
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
    REQUIRE(cow_map_remove(&m, nullptr, 0, nullptr) == COW_OK);
    CHECK_FALSE(cow_map_contains(m, "", 0));
    CHECK(test::stats(m).value_bytes == 4 * (cow_type_bytes()->elem_size + 8) + 3 + 3 + 1 + 2);
    cow_map_release(m);
}

TEST_CASE("byte keys of every length up to 40 that differ in just two adjacent bytes") {
    test::leak_check lc;
    // For each length and each position, 300 keys that differ only in the
    // two bytes at that position: a key comparison that skipped any byte
    // range would confuse some of them (fingerprints collide often enough).
    for (size_t len = 2; len <= 40; ++len) {
        for (size_t at = 0; at + 2 <= len; ++at) {
            CAPTURE(len);
            CAPTURE(at);
            cow_map *m = new_map(cow_type_bytes(), cow_type_u64());
            std::vector<std::string> keys;
            for (u64 j = 0; j < 300; ++j) {
                std::string k(len, static_cast<char>('a' + len % 26));
                k[at] = static_cast<char>(j & 0xff);
                k[at + 1] = static_cast<char>(j >> 8);
                keys.push_back(k);
                put(&m, k, j);
            }
            REQUIRE(cow_map_len(m) == 300);
            size_t wrong = 0;
            for (u64 j = 0; j < 300; ++j) wrong += get(m, keys[j]) != j;
            std::string shorter = keys[0].substr(0, len - 1);
            wrong += cow_map_contains(m, shorter.data(), shorter.size());
            CHECK(wrong == 0);
            cow_map_release(m);
        }
    }
}

TEST_CASE("float keys: -0.0 finds +0.0, NaN finds NaN") {
    test::leak_check lc;
    SUBCASE("f64") {
        cow_map *m = new_map(cow_type_f64(), cow_type_u64());
        double neg0 = -0.0, pos0 = 0.0, nan1 = std::numeric_limits<double>::quiet_NaN();
        double nan2;
        u64 bits = 0xfff8000000000123ull;  // another NaN: sign and payload differ
        std::memcpy(&nan2, &bits, sizeof nan2);
        REQUIRE(std::isnan(nan2));
        u64 one = 1, two = 2, three = 3;
        REQUIRE(cow_map_insert(&m, &neg0, sizeof neg0, &one, nullptr, nullptr) == COW_OK);
        REQUIRE(cow_map_insert(&m, &nan1, sizeof nan1, &two, nullptr, nullptr) == COW_OK);
        const void *p = cow_map_get(m, &pos0, sizeof pos0);
        REQUIRE(p);
        CHECK(*static_cast<const u64 *>(p) == 1);
        p = cow_map_get(m, &nan2, sizeof nan2);
        REQUIRE(p);
        CHECK(*static_cast<const u64 *>(p) == 2);
        bool replaced = false;
        REQUIRE(cow_map_insert(&m, &pos0, sizeof pos0, &three, nullptr, &replaced) == COW_OK);
        CHECK(replaced);
        CHECK(cow_map_len(m) == 2);
        double other = 1.5;
        CHECK_FALSE(cow_map_contains(m, &other, sizeof other));
        CHECK(cow_map_remove(&m, &nan2, sizeof nan2, nullptr) == COW_OK);
        CHECK(cow_map_len(m) == 1);
        cow_map_release(m);
    }
    SUBCASE("f32") {
        cow_map *m = new_map(cow_type_f32(), cow_type_u8());
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

// ---- handle values and nested copy on write -------------------------------

TEST_CASE("handle values are cloned and released exactly once") {
    test::leak_check lc;
    cow_map *m = new_map(cow_type_u64(), cow_type_handle());
    cow_str *one = make_str("one");
    cow_str *two = make_str("two");
    u64 k1 = 1, k2 = 2;
    REQUIRE(cow_map_insert(&m, &k1, sizeof k1, &one, nullptr, nullptr) == COW_OK);
    CHECK(cow_strong_count(one) == 2);  // the caller keeps its reference
    cow_map *c = cow_map_clone(m);
    CHECK(cow_strong_count(one) == 2);  // sharing the map shares its values
    REQUIRE(cow_map_insert(&c, &k2, sizeof k2, &two, nullptr, nullptr) == COW_OK);
    CHECK(cow_strong_count(one) == 3);  // the copy cloned the inner handle
    CHECK(cow_strong_count(two) == 2);
    cow_map_release(c);
    CHECK(cow_strong_count(one) == 2);
    CHECK(cow_strong_count(two) == 1);

    // Replacing hands the old handle to the caller.
    cow_str *old = nullptr;
    bool replaced = false;
    REQUIRE(cow_map_insert(&m, &k1, sizeof k1, &two, &old, &replaced) == COW_OK);
    CHECK(replaced);
    CHECK(old == one);
    CHECK(cow_strong_count(one) == 2);  // the map's reference is now the caller's
    CHECK(cow_strong_count(two) == 2);
    cow_str_release(old);
    CHECK(cow_strong_count(one) == 1);
    // Replacing without out_old drops the old value.
    REQUIRE(cow_map_insert(&m, &k1, sizeof k1, &one, nullptr, nullptr) == COW_OK);
    CHECK(cow_strong_count(two) == 1);
    CHECK(cow_strong_count(one) == 2);
    // Remove with out_value: the caller owns it.
    cow_str *removed = nullptr;
    REQUIRE(cow_map_remove(&m, &k1, sizeof k1, &removed) == COW_OK);
    CHECK(removed == one);
    CHECK(cow_strong_count(one) == 2);
    cow_str_release(removed);
    // Values of a shared map being replaced: the copy's clone goes to out_old.
    REQUIRE(cow_map_insert(&m, &k1, sizeof k1, &one, nullptr, nullptr) == COW_OK);
    c = cow_map_clone(m);
    REQUIRE(cow_map_insert(&c, &k1, sizeof k1, &two, &old, nullptr) == COW_OK);
    CHECK(old == one);
    CHECK(cow_strong_count(one) == 3);  // caller, m, and the reference handed back
    cow_str_release(old);
    cow_map_release(c);
    // A shared map's copy does not clone the value it is about to drop: the
    // dropped value's lineage counts no clone and only m keeps a reference.
    std::uint64_t clones_before = test::stats(one).clones;
    c = cow_map_clone(m);
    REQUIRE(cow_map_insert(&c, &k1, sizeof k1, &two, nullptr, nullptr) == COW_OK);
    CHECK(cow_strong_count(one) == 2);  // caller and m
    CHECK(test::stats(one).clones == clones_before);
    cow_map_release(c);
    c = cow_map_clone(m);
    REQUIRE(cow_map_remove(&c, &k1, sizeof k1, nullptr) == COW_OK);
    CHECK(cow_strong_count(one) == 2);
    CHECK(test::stats(one).clones == clones_before);
    CHECK(cow_map_len(c) == 0);
    CHECK(cow_map_len(m) == 1);
    cow_map_release(c);
    cow_map_release(m);
    CHECK(cow_strong_count(one) == 1);
    CHECK(cow_strong_count(two) == 1);
    cow_str_release(one);
    cow_str_release(two);
}

TEST_CASE("editing one vector of a shared string -> vec map copies the map once and that vector only") {
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
    // One map copy: its rep, its table and its 4 keys; the vectors are shared.
    CHECK(allocations(scope) - before == 2 + 4);
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

TEST_CASE("nested strings: a map of str handles edited through get_mut") {
    test::leak_check lc;
    cow_map *m1 = new_map(cow_type_u64(), cow_type_handle());
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
        const cow_str *s = *static_cast<cow_str *const *>(cow_map_get(m, &key, sizeof key));
        return std::string(cow_str_data(s), cow_str_len(s));
    };
    CHECK(str_at(m1, 1) == "v1");
    CHECK(str_at(m2, 1) == "v1!");
    CHECK(str_at(m2, 0) == "v0");
    CHECK(test::stats(m1).copies == 1);
    cow_map_release(m1);
    cow_map_release(m2);
}

// ---- clear, strategies, statistics -----------------------------------------

TEST_CASE("clear: in place when unique, an empty copy without element copies when shared") {
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

TEST_CASE("cow_make_mut, strategies and statistics on maps") {
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
    SUBCASE("no statistics") {
        cow_options o = COW_OPTIONS_INIT;
        o.flags = COW_OPT_NO_STATS;
        cow_map *m = u64_map(&o);
        put(&m, 1, 1);
        auto st = test::stats(m);
        CHECK(st.enabled == 0);
        CHECK(st.value_bytes == 16);
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

TEST_CASE("entries are aligned for their types; large values work") {
    test::leak_check lc;
    SUBCASE("64-byte aligned values after 1-byte keys") {
        cow_type wide;
        cow_type_init(&wide, 64, 64);
        cow_map *m = new_map(cow_type_u8(), &wide);
        unsigned char value[64];
        for (int i = 0; i < 100; ++i) {
            std::uint8_t k = static_cast<std::uint8_t>(i);
            std::memset(value, i, sizeof value);
            REQUIRE(cow_map_insert(&m, &k, 1, value, nullptr, nullptr) == COW_OK);
        }
        cow_map_cursor c;
        REQUIRE(cow_map_cursor_init(&c, m) == COW_OK);
        const void *k, *v;
        size_t n = 0;
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
        cow_map_release(copy);
        cow_map_release(m);
    }
    SUBCASE("values larger than the stack scratch") {
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

// ---- error paths -----------------------------------------------------------

TEST_CASE("cow_map_new refuses bad arguments and leaves out alone") {
    test::leak_check lc;
    cow_map *m = reinterpret_cast<cow_map *>(0x1);
    CHECK(cow_map_new(nullptr, cow_type_u64(), cow_type_u64(), nullptr) == COW_EINVAL);
    CHECK(cow_map_new(&m, nullptr, cow_type_u64(), nullptr) == COW_EINVAL);
    CHECK(cow_map_new(&m, cow_type_u64(), nullptr, nullptr) == COW_EINVAL);
    CHECK(cow_map_new(&m, cow_type_u64(), cow_type_bytes(), nullptr) == COW_EINVAL);
    CHECK(cow_map_new(&m, cow_type_u64(), cow_type_string(), nullptr) == COW_EINVAL);
    cow_type bad;
    cow_type_init(&bad, 0, 1);
    CHECK(cow_map_new(&m, &bad, cow_type_u64(), nullptr) == COW_EINVAL);
    cow_type_init(&bad, 8, 3);
    CHECK(cow_map_new(&m, cow_type_u64(), &bad, nullptr) == COW_EINVAL);
    cow_type_init(&bad, 8, 128);
    CHECK(cow_map_new(&m, &bad, cow_type_u64(), nullptr) == COW_EINVAL);
    cow_type_init(&bad, 8, 8);
    bad.flags = 1;
    CHECK(cow_map_new(&m, &bad, cow_type_u64(), nullptr) == COW_EINVAL);
    cow_type_init(&bad, 8, 8);
    bad.size = 4;
    CHECK(cow_map_new(&m, &bad, cow_type_u64(), nullptr) == COW_EINVAL);
    cow_type_init(&bad, std::numeric_limits<size_t>::max() / 2, 8);
    CHECK(cow_map_new(&m, &bad, cow_type_u64(), nullptr) == COW_EINVAL);
    cow_options o = COW_OPTIONS_INIT;
    o.strategy = COW_STRATEGY_STRUCTURAL;
    CHECK(cow_map_new(&m, cow_type_u64(), cow_type_u64(), &o) == COW_EUNSUPPORTED);
    o.strategy = 99;
    CHECK(cow_map_new(&m, cow_type_u64(), cow_type_u64(), &o) == COW_EINVAL);
    o = cow_options COW_OPTIONS_INIT;
    o.flags = 0x80;
    CHECK(cow_map_new(&m, cow_type_u64(), cow_type_u64(), &o) == COW_EINVAL);
    CHECK(m == reinterpret_cast<cow_map *>(0x1));
    // Any fixed-size key type is fine, handles included.
    cow_map *h = new_map(cow_type_handle(), cow_type_ptr());
    cow_map_release(h);
}

TEST_CASE("every map call refuses NULL, wrong handle kinds and bad keys") {
    test::leak_check lc;
    cow_map *m = u64_map();
    put(&m, 1, 10);
    cow_map *s = new_map(cow_type_string(), cow_type_u64());
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
    CHECK(cow_strong_count(str) == 1);
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
    CHECK_FALSE(cow_map_contains(s, "x", std::numeric_limits<size_t>::max()));
    CHECK(cow_map_contains(m, &k, sizeof k));

    // Insert.
    CHECK(cow_map_insert(nullptr, &k, sizeof k, &v, nullptr, nullptr) == COW_EINVAL);
    CHECK(cow_map_insert(&null_map, &k, sizeof k, &v, nullptr, nullptr) == COW_EINVAL);
    CHECK(cow_map_insert(&wrong, &k, sizeof k, &v, nullptr, nullptr) == COW_ETYPE);
    CHECK(cow_map_insert(&m, nullptr, sizeof k, &v, nullptr, nullptr) == COW_EINVAL);
    CHECK(cow_map_insert(&m, &k, 4, &v, nullptr, nullptr) == COW_EINVAL);
    CHECK(cow_map_insert(&m, &k, sizeof k, nullptr, &out, &replaced) == COW_EINVAL);
    CHECK(cow_map_insert(&s, nullptr, 2, &v, nullptr, nullptr) == COW_EINVAL);
    CHECK(cow_map_insert(&s, "x", std::numeric_limits<size_t>::max(), &v, nullptr, nullptr) ==
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
    // Clear.
    CHECK(cow_map_clear(nullptr) == COW_EINVAL);
    CHECK(cow_map_clear(&null_map) == COW_EINVAL);
    CHECK(cow_map_clear(&wrong) == COW_ETYPE);
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
    // Generic calls on a map handle.
    CHECK(cow_kind(m) == COW_KIND_MAP);
    CHECK(cow_make_mut(nullptr) == COW_EINVAL);

    // Nothing changed.
    CHECK(wrong == reinterpret_cast<cow_map *>(str));
    CHECK(entries(m) == std::map<u64, u64>{{1, 10}});
    CHECK(str_entries(s) == std::map<std::string, u64>{{"x", 1}});
    CHECK(test::stats(m).copies == 0);
    cow_str_release(str);
    cow_map_release(s);
    cow_map_release(m);
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
    SUBCASE("fresh key, no growth: the key bytes are the only allocation") {
        long n = fail_each{[&] { fill(3); }, [&] { cow_map_release(m); }, insert_h,
                           [&] {
                               CHECK(m == orig);
                               CHECK(str_entries(m) == expected(3));
                           },
                           [&] { CHECK(get(m, std::string("h")) == 8u); }}
                     .run();
        CHECK(n == 2);
    }
    SUBCASE("fresh key with growth: key bytes, then the bigger table") {
        long n = fail_each{[&] { fill(7); }, [&] { cow_map_release(m); }, insert_h,
                           [&] {
                               CHECK(m == orig);
                               CHECK(str_entries(m) == expected(7));
                           },
                           [&] { CHECK(cow_map_len(m) == 8); }}
                     .run();
        CHECK(n == 3);
    }
    SUBCASE("fresh key into a shared map with growth: key, rep, table, copied keys") {
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
        CHECK(n == 1 + 2 + 7 + 1);
    }
    SUBCASE("replacing in a shared map: rep, table, copied keys") {
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
        CHECK(n == 2 + 5 + 1);
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
        CHECK(n == 2 + 6 + 1);
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
        CHECK(n == 2 + 6 + 1);
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
        CHECK(n == 2 + 6 + 1);
    }
    SUBCASE("eager cow_clone returns NULL") {
        test::allocator_scope scope;
        cow_options o = COW_OPTIONS_INIT;
        o.strategy = COW_STRATEGY_EAGER;
        cow_map *e = new_map(cow_type_string(), cow_type_u64(), &o);
        put(&e, std::string("one"), 1);
        put(&e, std::string("two"), 2);
        auto g = test::global();
        for (long n = 1; n <= 4; ++n) {
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
