// Nested copy-on-write through the C API: editing a value held inside a
// container (cow_map_get_mut / cow_vec_get_mut give its slot) copies one
// level at a time, counted with lineage statistics, global live values and
// allocation counts. Also vectors and maps shared, read and written by threads.
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

namespace {

// ---- building and reading nested values -------------------------------------

cow_str *make_str(const char *text) {
    cow_str *s = nullptr;
    REQUIRE(cow_str_from_cstr(&s, text, nullptr) == COW_OK);
    return s;
}

// A vector of string handles holding the only references to its strings.
cow_vec *string_vector(std::initializer_list<const char *> words) {
    cow_vec *v = nullptr;
    REQUIRE(cow_vec_new(&v, cow_type_handle(), nullptr) == COW_OK);
    for (const char *w : words) {
        cow_str *s = make_str(w);
        REQUIRE(cow_vec_push(&v, &s) == COW_OK);  // the vector clones it
        cow_str_release(s);
    }
    return v;
}

template <class H>
H *handle_in(const void *slot) {
    REQUIRE(slot != nullptr);
    H *h;
    std::memcpy(&h, slot, sizeof h);
    return h;
}

// Borrowed handles stored in containers.
cow_vec *vec_at(const cow_map *m, const char *key) {
    return handle_in<cow_vec>(cow_map_get(m, key, std::strlen(key)));
}
cow_str *str_at(const cow_vec *v, std::size_t i) { return handle_in<cow_str>(cow_vec_get(v, i)); }
cow_map *map_in(const cow_vec *v, std::size_t i) { return handle_in<cow_map>(cow_vec_get(v, i)); }

std::vector<std::string> words(const cow_vec *v) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < cow_vec_len(v); ++i) {
        cow_str *s = str_at(v, i);
        out.emplace_back(cow_str_data(s), cow_str_len(s));
    }
    return out;
}

const char *const keys[] = {"fruits", "colors", "animals"};

// map string -> vector of strings; the map holds the only references.
cow_map *make_catalog() {
    cow_map *m = nullptr;
    REQUIRE(cow_map_new(&m, cow_type_string(), cow_type_handle(), nullptr) == COW_OK);
    cow_vec *vs[3] = {string_vector({"apple", "banana"}), string_vector({"red", "green", "blue"}),
                      string_vector({"cat", "dog"})};
    for (int i = 0; i < 3; ++i) {
        REQUIRE(cow_map_insert(&m, keys[i], std::strlen(keys[i]), &vs[i], nullptr, nullptr) ==
                COW_OK);
        cow_vec_release(vs[i]);
    }
    return m;
}

// A writable slot inside a container, as the typed pointer the edit calls take.
cow_vec **vec_slot(cow_map **m, const char *key) {
    void *slot = nullptr;
    REQUIRE(cow_map_get_mut(m, key, std::strlen(key), &slot) == COW_OK);
    return static_cast<cow_vec **>(slot);
}
cow_str **str_slot(cow_vec **v, std::size_t i) {
    void *slot = nullptr;
    REQUIRE(cow_vec_get_mut(v, i, &slot) == COW_OK);
    return static_cast<cow_str **>(slot);
}

std::uint64_t live_values() { return test::global().live_values; }

}  // namespace

TEST_SUITE("nested: one copy per level") {
    TEST_CASE("map of vectors: one edit copies exactly one map and one vector") {
        test::leak_check lc;
        test::allocator_scope scope;

        // What one map copy and one vector copy-with-push cost on their own,
        // measured on identical values.
        long map_copy_cost, vec_copy_cost;
        {
            cow_map *probe = make_catalog();
            cow_map *other = cow_map_clone(probe);
            long before = scope.allocator.successful_allocations();
            REQUIRE(cow_make_mut(&other) == COW_OK);
            map_copy_cost = scope.allocator.successful_allocations() - before;
            cow_map_release(other);
            cow_map_release(probe);
        }
        {
            cow_vec *probe = string_vector({"apple", "banana"});
            cow_vec *other = cow_vec_clone(probe);
            cow_str *s = make_str("cherry");
            long before = scope.allocator.successful_allocations();
            REQUIRE(cow_vec_push(&other, &s) == COW_OK);
            vec_copy_cost = scope.allocator.successful_allocations() - before;
            cow_str_release(s);
            cow_vec_release(other);
            cow_vec_release(probe);
        }
        CHECK(map_copy_cost > 0);
        CHECK(vec_copy_cost > 0);

        cow_map *v1 = make_catalog();
        cow_map *v2 = cow_map_clone(v1);
        cow_str *cherry = make_str("cherry");
        cow_vec *old_vecs[3];
        for (int i = 0; i < 3; ++i) old_vecs[i] = vec_at(v1, keys[i]);
        cow_str *apple = str_at(old_vecs[0], 0);
        CHECK(cow_strong_count(old_vecs[0]) == 1);  // one map value holds it
        CHECK(cow_strong_count(apple) == 1);

        std::uint64_t values_before = live_values();
        long allocs_before = scope.allocator.successful_allocations();
        REQUIRE(cow_vec_push(vec_slot(&v2, "fruits"), &cherry) == COW_OK);
        CHECK(scope.allocator.successful_allocations() - allocs_before == map_copy_cost + vec_copy_cost);
        CHECK(live_values() - values_before == 2);  // the map copy and the vector copy

        // The map was copied once, the edited vector once, the others never.
        CHECK_FALSE(cow_ptr_eq(v1, v2));
        CHECK(test::stats(v1).clones == 1);
        CHECK(test::stats(v1).copies == 1);
        CHECK(test::stats(old_vecs[0]).copies == 1);
        CHECK(test::stats(old_vecs[1]).copies == 0);
        CHECK(test::stats(old_vecs[2]).copies == 0);
        CHECK_FALSE(cow_ptr_eq(vec_at(v1, "fruits"), vec_at(v2, "fruits")));
        CHECK(cow_ptr_eq(vec_at(v1, "colors"), vec_at(v2, "colors")));
        CHECK(cow_ptr_eq(vec_at(v1, "animals"), vec_at(v2, "animals")));
        CHECK(cow_strong_count(vec_at(v1, "colors")) == 2);  // one per map version

        // The string elements are shared between the two fruit vectors.
        CHECK(cow_ptr_eq(str_at(vec_at(v2, "fruits"), 0), apple));
        CHECK(cow_ptr_eq(str_at(vec_at(v2, "fruits"), 1), str_at(old_vecs[0], 1)));
        CHECK(cow_strong_count(apple) == 2);
        CHECK(test::stats(apple).copies == 0);
        CHECK(cow_strong_count(cherry) == 2);  // ours and the vector's
        cow_str_release(cherry);

        // The old version is unchanged.
        CHECK(vec_at(v1, "fruits") == old_vecs[0]);
        CHECK(words(vec_at(v1, "fruits")) == std::vector<std::string>{"apple", "banana"});
        CHECK(words(vec_at(v2, "fruits")) ==
              std::vector<std::string>{"apple", "banana", "cherry"});
        CHECK(cow_map_len(v1) == 3);
        CHECK(cow_map_len(v2) == 3);

        cow_map_release(v1);
        CHECK(cow_strong_count(apple) == 1);  // only version 2's vector now
        cow_map_release(v2);
    }

    TEST_CASE("a failed nested edit changes neither version and leaks nothing") {
        test::leak_check lc;
        test::allocator_scope scope;
        cow_map *v1 = make_catalog();
        cow_map *v2 = cow_map_clone(v1);
        cow_str *cherry = make_str("cherry");
        std::uint64_t values_before = live_values();

        // The map copy itself fails: the slot still holds the shared map.
        scope.allocator.fail_at = scope.allocator.calls + 1;
        scope.allocator.fail_all_after = true;
        void *slot = nullptr;
        CHECK(cow_map_get_mut(&v2, "fruits", 6, &slot) == COW_ENOMEM);
        CHECK(slot == nullptr);
        CHECK(cow_ptr_eq(v1, v2));
        CHECK(live_values() == values_before);
        scope.allocator.fail_at = 0;

        // The map copy succeeds, the vector copy fails: version 2 is a
        // private map whose vectors are still all shared with version 1.
        cow_vec **fruits = vec_slot(&v2, "fruits");
        scope.allocator.fail_at = scope.allocator.calls + 1;
        CHECK(cow_vec_push(fruits, &cherry) == COW_ENOMEM);
        scope.allocator.fail_at = 0;
        CHECK_FALSE(cow_ptr_eq(v1, v2));
        for (const char *k : keys) CHECK(cow_ptr_eq(vec_at(v1, k), vec_at(v2, k)));
        CHECK(words(vec_at(v2, "fruits")) == std::vector<std::string>{"apple", "banana"});
        CHECK(cow_strong_count(cherry) == 1);
        CHECK(test::stats(vec_at(v1, "fruits")).copies == 0);

        cow_str_release(cherry);
        cow_map_release(v2);
        cow_map_release(v1);
    }

    TEST_CASE("vector of maps: an edit through cow_vec_get_mut copies one vector and one map") {
        test::leak_check lc;
        cow_vec *v1 = nullptr;
        REQUIRE(cow_vec_new(&v1, cow_type_handle(), nullptr) == COW_OK);
        for (std::uint64_t i = 0; i < 3; ++i) {
            cow_map *m = nullptr;
            REQUIRE(cow_map_new(&m, cow_type_u64(), cow_type_u64(), nullptr) == COW_OK);
            for (std::uint64_t k = 0; k < 4; ++k) {
                std::uint64_t value = 10 * i + k;
                REQUIRE(cow_map_insert(&m, &k, sizeof k, &value, nullptr, nullptr) == COW_OK);
            }
            REQUIRE(cow_vec_push(&v1, &m) == COW_OK);
            cow_map_release(m);
        }
        cow_vec *v2 = cow_vec_clone(v1);
        cow_map *old_maps[3] = {map_in(v1, 0), map_in(v1, 1), map_in(v1, 2)};

        std::uint64_t values_before = live_values();
        void *slot = nullptr;
        REQUIRE(cow_vec_get_mut(&v2, 1, &slot) == COW_OK);
        std::uint64_t key = 99, value = 990;
        REQUIRE(cow_map_insert(static_cast<cow_map **>(slot), &key, sizeof key, &value, nullptr,
                               nullptr) == COW_OK);
        CHECK(live_values() - values_before == 2);

        CHECK(test::stats(v1).copies == 1);
        CHECK(test::stats(old_maps[1]).copies == 1);
        CHECK(test::stats(old_maps[0]).copies == 0);
        CHECK(test::stats(old_maps[2]).copies == 0);
        CHECK(cow_ptr_eq(map_in(v2, 0), old_maps[0]));
        CHECK(cow_ptr_eq(map_in(v2, 2), old_maps[2]));
        CHECK_FALSE(cow_ptr_eq(map_in(v2, 1), old_maps[1]));
        // The old version is unchanged; the new one has the key.
        CHECK(map_in(v1, 1) == old_maps[1]);
        CHECK_FALSE(cow_map_contains(old_maps[1], &key, sizeof key));
        CHECK(cow_map_len(old_maps[1]) == 4);
        const void *got = cow_map_get(map_in(v2, 1), &key, sizeof key);
        REQUIRE(got != nullptr);
        std::uint64_t read;
        std::memcpy(&read, got, sizeof read);
        CHECK(read == 990);
        CHECK(cow_map_len(map_in(v2, 1)) == 5);

        cow_vec_release(v2);
        cow_vec_release(v1);
    }

    TEST_CASE("three levels (map -> vector -> string): one copy at each level") {
        test::leak_check lc;
        cow_map *v1 = make_catalog();
        cow_map *v2 = cow_map_clone(v1);
        cow_vec *old_fruits = vec_at(v1, "fruits");
        cow_str *old_apple = str_at(old_fruits, 0);
        cow_str *old_banana = str_at(old_fruits, 1);

        std::uint64_t values_before = live_values();
        cow_str **apple = str_slot(vec_slot(&v2, "fruits"), 0);
        REQUIRE(cow_str_append(apple, " pie", 4) == COW_OK);
        CHECK(live_values() - values_before == 3);  // map, vector and string copies

        CHECK(test::stats(v1).copies == 1);
        CHECK(test::stats(old_fruits).copies == 1);
        CHECK(test::stats(old_apple).copies == 1);
        CHECK(test::stats(old_banana).copies == 0);
        CHECK(test::stats(vec_at(v1, "colors")).copies == 0);
        cow_vec *new_fruits = vec_at(v2, "fruits");
        CHECK(words(new_fruits) == std::vector<std::string>{"apple pie", "banana"});
        CHECK(words(old_fruits) == std::vector<std::string>{"apple", "banana"});
        CHECK(cow_ptr_eq(str_at(new_fruits, 1), old_banana));
        CHECK(cow_strong_count(old_banana) == 2);
        CHECK(cow_strong_count(old_apple) == 1);  // only version 1 holds the old apple
        CHECK(cow_ptr_eq(vec_at(v1, "colors"), vec_at(v2, "colors")));

        // A second edit of the same string copies nothing more: the chain
        // is unique now.
        values_before = live_values();
        REQUIRE(cow_str_append(str_slot(vec_slot(&v2, "fruits"), 0), "!", 1) == COW_OK);
        CHECK(live_values() == values_before);
        CHECK(test::stats(v1).copies == 1);
        CHECK(test::stats(old_fruits).copies == 1);
        CHECK(test::stats(old_apple).copies == 1);
        CHECK(words(vec_at(v2, "fruits"))[0] == "apple pie!");

        cow_map_release(v2);
        cow_map_release(v1);
    }

    TEST_CASE("on a unique chain a nested edit copies nothing and allocates nothing") {
        test::leak_check lc;
        test::allocator_scope scope;
        cow_map *m = make_catalog();
        cow_str *cherry = make_str("cherry");
        // Room for the edits below, so that no growth happens while counting.
        REQUIRE(cow_vec_reserve(vec_slot(&m, "fruits"), 4) == COW_OK);
        cow_str **apple_slot = str_slot(vec_slot(&m, "fruits"), 0);
        REQUIRE(cow_str_append(apple_slot, " with room", 10) == COW_OK);
        REQUIRE(cow_str_truncate(apple_slot, 5) == COW_OK);

        cow_map *map_before = m;
        cow_vec *fruits_before = vec_at(m, "fruits");
        cow_str *apple_before = str_at(fruits_before, 0);
        std::uint64_t values_before = live_values();
        long allocs_before = scope.allocator.successful_allocations();

        cow_vec **fruits = vec_slot(&m, "fruits");
        REQUIRE(cow_str_append(str_slot(fruits, 0), " pie", 4) == COW_OK);
        REQUIRE(cow_vec_push(vec_slot(&m, "fruits"), &cherry) == COW_OK);

        CHECK(scope.allocator.successful_allocations() == allocs_before);
        CHECK(live_values() == values_before);
        CHECK(m == map_before);
        CHECK(vec_at(m, "fruits") == fruits_before);
        CHECK(str_at(fruits_before, 0) == apple_before);
        CHECK(test::stats(m).copies == 0);
        CHECK(test::stats(fruits_before).copies == 0);
        CHECK(test::stats(apple_before).copies == 0);
        CHECK(words(fruits_before) == std::vector<std::string>{"apple pie", "banana", "cherry"});

        cow_str_release(cherry);
        cow_map_release(m);
    }
}

// ---- vectors and maps shared by threads, through the C API ------------------

namespace {

// Also called from worker threads, so no doctest assertion inside: a
// failure gives a sum no check expects.
std::int64_t sum_of(const cow_vec *v) {
    cow_vec_cursor c;
    if (cow_vec_cursor_init(&c, v) != COW_OK) return INT64_MIN;
    const void *data;
    std::size_t n;
    std::int64_t sum = 0;
    while (cow_vec_next_span(&c, &data, &n))
        for (std::size_t i = 0; i < n; ++i) sum += static_cast<const std::int64_t *>(data)[i];
    return sum;
}

cow_vec *one_to_hundred() {
    std::vector<std::int64_t> xs(100);
    for (int i = 0; i < 100; ++i) xs[i] = i + 1;  // sum 5050
    cow_vec *v = nullptr;
    REQUIRE(cow_vec_from_array(&v, cow_type_i64(), xs.data(), xs.size(), nullptr) == COW_OK);
    return v;
}

cow_map *make_config() {
    cow_map *m = nullptr;
    REQUIRE(cow_map_new(&m, cow_type_string(), cow_type_u64(), nullptr) == COW_OK);
    const std::pair<const char *, std::uint64_t> entries[] = {
        {"workers", 4}, {"timeout", 30}, {"max_connections", 1000}};
    for (const auto &e : entries)
        REQUIRE(cow_map_insert(&m, e.first, std::strlen(e.first), &e.second, nullptr, nullptr) ==
                COW_OK);
    return m;
}

// Reads a u64 map value; UINT64_MAX when absent (doctest is not used from
// worker threads: results are checked after joining).
std::uint64_t config_get(const cow_map *m, const char *key) {
    const void *p = cow_map_get(m, key, std::strlen(key));
    if (!p) return UINT64_MAX;
    std::uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

void join_all(std::vector<std::thread> &threads) {
    for (auto &t : threads) t.join();
}

}  // namespace

TEST_SUITE("threads: vectors and maps shared by threads") {
    TEST_CASE("10 threads clone and release one vector concurrently") {
        test::leak_check lc;
        cow_vec *v = one_to_hundred();
        constexpr int per_thread = 1000;
        std::vector<int> ok(10, 0);
        std::vector<std::thread> threads;
        for (int t = 0; t < 10; ++t)
            threads.emplace_back([&, t] {
                std::vector<cow_vec *> held;
                for (int i = 0; i < per_thread; ++i) held.push_back(cow_vec_clone(v));
                int good = 0;
                for (cow_vec *c : held) good += c == v;
                for (cow_vec *c : held) cow_vec_release(c);
                ok[t] = good;
            });
        join_all(threads);
        for (int t = 0; t < 10; ++t) CHECK(ok[t] == per_thread);
        CHECK(cow_strong_count(v) == 1);
        auto st = test::stats(v);
        CHECK(st.clones == 10 * per_thread);
        CHECK(st.copies == 0);
        CHECK(st.live_values == 1);
        CHECK(sum_of(v) == 5050);
        cow_vec_release(v);
    }

    TEST_CASE("20 threads read one vector and one map concurrently") {
        test::leak_check lc;
        cow_vec *v = one_to_hundred();
        cow_map *m = make_config();
        std::vector<std::int64_t> sums(20, 0);
        std::vector<std::uint64_t> timeouts(20, 0);
        std::vector<std::thread> threads;
        for (int t = 0; t < 20; ++t)
            threads.emplace_back([&, t] {
                // Reading through the same handles from every thread, no clone.
                for (int round = 0; round < 100; ++round) {
                    sums[t] = sum_of(v);
                    timeouts[t] = config_get(m, "timeout");
                }
            });
        join_all(threads);
        for (int t = 0; t < 20; ++t) {
            CHECK(sums[t] == 5050);
            CHECK(timeouts[t] == 30);
        }
        CHECK(test::stats(v).copies == 0);
        CHECK(test::stats(m).copies == 0);
        CHECK(cow_strong_count(v) == 1);
        cow_map_release(m);
        cow_vec_release(v);
    }

    TEST_CASE("10 threads write their own clones: a private copy each") {
        test::leak_check lc;
        cow_vec *v = one_to_hundred();
        std::vector<cow_vec *> mine(10);
        for (auto &c : mine) c = cow_vec_clone(v);
        std::vector<cow_status> status(10, -1);
        std::vector<std::thread> threads;
        for (int t = 0; t < 10; ++t)
            threads.emplace_back([&, t] {
                std::int64_t x = 1000 * (t + 1);
                status[t] = cow_vec_set(&mine[t], 0, &x, nullptr);  // element 0 was 1
            });
        join_all(threads);
        for (int t = 0; t < 10; ++t) {
            CHECK(status[t] == COW_OK);
            CHECK_FALSE(cow_ptr_eq(mine[t], v));
            CHECK(sum_of(mine[t]) == 5050 - 1 + 1000 * (t + 1));
            CHECK(cow_strong_count(mine[t]) == 1);
        }
        CHECK(sum_of(v) == 5050);
        CHECK(cow_strong_count(v) == 1);
        auto st = test::stats(v);
        CHECK(st.clones == 10);
        CHECK(st.copies == 10);
        CHECK(st.live_values == 11);
        for (cow_vec *c : mine) cow_vec_release(c);
        cow_vec_release(v);
    }

    TEST_CASE("100 threads share a configuration map") {
        test::leak_check lc;
        cow_map *config = make_config();
        std::vector<cow_map *> mine(100);
        for (auto &c : mine) c = cow_map_clone(config);
        std::vector<std::uint64_t> workers(100, 0), max_conn(100, 0);
        std::vector<std::thread> threads;
        for (int t = 0; t < 100; ++t)
            threads.emplace_back([&, t] {
                workers[t] = config_get(mine[t], "workers");
                max_conn[t] = config_get(mine[t], "max_connections");
            });
        join_all(threads);
        for (int t = 0; t < 100; ++t) {
            CHECK(workers[t] == 4);
            CHECK(max_conn[t] == 1000);
            CHECK(cow_ptr_eq(mine[t], config));
        }
        auto st = test::stats(config);
        CHECK(st.clones == 100);
        CHECK(st.copies == 0);
        CHECK(st.live_values == 1);
        CHECK(st.live_handles == 101);
        for (cow_map *c : mine) cow_map_release(c);
        cow_map_release(config);
    }

    TEST_CASE("50 threads each modify their own clone; the original is unchanged") {
        test::leak_check lc;
        cow_map *config = make_config();
        std::vector<cow_map *> mine(50);
        for (auto &c : mine) c = cow_map_clone(config);
        std::vector<cow_status> status(50, -1);
        std::vector<std::thread> threads;
        for (int t = 0; t < 50; ++t)
            threads.emplace_back([&, t] {
                std::uint64_t workers = 100 + static_cast<std::uint64_t>(t);
                status[t] = cow_map_insert(&mine[t], "workers", 7, &workers, nullptr, nullptr);
                if (status[t] == COW_OK)
                    status[t] = cow_map_insert(&mine[t], "thread", 6, &workers, nullptr, nullptr);
            });
        join_all(threads);
        for (int t = 0; t < 50; ++t) {
            CHECK(status[t] == COW_OK);
            CHECK(config_get(mine[t], "workers") == 100 + static_cast<std::uint64_t>(t));
            CHECK(config_get(mine[t], "thread") == 100 + static_cast<std::uint64_t>(t));
            CHECK(cow_map_len(mine[t]) == 4);
            CHECK(cow_strong_count(mine[t]) == 1);
        }
        CHECK(cow_map_len(config) == 3);
        CHECK(config_get(config, "workers") == 4);
        CHECK(config_get(config, "timeout") == 30);
        CHECK(config_get(config, "max_connections") == 1000);
        CHECK_FALSE(cow_map_contains(config, "thread", 6));
        auto st = test::stats(config);
        CHECK(st.clones == 50);
        CHECK(st.copies == 50);  // one per thread: its second insert was in place
        CHECK(st.live_values == 51);
        for (cow_map *c : mine) cow_map_release(c);
        cow_map_release(config);
    }
}

// Value semantics when a value is stored into itself: the stored element is
// a snapshot of the container before the call (it holds the container's old
// representation), never the container itself, so no reference cycle forms
// and every value is freed.
TEST_CASE("storing a vector of handles into itself stores a snapshot") {
    test::leak_check lc;
    auto element = [](const cow_vec *v, std::size_t i) { return handle_in<cow_vec>(cow_vec_get(v, i)); };
    SUBCASE("push") {
        cow_vec *v = string_vector({"a"});
        cow_vec *before = v;
        REQUIRE(cow_vec_push(&v, &v) == COW_OK);
        CHECK(v != before);  // the push's own clone made it shared: copied
        REQUIRE(cow_vec_len(v) == 2);
        CHECK(element(v, 1) == before);
        CHECK(cow_vec_len(before) == 1);  // the snapshot did not see the push
        CHECK(cow_strong_count(before) == 1);  // held by v's element only
        cow_vec_release(v);
    }
    SUBCASE("insert at the front") {
        cow_vec *v = string_vector({"a", "b"});
        cow_vec *before = v;
        REQUIRE(cow_vec_insert(&v, 0, &v) == COW_OK);
        REQUIRE(cow_vec_len(v) == 3);
        CHECK(element(v, 0) == before);
        CHECK(cow_vec_len(before) == 2);
        CHECK(words(before) == std::vector<std::string>{"a", "b"});
        cow_vec_release(v);
    }
    SUBCASE("set") {
        cow_vec *v = string_vector({"a", "b"});
        cow_vec *before = v;
        REQUIRE(cow_vec_set(&v, 1, &v, nullptr) == COW_OK);
        REQUIRE(cow_vec_len(v) == 2);
        CHECK(element(v, 1) == before);
        CHECK(words(before) == std::vector<std::string>{"a", "b"});
        CHECK(cow_strong_count(before) == 1);
        cow_vec_release(v);
    }
    SUBCASE("extend with itself") {
        cow_vec *v = string_vector({"a"});
        cow_vec *before = v;
        cow_vec *twice[2] = {v, v};
        REQUIRE(cow_vec_extend(&v, twice, 2) == COW_OK);
        REQUIRE(cow_vec_len(v) == 3);
        CHECK(element(v, 1) == before);
        CHECK(element(v, 2) == before);
        CHECK(cow_strong_count(before) == 2);
        cow_vec_release(v);
    }
    CHECK(test::global().live_values == 0);
}

// Vector, map and box handles are map keys by identity. An EAGER value's
// clone is a copy with another address, so a map stores such a key as a
// reference to the very value that was hashed (and keeps it so when the map
// itself is copied).
TEST_CASE("eager vectors as map keys stay findable, also in copies of the map") {
    test::leak_check lc;
    cow_options eager = COW_OPTIONS_INIT;
    eager.strategy = COW_STRATEGY_EAGER;
    cow_vec *k1 = nullptr, *k2 = nullptr;
    REQUIRE(cow_vec_new(&k1, cow_type_u32(), &eager) == COW_OK);
    REQUIRE(cow_vec_new(&k2, cow_type_u32(), &eager) == COW_OK);
    cow_map *m = nullptr;
    REQUIRE(cow_map_new(&m, cow_type_handle(), cow_type_u64(), nullptr) == COW_OK);
    std::uint64_t one = 1, two = 2;
    REQUIRE(cow_map_insert(&m, &k1, sizeof k1, &one, nullptr, nullptr) == COW_OK);
    CHECK(cow_map_contains(m, &k1, sizeof k1));
    CHECK(cow_strong_count(k1) == 2);  // the caller's and the map's key
    bool replaced = false;
    REQUIRE(cow_map_insert(&m, &k1, sizeof k1, &two, nullptr, &replaced) == COW_OK);
    CHECK(replaced);
    CHECK(cow_map_len(m) == 1);
    // A copy of the map (a clone, then a write) keeps the same keys.
    cow_map *c = cow_map_clone(m);
    REQUIRE(cow_map_insert(&c, &k2, sizeof k2, &one, nullptr, nullptr) == COW_OK);
    CHECK_FALSE(cow_ptr_eq(c, m));
    REQUIRE(cow_map_get(c, &k1, sizeof k1) != nullptr);
    std::uint64_t got;
    std::memcpy(&got, cow_map_get(c, &k1, sizeof k1), sizeof got);
    CHECK(got == 2);
    CHECK(cow_map_contains(c, &k2, sizeof k2));
    CHECK(cow_strong_count(k1) == 3);
    cow_map_release(c);
    cow_map_release(m);
    CHECK(cow_strong_count(k1) == 1);
    cow_vec_release(k1);
    cow_vec_release(k2);
}
