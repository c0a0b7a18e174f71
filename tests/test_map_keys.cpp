// How a flat map stores variable-length keys: keys of up to 32 bytes inside
// their entries, longer ones in shared, reference-counted key blocks. So a
// copy of a string-keyed map makes O(1) allocations whatever its keys; the
// bytes of removed keys are reclaimed by compaction; and a failed write
// changes nothing. Counted with the failing allocator (allocation counts
// and live bytes), never with clocks.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "cow.h"
#include "support.hpp"

namespace {

using u64 = std::uint64_t;

// A key of exactly len bytes, different for every i.
std::string key_of(std::size_t i, std::size_t len) {
    std::string k = std::to_string(i) + ":";
    while (k.size() < len) k += static_cast<char>('a' + (i + k.size()) % 26);
    k.resize(len);
    return k;
}

cow_map *string_map() {
    cow_map *m = nullptr;
    REQUIRE(cow_map_new(&m, cow_type_string(), cow_type_u64(), nullptr) == COW_OK);
    return m;
}

void put(cow_map **m, const std::string &k, u64 v) {
    REQUIRE(cow_map_insert(m, k.data(), k.size(), &v, nullptr, nullptr) == COW_OK);
}

// Every key of the model is in m with its value, and m holds nothing else.
void check_same(const cow_map *m, const std::map<std::string, u64> &model) {
    REQUIRE(cow_map_len(m) == model.size());
    for (const auto &[k, v] : model) {
        auto *got = static_cast<const u64 *>(cow_map_get(m, k.data(), k.size()));
        REQUIRE(got != nullptr);
        CHECK(*got == v);
    }
    cow_map_cursor c;
    REQUIRE(cow_map_cursor_init(&c, m) == COW_OK);
    const void *key;
    std::size_t len;
    const void *value;
    std::size_t seen = 0;
    while (cow_map_next(&c, &key, &len, &value)) {
        std::string k(static_cast<const char *>(key), len);
        auto it = model.find(k);
        REQUIRE(it != model.end());
        CHECK(*static_cast<const u64 *>(value) == it->second);
        ++seen;
    }
    CHECK(seen == model.size());
}

}  // namespace

TEST_CASE("map keys: keys of 0 to 200 bytes, at and around the inline size, round-trip through every call") {
    test::leak_check leaks;
    cow_map *m = string_map();
    std::map<std::string, u64> model;
    for (std::size_t len : {0, 1, 7, 8, 31, 32, 33, 40, 64, 200}) {
        for (std::size_t i = 0; i < 50; ++i) {
            std::string k = key_of(i, len);
            if (len == 0 && i > 0) break;
            put(&m, k, i * 1000 + len);
            model[k] = i * 1000 + len;
        }
    }
    check_same(m, model);
    cow_map *before = cow_map_clone(m);
    auto before_model = model;
    // Remove every other key, replace some, insert new long ones into the copy.
    std::size_t k = 0;
    for (auto it = model.begin(); it != model.end(); ++k) {
        if (k % 2 == 0) {
            REQUIRE(cow_map_remove(&m, it->first.data(), it->first.size(), nullptr) == COW_OK);
            it = model.erase(it);
        } else {
            put(&m, it->first, 7);
            it->second = 7;
            ++it;
        }
    }
    for (std::size_t i = 0; i < 100; ++i) {
        std::string key = key_of(5000 + i, 33 + i);
        put(&m, key, i);
        model[key] = i;
    }
    check_same(m, model);
    check_same(before, before_model);  // the version before shares the old key blocks
    cow_map_release(before);
    check_same(m, model);
    cow_map_release(m);
}

TEST_CASE("map keys: a write to a shared 100,000-entry string-keyed map makes at most 4 allocations") {
    test::leak_check leaks;
    test::allocator_scope scope;
    cow_map *m = string_map();
    for (std::size_t i = 0; i < 100000; ++i) put(&m, key_of(i, 8 + i % 60), i);  // short and long keys
    cow_map *keep = cow_map_clone(m);
    long before = scope.allocator.successful_allocations();
    put(&m, key_of(100000, 50), 1);  // a long key, into the copy
    long made = scope.allocator.successful_allocations() - before;
    MESSAGE("allocations of a shared insert at 100,000 string keys: " << made);
    CHECK(made <= 4);
    before = scope.allocator.successful_allocations();
    cow_map *c2 = cow_map_clone(keep);
    REQUIRE(cow_map_remove(&c2, key_of(3, 11).data(), 11, nullptr) == COW_OK);
    CHECK(scope.allocator.successful_allocations() - before <= 4);
    auto *got = static_cast<const u64 *>(cow_map_get(keep, key_of(3, 11).data(), 11));
    REQUIRE(got != nullptr);
    CHECK(*got == 3);
    CHECK(cow_map_get(c2, key_of(3, 11).data(), 11) == nullptr);
    cow_map_release(c2);
    cow_map_release(keep);
    cow_map_release(m);
}

TEST_CASE("map keys: the bytes of removed long keys are reclaimed, so churn does not grow the map") {
    test::leak_check leaks;
    cow_map *m = string_map();
    auto live = [] { return test::global().live_bytes; };
    for (std::size_t i = 0; i < 1000; ++i) put(&m, key_of(i, 100), i);
    std::uint64_t settled = 0;
    // Replace the keys by new ones, round after round: the removed keys'
    // bytes must not pile up.
    for (std::size_t round = 1; round <= 30; ++round) {
        for (std::size_t i = 0; i < 1000; ++i) {
            std::string old = key_of((round - 1) * 1000 + i, 100);
            REQUIRE(cow_map_remove(&m, old.data(), old.size(), nullptr) == COW_OK);
            put(&m, key_of(round * 1000 + i, 100), i);
        }
        if (round == 5) settled = live();
    }
    MESSAGE("live bytes after 5 rounds: " << settled << ", after 30: " << live());
    CHECK(cow_map_len(m) == 1000);
    CHECK(live() <= 2 * settled);
    // 1,000 keys of 100 bytes: the key bytes are about 100 KB; with the
    // table and at most as much again of removed bytes, well under 1 MB.
    CHECK(live() < 1024 * 1024);
    cow_map_release(m);
}

TEST_CASE("map keys: a failing allocation at each point of a long-key insert changes nothing") {
    test::leak_check leaks;
    for (bool shared : {false, true}) {
        for (std::size_t fill : {std::size_t{3}, std::size_t{40}, std::size_t{600}}) {
            CAPTURE(shared);
            CAPTURE(fill);
            test::allocator_scope scope;
            cow_map *m = string_map();
            std::map<std::string, u64> model;
            for (std::size_t i = 0; i < fill; ++i) {
                put(&m, key_of(i, 20 + i % 50), i);
                model[key_of(i, 20 + i % 50)] = i;
            }
            cow_map *other = shared ? cow_map_clone(m) : nullptr;
            std::string key = key_of(99999, 77);
            u64 v = 5;
            bool done = false;
            for (long n = 1; !done && n < 50; ++n) {
                auto g = test::global();
                cow_map *slot = m;
                scope.allocator.fail_at = scope.allocator.calls + n;
                cow_status s = cow_map_insert(&slot, key.data(), key.size(), &v, nullptr, nullptr);
                scope.allocator.fail_at = 0;
                if (s == COW_OK) {
                    done = true;
                    m = slot;
                    model[key] = v;
                    break;
                }
                REQUIRE(s == COW_ENOMEM);
                CHECK(slot == m);
                CHECK(test::global().live_allocations == g.live_allocations);
                CHECK(test::global().live_bytes == g.live_bytes);
                check_same(m, model);
            }
            CHECK(done);
            check_same(m, model);
            if (other) {
                model.erase(key);
                check_same(other, model);
                cow_map_release(other);
            }
            cow_map_release(m);
        }
    }
}
