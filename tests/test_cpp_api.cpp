// cow.hpp: the C++ value types are thin RAII wrappers over the C API. These
// tests show the C API is complete enough to wrap: copies share, writes copy,
// moves leave counts alone, failures become exceptions and change nothing.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "cow.hpp"
#include "support.hpp"

namespace {

// Makes the next allocation attempt (malloc or realloc) fail, and every
// one after it when `all_after`.
void fail_next(test::allocator_scope &scope, bool all_after = false) {
    scope.allocator.fail_at = scope.allocator.calls + 1;
    scope.allocator.fail_all_after = all_after;
}
void stop_failing(test::allocator_scope &scope) { scope.allocator.fail_at = 0; }

// The libcow status carried by a system_error thrown by f (0 if none).
template <class F>
cow_status status_thrown(F &&f) {
    try {
        f();
    } catch (const std::system_error &e) {
        CHECK(e.code().category() == cow::error_category());
        return static_cast<cow_status>(e.code().value());
    }
    return COW_OK;
}

cow_options eager() {
    cow_options o COW_OPTIONS_INIT;
    o.strategy = COW_STRATEGY_EAGER;
    return o;
}

}  // namespace

// The wrappers are value types with the expected special members.
static_assert(std::is_nothrow_move_constructible_v<cow::string>);
static_assert(std::is_nothrow_move_assignable_v<cow::string>);
static_assert(std::is_copy_constructible_v<cow::buffer>);
static_assert(sizeof(cow::string) == sizeof(void *), "one handle, nothing else");
static_assert(!std::is_convertible_v<const char *, cow::string>, "allocating is explicit");

TEST_SUITE("cpp_api: errors") {
    TEST_CASE("the error category names libcow statuses with cow_strerror") {
        const std::error_category &cat = cow::error_category();
        CHECK(std::string(cat.name()) == "libcow");
        for (cow_status s = COW_EINVAL; s <= COW_ECALLBACK; ++s)
            CHECK(cat.message(s) == cow_strerror(s));
        std::error_code ec = cow::make_error_code(COW_EUTF8);
        CHECK(ec.value() == COW_EUTF8);
        CHECK(&ec.category() == &cat);
        CHECK(ec.message() == cow_strerror(COW_EUTF8));
    }

    TEST_CASE("invalid UTF-8 throws system_error COW_EUTF8 and changes nothing") {
        test::leak_check lc;
        CHECK(status_thrown([] { cow::string bad(std::string_view("\xc0\xaf", 2)); }) ==
              COW_EUTF8);
        cow::string s("abc");
        cow::string copy = s;
        CHECK(status_thrown([&] { s.append(std::string_view("\xed\xa0\x80", 3)); }) ==
              COW_EUTF8);
        CHECK(s == "abc");
        CHECK(s.same_as(copy));  // no copy was made for the failed write
        CHECK(s.use_count() == 2);
        CHECK(status_thrown([&] { s.insert(1, std::string_view("\xff", 1)); }) == COW_EUTF8);
        CHECK(s == "abc");
    }

    TEST_CASE("ranges and character boundaries map to their statuses") {
        test::leak_check lc;
        cow::string s("h\xc3\xa9llo");  // "héllo": é is 2 bytes
        CHECK(status_thrown([&] { s.erase(2, 1); }) == COW_EINVAL);  // inside é
        CHECK(status_thrown([&] { s.erase(4, 10); }) == COW_ERANGE);
        CHECK(status_thrown([&] { s.truncate(99); }) == COW_ERANGE);
        CHECK(status_thrown([&] { (void)s.substr(7, 1); }) == COW_ERANGE);
        CHECK(s.view() == "h\xc3\xa9llo");
        cow::buffer b("abc");
        CHECK(status_thrown([&] { b.erase(2, 2); }) == COW_ERANGE);
        CHECK(status_thrown([&] { b.insert(4, "x", 1); }) == COW_ERANGE);
        CHECK(b.view() == "abc");
        // The message says what failed.
        try {
            s.truncate(99);
            FAIL("no exception");
        } catch (const std::system_error &e) {
            CHECK(std::string(e.what()).find("cow_str_truncate") != std::string::npos);
        }
    }

    TEST_CASE("a failing allocator throws bad_alloc and leaves the value unchanged") {
        test::leak_check lc;
        test::allocator_scope scope;
        cow::string s("shared text");
        cow::string t = s;
        fail_next(scope);
        CHECK_THROWS_AS(t.append(" and more"), std::bad_alloc);
        CHECK(t == "shared text");
        CHECK(t.same_as(s));
        CHECK(t.use_count() == 2);
        // The same write succeeds once memory is back, copying then.
        stop_failing(scope);
        t.append(" and more");
        CHECK(t == "shared text and more");
        CHECK(s == "shared text");
        CHECK_FALSE(t.same_as(s));

        cow::buffer b("bytes");
        cow::buffer c = b;
        fail_next(scope, true);
        CHECK_THROWS_AS(c.make_mut(), std::bad_alloc);
        CHECK_THROWS_AS(c.append("!", 1), std::bad_alloc);
        CHECK_THROWS_AS(static_cast<void>(cow::string("new")), std::bad_alloc);
        stop_failing(scope);
        CHECK(c.same_as(b));
        CHECK(c.view() == "bytes");
    }

    TEST_CASE("an eager value's copy constructor allocates: bad_alloc, source unchanged") {
        test::leak_check lc;
        test::allocator_scope scope;
        cow_options o = eager();
        cow::string e("eager", &o);
        fail_next(scope);
        CHECK_THROWS_AS(static_cast<void>(cow::string(e)), std::bad_alloc);
        cow::string target("target");
        fail_next(scope);
        CHECK_THROWS_AS(target = e, std::bad_alloc);
        stop_failing(scope);
        CHECK(target == "target");  // a failed copy assignment keeps the old value
        CHECK(e == "eager");
        CHECK(e.use_count() == 1);
        cow::string copy = e;  // eager: a private copy at once
        CHECK_FALSE(copy.same_as(e));
        CHECK(copy == "eager");
    }
}

TEST_SUITE("cpp_api: string and buffer") {
    TEST_CASE("string: copy shares, a write copies, the other copy is unchanged") {
        test::leak_check lc;
        test::allocator_scope scope;
        cow::string a("hello");
        long before = scope.allocator.successful_allocations();
        cow::string b = a;
        CHECK(scope.allocator.successful_allocations() == before);  // O(1): no allocation
        CHECK(a.use_count() == 2);
        CHECK(b.same_as(a));
        CHECK(a.is_shared());
        CHECK(b.data() == a.data());

        b += ", world";
        CHECK(a == "hello");
        CHECK(b == "hello, world");
        CHECK(a.use_count() == 1);
        CHECK(b.use_count() == 1);
        CHECK_FALSE(a.is_shared());

        // A unique value is written in place.
        const char *p = b.data();
        b.truncate(5);
        b.append("!");
        CHECK(b.data() == p);
        CHECK(b.view() == "hello!");
        CHECK(b.stats().copies == 1);
    }

    TEST_CASE("string: moves steal the handle and leave counts alone") {
        test::leak_check lc;
        cow::string a("moving");
        cow::string b = a;
        CHECK(a.use_count() == 2);
        cow::string c = std::move(b);
        CHECK(a.use_count() == 2);
        CHECK(c.same_as(a));
        CHECK(b.use_count() == 0);  // NOLINT: moved-from reads as empty
        CHECK(b.empty());
        CHECK(b.view().empty());
        cow::string d("other");
        d = std::move(c);
        CHECK(a.use_count() == 2);
        CHECK(d == "moving");
        // A moved-from value becomes a fresh value on its first write.
        b.append("reborn");
        CHECK(b == "reborn");
        CHECK(b.use_count() == 1);
        CHECK(a.use_count() == 2);
        // Copy assignment: clone the new value, release the old.
        b = a;
        CHECK(a.use_count() == 3);
        cow::string &alias = b;
        b = alias;  // self-assignment keeps the value
        CHECK(a.use_count() == 3);
        std::swap(b, d);  // three noexcept moves
        CHECK(a.use_count() == 3);
    }

    TEST_CASE("string: reads, find, substr, c_str, comparisons") {
        test::leak_check lc;
        cow::string s("copy on write");
        CHECK(s.size() == 13);
        CHECK(s.char_count() == 13);
        CHECK(s.find("on") == 5);
        CHECK(s.find("xyz") == cow::string::npos);
        cow::string sub = s.substr(5, 2);
        CHECK(sub == "on");
        CHECK(sub.is_shared());  // a substring views its parent's storage
        CHECK(std::strcmp(sub.c_str(), "on") == 0);
        CHECK(s == "copy on write");
        CHECK(cow::string("abc") < cow::string("abd"));
        CHECK(cow::string("abc") != cow::string("abd"));
        CHECK(s.hash() == cow::string("copy on write").hash());
        CHECK(s.str() == "copy on write");
        std::string_view v = s;
        CHECK(v == "copy on write");
    }

    TEST_CASE("buffer: copy shares, make_mut copies, slices view, moves") {
        test::leak_check lc;
        const unsigned char raw[] = {1, 2, 3, 4, 5};
        cow::buffer a(raw, sizeof raw);
        cow::buffer b = a;
        CHECK(a.use_count() == 2);
        std::uint8_t *w = b.make_mut();
        w[0] = 9;
        CHECK(a[0] == 1);
        CHECK(b[0] == 9);
        CHECK(a.use_count() == 1);
        CHECK(b.stats().copies == 1);
        CHECK(a != b);

        cow::buffer s = a.slice(1, 3);
        CHECK(s.size() == 3);
        CHECK(s[0] == 2);
        CHECK(s.is_shared());
        s.resize(4, 7);
        CHECK(s[3] == 7);
        CHECK(a.size() == 5);
        CHECK(a[4] == 5);

        cow::buffer m = std::move(b);
        CHECK(m.use_count() == 1);
        CHECK(b.use_count() == 0);  // NOLINT: moved-from
        CHECK(b.data() == nullptr);
        b.append("xy", 2);
        CHECK(b.view() == "xy");
        CHECK(cow::buffer("ab") < cow::buffer("b"));
        CHECK(cow::buffer("ab") == cow::buffer(std::string_view("ab")));
#ifdef __cpp_lib_span
        CHECK(a.bytes().size() == 5);
        CHECK(a.bytes()[2] == 3);
#endif
    }

    TEST_CASE("adopt and detach hand a reference across the C boundary") {
        test::leak_check lc;
        cow_str *raw = nullptr;
        REQUIRE(cow_str_new(&raw, "raw", 3, nullptr) == COW_OK);
        cow::string s = cow::string::adopt(raw);  // takes the reference
        CHECK(s.handle() == raw);
        CHECK(s.use_count() == 1);
        cow_str *back = s.detach();
        CHECK(back == raw);
        CHECK(s.use_count() == 0);
        cow_buf *b = nullptr;
        REQUIRE(cow_buf_new(&b, "x", 1, nullptr) == COW_OK);
        // Adopting a handle of the wrong kind refuses and leaves it to the caller.
        CHECK(status_thrown([&] { (void)cow::string::adopt(reinterpret_cast<cow_str *>(b)); }) ==
              COW_ETYPE);
        cow_release(b);
        cow_str_release(back);
    }
}

TEST_SUITE("cpp_api: statistics") {
    TEST_CASE("stats and report through the wrapper: 3 clones, 1 copy") {
        test::leak_check lc;
        cow::string s("0123456789");
        cow::string c1 = s, c2 = s, c3 = s;
        c2.append("!");
        cow_stats_info st = s.stats();
        CHECK(st.enabled == 1);
        CHECK(st.clones == 3);
        CHECK(st.copies == 1);
        CHECK(st.live_handles == 4);
        CHECK(st.live_values == 2);
        std::string r = s.report();
        CHECK(r.find("Clones: 3\n") != std::string::npos);
        CHECK(r.find("Copies: 1\n") != std::string::npos);
        CHECK(r.find("Copy rate: 33.3%") != std::string::npos);
        std::string j = s.report(COW_REPORT_JSON);
        CHECK(j.find("\"clones\":3") != std::string::npos);
        CHECK(status_thrown([&] { (void)s.report(99); }) == COW_EINVAL);
        cow::string moved = std::move(c1);
        CHECK(status_thrown([&] { (void)c1.stats(); }) == COW_EINVAL);  // NOLINT: moved-from
    }
}

namespace {
struct point {
    std::int32_t x;
    std::int32_t y;
    double weight;
};
}  // namespace

TEST_SUITE("cpp_api: vector") {
    TEST_CASE("vector<T> picks the built-in cow_type, or one with T's size and alignment") {
        CHECK(cow::vector<std::int64_t>::elem_type() == cow_type_i64());
        CHECK(cow::vector<std::uint8_t>::elem_type() == cow_type_u8());
        CHECK(cow::vector<std::int16_t>::elem_type() == cow_type_i16());
        CHECK(cow::vector<std::uint32_t>::elem_type() == cow_type_u32());
        CHECK(cow::vector<float>::elem_type() == cow_type_f32());
        CHECK(cow::vector<double>::elem_type() == cow_type_f64());
        CHECK(cow::vector<const char *>::elem_type() == cow_type_ptr());
        const cow_type *t = cow::vector<point>::elem_type();
        CHECK(t->elem_size == sizeof(point));
        CHECK(t->elem_align == alignof(point));
        CHECK(t == cow::vector<point>::elem_type());  // one static descriptor
    }

    TEST_CASE("vector: copy shares, a write copies, the other copy is unchanged") {
        test::leak_check lc;
        test::allocator_scope scope;
        cow::vector<std::int64_t> a{1, 2, 3};
        long before = scope.allocator.successful_allocations();
        cow::vector<std::int64_t> b = a;
        CHECK(scope.allocator.successful_allocations() == before);
        CHECK(a.use_count() == 2);
        CHECK(b.same_as(a));
        b.push_back(4);
        CHECK(a.to_std() == std::vector<std::int64_t>{1, 2, 3});
        CHECK(b.to_std() == std::vector<std::int64_t>{1, 2, 3, 4});
        CHECK(a.use_count() == 1);
        CHECK(a.stats().copies == 1);

        cow::vector<std::int64_t> c = a;
        CHECK(c.set(0, 10) == 1);  // returns the old value
        CHECK(a[0] == 1);
        CHECK(c[0] == 10);
        cow::vector<std::int64_t> d = a;
        d.get_mut(2) = 30;
        CHECK(a[2] == 3);
        CHECK(d[2] == 30);
        cow::vector<std::int64_t> e = a;
        e.make_mut()[1] = 20;
        CHECK(a[1] == 2);
        CHECK(e[1] == 20);
        CHECK(a.stats().copies == 4);
        CHECK(a.stats().clones == 4);
    }

    TEST_CASE("vector: moves leave counts alone; a moved-from vector reads empty") {
        test::leak_check lc;
        cow::vector<int> a{1, 2};
        cow::vector<int> b = a;
        cow::vector<int> c = std::move(b);
        CHECK(a.use_count() == 2);
        CHECK(b.use_count() == 0);  // NOLINT: moved-from
        CHECK(b.empty());
        CHECK(b.begin() == b.end());
        b.push_back(7);
        CHECK(b.to_std() == std::vector<int>{7});
        CHECK(a.use_count() == 2);
        a = std::move(c);  // the same data: count drops by the released handle
        CHECK(a.use_count() == 1);
    }

    TEST_CASE("vector: reads, spans, iteration and edits in place when unique") {
        test::leak_check lc;
        test::allocator_scope scope;
        cow::vector<point> v;
        v.reserve(8);
        const point *data = v.data();
        long before = scope.allocator.successful_allocations();
        for (int i = 0; i < 5; ++i) v.push_back(point{i, -i, i * 0.5});
        CHECK(scope.allocator.successful_allocations() == before);  // reserved room: no allocation
        CHECK(v.data() == data);
        CHECK(v.size() == 5);
        CHECK(v.front().x == 0);
        CHECK(v.back().y == -4);
        int sum = 0;
        for (const point &p : v) sum += p.x;
        CHECK(sum == 10);
        std::size_t spans = 0, total = 0;
        v.for_each_span([&](const point *p, std::size_t n) {
            ++spans;
            total += n;
            CHECK(p == data);
        });
        CHECK(spans == 1);
        CHECK(total == 5);
#ifdef __cpp_lib_span
        CHECK(v.span().size() == 5);
        CHECK(v.span()[3].x == 3);
#endif
        CHECK(v.erase(1).x == 1);
        v.insert(0, point{9, 9, 9.0});
        CHECK(v.pop_back().x == 4);
        CHECK(v.size() == 4);
        CHECK(v[0].x == 9);
        v.append({point{5, 5, 5.0}, point{6, 6, 6.0}});
        v.truncate(3);
        CHECK(v.size() == 3);
        CHECK(v.stats().copies == 0);
        v.clear();
        CHECK(v.empty());
    }

    TEST_CASE("vector: range errors and allocation failures throw and change nothing") {
        test::leak_check lc;
        test::allocator_scope scope;
        cow::vector<std::int64_t> a{1, 2, 3};
        cow::vector<std::int64_t> b = a;
        CHECK(status_thrown([&] { (void)b.at(3); }) == COW_ERANGE);
        CHECK(status_thrown([&] { b.set(5, 0); }) == COW_ERANGE);
        CHECK(status_thrown([&] { b.insert(4, 0); }) == COW_ERANGE);
        CHECK(status_thrown([&] { b.truncate(9); }) == COW_ERANGE);
        CHECK(b.same_as(a));  // failed writes made no copy
        fail_next(scope, true);
        CHECK_THROWS_AS(b.push_back(4), std::bad_alloc);
        CHECK_THROWS_AS(b.get_mut(0), std::bad_alloc);
        stop_failing(scope);
        CHECK(b.same_as(a));
        CHECK(b.to_std() == std::vector<std::int64_t>{1, 2, 3});
        cow::vector<std::int64_t> empty;
        CHECK(status_thrown([&] { (void)empty.pop_back(); }) == COW_ERANGE);
    }
}

TEST_SUITE("cpp_api: vector trees") {
    TEST_CASE("vector: a flat vector is one span and contiguous") {
        test::leak_check lc;
        cow::vector<std::int32_t> v{4, 5, 6};
        CHECK(v.contiguous());
        std::size_t chunks = 0;
        for (const auto &c : v.spans()) {
            ++chunks;
            CHECK(c.data() == v.data());
            CHECK(c.size() == 3);
            CHECK(c[2] == 6);
        }
        CHECK(chunks == 1);
        cow::vector<std::int32_t> empty;
        CHECK(empty.contiguous());
        CHECK(empty.spans().begin() == empty.spans().end());
        cow::vector<std::int32_t> moved = std::move(v);
        CHECK(v.contiguous());  // NOLINT: a moved-from vector reads as empty
        CHECK(v.data() == nullptr);
        CHECK(v.spans().begin() == v.spans().end());
        auto sized = cow::vector<std::int32_t>::with_capacity(100);
        CHECK(sized.empty());
        CHECK(sized.contiguous());
    }

    TEST_CASE("vector: a STRUCTURAL tree reads by index and by spans, edits after a copy, "
              "has no contiguous view") {
        test::leak_check lc;
        constexpr std::uint64_t n = 10000;
        cow::vector<std::uint64_t> v(cow::make_options(COW_STRATEGY_STRUCTURAL));
        CHECK(v.stats().representation == COW_REPRESENTATION_TREE);
        CHECK_FALSE(v.contiguous());  // even when empty
        CHECK(status_thrown([&] { (void)v.data(); }) == COW_ENOTCONTIGUOUS);
        CHECK(v.begin() == v.end());
        CHECK(v.spans().begin() == v.spans().end());
        for (std::uint64_t i = 0; i < n; ++i) v.push_back(i * 3);
        REQUIRE(v.size() == n);
        CHECK(v.stats().representation == COW_REPRESENTATION_TREE);

        // By index.
        bool by_index = true;
        for (std::uint64_t i = 0; i < n; ++i) by_index = by_index && v[i] == i * 3 && v.at(i) == i * 3;
        CHECK(by_index);
        CHECK(v.front() == 0);
        CHECK(v.back() == (n - 1) * 3);
        CHECK(status_thrown([&] { (void)v.at(n); }) == COW_ERANGE);

        // By element and by span: several leaves, in order, each non-empty.
        std::uint64_t next = 0;
        bool in_order = true;
        for (std::uint64_t x : v) in_order = in_order && x == 3 * next++;
        CHECK(in_order);
        CHECK(next == n);
        std::size_t chunks = 0, total = 0;
        bool chunks_ok = true;
        for (const auto &c : v.spans()) {
            ++chunks;
            chunks_ok = chunks_ok && !c.empty();
            for (std::uint64_t x : c) chunks_ok = chunks_ok && x == 3 * total++;
        }
        CHECK(chunks_ok);
        CHECK(chunks > 1);
        CHECK(total == n);
        std::size_t callbacks = 0;
        v.for_each_span([&](const std::uint64_t *, std::size_t) { ++callbacks; });
        CHECK(callbacks == chunks);
        std::vector<std::uint64_t> original = v.to_std();
        REQUIRE(original.size() == n);
        CHECK(original[n - 1] == (n - 1) * 3);

        // No contiguous view: data(), span() and make_mut() throw, and
        // make_mut changes nothing.
        CHECK(status_thrown([&] { (void)v.data(); }) == COW_ENOTCONTIGUOUS);
#ifdef __cpp_lib_span
        CHECK(status_thrown([&] { (void)v.span(); }) == COW_ENOTCONTIGUOUS);
        std::span<const std::uint64_t> first = *v.spans().begin();
        CHECK(first[1] == 3);
#endif
        cow::vector<std::uint64_t> snapshot = v;
        CHECK(status_thrown([&] { (void)v.make_mut(); }) == COW_ENOTCONTIGUOUS);
        CHECK(v.same_as(snapshot));
        CHECK(v.stats().copies == 0);

        // Edits after the copy: the snapshot never sees them.
        CHECK(v.set(5000, 1) == 15000);
        v.get_mut(0) = 7;
        v.push_back(42);
        v.insert(1, 99);
        CHECK(v.erase(9000) == 8999 * 3);
        CHECK_FALSE(v.same_as(snapshot));
        CHECK(v.size() == n + 1);
        CHECK(v[0] == 7);
        CHECK(v[1] == 99);
        CHECK(v[5001] == 1);
        CHECK(v[9000] == 9000 * 3);
        CHECK(v.back() == 42);
        CHECK(v.stats().representation == COW_REPRESENTATION_TREE);
        CHECK(snapshot.stats().representation == COW_REPRESENTATION_TREE);
        CHECK(snapshot.to_std() == original);
        CHECK(snapshot.size() == n);
        CHECK_FALSE(snapshot.contiguous());

        // The whole edited vector reads the same by index and by iteration.
        std::vector<std::uint64_t> by_iteration(v.begin(), v.end());
        bool same = by_iteration.size() == v.size();
        for (std::size_t i = 0; same && i < by_iteration.size(); ++i) same = by_iteration[i] == v[i];
        CHECK(same);

        // make_unique on a tree makes the root private and copies nothing else.
        cow::vector<std::uint64_t> other = snapshot;
        other.make_unique();
        CHECK_FALSE(other.same_as(snapshot));
        CHECK(other.to_std() == original);
        v.clear();
        CHECK(v.empty());
        CHECK_FALSE(v.contiguous());
    }

    TEST_CASE("vector: a STRUCTURAL tree from an initializer list or with capacity") {
        test::leak_check lc;
        const cow_options tree = cow::make_options(COW_STRATEGY_STRUCTURAL);
        cow::vector<std::int16_t> a({1, 2, 3}, tree);
        CHECK_FALSE(a.contiguous());
        CHECK(a.to_std() == std::vector<std::int16_t>{1, 2, 3});
        auto b = cow::vector<std::int16_t>::with_capacity(64, &tree);
        CHECK_FALSE(b.contiguous());
        b.append({4, 5});
        CHECK(b.at(1) == 5);
        CHECK(b.stats().representation == COW_REPRESENTATION_TREE);
    }
}

namespace {

// The vector strategies every whole-vector operation is checked under:
// flat (the default, LAZY) and a persistent tree.
struct vec_strategy {
    std::string name;
    cow_strategy_t strategy;
};
const vec_strategy vec_strategies[] = {{"lazy", COW_STRATEGY_LAZY},
                                           {"structural", COW_STRATEGY_STRUCTURAL}};

// 0, 7, 14, ... as a cow::vector under `strategy` and as a std::vector.
std::pair<cow::vector<std::uint64_t>, std::vector<std::uint64_t>> sevens(
    std::size_t n, cow_strategy_t strategy) {
    const cow_options o = cow::make_options(strategy);
    std::vector<std::uint64_t> model(n);
    for (std::size_t i = 0; i < n; ++i) model[i] = 7 * i;
    return {cow::vector<std::uint64_t>(model.data(), model.size(), &o), model};
}

// The maximal ranges (offset, count) where a and b differ, positions past
// the shorter one included: what diff must report.
std::vector<std::pair<std::size_t, std::size_t>> model_diff(const std::vector<std::uint64_t> &a,
                                                            const std::vector<std::uint64_t> &b) {
    std::vector<std::pair<std::size_t, std::size_t>> out;
    const std::size_t n = std::max(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i) {
        const bool differ = i >= a.size() || i >= b.size() || a[i] != b[i];
        if (!differ) continue;
        if (!out.empty() && out.back().first + out.back().second == i)
            ++out.back().second;
        else
            out.emplace_back(i, 1);
    }
    return out;
}

}  // namespace

TEST_SUITE("cpp_api: whole-vector operations") {
    TEST_CASE("vector: begin_at and from iterate from an index; past the end throws") {
        test::leak_check lc;
        for (const vec_strategy &st : vec_strategies) {
            CAPTURE(st.name);
            auto v_made = sevens(3000, st.strategy);
            auto &v = v_made.first;
            auto &model = v_made.second;
            for (std::size_t start : {std::size_t{0}, std::size_t{1}, std::size_t{1500},
                                      std::size_t{2999}, std::size_t{3000}}) {
                CAPTURE(start);
                std::vector<std::uint64_t> got(v.begin_at(start), v.end());
                CHECK(got == std::vector<std::uint64_t>(model.begin() + start, model.end()));
                std::vector<std::uint64_t> ranged;
                for (std::uint64_t x : v.from(start)) ranged.push_back(x);
                CHECK(ranged == got);
            }
            CHECK(v.begin_at(3000) == v.end());
            CHECK(*v.begin_at(2048) == 7 * 2048);
            CHECK(status_thrown([&] { (void)v.begin_at(3001); }) == COW_ERANGE);
            cow::vector<std::uint64_t> moved = std::move(v);
            CHECK(v.begin_at(0) == v.end());  // NOLINT: a moved-from vector reads as empty
            CHECK(status_thrown([&] { (void)v.begin_at(1); }) == COW_ERANGE);
            CHECK(moved.size() == 3000);
        }
    }

    TEST_CASE("vector: slice copies a range into a new value with the same strategy") {
        test::leak_check lc;
        for (const vec_strategy &st : vec_strategies) {
            CAPTURE(st.name);
            auto v_made = sevens(5000, st.strategy);
            auto &v = v_made.first;
            auto &model = v_made.second;
            const bool tree = st.strategy == COW_STRATEGY_STRUCTURAL;
            cow::vector<std::uint64_t> mid = v.slice(1000, 2500);
            CHECK(mid.to_std() ==
                  std::vector<std::uint64_t>(model.begin() + 1000, model.begin() + 3500));
            CHECK(mid.contiguous() == !tree);
            CHECK_FALSE(mid.same_as(v));
            CHECK(v.slice(0, 0).empty());
            CHECK(v.slice(5000, 0).empty());
            CHECK(v.slice(0, 5000).to_std() == model);
            CHECK(status_thrown([&] { (void)v.slice(5001, 0); }) == COW_ERANGE);
            CHECK(status_thrown([&] { (void)v.slice(4000, 1001); }) == COW_ERANGE);
            // The slice is a value of its own: writes to either stay there.
            mid.set(0, 1);
            v.set(1001, 2);
            CHECK(v[1000] == 7000);
            CHECK(mid[1] == 7 * 1001);
            CHECK(v.to_std()[1001] == 2);
            cow::vector<std::uint64_t> none;
            cow::vector<std::uint64_t> moved = std::move(none);
            CHECK(none.slice(0, 0).empty());  // NOLINT: a moved-from vector reads as empty
            CHECK(status_thrown([&] { (void)none.slice(0, 1); }) == COW_ERANGE);
        }
    }

    TEST_CASE("vector: concat appends another vector, itself, or a vector of the other "
              "representation; the argument is unchanged") {
        test::leak_check lc;
        for (const vec_strategy &st : vec_strategies) {
            for (const vec_strategy &other_st : vec_strategies) {
                CAPTURE(st.name);
                CAPTURE(other_st.name);
                auto a_made = sevens(3000, st.strategy);
                auto &a = a_made.first;
                auto &model_a = a_made.second;
                auto b_made = sevens(2000, other_st.strategy);
                auto &b = b_made.first;
                auto &model_b = b_made.second;
                b.set(0, 99);
                model_b[0] = 99;
                cow::vector<std::uint64_t> before = a;
                std::vector<std::uint64_t> want = model_a;
                want.insert(want.end(), model_b.begin(), model_b.end());
                CHECK(&a.concat(b) == &a);
                CHECK(a.to_std() == want);
                CHECK(a.size() == 5000);
                CHECK(b.to_std() == model_b);
                CHECK(before.to_std() == model_a);  // the copy taken before is unchanged
                CHECK(a.contiguous() == (st.strategy != COW_STRATEGY_STRUCTURAL));
                // Doubling.
                b.concat(b);
                std::vector<std::uint64_t> doubled = model_b;
                doubled.insert(doubled.end(), model_b.begin(), model_b.end());
                CHECK(b.to_std() == doubled);
                // Empty and moved-from vectors on either side.
                a.concat(cow::vector<std::uint64_t>());
                CHECK(a.size() == 5000);
                cow::vector<std::uint64_t> gone = std::move(before);
                a.concat(before);  // NOLINT: a moved-from vector reads as empty
                CHECK(a.to_std() == want);
                before.concat(gone);  // NOLINT: its first write creates a fresh vector
                CHECK(before.to_std() == model_a);
            }
        }
    }

    TEST_CASE("vector: == and hash compare elements across representations") {
        test::leak_check lc;
        for (const vec_strategy &st : vec_strategies) {
            CAPTURE(st.name);
            auto v_made = sevens(4000, st.strategy);
            auto &v = v_made.first;
            auto &model = v_made.second;
            cow::vector<std::uint64_t> flat(model.data(), model.size());
            const cow_options tree_options = cow::make_options(COW_STRATEGY_STRUCTURAL);
            cow::vector<std::uint64_t> tree(model.data(), model.size(), &tree_options);
            cow::vector<std::uint64_t> copy = v;
            CHECK(v == copy);
            CHECK(v == flat);
            CHECK(v == tree);
            CHECK(v.hash() == flat.hash());
            CHECK(v.hash() == tree.hash());
            CHECK(v.hash() == copy.hash());
            copy.set(3999, 1);
            CHECK(v != copy);
            CHECK_FALSE(v == copy);
            CHECK(v.hash() != copy.hash());
            copy.set(3999, 7 * 3999);
            CHECK(v == copy);
            CHECK(v.hash() == copy.hash());
            copy.pop_back();
            CHECK(v != copy);  // a prefix is not equal
            // Empty and moved-from vectors are equal and hash alike.
            cow::vector<std::uint64_t> empty;
            cow::vector<std::uint64_t> none;
            cow::vector<std::uint64_t> moved = std::move(none);
            CHECK(empty == none);  // NOLINT: a moved-from vector reads as empty
            CHECK(empty.hash() == none.hash());
            CHECK(empty != v);
            CHECK(v.slice(10, 0) == empty);
        }
    }

    TEST_CASE("vector: diff reports the ranges where two versions differ, and stops") {
        test::leak_check lc;
        for (const vec_strategy &st : vec_strategies) {
            CAPTURE(st.name);
            auto a_made = sevens(5000, st.strategy);
            auto &a = a_made.first;
            auto &model_a = a_made.second;
            cow::vector<std::uint64_t> b = a;
            std::vector<std::uint64_t> model_b = model_a;
            for (std::size_t i : {std::size_t{3}, std::size_t{4}, std::size_t{5},
                                  std::size_t{2600}, std::size_t{4998}, std::size_t{4999}}) {
                b.set(i, 1);
                model_b[i] = 1;
            }
            b.push_back(8);
            b.push_back(9);
            model_b.push_back(8);
            model_b.push_back(9);
            using ranges = std::vector<std::pair<std::size_t, std::size_t>>;
            ranges want = model_diff(model_a, model_b);
            REQUIRE(want.size() == 3);  // [3, 3), [2600, 1), [4998, 4)
            ranges got;
            CHECK_FALSE(a.diff(b, [&](std::size_t off, std::size_t n) { got.emplace_back(off, n); }));
            CHECK(got == want);
            got.clear();
            CHECK_FALSE(b.diff(a, [&](std::size_t off, std::size_t n) { got.emplace_back(off, n); }));
            CHECK(got == want);
            // Against the other representation of the same elements.
            const cow_options other = cow::make_options(
                st.strategy == COW_STRATEGY_STRUCTURAL ? COW_STRATEGY_LAZY : COW_STRATEGY_STRUCTURAL);
            cow::vector<std::uint64_t> c(model_b.data(), model_b.size(), &other);
            got.clear();
            CHECK_FALSE(a.diff(c, [&](std::size_t off, std::size_t n) { got.emplace_back(off, n); }));
            CHECK(got == want);
            // No differences: no call.
            std::size_t calls = 0;
            CHECK_FALSE(b.diff(c, [&](std::size_t, std::size_t) { ++calls; }));
            CHECK(calls == 0);
            // Returning true stops after that range.
            got.clear();
            CHECK(a.diff(b, [&](std::size_t off, std::size_t n) {
                got.emplace_back(off, n);
                return got.size() == 2;
            }));
            CHECK(got == ranges(want.begin(), want.begin() + 2));
            // An exception stops the walk and reaches the caller.
            calls = 0;
            CHECK_THROWS_AS(a.diff(b,
                                   [&](std::size_t, std::size_t) {
                                       ++calls;
                                       throw std::runtime_error("stop");
                                   }),
                            std::runtime_error);
            CHECK(calls == 1);
            // Against an empty vector every position differs.
            got.clear();
            CHECK_FALSE(a.diff(cow::vector<std::uint64_t>(),
                               [&](std::size_t off, std::size_t n) { got.emplace_back(off, n); }));
            CHECK(got == ranges{{0, 5000}});
        }
    }
}

TEST_SUITE("cpp_api: map") {
    TEST_CASE("map<string, u64>: copy shares, insert copies, lookups by string_view") {
        test::leak_check lc;
        cow::map<std::string, std::uint64_t> config{
            {"workers", 4}, {"timeout", 30}, {"max_connections", 1000}};
        CHECK(config.size() == 3);
        CHECK(config.at("workers") == 4);
        CHECK(config.get(std::string_view("timeout")) == std::optional<std::uint64_t>(30));
        CHECK_FALSE(config.get("missing").has_value());
        CHECK(config.contains(std::string("max_connections")));
        CHECK(status_thrown([&] { (void)config.at("missing"); }) == COW_ENOTFOUND);

        cow::map<std::string, std::uint64_t> copy = config;
        CHECK(config.use_count() == 2);
        CHECK_FALSE(copy.erase("missing"));  // nothing to remove: no copy
        CHECK(copy.same_as(config));
        CHECK_FALSE(copy.insert_or_assign("workers", 8));  // replaced
        CHECK(copy.insert_or_assign("retries", 3));       // new
        CHECK(config.at("workers") == 4);
        CHECK_FALSE(config.contains("retries"));
        CHECK(copy.at("workers") == 8);
        CHECK(config.stats().copies == 1);

        CHECK(copy.extract("retries") == std::optional<std::uint64_t>(3));
        CHECK_FALSE(copy.extract("retries").has_value());
        CHECK(copy.erase("timeout"));
        CHECK(copy.size() == 2);
        copy.edit("workers", [](std::uint64_t &w) { w *= 2; });
        CHECK(copy.at("workers") == 16);

        std::uint64_t sum = 0;
        std::size_t key_bytes = 0;
        for (auto e : config) {
            sum += e.value;
            key_bytes += e.key.size();
        }
        CHECK(sum == 1034);
        CHECK(key_bytes == std::string_view("workerstimeoutmax_connections").size());
        CHECK(status_thrown([&] { copy.insert_or_assign(std::string_view("\xff", 1), 1); }) ==
              COW_EUTF8);
        CHECK(status_thrown([&] { copy.edit("missing", [](std::uint64_t &) {}); }) ==
              COW_ENOTFOUND);
    }

    TEST_CASE("map<u64, struct>: integer keys and plain values") {
        test::leak_check lc;
        cow::map<std::uint64_t, point> m;
        for (std::uint64_t k = 0; k < 100; ++k)
            m.insert_or_assign(k, point{int(k), 0, 0.0});
        cow::map<std::uint64_t, point> old = m;
        m.edit(7, [](point &p) { p.y = 70; });
        CHECK(old.at(7).y == 0);
        CHECK(m.at(7).y == 70);
        std::uint64_t keys = 0;
        for (auto e : m) {
            keys += e.key;
            CHECK(e.value.x == int(e.key));
        }
        CHECK(keys == 4950);
        m.clear();
        CHECK(m.empty());
        CHECK(old.size() == 100);
    }

    TEST_CASE("map<string, cow::vector>: a nested edit copies one level at a time") {
        test::leak_check lc;
        cow::map<std::string, cow::vector<std::int64_t>> m;
        cow::vector<std::int64_t> evens{0, 2, 4};
        m.insert_or_assign("evens", evens);
        CHECK(evens.use_count() == 2);  // the map holds a clone
        m.insert_or_assign("odds", cow::vector<std::int64_t>{1, 3, 5});
        evens = cow::vector<std::int64_t>();

        cow::map<std::string, cow::vector<std::int64_t>> old = m;
        cow::vector<std::int64_t> odds_before = *old.get("odds");
        CHECK(odds_before.use_count() == 2);  // the map's value and this handle
        odds_before = cow::vector<std::int64_t>();

        std::size_t len = m.edit("evens", [](cow::vector<std::int64_t> &v) {
            v.push_back(6);
            return v.size();
        });
        CHECK(len == 4);
        CHECK(old.stats().copies == 1);                 // one map copy
        CHECK(old.at("evens").stats().copies == 1);     // one vector copy
        CHECK(old.at("odds").stats().copies == 0);
        CHECK(old.at("odds").same_as(m.at("odds")));    // untouched vector shared
        CHECK_FALSE(old.at("evens").same_as(m.at("evens")));
        CHECK(old.at("evens").to_std() == std::vector<std::int64_t>{0, 2, 4});
        CHECK(m.at("evens").to_std() == std::vector<std::int64_t>{0, 2, 4, 6});

        // A second edit on the now unique chain copies nothing.
        m.edit("evens", [](cow::vector<std::int64_t> &v) { v.push_back(8); });
        CHECK(old.stats().copies == 1);
        CHECK(old.at("evens").stats().copies == 1);

        std::size_t total = 0;
        for (auto e : m) total += e.value.size();
        CHECK(total == 8);
        // A value that throws out of edit is put back in place.
        CHECK_THROWS_AS(m.edit("odds",
                               [](cow::vector<std::int64_t> &v) {
                                   v.push_back(7);
                                   throw std::runtime_error("stop");
                               }),
                        std::runtime_error);
        CHECK(m.at("odds").to_std() == std::vector<std::int64_t>{1, 3, 5, 7});
        CHECK(old.at("odds").to_std() == std::vector<std::int64_t>{1, 3, 5});

        std::optional<cow::vector<std::int64_t>> taken = m.extract("odds");
        REQUIRE(taken.has_value());
        CHECK(taken->use_count() == 1);
        CHECK(taken->size() == 4);
        CHECK_FALSE(m.contains("odds"));
    }

    TEST_CASE("map<int, cow::string>: string values are shared handles") {
        test::leak_check lc;
        cow::map<int, cow::string> names;
        cow::string alice("alice");
        names.insert_or_assign(1, alice);
        names.insert_or_assign(2, cow::string("bob"));
        CHECK(alice.use_count() == 2);
        cow::string got = names.at(1);
        CHECK(got.same_as(alice));
        CHECK(alice.use_count() == 3);
        names.edit(1, [](cow::string &s) { s.append(" smith"); });
        CHECK(alice == "alice");
        CHECK(names.at(1) == "alice smith");
        CHECK(alice.use_count() == 2);  // alice and got
        CHECK(names.erase(2));
        CHECK(names.size() == 1);
    }

    TEST_CASE("map: a failing allocator throws bad_alloc and changes nothing") {
        test::leak_check lc;
        test::allocator_scope scope;
        cow::map<std::string, std::uint64_t> a{{"k", 1}};
        cow::map<std::string, std::uint64_t> b = a;
        fail_next(scope, true);
        CHECK_THROWS_AS(b.insert_or_assign("k2", 2), std::bad_alloc);
        CHECK_THROWS_AS(b.erase("k"), std::bad_alloc);
        stop_failing(scope);
        CHECK(b.same_as(a));
        CHECK(b.size() == 1);
        CHECK(b.at("k") == 1);
    }
}

namespace {

// One change map::diff reports, in a form the plain model gives too.
struct map_change_seen {
    cow::map_change kind;
    std::uint64_t key;
    std::optional<std::uint64_t> old_value, new_value;
    bool operator<(const map_change_seen &o) const { return key < o.key; }
    bool operator==(const map_change_seen &o) const {
        return kind == o.kind && key == o.key && old_value == o.old_value &&
               new_value == o.new_value;
    }
};

// What diff(a -> b) must report, by key.
std::vector<map_change_seen> model_map_diff(const std::map<std::uint64_t, std::uint64_t> &a,
                                            const std::map<std::uint64_t, std::uint64_t> &b) {
    std::vector<map_change_seen> out;
    for (const auto &[k, v] : a) {
        auto it = b.find(k);
        if (it == b.end())
            out.push_back({cow::map_change::removed, k, v, std::nullopt});
        else if (it->second != v)
            out.push_back({cow::map_change::changed, k, v, it->second});
    }
    for (const auto &[k, v] : b)
        if (!a.count(k)) out.push_back({cow::map_change::added, k, std::nullopt, v});
    std::sort(out.begin(), out.end());
    return out;
}

using u64_map = cow::map<std::uint64_t, std::uint64_t>;

u64_map map_from(const std::map<std::uint64_t, std::uint64_t> &model, cow_strategy_t strategy) {
    const cow_options o = cow::make_options(strategy);
    u64_map m(&o);
    for (const auto &[k, v] : model) m.insert_or_assign(k, v);
    return m;
}

// Every change diff(a -> b) reports, sorted by key.
std::vector<map_change_seen> map_diff(const u64_map &a, const u64_map &b) {
    std::vector<map_change_seen> got;
    CHECK_FALSE(a.diff(b, [&](cow::map_change kind, std::uint64_t key, const std::uint64_t *old_value,
                              const std::uint64_t *new_value) {
        std::optional<std::uint64_t> o, n;
        if (old_value) o = *old_value;
        if (new_value) n = *new_value;
        got.push_back({kind, key, o, n});
    }));
    std::sort(got.begin(), got.end());
    return got;
}

}  // namespace

TEST_SUITE("cpp_api: whole-map operations") {
    TEST_CASE("map: ==, hash and diff against a std::map, flat and tree") {
        test::leak_check lc;
        for (const vec_strategy &st : vec_strategies) {
            CAPTURE(st.name);
            std::map<std::uint64_t, std::uint64_t> model_a;
            for (std::uint64_t k = 0; k < 3000; ++k) model_a[k * 11] = k;
            u64_map a = map_from(model_a, st.strategy);
            u64_map b = a;
            CHECK(a == b);
            CHECK(a.hash() == b.hash());
            CHECK(map_diff(a, b).empty());

            std::map<std::uint64_t, std::uint64_t> model_b = model_a;
            for (std::uint64_t k : {5u, 100001u, 7u}) {  // added
                b.insert_or_assign(k, k + 1);
                model_b[k] = k + 1;
            }
            for (std::uint64_t k : {0u, 11u * 2999}) {  // removed
                CHECK(b.erase(k));
                model_b.erase(k);
            }
            for (std::uint64_t k : {11u, 11u * 1500, 11u * 2998}) {  // changed
                b.insert_or_assign(k, 999999);
                model_b[k] = 999999;
            }
            b.insert_or_assign(22, 2);  // the same value: not a change
            const auto want = model_map_diff(model_a, model_b);
            REQUIRE(want.size() == 8);
            CHECK(a != b);
            CHECK(a.hash() != b.hash());
            CHECK(map_diff(a, b) == want);
            CHECK(map_diff(b, a) == model_map_diff(model_b, model_a));

            // The same entries in the other representation: equal, same hash,
            // and the same diff.
            const cow_strategy_t other = st.strategy == COW_STRATEGY_STRUCTURAL
                                             ? COW_STRATEGY_LAZY
                                             : COW_STRATEGY_STRUCTURAL;
            u64_map c = map_from(model_b, other);
            CHECK(b == c);
            CHECK(b.hash() == c.hash());
            CHECK(map_diff(b, c).empty());
            CHECK(map_diff(a, c) == want);
            CHECK(map_diff(c, a) == model_map_diff(model_b, model_a));

            // Putting the old values back makes them equal again.
            for (const auto &ch : want) {
                if (ch.old_value)
                    b.insert_or_assign(ch.key, *ch.old_value);
                else
                    CHECK(b.erase(ch.key));
            }
            CHECK(a == b);
            CHECK(a.hash() == b.hash());

            // Returning true stops after that change.
            std::size_t calls = 0;
            CHECK(a.diff(c, [&](cow::map_change, std::uint64_t, const std::uint64_t *,
                                const std::uint64_t *) { return ++calls == 2; }));
            CHECK(calls == 2);
            // An exception stops the walk and reaches the caller.
            calls = 0;
            CHECK_THROWS_AS(a.diff(c,
                                   [&](cow::map_change, std::uint64_t, const std::uint64_t *,
                                       const std::uint64_t *) {
                                       ++calls;
                                       throw std::runtime_error("stop");
                                   }),
                            std::runtime_error);
            CHECK(calls == 1);

            // Empty and moved-from maps are equal and hash alike; against an
            // empty map every key is added.
            u64_map empty;
            u64_map none;
            u64_map moved = std::move(none);
            CHECK(empty == none);  // NOLINT: a moved-from map reads as empty
            CHECK(empty.hash() == none.hash());
            CHECK(empty != a);
            CHECK(map_diff(none, a) == model_map_diff({}, model_a));  // NOLINT
        }
    }

    TEST_CASE("map: entry inserts when absent, finds when present, copies a shared map once") {
        test::leak_check lc;
        for (const vec_strategy &st : vec_strategies) {
            CAPTURE(st.name);
            const cow_options o = cow::make_options(st.strategy);
            cow::map<std::string, std::uint64_t> counts(&o);
            for (std::string_view w : {"a", "b", "a", "c", "a", "b"}) ++counts.entry(w, 0);
            CHECK(counts.size() == 3);
            CHECK(counts.at("a") == 3);
            CHECK(counts.at("b") == 2);
            CHECK(counts.at("c") == 1);

            cow::map<std::string, std::uint64_t> before = counts;
            std::uint64_t &d = counts.entry("d", 40);  // inserted into a copy
            CHECK(d == 40);
            d += 2;
            CHECK(counts.at("d") == 42);
            CHECK_FALSE(before.contains("d"));
            CHECK(before.stats().copies == 1);
            CHECK(counts.entry("d", 0) == 42);  // found: init unused
            CHECK(counts.size() == 4);
            CHECK(before.size() == 3);
            // diff sees exactly the entry added.
            std::size_t added = 0;
            before.diff(counts, [&](cow::map_change kind, std::string_view key,
                                    const std::uint64_t *old_value, const std::uint64_t *new_value) {
                CHECK(kind == cow::map_change::added);
                CHECK(key == "d");
                CHECK(old_value == nullptr);
                REQUIRE(new_value != nullptr);
                CHECK(*new_value == 42);
                ++added;
            });
            CHECK(added == 1);
            CHECK(status_thrown([&] { counts.entry(std::string_view("\xff", 1), 0); }) ==
                  COW_EUTF8);

            // An empty (default) map gets created by entry.
            cow::map<std::uint64_t, std::uint64_t> fresh;
            fresh.entry(9, 1) += 1;
            CHECK(fresh.at(9) == 2);
        }
    }

    TEST_CASE("map<int, cow::string>: entry with f, diff gives values as new references") {
        test::leak_check lc;
        for (const vec_strategy &st : vec_strategies) {
            CAPTURE(st.name);
            const cow_options o = cow::make_options(st.strategy);
            cow::map<int, cow::string> a(&o);
            cow::string hello("hello");
            a.insert_or_assign(1, hello);
            a.insert_or_assign(2, cow::string("two"));
            cow::map<int, cow::string> b = a;
            CHECK(b.entry(1, cow::string("unused"), [](cow::string &s) {
                s.append("!");
                return s.size();
            }) == 6);
            b.entry(3, cow::string("three"), [](cow::string &) {});
            CHECK(a.at(1) == "hello");
            CHECK(b.at(1) == "hello!");
            CHECK(b.at(3) == "three");
            CHECK(hello.use_count() == 2);  // hello and a's entry

            std::map<int, std::pair<std::optional<std::string>, std::optional<std::string>>> got;
            std::map<int, cow::map_change> kinds;
            a.diff(b, [&](cow::map_change kind, int key, std::optional<cow::string> old_value,
                          std::optional<cow::string> new_value) {
                kinds[key] = kind;
                got[key] = {old_value ? std::optional<std::string>(old_value->str()) : std::nullopt,
                            new_value ? std::optional<std::string>(new_value->str()) : std::nullopt};
            });
            CHECK(kinds.size() == 2);
            CHECK(kinds[1] == cow::map_change::changed);
            CHECK(kinds[3] == cow::map_change::added);
            CHECK(got[1].first == std::optional<std::string>("hello"));
            CHECK(got[1].second == std::optional<std::string>("hello!"));
            CHECK_FALSE(got[3].first.has_value());
            CHECK(got[3].second == std::optional<std::string>("three"));
            CHECK(hello.use_count() == 2);  // the references diff gave are released
            CHECK(a != b);
            CHECK(b.erase(3));
            b.edit(1, [](cow::string &s) { s.truncate(5); });
            // Handle values compare shallowly: equal bytes of strings are equal.
            CHECK(a == b);
            CHECK(a.hash() == b.hash());
        }
    }
}

TEST_SUITE("cpp_api: box") {
    TEST_CASE("box: copy shares, make_mut copies once and then writes in place") {
        test::leak_check lc;
        cow::box<point> a(point{1, 2, 3.0});
        cow::box<point> b = a;
        CHECK(a.use_count() == 2);
        CHECK(&*a == &*b);
        point &p = b.make_mut();
        p.x = 10;
        CHECK(a->x == 1);
        CHECK(b->x == 10);
        CHECK(&b.make_mut() == &p);  // unique now: the same value
        CHECK(a.stats().copies == 1);
        cow::box<point> c = std::move(b);
        CHECK(c.use_count() == 1);
        CHECK(status_thrown([&] { (void)b.get(); }) == COW_EINVAL);  // NOLINT: moved-from
    }

    TEST_CASE("box: update; a throwing update leaves a shared box unchanged") {
        test::leak_check lc;
        cow::box<point> a(point{1, 2, 3.0});
        cow::box<point> b = a;
        CHECK_THROWS_AS(b.update([](point &p) {
            p.x = 99;
            throw std::runtime_error("no");
        }),
                        std::runtime_error);
        CHECK(b.same_as(a));
        CHECK(b->x == 1);
        b.update([](point &p) { p.y = 20; });
        CHECK(a->y == 2);
        CHECK(b->y == 20);
        CHECK_FALSE(b.same_as(a));
    }

    TEST_CASE("box: into() hands the value out, unique or shared") {
        test::leak_check lc;
        cow::box<point> a(point{4, 5, 6.0});
        cow::box<point> b = a;
        point out = std::move(b).into();  // shared: copies
        CHECK(out.x == 4);
        CHECK(a.use_count() == 1);
        point last = std::move(a).into();  // unique: moves
        CHECK(last.y == 5);
        CHECK(a.use_count() == 0);  // NOLINT: consumed
    }
}

TEST_CASE("cpp_api: adopt checks the container's types") {
    test::leak_check lc;
    cow_map *raw = nullptr;
    REQUIRE(cow_map_new(&raw, cow_type_string(), cow_type_u64(), nullptr) == COW_OK);
    CHECK(status_thrown([&] { (void)cow::map<std::uint64_t, std::uint64_t>::adopt(raw); }) ==
          COW_ETYPE);
    CHECK(status_thrown([&] { (void)cow::map<std::string, cow::string>::adopt(raw); }) ==
          COW_ETYPE);
    auto m = cow::map<std::string, std::uint64_t>::adopt(raw);
    m.insert_or_assign("seen", 1);
    CHECK(cow_map_len(m.handle()) == 1);
    cow_vec *v = nullptr;
    REQUIRE(cow_vec_new(&v, cow_type_i64(), nullptr) == COW_OK);
    CHECK(status_thrown([&] { (void)cow::vector<std::int32_t>::adopt(v); }) == COW_ETYPE);
    auto adopted = cow::vector<std::int64_t>::adopt(v);
    adopted.push_back(5);
    CHECK(cow_vec_len(v) == 1);  // unique: written in place
}
