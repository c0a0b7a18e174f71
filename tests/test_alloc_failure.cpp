// Allocation failure on buffers and strings: for each operation, fail each
// of its allocations in turn. The call must report COW_ENOMEM and leave the
// slot and every value as they were; nothing may leak.
#include <functional>
#include <string>

#include "support.hpp"

namespace {

struct state {
    cow_buf *buf = nullptr;   // one handle, but its storage is viewed by `slice`
    cow_buf *solo = nullptr;  // unique, nothing views it: grows in place
    cow_buf *shared = nullptr, *shared2 = nullptr;  // two handles to one value
    cow_str *str = nullptr;
    cow_buf *slice = nullptr;  // a view into buf's storage
};

std::string bytes(const cow_buf *b) {
    return std::string(reinterpret_cast<const char *>(cow_buf_data(b)), cow_buf_len(b));
}

// Builds the state with the allocator working normally.
void build(state &s) {
    REQUIRE(cow_buf_new(&s.buf, "unique bytes", 12, nullptr) == COW_OK);
    REQUIRE(cow_buf_new(&s.solo, "solo", 4, nullptr) == COW_OK);
    REQUIRE(cow_buf_new(&s.shared, "shared bytes", 12, nullptr) == COW_OK);
    s.shared2 = cow_buf_clone(s.shared);
    REQUIRE(cow_str_new(&s.str, "d\xc3\xa9j\xc3\xa0 vu", 9, nullptr) == COW_OK);
    REQUIRE(cow_buf_slice(&s.slice, s.buf, 0, 6) == COW_OK);
}

void check_unchanged(const state &s, const state &before) {
    CHECK(s.buf == before.buf);
    CHECK(s.solo == before.solo);
    CHECK(bytes(s.solo) == "solo");
    CHECK(s.shared == before.shared);
    CHECK(s.shared2 == before.shared2);
    CHECK(s.str == before.str);
    CHECK(s.slice == before.slice);
    CHECK(bytes(s.buf) == "unique bytes");
    CHECK(bytes(s.shared) == "shared bytes");
    CHECK(cow_strong_count(s.shared) == 2);
    CHECK(std::string(cow_str_data(s.str), cow_str_len(s.str)) == "d\xc3\xa9j\xc3\xa0 vu");
    CHECK(bytes(s.slice) == "unique");
}

void release(state &s) {
    cow_release(s.buf);
    cow_release(s.solo);
    cow_release(s.shared);
    cow_release(s.shared2);
    cow_release(s.str);
    cow_release(s.slice);
}

// Runs op with allocation k failing, for k = 1, 2, ... until op succeeds.
// Returns the number of allocation points found.
int for_each_failure(const std::string &name, const std::function<cow_status(state &)> &op) {
    CAPTURE(name);
    for (int k = 1; k < 64; ++k) {
        CAPTURE(k);
        long calls_before;
        state s;
        cow_status st;
        {
            test::allocator_scope scope;
            build(s);
            state before = s;
            calls_before = scope.allocator.calls;
            scope.allocator.fail_at = calls_before + k;
            st = op(s);
            if (st != COW_OK) {
                CHECK(st == COW_ENOMEM);
                check_unchanged(s, before);
            }
            release(s);
            auto g = test::global();
            CHECK(g.live_values == 0);
            CHECK(g.live_allocations == 0);
        }
        if (st == COW_OK) return k - 1;
    }
    FAIL("operation never succeeded");
    return -1;
}

}  // namespace

TEST_CASE("each allocation of each buffer and string operation can fail cleanly") {
    struct named {
        const char *name;
        std::function<cow_status(state &)> op;
        int min_points;  // allocations the operation must make
    } ops[] = {
        {"buf_new", [](state &) {
             cow_buf *b = nullptr;
             cow_status st = cow_buf_new(&b, "abc", 3, nullptr);
             cow_release(b);
             return st;
         }, 3},  // lineage, rep, bytes
        {"append grows unique", [](state &s) { return cow_buf_append(&s.solo, "0123456789abcdef0123456789", 26); }, 1},
        {"append copies shared", [](state &s) { return cow_buf_append(&s.shared2, "!", 1); }, 2},
        {"insert copies shared", [](state &s) { return cow_buf_insert(&s.shared2, 1, "!", 1); }, 2},
        {"erase copies shared", [](state &s) { return cow_buf_erase(&s.shared2, 1, 2); }, 2},
        {"truncate copies shared", [](state &s) { return cow_buf_truncate(&s.shared2, 3); }, 2},
        {"resize copies shared", [](state &s) { return cow_buf_resize(&s.shared2, 40, '-'); }, 2},
        {"make_mut copies shared", [](state &s) { return cow_buf_make_mut(&s.shared2, nullptr); }, 2},
        {"generic make_mut", [](state &s) { return cow_make_mut(&s.shared2); }, 2},
        {"write to a slice", [](state &s) { return cow_buf_append(&s.slice, "?", 1); }, 2},
        {"write to a slice's parent", [](state &s) { return cow_buf_append(&s.buf, "?", 1); }, 2},
        {"slice", [](state &s) {
             cow_buf *v = nullptr;
             cow_status st = cow_buf_slice(&v, s.buf, 1, 2);
             cow_release(v);
             return st;
         }, 1},
        {"into shared", [](state &s) {
             cow_owned o{};
             cow_status st = cow_buf_into(&s.shared2, &o);
             cow_owned_free(&o);
             return st;
         }, 1},
        {"str append self", [](state &s) { return cow_str_append(&s.str, cow_str_data(s.str), cow_str_len(s.str)); }, 2},
        {"str cstr of a substring", [](state &s) {
             cow_str *sub = nullptr;
             cow_status st = cow_str_substr(&sub, s.str, 0, 3);
             if (st != COW_OK) return st;
             const char *c = nullptr;
             st = cow_str_cstr(&sub, &c);
             cow_release(sub);
             return st;
         }, 2},
        {"stats report", [](state &s) {
             cow_str *r = nullptr;
             cow_status st = cow_stats_report(s.shared, COW_REPORT_TEXT, &r);
             cow_release(r);
             return st;
         }, 3},
    };
    for (auto &o : ops) {
        int points = for_each_failure(o.name, o.op);
        std::string name = o.name;
        CAPTURE(name);
        CHECK(points >= o.min_points);
    }
}

TEST_CASE("an eager clone that cannot allocate returns NULL and changes nothing") {
    test::allocator_scope scope;
    cow_options o = COW_OPTIONS_INIT;
    o.strategy = COW_STRATEGY_EAGER;
    cow_buf *b = nullptr;
    REQUIRE(cow_buf_new(&b, "abc", 3, &o) == COW_OK);
    scope.allocator.fail_at = scope.allocator.calls + 1;
    scope.allocator.fail_all_after = true;
    CHECK(cow_buf_clone(b) == nullptr);
    scope.allocator.fail_at = 0;
    CHECK(cow_strong_count(b) == 1);
    CHECK(test::stats(b).clones == 0);
    cow_release(b);
    CHECK(test::global().live_allocations == 0);
}
