// cow_box through the C API: one value of a user type, copy on write,
// update as a transform, into, exact callback counts and every error path.
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "cow.h"
#include "support.hpp"

namespace {

struct record {
    int id;
    double x;
    char name[16];
};

// The record type; with a tracker, its copies and drops are counted and
// the n-th copy (counted from when it is armed) can be made to fail.
cow_type record_type(test::copy_tracker *t) {
    if (t) return test::tracked_type(*t, sizeof(record), alignof(record), "record");
    cow_type ty;
    cow_type_init(&ty, sizeof(record), alignof(record));
    ty.name = "record";
    return ty;
}

record make_record(int id, double x, const char *name) {
    record r{};
    r.id = id;
    r.x = x;
    std::strncpy(r.name, name, sizeof r.name - 1);
    return r;
}

const record &get(const cow_box *b) {
    const void *p = cow_box_get(b);
    REQUIRE(p != nullptr);
    return *static_cast<const record *>(p);
}

long allocations(const test::allocator_scope &s) { return s.allocator.successful_allocations(); }

// Update callbacks.
cow_status scale_x(void *ctx, void *value) {
    static_cast<record *>(value)->x *= *static_cast<double *>(ctx);
    return COW_OK;
}
// Changes the value, then fails with the status in ctx.
cow_status scribble_then_fail(void *ctx, void *value) {
    auto *r = static_cast<record *>(value);
    r->id = -1;
    std::strcpy(r->name, "scribbled");
    return *static_cast<cow_status *>(ctx);
}

}  // namespace

TEST_CASE("box: create and read") {
    test::leak_check leaks;
    cow_type ty = record_type(nullptr);
    record r = make_record(7, 2.5, "seven");
    cow_box *b = nullptr;
    REQUIRE(cow_box_new(&b, &ty, &r, nullptr) == COW_OK);
    CHECK(cow_kind(b) == COW_KIND_BOX);
    CHECK(cow_box_type(b) == &ty);
    CHECK(cow_box_get(b) != &r);  // the box holds its own copy
    r.id = 99;
    CHECK(get(b).id == 7);
    CHECK(get(b).x == 2.5);
    CHECK(std::strcmp(get(b).name, "seven") == 0);
    CHECK(reinterpret_cast<uintptr_t>(cow_box_get(b)) % alignof(record) == 0);
    auto st = test::stats(b);
    CHECK(st.value_bytes == sizeof(record));
    CHECK(st.live_values == 1);
    cow_box_release(b);
}

TEST_CASE("box: clone shares; make_mut copies only when shared") {
    test::leak_check leaks;
    cow_type ty = record_type(nullptr);
    record r = make_record(1, 1.0, "one");
    test::allocator_scope scope;
    cow_box *b = nullptr;
    REQUIRE(cow_box_new(&b, &ty, &r, nullptr) == COW_OK);

    // Exclusive: same pointer, nothing allocated.
    const void *before_ptr = cow_box_get(b);
    long before = allocations(scope);
    void *m = nullptr;
    REQUIRE(cow_box_make_mut(&b, &m) == COW_OK);
    CHECK(m == before_ptr);
    CHECK(allocations(scope) == before);
    static_cast<record *>(m)->id = 2;
    CHECK(get(b).id == 2);

    // Shared: the clone allocates nothing, make_mut copies once (one block).
    cow_box *c = cow_box_clone(b);
    REQUIRE(c != nullptr);
    CHECK(allocations(scope) == before);
    CHECK(cow_ptr_eq(b, c));
    CHECK(cow_strong_count(b) == 2);
    CHECK(cow_is_shared(c));
    REQUIRE(cow_box_make_mut(&c, &m) == COW_OK);
    CHECK(allocations(scope) - before == 1);
    CHECK_FALSE(cow_ptr_eq(b, c));
    CHECK(m == cow_box_get(c));
    CHECK(m != cow_box_get(b));
    static_cast<record *>(m)->id = 3;
    CHECK(get(b).id == 2);
    CHECK(get(c).id == 3);
    CHECK(cow_strong_count(b) == 1);
    auto st = test::stats(b);
    CHECK(st.clones == 1);
    CHECK(st.copies == 1);
    CHECK(st.bytes_copied == sizeof(record));
    CHECK(st.live_values == 2);
    REQUIRE(cow_box_make_mut(&c, nullptr) == COW_OK);

    // The generic cow_make_mut works on boxes too.
    cow_box *d = cow_box_clone(b);
    REQUIRE(cow_make_mut(&d) == COW_OK);
    CHECK_FALSE(cow_ptr_eq(b, d));
    CHECK(get(d).id == 2);
    CHECK(test::stats(b).copies == 2);
    cow_box_release(b);
    cow_box_release(c);
    cow_release(d);
}

TEST_CASE("box: into") {
    test::leak_check leaks;
    test::copy_tracker tr;
    cow_type ty = record_type(&tr);
    record r = make_record(4, 4.5, "four");
    SUBCASE("unique: moved out, no copy, no drop, no allocation") {
        test::allocator_scope scope;
        cow_box *b = nullptr;
        REQUIRE(cow_box_new(&b, &ty, &r, nullptr) == COW_OK);
        CHECK(tr.copies == 1);
        long before = allocations(scope);
        record out{};
        REQUIRE(cow_box_into(&b, &out) == COW_OK);
        CHECK(b == nullptr);
        CHECK(allocations(scope) == before);
        CHECK(out.id == 4);
        CHECK(std::strcmp(out.name, "four") == 0);
        CHECK(tr.copies == 1);
        CHECK(tr.drops == 0);  // the caller owns the value now
        CHECK(test::global().live_values == 0);
        test::tracked_drop(&tr, &out);
    }
    SUBCASE("shared: a copy, the original untouched") {
        cow_box *b = nullptr;
        REQUIRE(cow_box_new(&b, &ty, &r, nullptr) == COW_OK);
        cow_box *c = cow_box_clone(b);
        record out{};
        REQUIRE(cow_box_into(&c, &out) == COW_OK);
        CHECK(c == nullptr);
        CHECK(out.id == 4);
        CHECK(tr.copies == 2);
        CHECK(cow_strong_count(b) == 1);
        CHECK(get(b).id == 4);
        test::tracked_drop(&tr, &out);
        cow_box_release(b);
    }
    CHECK(tr.live() == 0);
}

TEST_CASE("box: update as a transform") {
    test::leak_check leaks;
    test::copy_tracker tr;
    cow_type ty = record_type(&tr);
    record r = make_record(5, 2.0, "five");
    cow_box *b = nullptr;
    REQUIRE(cow_box_new(&b, &ty, &r, nullptr) == COW_OK);
    double factor = 3.0;

    // Unique: in place.
    cow_box *before = b;
    REQUIRE(cow_box_update(&b, scale_x, &factor) == COW_OK);
    CHECK(b == before);
    CHECK(get(b).x == 6.0);
    CHECK(tr.copies == 1);

    // Shared: fn runs on a private copy; the other holder keeps the old value.
    cow_box *c = cow_box_clone(b);
    REQUIRE(cow_box_update(&c, scale_x, &factor) == COW_OK);
    CHECK_FALSE(cow_ptr_eq(b, c));
    CHECK(get(b).x == 6.0);
    CHECK(get(c).x == 18.0);
    CHECK(tr.copies == 2);
    CHECK(test::stats(b).copies == 1);

    // Shared, fn fails: its status as is, the copy discarded, the slot unchanged.
    cow_box *d = cow_box_clone(b);
    cow_status fail = 1234;
    CHECK(cow_box_update(&d, scribble_then_fail, &fail) == 1234);
    CHECK(d == b);
    CHECK(get(b).id == 5);
    CHECK(std::strcmp(get(b).name, "five") == 0);
    CHECK(tr.copies == 3);
    CHECK(tr.drops == 1);  // the discarded copy
    CHECK(test::stats(b).copies == 1);  // a discarded copy is not counted
    CHECK(test::stats(b).live_values == 2);
    fail = COW_ENOTFOUND;
    CHECK(cow_box_update(&d, scribble_then_fail, &fail) == COW_ENOTFOUND);
    CHECK(get(b).id == 5);
    cow_box_release(d);

    // Unique, fn fails: the edits it made before failing stay.
    fail = 77;
    CHECK(cow_box_update(&c, scribble_then_fail, &fail) == 77);
    CHECK(get(c).id == -1);
    CHECK(std::strcmp(get(c).name, "scribbled") == 0);

    cow_box_release(b);
    cow_box_release(c);
    CHECK(tr.live() == 0);
}

TEST_CASE("box: copy and drop callbacks run exactly as often as needed") {
    test::leak_check leaks;
    test::copy_tracker tr;
    cow_type ty = record_type(&tr);
    record r = make_record(6, 0.5, "six");
    cow_box *a = nullptr;
    REQUIRE(cow_box_new(&a, &ty, &r, nullptr) == COW_OK);
    CHECK(tr.copies == 1);
    cow_box *clones[4];
    for (auto &c : clones) c = cow_box_clone(a);
    CHECK(tr.copies == 1);  // clones share
    CHECK(cow_strong_count(a) == 5);
    void *m;
    REQUIRE(cow_box_make_mut(&clones[0], &m) == COW_OK);
    CHECK(tr.copies == 2);
    REQUIRE(cow_box_make_mut(&clones[0], &m) == COW_OK);  // unique now
    CHECK(tr.copies == 2);
    for (int i = 1; i < 4; ++i) cow_box_release(clones[i]);
    CHECK(tr.drops == 0);  // a still holds the value
    cow_box_release(a);
    CHECK(tr.drops == 1);
    cow_box_release(clones[0]);
    CHECK(tr.drops == 2);
    CHECK(tr.live() == 0);
}

TEST_CASE("box: strategies") {
    test::leak_check leaks;
    test::copy_tracker tr;
    cow_type ty = record_type(&tr);
    record r = make_record(8, 8.0, "eight");
    cow_options eager = COW_OPTIONS_INIT;
    eager.strategy = COW_STRATEGY_EAGER;
    cow_box *b = nullptr;
    REQUIRE(cow_box_new(&b, &ty, &r, &eager) == COW_OK);
    cow_box *c = cow_box_clone(b);
    REQUIRE(c != nullptr);
    CHECK_FALSE(cow_ptr_eq(b, c));
    CHECK(tr.copies == 2);
    CHECK(test::stats(b).copies == 1);
    CHECK(test::stats(b).clones == 1);
    cow_box *before = c;
    void *m;
    REQUIRE(cow_box_make_mut(&c, &m) == COW_OK);
    CHECK(c == before);

    cow_options th = COW_OPTIONS_INIT;
    th.strategy = COW_STRATEGY_THRESHOLD;
    th.threshold_bytes = sizeof(record) + 1;  // below: copies at clone
    cow_box *small = nullptr;
    REQUIRE(cow_box_new(&small, &ty, &r, &th) == COW_OK);
    cow_box *s2 = cow_box_clone(small);
    CHECK_FALSE(cow_ptr_eq(small, s2));
    th.threshold_bytes = sizeof(record);  // not below: shares
    cow_box *big = nullptr;
    REQUIRE(cow_box_new(&big, &ty, &r, &th) == COW_OK);
    cow_box *b2 = cow_box_clone(big);
    CHECK(cow_ptr_eq(big, b2));

    for (cow_box *x : {b, c, small, s2, big, b2}) cow_box_release(x);
    CHECK(tr.live() == 0);
}

TEST_CASE("box: over-aligned values and handle values") {
    test::leak_check leaks;
    for (size_t align : {size_t(1), size_t(16), size_t(32), size_t(64)}) {
        CAPTURE(align);
        cow_type t;
        cow_type_init(&t, align == 1 ? 3 : align * 2, align);
        std::vector<unsigned char> v(t.elem_size, 0x5a);
        cow_box *b = nullptr;
        REQUIRE(cow_box_new(&b, &t, v.data(), nullptr) == COW_OK);
        CHECK(reinterpret_cast<uintptr_t>(cow_box_get(b)) % align == 0);
        CHECK(std::memcmp(cow_box_get(b), v.data(), v.size()) == 0);
        cow_box *c = cow_box_clone(b);
        void *m;
        REQUIRE(cow_box_make_mut(&c, &m) == COW_OK);
        CHECK(reinterpret_cast<uintptr_t>(m) % align == 0);
        CHECK(std::memcmp(m, v.data(), v.size()) == 0);
        cow_box_release(b);
        cow_box_release(c);
    }

    // A box of a handle shares the handle and releases it once.
    cow_str *s = nullptr;
    REQUIRE(cow_str_new(&s, "held", 4, nullptr) == COW_OK);
    cow_box *b = nullptr;
    REQUIRE(cow_box_new(&b, cow_type_handle(), &s, nullptr) == COW_OK);
    CHECK(cow_strong_count(s) == 2);
    cow_box *c = cow_box_clone(b);
    CHECK(cow_strong_count(s) == 2);
    REQUIRE(cow_box_make_mut(&c, nullptr) == COW_OK);
    CHECK(cow_strong_count(s) == 3);
    cow_str *out = nullptr;
    REQUIRE(cow_box_into(&c, &out) == COW_OK);  // unique: moved
    CHECK(cow_ptr_eq(out, s));
    CHECK(cow_strong_count(s) == 3);
    cow_str_release(out);
    cow_box_release(b);
    CHECK(cow_strong_count(s) == 1);
    cow_str_release(s);
}

TEST_CASE("box: invalid arguments") {
    test::leak_check leaks;
    cow_type ty = record_type(nullptr);
    record r = make_record(9, 9.0, "nine");
    cow_box *made = nullptr;
    CHECK(cow_box_new(nullptr, &ty, &r, nullptr) == COW_EINVAL);
    CHECK(cow_box_new(&made, nullptr, &r, nullptr) == COW_EINVAL);
    CHECK(cow_box_new(&made, &ty, nullptr, nullptr) == COW_EINVAL);
    cow_type bad;
    cow_type_init(&bad, 0, 8);
    CHECK(cow_box_new(&made, &bad, &r, nullptr) == COW_EINVAL);
    cow_type_init(&bad, sizeof r, 12);
    CHECK(cow_box_new(&made, &bad, &r, nullptr) == COW_EINVAL);
    cow_type_init(&bad, sizeof r, 256);
    CHECK(cow_box_new(&made, &bad, &r, nullptr) == COW_EINVAL);
    cow_type_init(&bad, sizeof r, 8);
    bad.flags = 2;
    CHECK(cow_box_new(&made, &bad, &r, nullptr) == COW_EINVAL);
    CHECK(cow_box_new(&made, cow_type_bytes(), &r, nullptr) == COW_EINVAL);
    cow_options o = COW_OPTIONS_INIT;
    o.strategy = COW_STRATEGY_ADAPTIVE;
    CHECK(cow_box_new(&made, &ty, &r, &o) == COW_EUNSUPPORTED);
    o = COW_OPTIONS_INIT;
    o.flags = 0x80;
    CHECK(cow_box_new(&made, &ty, &r, &o) == COW_EINVAL);
    CHECK(made == nullptr);

    cow_box *b = nullptr;
    REQUIRE(cow_box_new(&b, &ty, &r, nullptr) == COW_OK);
    cow_str *s = nullptr;
    REQUIRE(cow_str_new(&s, "str", 3, nullptr) == COW_OK);
    auto *wrong = reinterpret_cast<cow_box *>(s);
    cow_box *null_box = nullptr;
    void *m = nullptr;
    record out{};
    double f = 2.0;

    using slot_call = std::function<cow_status(cow_box **)>;
    std::vector<slot_call> calls = {
        [&](cow_box **sl) { return cow_box_make_mut(sl, &m); },
        [&](cow_box **sl) { return cow_box_update(sl, scale_x, &f); },
        [&](cow_box **sl) { return cow_box_into(sl, &out); },
    };
    for (size_t i = 0; i < calls.size(); ++i) {
        CAPTURE(i);
        CHECK(calls[i](nullptr) == COW_EINVAL);
        CHECK(calls[i](&null_box) == COW_EINVAL);
        cow_box *w = wrong;
        CHECK(calls[i](&w) == COW_ETYPE);
        CHECK(w == wrong);
    }
    CHECK(cow_box_update(&b, nullptr, &f) == COW_EINVAL);
    CHECK(cow_box_into(&b, nullptr) == COW_EINVAL);
    CHECK(b != nullptr);
    CHECK(get(b).x == 9.0);
    CHECK(m == nullptr);
    CHECK(out.id == 0);

    CHECK(cow_box_get(nullptr) == nullptr);
    CHECK(cow_box_get(wrong) == nullptr);
    CHECK(cow_box_type(nullptr) == nullptr);
    CHECK(cow_box_type(wrong) == nullptr);
    CHECK(cow_box_clone(nullptr) == nullptr);
    CHECK(cow_box_clone(wrong) == nullptr);
    cow_box_release(nullptr);
    cow_box_release(wrong);  // not a box: no effect
    CHECK(cow_strong_count(s) == 1);
    CHECK(cow_str_len(s) == 3);
    cow_str_release(s);
    cow_box_release(b);
}

TEST_CASE("box: a failing allocator changes nothing and leaks nothing") {
    test::copy_tracker tr;
    cow_type ty = record_type(&tr);
    record r = make_record(3, 3.0, "three");
    double f = 10.0;
    cow_options eager = COW_OPTIONS_INIT;
    eager.strategy = COW_STRATEGY_EAGER;

    // Creation: the lineage, then the block.
    for (long k = 1;; ++k) {
        CAPTURE(k);
        test::leak_check leaks;
        test::allocator_scope scope(k);
        cow_box *b = nullptr;
        cow_status s = cow_box_new(&b, &ty, &r, nullptr);
        if (s == COW_OK) {
            CHECK(k == 3);
            cow_box_release(b);
            break;
        }
        CHECK(s == COW_ENOMEM);
        CHECK(b == nullptr);
        REQUIRE(k < 5);
    }

    // Writes to a shared box: one block each.
    struct named {
        const char *name;
        std::function<cow_status(cow_box **)> op;
        const cow_options *opts;
    };
    record out{};
    std::vector<named> ops = {
        {"make_mut", [&](cow_box **s) { return cow_box_make_mut(s, nullptr); }, nullptr},
        {"cow_make_mut", [&](cow_box **s) { return cow_make_mut(s); }, nullptr},
        {"update", [&](cow_box **s) { return cow_box_update(s, scale_x, &f); }, nullptr},
        {"eager clone",
         [&](cow_box **s) {
             cow_box *c = cow_box_clone(*s);
             if (!c) return COW_ENOMEM;
             cow_box_release(c);
             return COW_OK;
         },
         &eager},
    };
    for (auto &op : ops) {
        for (long k = 1;; ++k) {
            std::string name = op.name;
            CAPTURE(name);
            CAPTURE(k);
            test::leak_check leaks;
            test::allocator_scope scope;
            cow_box *b = nullptr;
            REQUIRE(cow_box_new(&b, &ty, &r, op.opts) == COW_OK);
            cow_box *other = op.opts ? nullptr : cow_box_clone(b);
            scope.allocator.fail_at = scope.allocator.calls + k;
            long calls_before = scope.allocator.calls;
            cow_box *slot = b;
            cow_status s = op.op(&slot);
            long made = scope.allocator.calls - calls_before;
            scope.allocator.fail_at = 0;
            if (s == COW_OK) {
                CHECK(made == 1);
                CHECK(k == 2);
                cow_box_release(slot);
                cow_box_release(other);
                break;
            }
            CHECK(s == COW_ENOMEM);
            CHECK(slot == b);
            CHECK(get(b).x == 3.0);
            CHECK(cow_strong_count(b) == (other ? 2u : 1u));
            CHECK(test::stats(b).copies == 0);
            cow_box_release(b);
            cow_box_release(other);
            REQUIRE(k < 5);
        }
    }
    // into a shared box needs no allocation.
    {
        test::leak_check leaks;
        test::allocator_scope scope;
        cow_box *b = nullptr;
        REQUIRE(cow_box_new(&b, &ty, &r, nullptr) == COW_OK);
        cow_box *c = cow_box_clone(b);
        long before = allocations(scope);
        REQUIRE(cow_box_into(&c, &out) == COW_OK);
        CHECK(allocations(scope) == before);
        test::tracked_drop(&tr, &out);
        cow_box_release(b);
    }
    CHECK(tr.live() == 0);
}

TEST_CASE("box: a failing copy callback changes nothing and leaks nothing") {
    test::leak_check leaks;
    test::copy_tracker tr;
    cow_type ty = record_type(&tr);
    record r = make_record(2, 2.0, "two");
    double f = 5.0;
    record out = make_record(0, 0.0, "untouched");

    cow_box *made = nullptr;
    tr.arm(1);
    CHECK(cow_box_new(&made, &ty, &r, nullptr) == COW_ECALLBACK);
    CHECK(made == nullptr);
    tr.arm(1, COW_ENOMEM);
    CHECK(cow_box_new(&made, &ty, &r, nullptr) == COW_ENOMEM);  // a libcow code passes through
    CHECK(made == nullptr);
    tr.arm(0);
    CHECK(tr.live() == 0);

    cow_box *b = nullptr;
    REQUIRE(cow_box_new(&b, &ty, &r, nullptr) == COW_OK);
    cow_box *c = cow_box_clone(b);
    using slot_call = std::function<cow_status(cow_box **)>;
    std::vector<slot_call> calls = {
        [&](cow_box **sl) { return cow_box_make_mut(sl, nullptr); },
        [&](cow_box **sl) { return cow_make_mut(sl); },
        [&](cow_box **sl) { return cow_box_update(sl, scale_x, &f); },
        [&](cow_box **sl) { return cow_box_into(sl, &out); },
    };
    for (size_t i = 0; i < calls.size(); ++i) {
        CAPTURE(i);
        tr.arm(1);
        cow_box *slot = c;
        CHECK(calls[i](&slot) == COW_ECALLBACK);
        CHECK(slot == c);
        CHECK(cow_strong_count(b) == 2);
        CHECK(get(b).x == 2.0);
        CHECK(test::stats(b).copies == 0);
        CHECK(tr.live() == 1);
    }
    tr.arm(0);
    CHECK(out.id == 0);

    // An eager clone whose copy fails gives NULL.
    cow_options eager = COW_OPTIONS_INIT;
    eager.strategy = COW_STRATEGY_EAGER;
    cow_box *e = nullptr;
    REQUIRE(cow_box_new(&e, &ty, &r, &eager) == COW_OK);
    tr.arm(1);
    CHECK(cow_box_clone(e) == nullptr);
    tr.arm(0);
    CHECK(tr.live() == 2);
    cow_box_release(e);
    cow_box_release(b);
    cow_box_release(c);
    CHECK(tr.live() == 0);
}
