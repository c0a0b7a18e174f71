// The ADAPTIVE strategy: what representation each usage pattern ends in, the
// copies and switches the statistics count, what a write allocates once the
// value is a tree, and that a failed switch changes nothing. Counters only
// (allocations, bytes, statistics): nothing here is timed. The generic
// vector and map tests also run under ADAPTIVE (test_vec_adaptive.cpp,
// test_map_adaptive.cpp), where the tests' small values stay flat.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "cow.h"
#include "support.hpp"

namespace {

using u64 = std::uint64_t;

// The rule's figures (cow.h): the default size floor and the copy at which a
// value written after every clone becomes a tree.
constexpr u64 default_floor = 64 * 1024;
constexpr int switching_copy = 2;
// Nodes on one path of a tree of a million elements or entries, in any build.
constexpr u64 max_path_nodes = 24;

cow_options adaptive(u64 floor = 0, std::uint32_t flags = 0) {
    cow_options o = COW_OPTIONS_INIT;
    o.strategy = COW_STRATEGY_ADAPTIVE;
    o.threshold_bytes = floor;
    o.flags = flags;
    return o;
}

std::uint32_t representation(const void *h) { return test::stats(h).representation; }
bool is_tree(const void *h) { return representation(h) == COW_REPRESENTATION_TREE; }

cow_vec *u64_vec(std::size_t n, const cow_options &o) {
    std::vector<u64> values(n);
    for (std::size_t i = 0; i < n; ++i) values[i] = i;
    cow_vec *v = nullptr;
    REQUIRE(cow_vec_from_array(&v, cow_type_u64(), values.data(), n, &o) == COW_OK);
    return v;
}

u64 vec_at(const cow_vec *v, std::size_t i) {
    const void *p = cow_vec_get(v, i);
    REQUIRE(p != nullptr);
    u64 x;
    std::memcpy(&x, p, sizeof x);
    return x;
}

// The sum of the elements, read through spans (every representation).
u64 vec_sum(const cow_vec *v) {
    cow_vec_cursor c;
    REQUIRE(cow_vec_cursor_init(&c, v) == COW_OK);
    const void *data;
    std::size_t n;
    u64 sum = 0;
    while (cow_vec_next_span(&c, &data, &n))
        for (std::size_t i = 0; i < n; ++i) sum += static_cast<const u64 *>(data)[i];
    return sum;
}

cow_map *u64_map(std::size_t n, const cow_options &o) {
    cow_map *m = nullptr;
    REQUIRE(cow_map_new(&m, cow_type_u64(), cow_type_u64(), &o) == COW_OK);
    for (u64 k = 0; k < n; ++k) REQUIRE(cow_map_insert(&m, &k, sizeof k, &k, nullptr, nullptr) == COW_OK);
    return m;
}

u64 map_at(const cow_map *m, u64 key) {
    const void *p = cow_map_get(m, &key, sizeof key);
    REQUIRE(p != nullptr);
    u64 x;
    std::memcpy(&x, p, sizeof x);
    return x;
}

// One round of "a new version one write away from the previous": clone the
// current version, write the clone, release the old one.
void vec_round(cow_vec **cur, std::size_t index, u64 value) {
    cow_vec *next = cow_vec_clone(*cur);
    REQUIRE(next != nullptr);
    REQUIRE(cow_vec_set(&next, index, &value, nullptr) == COW_OK);
    cow_vec_release(*cur);
    *cur = next;
}

void map_round(cow_map **cur, u64 key, u64 value) {
    cow_map *next = cow_map_clone(*cur);
    REQUIRE(next != nullptr);
    REQUIRE(cow_map_insert(&next, &key, sizeof key, &value, nullptr, nullptr) == COW_OK);
    cow_map_release(*cur);
    *cur = next;
}

// What a write to `written` allocated since `before` (its lineage had
// copied nodes_before nodes): one header and the nodes of one path, one
// node per level at most (5 levels at 32-way; tiny test builds with 4-way
// nodes have ~10), 64 KiB at most.
void check_one_path(const void *written, const cow_global_stats_info &before, u64 nodes_before) {
    cow_global_stats_info after = test::global();
    u64 nodes = test::stats(written).nodes_copied - nodes_before;
    CHECK(nodes >= 1);
    CHECK(nodes <= max_path_nodes);
    CHECK(after.live_allocations - before.live_allocations <= nodes + 1);
    CHECK(after.live_bytes > before.live_bytes);
    CHECK(after.live_bytes - before.live_bytes <= 64 * 1024);
}

}  // namespace

TEST_CASE("adaptive: vectors and maps accept the strategy and start flat; buffers, strings and boxes refuse it") {
    test::leak_check leaks;
    const cow_options o = adaptive();
    u64 x = 7;
    cow_vec *a = nullptr, *b = nullptr, *c = nullptr;
    REQUIRE(cow_vec_new(&a, cow_type_u64(), &o) == COW_OK);
    REQUIRE(cow_vec_with_capacity(&b, cow_type_u64(), 4, &o) == COW_OK);
    REQUIRE(cow_vec_from_array(&c, cow_type_u64(), &x, 1, &o) == COW_OK);
    cow_map *m = nullptr;
    REQUIRE(cow_map_new(&m, cow_type_string(), cow_type_u64(), &o) == COW_OK);
    for (const void *h : {static_cast<const void *>(a), static_cast<const void *>(b),
                          static_cast<const void *>(c), static_cast<const void *>(m)}) {
        CHECK(representation(h) == COW_REPRESENTATION_FLAT);
        CHECK(test::stats(h).switches == 0);
    }
    const void *data = nullptr;
    CHECK(cow_vec_data(c, &data) == COW_OK);
    CHECK(vec_at(c, 0) == 7);
    cow_release(a);
    cow_release(b);
    cow_release(c);
    cow_release(m);

    cow_buf *buf = nullptr;
    cow_str *str = nullptr;
    cow_box *box = nullptr;
    CHECK(cow_buf_new(&buf, "x", 1, &o) == COW_EUNSUPPORTED);
    CHECK(cow_str_new(&str, "x", 1, &o) == COW_EUNSUPPORTED);
    CHECK(cow_box_new(&box, cow_type_u64(), &x, &o) == COW_EUNSUPPORTED);
    CHECK((buf == nullptr && str == nullptr && box == nullptr));
}

TEST_CASE("adaptive: a large vector written after every clone becomes a tree at its second copy, then each write allocates one path [large]") {
    test::leak_check leaks;
    constexpr std::size_t n = 1000000;
    cow_vec *cur = u64_vec(n, adaptive());
    u64 sum = n * (n - 1) / 2;
    for (int round = 1; round < switching_copy; ++round) {
        vec_round(&cur, round, n + round);
        sum += n;  // element `round` went from round to n + round
        CHECK(!is_tree(cur));
    }
    vec_round(&cur, switching_copy, n + switching_copy);
    sum += n;
    REQUIRE(is_tree(cur));
    cow_stats_info st = test::stats(cur);
    CHECK(st.switches == 1);
    CHECK(st.copies == switching_copy);
    const void *data = nullptr;
    CHECK(cow_vec_data(cur, &data) == COW_ENOTCONTIGUOUS);
    CHECK(vec_sum(cur) == sum);

    // From here on a write to a shared version copies the nodes on its path:
    // a few allocations and at most 64 KiB, the old version still alive.
    for (int round = 0; round < 20; ++round) {
        std::size_t index = (std::size_t(round) * 48271u) % n;
        cow_vec *next = cow_vec_clone(cur);
        REQUIRE(next != nullptr);
        cow_global_stats_info before = test::global();
        u64 nodes_before = test::stats(cur).nodes_copied;
        u64 value = 3 * n + round;
        u64 old = vec_at(cur, index);
        REQUIRE(cow_vec_set(&next, index, &value, nullptr) == COW_OK);
        check_one_path(next, before, nodes_before);
        CHECK(vec_at(next, index) == value);
        CHECK(vec_at(cur, index) == old);  // the old version is untouched
        sum += value - old;
        cow_vec_release(cur);
        cur = next;
    }
    st = test::stats(cur);
    CHECK(st.switches == 1);  // still a tree: every clone was written
    CHECK(is_tree(cur));
    CHECK(vec_sum(cur) == sum);
    cow_vec_release(cur);
}

TEST_CASE("adaptive: a large map written after every clone becomes a tree at its second copy, then each write allocates one path [large]") {
    test::leak_check leaks;
    constexpr std::size_t n = 1000000;
    cow_map *cur = u64_map(n, adaptive());
    for (int round = 1; round <= switching_copy; ++round) {
        CHECK(!is_tree(cur));
        map_round(&cur, u64(round), n + round);
    }
    REQUIRE(is_tree(cur));
    CHECK(test::stats(cur).switches == 1);
    CHECK(test::stats(cur).copies == switching_copy);
    CHECK(cow_map_len(cur) == n);
    for (u64 k : {u64(0), u64(1), u64(2), u64(3), u64(n / 2), u64(n - 1)})
        CHECK(map_at(cur, k) == (k >= 1 && k <= switching_copy ? n + k : k));

    for (int round = 0; round < 20; ++round) {
        u64 key = (u64(round) * 48271u) % n;
        cow_map *next = cow_map_clone(cur);
        REQUIRE(next != nullptr);
        cow_global_stats_info before = test::global();
        u64 nodes_before = test::stats(cur).nodes_copied;
        u64 value = 3 * n + round, old = map_at(cur, key);
        REQUIRE(cow_map_insert(&next, &key, sizeof key, &value, nullptr, nullptr) == COW_OK);
        check_one_path(next, before, nodes_before);
        CHECK(map_at(next, key) == value);
        CHECK(map_at(cur, key) == old);
        cow_map_release(cur);
        cur = next;
    }
    CHECK(is_tree(cur));
    CHECK(test::stats(cur).switches == 1);
    cow_map_release(cur);
}

TEST_CASE("adaptive: small values cloned and written 100,000 times stay flat and contiguous") {
    test::leak_check leaks;
    cow_vec *v = u64_vec(100, adaptive());
    cow_map *m = u64_map(100, adaptive());
    for (int round = 0; round < 100000; ++round) {
        vec_round(&v, round % 100, u64(round));
        map_round(&m, u64(round % 100), u64(round));
        const void *data = nullptr;
        REQUIRE(cow_vec_data(v, &data) == COW_OK);
        REQUIRE(static_cast<const u64 *>(data)[round % 100] == u64(round));
    }
    cow_stats_info vs = test::stats(v), ms = test::stats(m);
    CHECK(vs.representation == COW_REPRESENTATION_FLAT);
    CHECK(ms.representation == COW_REPRESENTATION_FLAT);
    CHECK(vs.switches == 0);
    CHECK(ms.switches == 0);
    CHECK(vs.copies == 100000);  // every write copied: the values are below the floor
    CHECK(ms.copies == 100000);
    CHECK(map_at(m, 99) == 99999);
    cow_vec_release(v);
    cow_map_release(m);
}

TEST_CASE("adaptive: a value below the floor never becomes a tree; threshold_bytes sets the floor") {
    test::leak_check leaks;
    // 124 u64 are 992 bytes, below a floor of 1,000; 125 are 1,000.
    cow_vec *below = u64_vec(124, adaptive(1000));
    cow_vec *at = u64_vec(125, adaptive(1000));
    cow_vec *default_floor_vec = u64_vec(default_floor / 8 - 1, adaptive());
    for (int round = 1; round <= 10; ++round) {
        vec_round(&below, 0, round);
        vec_round(&at, 0, round);
        vec_round(&default_floor_vec, 0, round);
        CHECK(!is_tree(below));
        CHECK(!is_tree(default_floor_vec));
        CHECK(is_tree(at) == (round >= switching_copy));
    }
    CHECK(test::stats(at).switches == 1);
    CHECK(test::stats(below).switches == 0);
    CHECK(test::stats(default_floor_vec).switches == 0);
    cow_vec *at_default = u64_vec(default_floor / 8, adaptive());
    for (int round = 1; round <= switching_copy; ++round) vec_round(&at_default, 0, round);
    CHECK(is_tree(at_default));
    cow_vec_release(below);
    cow_vec_release(at);
    cow_vec_release(default_floor_vec);
    cow_vec_release(at_default);
}

TEST_CASE("adaptive: a read-heavy lineage stays flat: each version is cloned by readers far more than it is written") {
    test::leak_check leaks;
    cow_vec *v = u64_vec(10000, adaptive(1024));
    cow_map *m = u64_map(1000, adaptive(1024));
    for (int version = 0; version < 50; ++version) {
        for (int reader = 0; reader < 20; ++reader) {  // readers clone, read and let go
            cow_vec *r = cow_vec_clone(v);
            cow_map *rm = cow_map_clone(m);
            CHECK(vec_at(r, 5) == (version ? u64(version - 1) : 5));
            CHECK(map_at(rm, 5) == (version ? u64(version - 1) : 5));
            cow_vec_release(r);
            cow_map_release(rm);
        }
        vec_round(&v, 5, u64(version));
        map_round(&m, 5, u64(version));
    }
    CHECK(!is_tree(v));
    CHECK(!is_tree(m));
    CHECK(test::stats(v).switches == 0);
    CHECK(test::stats(m).switches == 0);
    cow_vec_release(v);
    cow_map_release(m);
}

TEST_CASE("adaptive: a lineage read between copies becomes a tree only when its copies cost more than the tree's slower reads") {
    test::leak_check leaks;
    // Each version is cloned by 10 readers, then once more and written: 1
    // copy per 11 clones. Weighed at 256 KiB of flat copying per clone,
    // 11 clones cost 2.75 MiB: a 3.2 MB value copies more than that each
    // time and becomes a tree at its second copy; a 1.6 MB one stays flat.
    constexpr u64 clone_bytes = 256 * 1024;
    cow_vec *big = u64_vec(400000, adaptive());
    cow_vec *mid = u64_vec(200000, adaptive());
    CHECK(400000 * 8 * 2 >= 22 * clone_bytes);
    CHECK(200000 * 8 < 11 * clone_bytes);
    for (int version = 1; version <= 6; ++version) {
        for (int reader = 0; reader < 10; ++reader) {
            cow_vec_release(cow_vec_clone(big));
            cow_vec_release(cow_vec_clone(mid));
        }
        vec_round(&big, 0, u64(version));
        vec_round(&mid, 0, u64(version));
        CHECK(is_tree(big) == (version >= switching_copy));
        CHECK(!is_tree(mid));
    }
    CHECK(test::stats(big).switches == 1);
    CHECK(test::stats(mid).switches == 0);
    CHECK(vec_at(big, 0) == 6);
    CHECK(vec_at(big, 399999) == 399999);
    cow_vec_release(big);
    cow_vec_release(mid);
}

TEST_CASE("adaptive: a tree whose lineage stops copying goes back to flat at a later copy") {
    test::leak_check leaks;
    cow_vec *v = u64_vec(10000, adaptive(1024));
    cow_map *m = u64_map(1000, adaptive(1024));
    for (int round = 1; round <= switching_copy; ++round) {
        vec_round(&v, 1, round);
        map_round(&m, 1, round);
    }
    REQUIRE(is_tree(v));
    REQUIRE(is_tree(m));
    // Now each version is cloned by 20 readers before its one write: copies
    // fall below an eighth of the clones within two versions.
    int back_at = 0;
    for (int version = 1; version <= 2 && !back_at; ++version) {
        for (int reader = 0; reader < 20; ++reader) {
            cow_vec_release(cow_vec_clone(v));
            cow_map_release(cow_map_clone(m));
        }
        vec_round(&v, 2, 100 + version);
        map_round(&m, 2, 100 + version);
        CHECK(is_tree(v) == is_tree(m));
        if (!is_tree(v)) back_at = version;
    }
    CHECK(back_at == 2);
    CHECK(test::stats(v).switches == 2);
    CHECK(test::stats(m).switches == 2);
    const void *data = nullptr;
    REQUIRE(cow_vec_data(v, &data) == COW_OK);
    CHECK(static_cast<const u64 *>(data)[1] == switching_copy);
    CHECK(static_cast<const u64 *>(data)[2] == 102);
    CHECK(static_cast<const u64 *>(data)[9999] == 9999);
    CHECK(map_at(m, 2) == 102);
    CHECK(map_at(m, 999) == 999);
    CHECK(cow_map_len(m) == 1000);
    cow_vec_release(v);
    cow_map_release(m);
}

TEST_CASE("adaptive: several copies of one value count its clones once") {
    test::leak_check leaks;
    // v is cloned 4 times and each clone written: the first copy counts the
    // 4 clones, the others none. So the first writer's history is 1 copy in
    // 4 clones, the second's 1 copy in 0: one more round written after a
    // single clone makes the second a tree (2 copies, 1 clone), not the
    // first (2 copies, 5 clones).
    cow_vec *v = u64_vec(1000, adaptive(1024));
    cow_vec *w[4];
    for (auto &c : w) c = cow_vec_clone(v);
    for (std::size_t i = 0; i < 4; ++i) {
        u64 x = 100 + i;
        REQUIRE(cow_vec_set(&w[i], 0, &x, nullptr) == COW_OK);
        CHECK(!is_tree(w[i]));
    }
    vec_round(&w[0], 1, 1);
    vec_round(&w[1], 1, 1);
    CHECK(!is_tree(w[0]));
    CHECK(is_tree(w[1]));
    CHECK(vec_at(w[1], 0) == 101);
    CHECK(test::stats(v).switches == 1);  // one lineage
    for (auto *c : w) cow_vec_release(c);
    cow_vec_release(v);
}

TEST_CASE("adaptive: the statistics count a switch as one copy of the whole value; the report gives Representation and Switches") {
    test::leak_check leaks;
    cow_vec *v = u64_vec(1000, adaptive(1024));  // 8,000 bytes
    vec_round(&v, 0, 1);
    cow_stats_info st = test::stats(v);
    CHECK(st.copies == 1);
    CHECK(st.bytes_copied == 999 * 8);  // a flat write copies all but the element it replaces
    vec_round(&v, 0, 2);
    st = test::stats(v);
    CHECK(st.copies == 2);
    CHECK(st.switches == 1);
    CHECK(st.bytes_copied == 999 * 8 + 8000);  // the switch copied the whole value
    CHECK(st.nodes_copied == 0);  // the new tree shares no node with anything

    cow_str *text = nullptr, *json = nullptr;
    REQUIRE(cow_stats_report(v, COW_REPORT_TEXT, &text) == COW_OK);
    REQUIRE(cow_stats_report(v, COW_REPORT_JSON, &json) == COW_OK);
    std::string t(cow_str_data(text), cow_str_len(text)), j(cow_str_data(json), cow_str_len(json));
    CHECK(t.find("Representation: tree\nSwitches: 1\n") != std::string::npos);
    CHECK(j.find("\"representation\":\"tree\"") != std::string::npos);
    CHECK(j.find("\"switches\":1") != std::string::npos);
    cow_str_release(text);
    cow_str_release(json);

    cow_vec *flat = u64_vec(3, adaptive());
    REQUIRE(cow_stats_report(flat, COW_REPORT_TEXT, &text) == COW_OK);
    t.assign(cow_str_data(text), cow_str_len(text));
    CHECK(t.find("Representation: flat\nSwitches: 0\n") != std::string::npos);
    cow_str_release(text);
    cow_vec_release(flat);

    // Without statistics the rule decides the same way (its history lives in
    // the values), and the report says the counters are off.
    cow_vec *quiet = u64_vec(1000, adaptive(1024, COW_OPT_NO_STATS));
    vec_round(&quiet, 0, 1);
    vec_round(&quiet, 0, 2);
    CHECK(is_tree(quiet));
    CHECK(test::stats(quiet).switches == 0);
    cow_vec_release(quiet);
    cow_vec_release(v);
}

TEST_CASE("adaptive: cow_vec_make_mut with out_data keeps a shared flat vector flat") {
    test::leak_check leaks;
    cow_vec *v = u64_vec(1000, adaptive(1024));
    for (int round = 0; round < 4; ++round) {
        cow_vec *next = cow_vec_clone(v);
        void *data = nullptr;
        REQUIRE(cow_vec_make_mut(&next, &data) == COW_OK);
        static_cast<u64 *>(data)[0] = u64(round);
        cow_vec_release(v);
        v = next;
    }
    CHECK(!is_tree(v));
    CHECK(vec_at(v, 0) == 3);
    // A write without it switches at the next copy (the history is there).
    vec_round(&v, 0, 9);
    CHECK(is_tree(v));
    // A shared tree whose lineage still copies stays a tree: no contiguous
    // elements to give, and nothing changes.
    cow_vec *other = cow_vec_clone(v);
    cow_stats_info before = test::stats(v);
    void *data = nullptr;
    CHECK(cow_vec_make_mut(&other, &data) == COW_ENOTCONTIGUOUS);
    CHECK(cow_ptr_eq(other, v));
    CHECK(test::stats(v).copies == before.copies);
    // The same history with a write after it still switches nothing back.
    vec_round(&other, 0, 10);
    CHECK(is_tree(other));
    CHECK(test::stats(v).switches == 1);
    cow_vec_release(other);
    cow_vec_release(v);
}

TEST_CASE("adaptive: an allocation failure at a switch changes nothing, and the switch happens when retried") {
    test::leak_check leaks;
    test::allocator_scope scope;
    for (bool to_tree : {true, false}) {
        CAPTURE(to_tree);
        cow_vec *v = u64_vec(1000, adaptive(1024));
        cow_map *m = u64_map(200, adaptive(1024));
        for (int round = 1; round < switching_copy; ++round) {
            vec_round(&v, 0, round);
            map_round(&m, 0, round);
        }
        if (!to_tree) {  // make them trees, then stop copying
            vec_round(&v, 0, 50);
            map_round(&m, 0, 50);
            REQUIRE(is_tree(v));
            for (int version = 0; version < 2; ++version) {
                for (int reader = 0; reader < 20; ++reader) {
                    cow_vec_release(cow_vec_clone(v));
                    cow_map_release(cow_map_clone(m));
                }
                if (version == 0) {
                    vec_round(&v, 0, 60);
                    map_round(&m, 0, 60);
                    REQUIRE(is_tree(v));
                }
            }
        }
        const bool tree_before = is_tree(v);
        const u64 sum_before = vec_sum(v);
        cow_vec *next = cow_vec_clone(v);
        cow_map *next_map = cow_map_clone(m);
        cow_stats_info vs = test::stats(v), ms = test::stats(m);
        u64 x = 777;
        long failures = 0;
        for (long n = 1;; ++n) {
            scope.allocator.fail_nth_from_now(n);
            cow_status s = cow_vec_set(&next, 7, &x, nullptr);
            scope.allocator.stop_failing();
            if (s == COW_OK) break;
            ++failures;
            REQUIRE(s == COW_ENOMEM);
            CHECK(cow_ptr_eq(next, v));
            CHECK(cow_strong_count(v) == 2);
            CHECK(is_tree(next) == tree_before);
            CHECK(vec_sum(next) == sum_before);
            cow_stats_info now = test::stats(v);
            CHECK(now.copies == vs.copies);
            CHECK(now.switches == vs.switches);
            CHECK(now.bytes_copied == vs.bytes_copied);
        }
        CHECK(failures >= 1);
        CHECK(is_tree(next) != tree_before);  // the switch the failures held back
        CHECK(vec_at(next, 7) == 777);
        CHECK(vec_sum(v) == sum_before);
        failures = 0;
        for (long n = 1;; ++n) {
            scope.allocator.fail_nth_from_now(n);
            cow_status s = cow_map_insert(&next_map, &x, sizeof x, &x, nullptr, nullptr);
            scope.allocator.stop_failing();
            if (s == COW_OK) break;
            ++failures;
            REQUIRE(s == COW_ENOMEM);
            CHECK(cow_ptr_eq(next_map, m));
            CHECK(cow_map_len(next_map) == 200);
            CHECK(cow_map_get(next_map, &x, sizeof x) == nullptr);
            CHECK(test::stats(m).switches == ms.switches);
            CHECK(test::stats(m).copies == ms.copies);
        }
        CHECK(failures >= 1);
        CHECK(is_tree(next_map) != tree_before);
        CHECK(map_at(next_map, 777) == 777);
        CHECK(cow_map_len(next_map) == 201);
        CHECK(cow_map_len(m) == 200);
        cow_vec_release(next);
        cow_vec_release(v);
        cow_map_release(next_map);
        cow_map_release(m);
    }
}

TEST_CASE("adaptive: a map that becomes a tree holds copies of every entry, long keys and tracked values included, in the shape inserts give") {
    test::leak_check leaks;
    test::copy_tracker tracker;
    const cow_type values = test::tracked_type(tracker);
    // Keys of 3 to 60 bytes: the long ones live in key blocks.
    auto key_of = [](int i) { return std::string(3 + i % 58, char('a' + i % 26)) + std::to_string(i); };
    const cow_options adaptive_opts = adaptive(1024);
    cow_options structural = COW_OPTIONS_INIT;
    structural.strategy = COW_STRATEGY_STRUCTURAL;
    cow_map *a = nullptr, *s = nullptr;
    REQUIRE(cow_map_new(&a, cow_type_string(), &values, &adaptive_opts) == COW_OK);
    REQUIRE(cow_map_new(&s, cow_type_string(), &values, &structural) == COW_OK);
    constexpr int n = 3000;
    for (int i = 0; i < n; ++i) {
        std::string k = key_of(i);
        u64 x = u64(i);
        REQUIRE(cow_map_insert(&a, k.data(), k.size(), &x, nullptr, nullptr) == COW_OK);
        REQUIRE(cow_map_insert(&s, k.data(), k.size(), &x, nullptr, nullptr) == COW_OK);
    }
    for (int round = 1; round <= switching_copy; ++round) {
        cow_map *next = cow_map_clone(a);
        std::string k = key_of(round);
        u64 x = u64(round);  // the same value: contents stay those of s
        REQUIRE(cow_map_insert(&next, k.data(), k.size(), &x, nullptr, nullptr) == COW_OK);
        cow_map_release(a);
        a = next;
    }
    REQUIRE(is_tree(a));
    CHECK(cow_map_len(a) == n);
    CHECK(cow_map_equal(a, s));
    CHECK(cow_map_hash(a) == cow_map_hash(s));
    for (int i = 0; i < n; ++i) {
        std::string k = key_of(i);
        const void *p = cow_map_get(a, k.data(), k.size());
        REQUIRE(p != nullptr);
        CHECK(*static_cast<const u64 *>(p) == u64(i));
    }
    // The same removals in both: a built tree and an inserted one answer
    // alike, down to removals that fold nodes back into their parents.
    for (int i = 0; i < n; i += 3) {
        std::string k = key_of(i);
        REQUIRE(cow_map_remove(&a, k.data(), k.size(), nullptr) == COW_OK);
        REQUIRE(cow_map_remove(&s, k.data(), k.size(), nullptr) == COW_OK);
    }
    CHECK(cow_map_equal(a, s));
    int changes = 0;
    bool stopped = true;
    REQUIRE(cow_map_diff(a, s, [](void *ctx, cow_map_change_t, const void *, size_t, const void *,
                                  const void *) { return ++*static_cast<int *>(ctx), 0; },
                         &changes, &stopped) == COW_OK);
    CHECK(changes == 0);
    CHECK(!stopped);
    cow_map_release(a);
    cow_map_release(s);
    CHECK(tracker.live() == 0);  // every value copy dropped once
}

TEST_CASE("adaptive: a map write that switches, either way, copies no value it replaces or removes without handing it out") {
    test::leak_check leaks;
    test::copy_tracker tracker;
    const cow_type values = test::tracked_type(tracker);
    const cow_options o = adaptive(1024);
    bool replace = false;
    SUBCASE("replace") { replace = true; }
    SUBCASE("remove") { replace = false; }
    // The write under test, on key k of the shared map *h: the value it
    // replaces or removes is dropped by the library.
    auto write = [&](cow_map **h, u64 k) {
        if (replace) {
            u64 x = 7;
            bool replaced = false;
            REQUIRE(cow_map_insert(h, &k, sizeof k, &x, nullptr, &replaced) == COW_OK);
            CHECK(replaced);
            CHECK(map_at(*h, k) == 7);
        } else {
            REQUIRE(cow_map_remove(h, &k, sizeof k, nullptr) == COW_OK);
            CHECK(cow_map_get(*h, &k, sizeof k) == nullptr);
        }
    };
    // Clones *cur, writes key k of the clone, which must switch to `tree`,
    // and checks the value copies it made: the other entries' values, and
    // the new value of a replace.
    auto switching_write = [&](cow_map **cur, u64 k, bool tree) {
        cow_map *next = cow_map_clone(*cur);
        REQUIRE(next != nullptr);
        long before = tracker.copies;
        std::size_t len = cow_map_len(*cur);
        write(&next, k);
        CHECK(is_tree(next) == tree);
        CHECK(tracker.copies - before == long(replace ? len : len - 1));
        CHECK(map_at(*cur, k) == k);  // the version it came from is intact
        cow_map_release(*cur);
        *cur = next;
        CHECK(tracker.live() == long(cow_map_len(next)));
    };
    cow_map *m = nullptr;
    REQUIRE(cow_map_new(&m, cow_type_u64(), &values, &o) == COW_OK);
    for (u64 k = 0; k < 200; ++k) REQUIRE(cow_map_insert(&m, &k, sizeof k, &k, nullptr, nullptr) == COW_OK);
    map_round(&m, 0, 0);  // the next copy switches
    switching_write(&m, 1, true);
    // Below the floor, the next copy of the tree is flat.
    for (u64 k = 20; k < 200; ++k) REQUIRE(cow_map_remove(&m, &k, sizeof k, nullptr) == COW_OK);
    switching_write(&m, 2, false);
    CHECK(test::stats(m).switches == 2);
    cow_map_release(m);
    CHECK(tracker.live() == 0);
}

TEST_CASE("adaptive: a write too long for any vector is refused before the rule makes a copy") {
    test::leak_check leaks;
    test::allocator_scope scope;
    cow_vec *v = u64_vec(1000, adaptive(1024));
    vec_round(&v, 0, 1);  // the next copy would switch
    cow_vec *next = cow_vec_clone(v);
    long calls = scope.allocator.calls;
    u64 x = 5;
    CHECK(cow_vec_extend(&next, &x, SIZE_MAX) == COW_EOVERFLOW);
    CHECK(cow_vec_reserve(&next, SIZE_MAX) == COW_EOVERFLOW);
    CHECK(scope.allocator.calls == calls);
    CHECK(cow_ptr_eq(next, v));
    CHECK(!is_tree(next));
    vec_round(&next, 0, 2);  // the history is intact: this copy switches
    CHECK(is_tree(next));
    cow_vec_release(next);
    cow_vec_release(v);
}

TEST_CASE("adaptive: writes that change nothing make no copy and no switch, even where the next copy would switch") {
    test::leak_check leaks;
    test::allocator_scope scope;
    cow_vec *v = u64_vec(1000, adaptive(1024));
    cow_map *m = u64_map(200, adaptive(1024));
    vec_round(&v, 0, 1);
    map_round(&m, 0, 1);
    cow_vec *w = cow_vec_clone(v);
    cow_map *n = cow_map_clone(m);
    long calls = scope.allocator.calls;
    u64 missing = 5000;
    void *p = nullptr;
    CHECK(cow_vec_extend(&w, nullptr, 0) == COW_OK);
    CHECK(cow_vec_truncate(&w, 1000) == COW_OK);
    CHECK(cow_map_remove(&n, &missing, sizeof missing, nullptr) == COW_ENOTFOUND);
    CHECK(cow_map_get_mut(&n, &missing, sizeof missing, &p) == COW_ENOTFOUND);
    CHECK(scope.allocator.calls == calls);
    CHECK(cow_ptr_eq(w, v));
    CHECK(cow_ptr_eq(n, m));
    CHECK(test::stats(v).copies == 1);
    CHECK(test::stats(m).copies == 1);
    vec_round(&w, 0, 2);  // a real write still switches
    map_round(&n, 0, 2);
    CHECK(is_tree(w));
    CHECK(is_tree(n));
    cow_vec_release(w);
    cow_vec_release(v);
    cow_map_release(n);
    cow_map_release(m);
}
