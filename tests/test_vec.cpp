// cow_vec through the C API: sharing, copy on write, element ownership,
// strategies, every error path, allocation and callback failures.
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "cow.h"
#include "support.hpp"

namespace {

const cow_type *i32() { return cow_type_i32(); }

cow_vec *make_i32(std::vector<int32_t> values, const cow_options *opts = nullptr) {
    cow_vec *v = nullptr;
    REQUIRE(cow_vec_from_array(&v, i32(), values.data(), values.size(), opts) == COW_OK);
    return v;
}

// The elements of an int32 (or tracked int64) vector, read through the span cursor.
template <class T = int32_t>
std::vector<T> items(const cow_vec *v) {
    std::vector<T> out;
    cow_vec_cursor c;
    REQUIRE(cow_vec_cursor_init(&c, v) == COW_OK);
    const void *data;
    size_t n;
    while (cow_vec_next_span(&c, &data, &n)) {
        auto *p = static_cast<const T *>(data);
        out.insert(out.end(), p, p + n);
    }
    REQUIRE(out.size() == cow_vec_len(v));
    return out;
}

int32_t at(const cow_vec *v, size_t i) {
    const void *p = cow_vec_get(v, i);
    REQUIRE(p != nullptr);
    int32_t x;
    std::memcpy(&x, p, sizeof x);
    return x;
}

long allocations(const test::allocator_scope &s) { return s.allocator.successful_allocations(); }

using test::tracked_type;
using test::copy_tracker;

uint64_t strong(const void *h) { return cow_strong_count(h); }

}  // namespace

TEST_CASE("vec: create, read, kinds") {
    test::leak_check leaks;
    cow_vec *e = nullptr;
    REQUIRE(cow_vec_new(&e, i32(), nullptr) == COW_OK);
    CHECK(cow_kind(e) == COW_KIND_VEC);
    CHECK(cow_vec_len(e) == 0);
    CHECK(cow_vec_type(e) == i32());
    CHECK(cow_vec_get(e, 0) == nullptr);
    const void *data = nullptr;
    REQUIRE(cow_vec_data(e, &data) == COW_OK);
    CHECK(data != nullptr);  // never NULL, even when empty
    void *mut = nullptr;
    REQUIRE(cow_vec_make_mut(&e, &mut) == COW_OK);
    CHECK(mut != nullptr);

    cow_vec *c = nullptr;
    REQUIRE(cow_vec_with_capacity(&c, i32(), 10, nullptr) == COW_OK);
    CHECK(cow_vec_len(c) == 0);

    int32_t src[] = {5, 6, 7};
    cow_vec *v = nullptr;
    REQUIRE(cow_vec_from_array(&v, i32(), src, 3, nullptr) == COW_OK);
    CHECK(items(v) == std::vector<int32_t>{5, 6, 7});
    CHECK(at(v, 2) == 7);
    CHECK(cow_vec_get(v, 3) == nullptr);
    src[0] = 99;  // the vector holds copies
    CHECK(at(v, 0) == 5);
    REQUIRE(cow_vec_data(v, &data) == COW_OK);
    CHECK(data == cow_vec_get(v, 0));

    cow_vec *z = nullptr;
    REQUIRE(cow_vec_from_array(&z, i32(), nullptr, 0, nullptr) == COW_OK);
    CHECK(cow_vec_len(z) == 0);

    cow_vec_release(e);
    cow_vec_release(c);
    cow_vec_release(v);
    cow_release(z);
}

TEST_CASE("vec: clone shares, release lowers the count, clone allocates nothing") {
    test::leak_check leaks;
    test::allocator_scope scope;
    cow_vec *v = make_i32({1, 2, 3});
    long before = allocations(scope);
    cow_vec *w = cow_vec_clone(v);
    CHECK(allocations(scope) == before);
    REQUIRE(w != nullptr);
    CHECK(cow_ptr_eq(v, w));
    CHECK(strong(v) == 2);
    CHECK(cow_is_shared(v));
    CHECK(cow_is_shared(w));
    auto st = test::stats(v);
    CHECK(st.clones == 1);
    CHECK(st.copies == 0);
    CHECK(st.live_handles == 2);
    CHECK(st.live_values == 1);
    CHECK(st.value_bytes == 3 * sizeof(int32_t));
    CHECK(st.memory_saved == 3 * sizeof(int32_t));
    cow_vec_release(w);
    CHECK(strong(v) == 1);
    CHECK_FALSE(cow_is_shared(v));
    CHECK(items(v) == std::vector<int32_t>{1, 2, 3});

    // Multiple clones: every holder keeps its view when one of them writes.
    cow_vec *clones[5];
    for (auto &c : clones) c = cow_vec_clone(v);
    CHECK(strong(v) == 6);
    int32_t x = 4;
    REQUIRE(cow_vec_push(&clones[2], &x) == COW_OK);
    CHECK(strong(v) == 5);
    CHECK(strong(clones[2]) == 1);
    CHECK(items(clones[2]) == std::vector<int32_t>{1, 2, 3, 4});
    for (int i = 0; i < 5; ++i)
        if (i != 2) CHECK(items(clones[i]) == std::vector<int32_t>{1, 2, 3});
    CHECK(test::stats(v).clones == 6);
    CHECK(test::stats(v).copies == 1);
    for (auto c : clones) cow_vec_release(c);
    cow_vec_release(v);
    cow_vec_release(nullptr);  // no effect
}

TEST_CASE("vec: push to a shared vector copies once, the original is unchanged") {
    test::leak_check leaks;
    test::allocator_scope scope;
    cow_vec *v = make_i32({1, 2, 3});
    cow_vec *w = cow_vec_clone(v);
    long before = allocations(scope);
    int32_t x = 4;
    REQUIRE(cow_vec_push(&w, &x) == COW_OK);
    // One header and one element block of the final size: no copy-then-grow.
    CHECK(allocations(scope) - before == 2);
    CHECK(scope.allocator.reallocs == 0);
    CHECK_FALSE(cow_ptr_eq(v, w));
    CHECK(items(v) == std::vector<int32_t>{1, 2, 3});
    CHECK(items(w) == std::vector<int32_t>{1, 2, 3, 4});
    CHECK(strong(v) == 1);
    CHECK(strong(w) == 1);
    auto st = test::stats(w);
    CHECK(st.copies == 1);
    CHECK(st.clones == 1);
    CHECK(st.bytes_copied == 3 * sizeof(int32_t));
    CHECK(st.live_values == 2);
    CHECK(st.live_handles == 2);

    // The copy is unique now: the next write is in place.
    before = allocations(scope);
    int32_t y = 9;
    REQUIRE(cow_vec_set(&w, 0, &y, nullptr) == COW_OK);
    CHECK(allocations(scope) == before);
    CHECK(test::stats(w).copies == 1);
    cow_vec_release(v);
    cow_vec_release(w);
}

TEST_CASE("vec: unique pushes are in place and grow geometrically") {
    test::leak_check leaks;
    test::allocator_scope scope;
    cow_vec *v = nullptr;
    REQUIRE(cow_vec_with_capacity(&v, i32(), 8, nullptr) == COW_OK);
    const void *data0;
    REQUIRE(cow_vec_data(v, &data0) == COW_OK);
    long before = allocations(scope);
    for (int32_t i = 0; i < 8; ++i) REQUIRE(cow_vec_push(&v, &i) == COW_OK);
    CHECK(allocations(scope) == before);  // within capacity: zero allocations
    const void *data1;
    REQUIRE(cow_vec_data(v, &data1) == COW_OK);
    CHECK(data1 == data0);
    int32_t i = 8;
    REQUIRE(cow_vec_push(&v, &i) == COW_OK);
    CHECK(allocations(scope) == before + 1);  // one new block
    cow_vec_release(v);

    REQUIRE(cow_vec_new(&v, i32(), nullptr) == COW_OK);
    before = allocations(scope);
    for (int32_t k = 0; k < 10000; ++k) REQUIRE(cow_vec_push(&v, &k) == COW_OK);
    long grows = allocations(scope) - before;
    CHECK(grows >= 10);
    CHECK(grows <= 13);  // 4, 8, ..., 16384: logarithmic
    CHECK(cow_vec_len(v) == 10000);
    CHECK(at(v, 9999) == 9999);
    CHECK(test::stats(v).copies == 0);
    cow_vec_release(v);
}

TEST_CASE("vec: set by index") {
    test::leak_check leaks;
    test::allocator_scope scope;
    cow_vec *v = make_i32({1, 2, 3});
    cow_vec *w = cow_vec_clone(v);
    int32_t x = 20, old = 0;
    long before = allocations(scope);
    REQUIRE(cow_vec_set(&w, 1, &x, &old) == COW_OK);
    CHECK(allocations(scope) - before == 2);
    CHECK(old == 2);
    CHECK(items(v) == std::vector<int32_t>{1, 2, 3});
    CHECK(items(w) == std::vector<int32_t>{1, 20, 3});
    CHECK(test::stats(w).copies == 1);
    CHECK(test::stats(w).bytes_copied == 2 * sizeof(int32_t));  // the others, not the replaced one

    // Unique: in place, no allocation, same storage.
    const void *d0, *d1;
    REQUIRE(cow_vec_data(w, &d0) == COW_OK);
    before = allocations(scope);
    x = 30;
    REQUIRE(cow_vec_set(&w, 2, &x, &old) == COW_OK);
    CHECK(old == 3);
    CHECK(allocations(scope) == before);
    REQUIRE(cow_vec_data(w, &d1) == COW_OK);
    CHECK(d0 == d1);
    // Setting an element from itself.
    REQUIRE(cow_vec_set(&w, 0, cow_vec_get(w, 2), nullptr) == COW_OK);
    CHECK(items(w) == std::vector<int32_t>{30, 20, 30});
    CHECK(cow_vec_set(&w, 3, &x, nullptr) == COW_ERANGE);
    cow_vec_release(v);
    cow_vec_release(w);
}

TEST_CASE("vec: pop, insert, erase, truncate, clear, reserve") {
    test::leak_check leaks;
    test::allocator_scope scope;
    cow_vec *v = make_i32({1, 2, 3, 4});

    SUBCASE("pop") {
        cow_vec *w = cow_vec_clone(v);
        int32_t out = 0;
        REQUIRE(cow_vec_pop(&w, &out) == COW_OK);
        CHECK(out == 4);
        CHECK(items(v) == std::vector<int32_t>{1, 2, 3, 4});
        CHECK(items(w) == std::vector<int32_t>{1, 2, 3});
        long before = allocations(scope);
        REQUIRE(cow_vec_pop(&w, nullptr) == COW_OK);
        REQUIRE(cow_vec_pop(&w, &out) == COW_OK);
        CHECK(out == 2);
        REQUIRE(cow_vec_pop(&w, &out) == COW_OK);
        CHECK(out == 1);
        CHECK(allocations(scope) == before);
        CHECK(cow_vec_pop(&w, &out) == COW_ERANGE);
        CHECK(out == 1);
        cow_vec_release(w);
    }
    SUBCASE("insert") {
        cow_vec *w = cow_vec_clone(v);
        int32_t x = 10;
        REQUIRE(cow_vec_insert(&w, 0, &x) == COW_OK);
        CHECK(items(w) == std::vector<int32_t>{10, 1, 2, 3, 4});
        CHECK(items(v) == std::vector<int32_t>{1, 2, 3, 4});
        x = 11;
        REQUIRE(cow_vec_insert(&w, 5, &x) == COW_OK);  // at the end
        x = 12;
        REQUIRE(cow_vec_insert(&w, 2, &x) == COW_OK);
        CHECK(items(w) == std::vector<int32_t>{10, 1, 12, 2, 3, 4, 11});
        CHECK(cow_vec_insert(&w, 8, &x) == COW_ERANGE);
        REQUIRE(cow_vec_reserve(&w, 4) == COW_OK);
        long before = allocations(scope);
        x = 13;
        REQUIRE(cow_vec_insert(&w, 1, &x) == COW_OK);  // in place
        CHECK(allocations(scope) == before);
        CHECK(items(w) == std::vector<int32_t>{10, 13, 1, 12, 2, 3, 4, 11});
        cow_vec_release(w);
    }
    SUBCASE("erase") {
        cow_vec *w = cow_vec_clone(v);
        int32_t out = 0;
        REQUIRE(cow_vec_erase(&w, 1, &out) == COW_OK);
        CHECK(out == 2);
        CHECK(items(w) == std::vector<int32_t>{1, 3, 4});
        CHECK(items(v) == std::vector<int32_t>{1, 2, 3, 4});
        REQUIRE(cow_vec_erase(&w, 0, nullptr) == COW_OK);
        CHECK(items(w) == std::vector<int32_t>{3, 4});
        CHECK(cow_vec_erase(&w, 2, &out) == COW_ERANGE);
        REQUIRE(cow_vec_erase(&w, 1, &out) == COW_OK);
        CHECK(out == 4);
        CHECK(items(w) == std::vector<int32_t>{3});
        cow_vec_release(w);
    }
    SUBCASE("truncate and clear") {
        cow_vec *w = cow_vec_clone(v);
        CHECK(cow_vec_truncate(&w, 5) == COW_ERANGE);
        REQUIRE(cow_vec_truncate(&w, 4) == COW_OK);  // nothing to do: no copy
        CHECK(cow_ptr_eq(v, w));
        REQUIRE(cow_vec_truncate(&w, 2) == COW_OK);
        CHECK(items(w) == std::vector<int32_t>{1, 2});
        CHECK(items(v) == std::vector<int32_t>{1, 2, 3, 4});
        CHECK(test::stats(w).bytes_copied == 2 * sizeof(int32_t));
        cow_vec *u = cow_vec_clone(v);
        long before = allocations(scope);
        REQUIRE(cow_vec_clear(&u) == COW_OK);
        CHECK(allocations(scope) - before == 1);  // a header, no elements copied
        CHECK(cow_vec_len(u) == 0);
        CHECK(cow_vec_len(v) == 4);
        REQUIRE(cow_vec_clear(&u) == COW_OK);
        REQUIRE(cow_vec_clear(&w) == COW_OK);  // unique: in place
        CHECK(cow_vec_len(w) == 0);
        cow_vec_release(w);
        cow_vec_release(u);
    }
    SUBCASE("reserve") {
        cow_vec *w = cow_vec_clone(v);
        REQUIRE(cow_vec_reserve(&w, 0) == COW_OK);  // makes it unique even so
        CHECK_FALSE(cow_ptr_eq(v, w));
        CHECK(strong(v) == 1);
        REQUIRE(cow_vec_reserve(&w, 100) == COW_OK);
        long before = allocations(scope);
        for (int32_t i = 0; i < 100; ++i) REQUIRE(cow_vec_push(&w, &i) == COW_OK);
        CHECK(allocations(scope) == before);
        CHECK(cow_vec_len(w) == 104);
        cow_vec *u = cow_vec_clone(w);
        before = allocations(scope);
        REQUIRE(cow_vec_reserve(&u, 10) == COW_OK);
        CHECK(allocations(scope) - before == 2);
        cow_vec_release(u);
        cow_vec_release(w);
    }
    cow_vec_release(v);
}

TEST_CASE("vec: extend and from_array, all or nothing") {
    test::leak_check leaks;
    cow_vec *v = make_i32({1, 2});
    cow_vec *w = cow_vec_clone(v);
    int32_t more[] = {3, 4, 5};
    REQUIRE(cow_vec_extend(&w, more, 3) == COW_OK);
    CHECK(items(w) == std::vector<int32_t>{1, 2, 3, 4, 5});
    CHECK(items(v) == std::vector<int32_t>{1, 2});
    REQUIRE(cow_vec_extend(&w, nullptr, 0) == COW_OK);
    REQUIRE(cow_vec_extend(&w, more, 0) == COW_OK);
    CHECK(cow_vec_len(w) == 5);
    // Extending a unique vector with itself (the source moves when it grows).
    const void *self;
    REQUIRE(cow_vec_data(w, &self) == COW_OK);
    REQUIRE(cow_vec_extend(&w, self, 5) == COW_OK);
    CHECK(items(w) == std::vector<int32_t>{1, 2, 3, 4, 5, 1, 2, 3, 4, 5});
    cow_vec_release(v);
    cow_vec_release(w);
}

TEST_CASE("vec: values that point into the vector itself") {
    test::leak_check leaks;
    SUBCASE("push an element of a full unique vector") {
        cow_vec *v = make_i32({7, 8});  // capacity == len: the push must grow
        REQUIRE(cow_vec_push(&v, cow_vec_get(v, 0)) == COW_OK);
        CHECK(items(v) == std::vector<int32_t>{7, 8, 7});
        cow_vec_release(v);
    }
    SUBCASE("push an element of a shared vector") {
        cow_vec *v = make_i32({7, 8});
        cow_vec *w = cow_vec_clone(v);
        REQUIRE(cow_vec_push(&w, cow_vec_get(w, 1)) == COW_OK);
        CHECK(items(w) == std::vector<int32_t>{7, 8, 8});
        CHECK(items(v) == std::vector<int32_t>{7, 8});
        cow_vec_release(v);
        cow_vec_release(w);
    }
    SUBCASE("insert an element from the shifted tail, in place") {
        cow_vec *v = make_i32({1, 2, 3});
        REQUIRE(cow_vec_reserve(&v, 4) == COW_OK);
        REQUIRE(cow_vec_insert(&v, 0, cow_vec_get(v, 2)) == COW_OK);
        CHECK(items(v) == std::vector<int32_t>{3, 1, 2, 3});
        REQUIRE(cow_vec_insert(&v, 2, cow_vec_get(v, 0)) == COW_OK);
        CHECK(items(v) == std::vector<int32_t>{3, 1, 3, 2, 3});
        cow_vec_release(v);
    }
    SUBCASE("insert an element of a full vector") {
        cow_vec *v = make_i32({1, 2, 3});
        REQUIRE(cow_vec_insert(&v, 1, cow_vec_get(v, 2)) == COW_OK);
        CHECK(items(v) == std::vector<int32_t>{1, 3, 2, 3});
        cow_vec_release(v);
    }
}

TEST_CASE("vec: span iteration never copies") {
    test::leak_check leaks;
    test::allocator_scope scope;
    cow_vec *v = make_i32({1, 2, 3, 4, 5});
    cow_vec *w = cow_vec_clone(v);
    long before = allocations(scope);
    cow_vec_cursor c;
    REQUIRE(cow_vec_cursor_init(&c, w) == COW_OK);
    CHECK(c.size == sizeof(cow_vec_cursor));
    const void *data = nullptr;
    size_t n = 0;
    REQUIRE(cow_vec_next_span(&c, &data, &n));
    CHECK(n == 5);
    CHECK(data == cow_vec_get(v, 0));  // the shared storage itself
    CHECK(static_cast<const int32_t *>(data)[4] == 5);
    CHECK_FALSE(cow_vec_next_span(&c, &data, &n));
    CHECK_FALSE(cow_vec_next_span(&c, &data, &n));
    CHECK(allocations(scope) == before);
    CHECK(cow_is_shared(w));
    CHECK(strong(v) == 2);
    CHECK(test::stats(v).copies == 0);

    cow_vec *e = nullptr;
    REQUIRE(cow_vec_new(&e, i32(), nullptr) == COW_OK);
    REQUIRE(cow_vec_cursor_init(&c, e) == COW_OK);
    CHECK_FALSE(cow_vec_next_span(&c, &data, &n));  // empty: no span at all

    // Invalid cursors and arguments.
    cow_str *s = nullptr;
    REQUIRE(cow_str_new(&s, "x", 1, nullptr) == COW_OK);
    CHECK(cow_vec_cursor_init(nullptr, v) == COW_EINVAL);
    CHECK(cow_vec_cursor_init(&c, nullptr) == COW_EINVAL);
    CHECK(cow_vec_cursor_init(&c, reinterpret_cast<const cow_vec *>(s)) == COW_ETYPE);
    REQUIRE(cow_vec_cursor_init(&c, v) == COW_OK);
    CHECK_FALSE(cow_vec_next_span(nullptr, &data, &n));
    CHECK_FALSE(cow_vec_next_span(&c, nullptr, &n));
    CHECK_FALSE(cow_vec_next_span(&c, &data, nullptr));
    cow_vec_cursor bad = c;
    bad.size = 4;  // never initialised by cow_vec_cursor_init
    CHECK_FALSE(cow_vec_next_span(&bad, &data, &n));
    bad = c;
    bad.vec = reinterpret_cast<const cow_vec *>(s);
    CHECK_FALSE(cow_vec_next_span(&bad, &data, &n));
    bad.vec = nullptr;
    CHECK_FALSE(cow_vec_next_span(&bad, &data, &n));
    CHECK(cow_vec_next_span(&c, &data, &n));  // the good cursor still works
    cow_str_release(s);
    cow_vec_release(e);
    cow_vec_release(v);
    cow_vec_release(w);
}

TEST_CASE("vec: data, make_mut, get_mut") {
    test::leak_check leaks;
    test::allocator_scope scope;
    cow_vec *v = make_i32({1, 2, 3});
    cow_vec *w = cow_vec_clone(v);
    const void *d = nullptr;
    long before = allocations(scope);
    REQUIRE(cow_vec_data(w, &d) == COW_OK);
    CHECK(allocations(scope) == before);
    CHECK(d == cow_vec_get(v, 0));

    void *m = nullptr;
    REQUIRE(cow_vec_make_mut(&w, &m) == COW_OK);
    CHECK(allocations(scope) - before == 2);
    CHECK_FALSE(cow_ptr_eq(v, w));
    static_cast<int32_t *>(m)[0] = 100;
    CHECK(items(w) == std::vector<int32_t>{100, 2, 3});
    CHECK(items(v) == std::vector<int32_t>{1, 2, 3});
    before = allocations(scope);
    void *m2 = nullptr;
    REQUIRE(cow_vec_make_mut(&w, &m2) == COW_OK);  // unique: same storage
    CHECK(m2 == m);
    REQUIRE(cow_vec_make_mut(&w, nullptr) == COW_OK);
    CHECK(allocations(scope) == before);

    cow_vec *u = cow_vec_clone(v);
    void *e = nullptr;
    CHECK(cow_vec_get_mut(&u, 3, &e) == COW_ERANGE);
    CHECK(cow_ptr_eq(u, v));  // a refused call copies nothing
    REQUIRE(cow_vec_get_mut(&u, 2, &e) == COW_OK);
    *static_cast<int32_t *>(e) = 33;
    CHECK(items(u) == std::vector<int32_t>{1, 2, 33});
    CHECK(items(v) == std::vector<int32_t>{1, 2, 3});
    void *e2 = nullptr;
    REQUIRE(cow_vec_get_mut(&u, 2, &e2) == COW_OK);
    CHECK(e2 == e);

    // The generic cow_make_mut works on vectors too.
    cow_vec *t = cow_vec_clone(v);
    REQUIRE(cow_make_mut(&t) == COW_OK);
    CHECK_FALSE(cow_ptr_eq(t, v));
    CHECK(items(t) == std::vector<int32_t>{1, 2, 3});
    cow_vec *t_before = t;
    REQUIRE(cow_make_mut(&t) == COW_OK);
    CHECK(t == t_before);
    CHECK(test::stats(v).copies == 3);  // make_mut, get_mut, cow_make_mut
    cow_vec_release(t);
    cow_vec_release(u);
    cow_vec_release(v);
    cow_vec_release(w);
}

TEST_CASE("vec: into") {
    test::leak_check leaks;
    test::allocator_scope scope;
    SUBCASE("unique: the storage itself, no allocation") {
        cow_vec *v = make_i32({1, 2, 3});
        const void *d;
        REQUIRE(cow_vec_data(v, &d) == COW_OK);
        long before = allocations(scope);
        cow_owned o{};
        REQUIRE(cow_vec_into(&v, &o) == COW_OK);
        CHECK(v == nullptr);
        CHECK(allocations(scope) == before);
        CHECK(o.data == d);
        CHECK(o.len == 3);
        CHECK(o.alloc_size == 3 * sizeof(int32_t));
        CHECK(static_cast<int32_t *>(o.data)[2] == 3);
        CHECK(test::global().live_values == 0);
        cow_owned_free(&o);
        CHECK(o.data == nullptr);
    }
    SUBCASE("shared: a copy, the original untouched") {
        cow_vec *v = make_i32({1, 2, 3});
        cow_vec *w = cow_vec_clone(v);
        long before = allocations(scope);
        cow_owned o{};
        REQUIRE(cow_vec_into(&w, &o) == COW_OK);
        CHECK(w == nullptr);
        CHECK(allocations(scope) - before == 1);
        CHECK(o.data != cow_vec_get(v, 0));
        CHECK(o.len == 3);
        CHECK(std::memcmp(o.data, cow_vec_get(v, 0), 3 * sizeof(int32_t)) == 0);
        CHECK(strong(v) == 1);
        CHECK(items(v) == std::vector<int32_t>{1, 2, 3});
        cow_owned_free(&o);
        cow_vec_release(v);
    }
    SUBCASE("empty: data is still not NULL") {
        cow_vec *v = nullptr;
        REQUIRE(cow_vec_new(&v, i32(), nullptr) == COW_OK);
        cow_owned o{};
        REQUIRE(cow_vec_into(&v, &o) == COW_OK);
        CHECK(o.data != nullptr);
        CHECK(o.len == 0);
        cow_owned_free(&o);
    }
}

TEST_CASE("vec: element handles are cloned and released exactly once") {
    test::leak_check leaks;
    cow_str *a = nullptr, *b = nullptr;
    REQUIRE(cow_str_new(&a, "alpha", 5, nullptr) == COW_OK);
    REQUIRE(cow_str_new(&b, "beta", 4, nullptr) == COW_OK);
    cow_vec *v = nullptr;
    REQUIRE(cow_vec_new(&v, cow_type_handle(), nullptr) == COW_OK);
    REQUIRE(cow_vec_push(&v, &a) == COW_OK);
    REQUIRE(cow_vec_push(&v, &b) == COW_OK);
    CHECK(strong(a) == 2);  // the caller and the vector
    CHECK(strong(b) == 2);
    cow_str *held;
    std::memcpy(&held, cow_vec_get(v, 0), sizeof held);
    CHECK(cow_ptr_eq(held, a));

    cow_vec *w = cow_vec_clone(v);
    CHECK(strong(a) == 2);  // the vector is shared, not its elements
    cow_str *c = nullptr;
    REQUIRE(cow_str_new(&c, "gamma", 5, nullptr) == COW_OK);
    REQUIRE(cow_vec_push(&w, &c) == COW_OK);  // copies w: its handles are cloned
    CHECK(strong(a) == 3);
    CHECK(strong(b) == 3);
    CHECK(strong(c) == 2);

    // Values handed back are the caller's: one reference each.
    cow_str *popped = nullptr;
    REQUIRE(cow_vec_pop(&w, &popped) == COW_OK);
    CHECK(cow_ptr_eq(popped, c));
    CHECK(strong(c) == 2);
    cow_str_release(popped);
    cow_str *old = nullptr;
    REQUIRE(cow_vec_set(&w, 0, &c, &old) == COW_OK);
    CHECK(cow_ptr_eq(old, a));
    CHECK(strong(a) == 3);  // moved out, not released
    cow_str_release(old);
    CHECK(strong(a) == 2);
    REQUIRE(cow_vec_set(&w, 1, &c, nullptr) == COW_OK);  // the old one is dropped
    CHECK(strong(b) == 2);
    CHECK(strong(c) == 3);

    // into a shared vector clones the handles; into a unique one moves them.
    cow_vec *x = cow_vec_clone(v);
    cow_owned o{};
    REQUIRE(cow_vec_into(&x, &o) == COW_OK);
    CHECK(strong(a) == 3);
    auto *hs = static_cast<cow_str **>(o.data);
    for (size_t i = 0; i < o.len; ++i) cow_str_release(hs[i]);
    cow_owned_free(&o);
    CHECK(strong(a) == 2);

    // Nested edit through get_mut: one copy per level.
    cow_vec *y = cow_vec_clone(v);
    void *slot = nullptr;
    REQUIRE(cow_vec_get_mut(&y, 0, &slot) == COW_OK);
    REQUIRE(cow_str_append(static_cast<cow_str **>(slot), "!", 1) == COW_OK);
    cow_str *edited;
    std::memcpy(&edited, cow_vec_get(y, 0), sizeof edited);
    CHECK(cow_str_len(edited) == 6);
    CHECK(cow_str_len(a) == 5);
    CHECK(strong(a) == 2);  // y's copy now holds the edited string instead

    cow_vec_release(y);
    cow_vec_release(v);
    cow_vec_release(w);
    CHECK(strong(a) == 1);
    CHECK(strong(b) == 1);
    CHECK(strong(c) == 1);
    cow_str_release(a);
    cow_str_release(b);
    cow_str_release(c);
    CHECK(test::global().live_values == 0);
}

TEST_CASE("vec: strategies") {
    test::leak_check leaks;
    SUBCASE("eager: a clone is a private copy") {
        cow_options o = COW_OPTIONS_INIT;
        o.strategy = COW_STRATEGY_EAGER;
        cow_vec *v = make_i32({1, 2, 3}, &o);
        cow_vec *w = cow_vec_clone(v);
        REQUIRE(w != nullptr);
        CHECK_FALSE(cow_ptr_eq(v, w));
        CHECK_FALSE(cow_is_shared(v));
        auto st = test::stats(v);
        CHECK(st.copies == 1);
        CHECK(st.clones == 1);
        CHECK(st.bytes_copied == 3 * sizeof(int32_t));
        int32_t x = 4;
        cow_vec *before = w;
        REQUIRE(cow_vec_push(&w, &x) == COW_OK);
        CHECK(w == before);  // writes never copy
        CHECK(items(v) == std::vector<int32_t>{1, 2, 3});
        CHECK(test::stats(v).copies == 1);
        cow_vec_release(v);
        cow_vec_release(w);
    }
    SUBCASE("threshold: copies below, shares above") {
        cow_options o = COW_OPTIONS_INIT;
        o.strategy = COW_STRATEGY_THRESHOLD;
        o.threshold_bytes = 4 * sizeof(int32_t);
        cow_vec *small = make_i32({1, 2, 3}, &o);
        cow_vec *big = make_i32({1, 2, 3, 4}, &o);
        cow_vec *s2 = cow_vec_clone(small);
        cow_vec *b2 = cow_vec_clone(big);
        CHECK_FALSE(cow_ptr_eq(small, s2));
        CHECK(cow_ptr_eq(big, b2));
        CHECK(test::stats(small).copies == 1);
        CHECK(test::stats(big).copies == 0);
        int32_t x = 9;
        REQUIRE(cow_vec_push(&b2, &x) == COW_OK);  // a lazy copy on write
        CHECK(test::stats(big).copies == 1);
        CHECK(cow_vec_len(big) == 4);
        cow_vec_release(small);
        cow_vec_release(big);
        cow_vec_release(s2);
        cow_vec_release(b2);
    }
    SUBCASE("no statistics") {
        cow_options o = COW_OPTIONS_INIT;
        o.flags = COW_OPT_NO_STATS;
        cow_vec *v = make_i32({1, 2}, &o);
        cow_vec *w = cow_vec_clone(v);
        auto st = test::stats(v);
        CHECK(st.enabled == 0);
        CHECK(st.clones == 0);
        CHECK(st.value_bytes == 2 * sizeof(int32_t));
        cow_vec_release(v);
        cow_vec_release(w);
    }
}

TEST_CASE("vec: element alignment up to COW_MAX_ALIGN") {
    test::leak_check leaks;
    for (size_t align : {size_t(1), size_t(2), size_t(8), size_t(16), size_t(32), size_t(64)}) {
        CAPTURE(align);
        cow_type t;
        cow_type_init(&t, align * 3, align);  // sizes that are not powers of two too
        cow_vec *v = nullptr;
        REQUIRE(cow_vec_new(&v, &t, nullptr) == COW_OK);
        std::vector<unsigned char> elem(t.elem_size);
        for (int i = 0; i < 40; ++i) {
            std::memset(elem.data(), i, elem.size());
            REQUIRE(cow_vec_push(&v, elem.data()) == COW_OK);
            CHECK(reinterpret_cast<uintptr_t>(cow_vec_get(v, 0)) % align == 0);
        }
        cow_vec *w = cow_vec_clone(v);
        REQUIRE(cow_vec_insert(&w, 3, elem.data()) == COW_OK);
        CHECK(reinterpret_cast<uintptr_t>(cow_vec_get(w, 0)) % align == 0);
        for (int i = 0; i < 40; ++i) {
            auto *p = static_cast<const unsigned char *>(cow_vec_get(v, i));
            CHECK(p[0] == i);
            CHECK(p[t.elem_size - 1] == i);
        }
        CHECK(static_cast<const unsigned char *>(cow_vec_get(w, 3))[0] == 39);
        CHECK(static_cast<const unsigned char *>(cow_vec_get(w, 4))[0] == 3);
        const void *d;
        REQUIRE(cow_vec_data(w, &d) == COW_OK);
        CHECK(reinterpret_cast<uintptr_t>(d) % align == 0);
        // Handed-over elements keep their alignment, unique (the block
        // itself) and shared (a fresh copy) alike.
        cow_vec *keep = cow_vec_clone(w);
        cow_owned shared_out{};
        REQUIRE(cow_vec_into(&w, &shared_out) == COW_OK);
        CHECK(reinterpret_cast<uintptr_t>(shared_out.data) % align == 0);
        CHECK(shared_out.len == 41);
        cow_owned_free(&shared_out);
        cow_vec_release(keep);
        cow_owned o{};
        REQUIRE(cow_vec_into(&v, &o) == COW_OK);
        CHECK(o.len == 40);
        CHECK(reinterpret_cast<uintptr_t>(o.data) % align == 0);
        CHECK(static_cast<unsigned char *>(o.data)[39 * t.elem_size] == 39);
        cow_owned_free(&o);
    }
}

TEST_CASE("vec: invalid arguments") {
    test::leak_check leaks;
    cow_vec *made = nullptr;
    int32_t x = 1, out = 0;
    // Size overflow is refused before anything is allocated.
    {  // (nothing may be alive while the counting allocator is installed)
        test::allocator_scope scope;
        CHECK(cow_vec_with_capacity(&made, cow_type_u64(), SIZE_MAX, nullptr) == COW_EOVERFLOW);
        CHECK(cow_vec_with_capacity(&made, cow_type_u64(), size_t(PTRDIFF_MAX) / 8 + 1,
                                    nullptr) == COW_EOVERFLOW);
        CHECK(cow_vec_from_array(&made, cow_type_u64(), &x, SIZE_MAX / 2, nullptr) ==
              COW_EOVERFLOW);
        CHECK(scope.allocator.calls == 0);
    }
    cow_vec *v = make_i32({1, 2, 3});
    cow_str *s = nullptr;
    REQUIRE(cow_str_new(&s, "str", 3, nullptr) == COW_OK);
    auto *wrong = reinterpret_cast<cow_vec *>(s);
    cow_vec *null_vec = nullptr;
    void *p = nullptr;
    const void *cp = nullptr;
    cow_owned o{};

    // Creation: NULL out, bad types, bad options.
    CHECK(cow_vec_new(nullptr, i32(), nullptr) == COW_EINVAL);
    CHECK(cow_vec_new(&made, nullptr, nullptr) == COW_EINVAL);
    CHECK(cow_vec_with_capacity(nullptr, i32(), 1, nullptr) == COW_EINVAL);
    CHECK(cow_vec_from_array(nullptr, i32(), &x, 1, nullptr) == COW_EINVAL);
    CHECK(cow_vec_from_array(&made, i32(), nullptr, 1, nullptr) == COW_EINVAL);
    cow_type bad;
    cow_type_init(&bad, 0, 1);
    CHECK(cow_vec_new(&made, &bad, nullptr) == COW_EINVAL);  // elem_size 0
    cow_type_init(&bad, 4, 3);
    CHECK(cow_vec_new(&made, &bad, nullptr) == COW_EINVAL);  // not a power of two
    cow_type_init(&bad, 4, 0);
    CHECK(cow_vec_new(&made, &bad, nullptr) == COW_EINVAL);
    cow_type_init(&bad, 12, 8);
    CHECK(cow_vec_new(&made, &bad, nullptr) == COW_EINVAL);  // size not a multiple of align
    cow_type_init(&bad, 128, 128);
    CHECK(cow_vec_new(&made, &bad, nullptr) == COW_EINVAL);  // above COW_MAX_ALIGN
    cow_type_init(&bad, 4, 4);
    bad.flags = 1;
    CHECK(cow_vec_new(&made, &bad, nullptr) == COW_EINVAL);
    cow_type_init(&bad, 4, 4);
    bad.size = 8;
    CHECK(cow_vec_new(&made, &bad, nullptr) == COW_EINVAL);
    cow_type_init(&bad, PTRDIFF_MAX, 1);
    CHECK(cow_vec_new(&made, &bad, nullptr) == COW_EINVAL);  // above PTRDIFF_MAX / 2
    CHECK(cow_vec_new(&made, cow_type_bytes(), nullptr) == COW_EINVAL);  // map keys only
    CHECK(cow_vec_new(&made, cow_type_string(), nullptr) == COW_EINVAL);
    cow_options opt = COW_OPTIONS_INIT;
    opt.strategy = 99;
    CHECK(cow_vec_new(&made, i32(), &opt) == COW_EINVAL);
    opt.strategy = COW_STRATEGY_STRUCTURAL;
    CHECK(cow_vec_new(&made, i32(), &opt) == COW_EUNSUPPORTED);
    opt = COW_OPTIONS_INIT;
    opt.reserved = 1;
    CHECK(cow_vec_from_array(&made, i32(), &x, 1, &opt) == COW_EINVAL);
    CHECK(made == nullptr);

    CHECK(made == nullptr);
    cow_vec *before = v;
    CHECK(cow_vec_reserve(&v, SIZE_MAX) == COW_EOVERFLOW);
    CHECK(cow_vec_reserve(&v, size_t(PTRDIFF_MAX) / 4) == COW_EOVERFLOW);
    CHECK(cow_vec_extend(&v, &x, SIZE_MAX) == COW_EOVERFLOW);
    CHECK(cow_vec_extend(&v, &x, size_t(PTRDIFF_MAX) / 4 - 1) == COW_EOVERFLOW);
    CHECK(v == before);

    // Slot-taking calls: NULL slot, NULL handle, wrong kind.
    using slot_call = std::function<cow_status(cow_vec **)>;
    std::vector<slot_call> calls = {
        [&](cow_vec **sl) { return cow_vec_get_mut(sl, 0, &p); },
        [&](cow_vec **sl) { return cow_vec_set(sl, 0, &x, nullptr); },
        [&](cow_vec **sl) { return cow_vec_push(sl, &x); },
        [&](cow_vec **sl) { return cow_vec_pop(sl, &out); },
        [&](cow_vec **sl) { return cow_vec_insert(sl, 0, &x); },
        [&](cow_vec **sl) { return cow_vec_erase(sl, 0, &out); },
        [&](cow_vec **sl) { return cow_vec_extend(sl, &x, 1); },
        [&](cow_vec **sl) { return cow_vec_reserve(sl, 1); },
        [&](cow_vec **sl) { return cow_vec_clear(sl); },
        [&](cow_vec **sl) { return cow_vec_truncate(sl, 0); },
        [&](cow_vec **sl) { return cow_vec_make_mut(sl, &p); },
        [&](cow_vec **sl) { return cow_vec_into(sl, &o); },
    };
    for (size_t i = 0; i < calls.size(); ++i) {
        CAPTURE(i);
        CHECK(calls[i](nullptr) == COW_EINVAL);
        CHECK(calls[i](&null_vec) == COW_EINVAL);
        cow_vec *w = wrong;
        CHECK(calls[i](&w) == COW_ETYPE);
        CHECK(w == wrong);
    }
    CHECK(strong(s) == 1);
    CHECK(cow_str_len(s) == 3);

    // NULL element / output pointers.
    CHECK(cow_vec_get_mut(&v, 0, nullptr) == COW_EINVAL);
    CHECK(cow_vec_set(&v, 0, nullptr, nullptr) == COW_EINVAL);
    CHECK(cow_vec_push(&v, nullptr) == COW_EINVAL);
    CHECK(cow_vec_insert(&v, 0, nullptr) == COW_EINVAL);
    CHECK(cow_vec_extend(&v, nullptr, 1) == COW_EINVAL);
    CHECK(cow_vec_into(&v, nullptr) == COW_EINVAL);
    CHECK(cow_vec_data(v, nullptr) == COW_EINVAL);
    CHECK(cow_vec_data(nullptr, &cp) == COW_EINVAL);
    CHECK(cow_vec_data(wrong, &cp) == COW_ETYPE);

    // Index out of range.
    CHECK(cow_vec_get_mut(&v, 3, &p) == COW_ERANGE);
    CHECK(cow_vec_set(&v, 3, &x, nullptr) == COW_ERANGE);
    CHECK(cow_vec_insert(&v, 4, &x) == COW_ERANGE);
    CHECK(cow_vec_erase(&v, 3, nullptr) == COW_ERANGE);
    CHECK(cow_vec_erase(&v, SIZE_MAX, nullptr) == COW_ERANGE);
    CHECK(cow_vec_truncate(&v, 4) == COW_ERANGE);
    CHECK(v == before);
    CHECK(items(v) == std::vector<int32_t>{1, 2, 3});

    // Queries on NULL and on the wrong kind.
    CHECK(cow_vec_len(nullptr) == 0);
    CHECK(cow_vec_len(wrong) == 0);
    CHECK(cow_vec_type(nullptr) == nullptr);
    CHECK(cow_vec_type(wrong) == nullptr);
    CHECK(cow_vec_get(nullptr, 0) == nullptr);
    CHECK(cow_vec_get(wrong, 0) == nullptr);
    CHECK(cow_vec_clone(nullptr) == nullptr);
    CHECK(cow_vec_clone(wrong) == nullptr);
    cow_vec_release(wrong);  // not a vector: no effect
    CHECK(strong(s) == 1);
    CHECK(p == nullptr);
    CHECK(out == 0);
    CHECK(o.data == nullptr);

    cow_str_release(s);
    cow_vec_release(v);
}

// ---- failing allocator ------------------------------------------------------

namespace {

// Runs `op` on a fresh vector once per allocation it makes, failing that
// allocation: each failure must give COW_ENOMEM and change nothing; the
// last run (no failure left) must succeed. Returns the allocations made.
struct fixture {
    cow_vec *v = nullptr;      // the slot operated on
    cow_vec *other = nullptr;  // a clone when the vector is shared
};

long fail_each_allocation(bool shared, std::vector<int32_t> init, size_t capacity,
                          const std::function<cow_status(cow_vec **)> &op,
                          const cow_options *opts = nullptr) {
    for (long k = 1;; ++k) {
        CAPTURE(k);
        test::leak_check leaks;
        test::allocator_scope scope;
        fixture f;
        f.v = make_i32(init, opts);
        if (capacity) REQUIRE(cow_vec_reserve(&f.v, capacity - init.size()) == COW_OK);
        if (shared) f.other = cow_vec_clone(f.v);
        long base = scope.allocator.calls;
        scope.allocator.fail_at = base + k;
        cow_vec *slot = f.v;
        cow_status s = op(&slot);
        long made = scope.allocator.calls - base;
        scope.allocator.fail_at = 0;
        if (s == COW_OK) {
            if (slot) cow_vec_release(slot);
            if (shared) cow_vec_release(f.other);
            CHECK(made == k - 1);
            return made;
        }
        CHECK(s == COW_ENOMEM);
        CHECK(slot == f.v);
        CHECK(items(f.v) == init);
        CHECK(strong(f.v) == (shared ? 2u : 1u));
        CHECK(test::stats(f.v).copies == 0);
        cow_vec_release(f.v);
        if (shared) cow_vec_release(f.other);
        REQUIRE(k < 20);
    }
}

}  // namespace

TEST_CASE("vec: a failing allocator changes nothing and leaks nothing") {
    int32_t x = 42, out = -1;
    void *p = nullptr;
    cow_owned o{};
    std::vector<int32_t> init = {1, 2, 3, 4};

    // Shared: every write builds one copy (header + elements).
    CHECK(fail_each_allocation(true, init, 0, [&](cow_vec **s) { return cow_vec_push(s, &x); }) == 2);
    CHECK(fail_each_allocation(true, init, 0, [&](cow_vec **s) { return cow_vec_insert(s, 1, &x); }) == 2);
    CHECK(fail_each_allocation(true, init, 0, [&](cow_vec **s) { return cow_vec_set(s, 1, &x, &out); }) == 2);
    CHECK(fail_each_allocation(true, init, 0, [&](cow_vec **s) { return cow_vec_pop(s, &out); }) == 2);
    CHECK(fail_each_allocation(true, init, 0, [&](cow_vec **s) { return cow_vec_erase(s, 0, &out); }) == 2);
    CHECK(fail_each_allocation(true, init, 0, [&](cow_vec **s) { return cow_vec_extend(s, &init[0], 4); }) == 2);
    CHECK(fail_each_allocation(true, init, 0, [&](cow_vec **s) { return cow_vec_reserve(s, 8); }) == 2);
    CHECK(fail_each_allocation(true, init, 0, [&](cow_vec **s) { return cow_vec_truncate(s, 1); }) == 2);
    CHECK(fail_each_allocation(true, init, 0, [&](cow_vec **s) { return cow_vec_clear(s); }) == 1);
    CHECK(fail_each_allocation(true, init, 0, [&](cow_vec **s) { return cow_vec_make_mut(s, &p); }) == 2);
    CHECK(fail_each_allocation(true, init, 0, [&](cow_vec **s) { return cow_vec_get_mut(s, 0, &p); }) == 2);
    CHECK(fail_each_allocation(true, init, 0, [&](cow_vec **s) { return cow_make_mut(s); }) == 2);
    CHECK(fail_each_allocation(true, init, 0, [&](cow_vec **s) {
              cow_status st = cow_vec_into(s, &o);
              if (st == COW_OK) cow_owned_free(&o);
              return st;
          }) == 1);
    CHECK(o.data == nullptr);

    // Unique: only growth allocates.
    CHECK(fail_each_allocation(false, init, 0, [&](cow_vec **s) { return cow_vec_push(s, &x); }) == 1);
    CHECK(fail_each_allocation(false, init, 0, [&](cow_vec **s) { return cow_vec_insert(s, 0, &x); }) == 1);
    CHECK(fail_each_allocation(false, init, 0, [&](cow_vec **s) { return cow_vec_extend(s, &init[0], 4); }) == 1);
    CHECK(fail_each_allocation(false, init, 0, [&](cow_vec **s) { return cow_vec_reserve(s, 1); }) == 1);
    CHECK(fail_each_allocation(false, init, 8, [&](cow_vec **s) { return cow_vec_push(s, &x); }) == 0);
    CHECK(fail_each_allocation(false, init, 0, [&](cow_vec **s) { return cow_vec_set(s, 0, &x, nullptr); }) == 0);

    // An eager clone: the copy can fail (cow_clone gives NULL).
    cow_options eager = COW_OPTIONS_INIT;
    eager.strategy = COW_STRATEGY_EAGER;
    CHECK(fail_each_allocation(
              false, init, 0,
              [&](cow_vec **s) {
                  cow_vec *c = cow_vec_clone(*s);
                  if (!c) return COW_ENOMEM;
                  cow_vec_release(c);
                  return COW_OK;
              },
              &eager) == 2);

    // Creation: the lineage, then the element block and the header.
    std::vector<std::function<cow_status(cow_vec **)>> makers = {
        [&](cow_vec **m) { return cow_vec_from_array(m, i32(), init.data(), 4, nullptr); },
        [&](cow_vec **m) { return cow_vec_with_capacity(m, i32(), 4, nullptr); },
        [&](cow_vec **m) { return cow_vec_new(m, i32(), nullptr); },
    };
    long expected[] = {3, 3, 2};
    for (size_t i = 0; i < makers.size(); ++i) {
        for (long k = 1;; ++k) {
            CAPTURE(i);
            CAPTURE(k);
            test::leak_check leaks;
            test::allocator_scope scope(k);
            cow_vec *made = nullptr;
            cow_status s = makers[i](&made);
            if (s == COW_OK) {
                CHECK(k - 1 == expected[i]);
                cow_vec_release(made);
                break;
            }
            CHECK(s == COW_ENOMEM);
            CHECK(made == nullptr);
            REQUIRE(k < 10);
        }
    }
}

TEST_CASE("vec: a large element set on a unique vector survives a failing scratch allocation") {
    // Elements above the on-stack scratch size need one temporary block.
    test::leak_check leaks;
    cow_type big;
    cow_type_init(&big, 1024, 8);
    std::vector<unsigned char> a(1024, 'a'), b(1024, 'b');
    {
        test::allocator_scope scope;
        cow_vec *v = nullptr;
        REQUIRE(cow_vec_from_array(&v, &big, a.data(), 1, nullptr) == COW_OK);
        scope.allocator.fail_at = scope.allocator.calls + 1;
        CHECK(cow_vec_set(&v, 0, b.data(), nullptr) == COW_ENOMEM);
        CHECK(static_cast<const unsigned char *>(cow_vec_get(v, 0))[1023] == 'a');
        scope.allocator.fail_at = 0;
        REQUIRE(cow_vec_set(&v, 0, b.data(), nullptr) == COW_OK);
        CHECK(static_cast<const unsigned char *>(cow_vec_get(v, 0))[1023] == 'b');
        // Replacing an element by itself.
        REQUIRE(cow_vec_set(&v, 0, cow_vec_get(v, 0), nullptr) == COW_OK);
        CHECK(static_cast<const unsigned char *>(cow_vec_get(v, 0))[0] == 'b');
        cow_vec_release(v);
    }
}

// ---- failing copy callbacks --------------------------------------------------

TEST_CASE("vec: a failing element copy changes nothing and leaks nothing") {
    test::leak_check leaks;
    copy_tracker tr;
    cow_type ty = tracked_type(tr);
    std::vector<int64_t> init = {10, 20, 30, 40};
    int64_t x = 99, out = -1;
    void *p = nullptr;
    cow_owned o{};

    enum mode { shared, unique_room, unique_full };
    struct named {
        const char *name;
        mode m;
        std::function<cow_status(cow_vec **)> op;
        bool consumes = false;  // into: the slot's reference is handed over
    };
    std::vector<named> ops = {
        {"push shared", shared, [&](cow_vec **s) { return cow_vec_push(s, &x); }},
        {"insert shared", shared, [&](cow_vec **s) { return cow_vec_insert(s, 2, &x); }},
        {"set shared", shared, [&](cow_vec **s) { return cow_vec_set(s, 2, &x, &out); }},
        {"pop shared", shared, [&](cow_vec **s) { return cow_vec_pop(s, &out); }},
        {"erase shared", shared, [&](cow_vec **s) { return cow_vec_erase(s, 1, &out); }},
        {"extend shared", shared, [&](cow_vec **s) { return cow_vec_extend(s, &init[0], 4); }},
        {"truncate shared", shared, [&](cow_vec **s) { return cow_vec_truncate(s, 2); }},
        {"reserve shared", shared, [&](cow_vec **s) { return cow_vec_reserve(s, 2); }},
        {"make_mut shared", shared, [&](cow_vec **s) { return cow_vec_make_mut(s, &p); }},
        {"get_mut shared", shared, [&](cow_vec **s) { return cow_vec_get_mut(s, 1, &p); }},
        {"cow_make_mut shared", shared, [&](cow_vec **s) { return cow_make_mut(s); }},
        {"into shared", shared, [&](cow_vec **s) { return cow_vec_into(s, &o); }, true},
        {"push unique", unique_room, [&](cow_vec **s) { return cow_vec_push(s, &x); }},
        {"push unique growing", unique_full, [&](cow_vec **s) { return cow_vec_push(s, &x); }},
        {"insert unique in place", unique_room,
         [&](cow_vec **s) { return cow_vec_insert(s, 1, &x); }},
        {"insert unique growing", unique_full,
         [&](cow_vec **s) { return cow_vec_insert(s, 1, &x); }},
        {"extend unique", unique_room, [&](cow_vec **s) { return cow_vec_extend(s, &init[0], 4); }},
        {"extend unique growing", unique_full,
         [&](cow_vec **s) { return cow_vec_extend(s, &init[0], 4); }},
        {"set unique", unique_room, [&](cow_vec **s) { return cow_vec_set(s, 0, &x, &out); }},
    };

    for (auto &op : ops) {
        for (long k = 1;; ++k) {
            std::string name = op.name;
            CAPTURE(name);
            CAPTURE(k);
            cow_vec *v = nullptr;
            REQUIRE(cow_vec_from_array(&v, &ty, init.data(), init.size(), nullptr) == COW_OK);
            if (op.m == unique_room) REQUIRE(cow_vec_reserve(&v, 4) == COW_OK);
            cow_vec *other = op.m == shared ? cow_vec_clone(v) : nullptr;
            long live_before = tr.live();
            tr.arm(k, k % 2 ? 1000 : COW_ENOMEM);  // a user code, or a libcow code passed through
            cow_vec *slot = v;
            out = -1;
            cow_status s = op.op(&slot);
            tr.arm(0);
            if (s == COW_OK) {
                if (op.consumes) {
                    CHECK(slot == nullptr);
                    auto *e = static_cast<int64_t *>(o.data);
                    REQUIRE(o.len == 4);
                    CHECK(e[3] == 40);
                    for (size_t i = 0; i < o.len; ++i) tracked_drop(&tr, &e[i]);
                    cow_owned_free(&o);
                }
                if (out != -1) tracked_drop(&tr, &out);  // a value handed back is ours
                cow_vec_release(slot);  // the write already dropped v's reference if it copied
                cow_vec_release(other);
                break;
            }
            CHECK(s == (k % 2 ? COW_ECALLBACK : COW_ENOMEM));
            CHECK(slot == v);
            CHECK(items<int64_t>(v) == init);
            CHECK(tr.live() == live_before);
            CHECK(out == -1);
            CHECK(o.data == nullptr);
            if (other) CHECK(strong(v) == 2);
            cow_vec_release(v);
            cow_vec_release(other);
            CHECK(tr.live() == 0);
            REQUIRE(k < 20);
        }
        CHECK(tr.live() == 0);
    }

    // Creation and eager clones report the failure too.
    cow_vec *made = nullptr;
    tr.arm(3);
    CHECK(cow_vec_from_array(&made, &ty, init.data(), 4, nullptr) == COW_ECALLBACK);
    CHECK(made == nullptr);
    CHECK(tr.live() == 0);
    tr.arm(0);
    cow_options eager = COW_OPTIONS_INIT;
    eager.strategy = COW_STRATEGY_EAGER;
    REQUIRE(cow_vec_from_array(&made, &ty, init.data(), 4, &eager) == COW_OK);
    tr.arm(2);
    CHECK(cow_vec_clone(made) == nullptr);
    tr.arm(0);
    CHECK(tr.live() == 4);
    cow_vec_release(made);
    CHECK(tr.live() == 0);
    CHECK(tr.copies > 0);
}
