// cow_buf through the C API: sharing, copy on write, in-place writes,
// slices, hand-over, and the allocation counts behind each claim.
#include <cstring>
#include <string>

#include "support.hpp"

namespace {
std::string contents(const cow_buf *b) {
    return std::string(reinterpret_cast<const char *>(cow_buf_data(b)), cow_buf_len(b));
}
}  // namespace

TEST_CASE("create, clone shares, release lowers the count") {
    test::leak_check lc;
    cow_buf *a = nullptr;
    REQUIRE(cow_buf_new(&a, "hello", 5, nullptr) == COW_OK);
    CHECK(cow_kind(a) == COW_KIND_BUF);
    CHECK(cow_strong_count(a) == 1);
    CHECK_FALSE(cow_is_shared(a));
    cow_buf *b = cow_buf_clone(a);
    REQUIRE(b != nullptr);
    CHECK(cow_ptr_eq(a, b));
    CHECK(cow_strong_count(a) == 2);
    CHECK(cow_is_shared(a));
    CHECK(cow_buf_data(a) == cow_buf_data(b));
    cow_buf_release(b);
    CHECK(cow_strong_count(a) == 1);
    CHECK_FALSE(cow_is_shared(a));
    cow_buf_release(a);
}

TEST_CASE("clone allocates nothing; a write to a shared buffer copies, the other is unchanged") {
    test::leak_check lc;
    test::allocator_scope scope;
    cow_buf *a = nullptr;
    REQUIRE(cow_buf_new(&a, "abc", 3, nullptr) == COW_OK);
    long before = scope.allocator.successful_allocations();
    cow_buf *b = static_cast<cow_buf *>(cow_clone(a));
    CHECK(scope.allocator.successful_allocations() == before);  // O(1): a reference count increment
    const uint8_t *shared_data = cow_buf_data(a);
    REQUIRE(cow_buf_append(&b, "def", 3) == COW_OK);
    CHECK_FALSE(cow_ptr_eq(a, b));
    CHECK(contents(a) == "abc");
    CHECK(contents(b) == "abcdef");
    CHECK(cow_buf_data(a) == shared_data);
    CHECK(cow_strong_count(a) == 1);
    CHECK(cow_strong_count(b) == 1);
    auto s = test::stats(a);
    CHECK(s.clones == 1);
    CHECK(s.copies == 1);
    CHECK(s.bytes_copied == 3);
    cow_release(a);
    cow_release(b);
}

TEST_CASE("a write to a unique buffer happens in place with zero allocations") {
    test::leak_check lc;
    test::allocator_scope scope;
    cow_buf *a = nullptr;
    REQUIRE(cow_buf_with_capacity(&a, 64, nullptr) == COW_OK);
    REQUIRE(cow_buf_append(&a, "0123456789", 10) == COW_OK);
    const uint8_t *data = cow_buf_data(a);
    cow_buf *slot_before = a;
    long before = scope.allocator.successful_allocations();
    uint8_t *w = nullptr;
    REQUIRE(cow_buf_make_mut(&a, &w) == COW_OK);
    CHECK(w == data);
    w[0] = 'X';
    REQUIRE(cow_buf_append(&a, "ab", 2) == COW_OK);
    REQUIRE(cow_buf_insert(&a, 1, "-", 1) == COW_OK);
    REQUIRE(cow_buf_erase(&a, 2, 3) == COW_OK);
    REQUIRE(cow_buf_truncate(&a, 6) == COW_OK);
    REQUIRE(cow_buf_resize(&a, 8, '!') == COW_OK);
    CHECK(scope.allocator.successful_allocations() == before);
    CHECK(a == slot_before);
    CHECK(cow_buf_data(a) == data);
    CHECK(contents(a) == "X-4567!!");
    CHECK(test::stats(a).copies == 0);
    cow_release(a);
}

TEST_CASE("multiple clones: each writer gets its own copy") {
    test::leak_check lc;
    cow_buf *orig = nullptr;
    REQUIRE(cow_buf_new(&orig, "base", 4, nullptr) == COW_OK);
    cow_buf *c[4];
    for (auto &x : c) x = cow_buf_clone(orig);
    CHECK(cow_strong_count(orig) == 5);
    for (int i = 0; i < 4; ++i) {
        char ch = char('0' + i);
        REQUIRE(cow_buf_append(&c[i], &ch, 1) == COW_OK);
        CHECK(contents(c[i]) == std::string("base") + ch);
    }
    CHECK(contents(orig) == "base");
    CHECK(cow_strong_count(orig) == 1);
    auto s = test::stats(orig);
    CHECK(s.clones == 4);
    CHECK(s.copies == 4);
    CHECK(s.live_values == 5);
    for (auto x : c) cow_release(x);
    cow_release(orig);
}

TEST_CASE("slices share storage, allocate no bytes, and copy only themselves on write") {
    test::leak_check lc;
    test::allocator_scope scope;
    cow_buf *a = nullptr;
    REQUIRE(cow_buf_new(&a, "hello world", 11, nullptr) == COW_OK);
    long bytes_before = test::global().live_bytes;
    long allocs_before = scope.allocator.successful_allocations();
    cow_buf *s = nullptr;
    REQUIRE(cow_buf_slice(&s, a, 6, 5) == COW_OK);
    CHECK(scope.allocator.successful_allocations() == allocs_before + 1);  // the small handle, no byte storage
    CHECK(test::global().live_bytes - bytes_before < 128);
    CHECK(cow_buf_data(s) == cow_buf_data(a) + 6);
    CHECK(contents(s) == "world");
    CHECK(cow_is_shared(s));
    CHECK(cow_is_shared(a));  // its storage is shared with the slice
    CHECK(cow_strong_count(a) == 1);

    // A slice of a slice views the same storage.
    cow_buf *ss = nullptr;
    REQUIRE(cow_buf_slice(&ss, s, 1, 3) == COW_OK);
    CHECK(contents(ss) == "orl");
    CHECK(cow_buf_data(ss) == cow_buf_data(a) + 7);

    // Writing the slice copies just its 5 bytes.
    REQUIRE(cow_buf_append(&s, "!", 1) == COW_OK);
    CHECK(contents(s) == "world!");
    CHECK(contents(a) == "hello world");
    CHECK(test::stats(a).bytes_copied == 5);

    // The parent goes first; the storage lives on for the remaining slice.
    cow_buf_release(a);
    CHECK(contents(ss) == "orl");
    cow_buf_release(ss);
    cow_buf_release(s);
}

TEST_CASE("writing the parent of a live slice copies the parent, not the slice") {
    test::leak_check lc;
    cow_buf *a = nullptr, *s = nullptr;
    REQUIRE(cow_buf_new(&a, "abcdef", 6, nullptr) == COW_OK);
    REQUIRE(cow_buf_slice(&s, a, 0, 3) == COW_OK);
    const uint8_t *old = cow_buf_data(a);
    REQUIRE(cow_buf_append(&a, "g", 1) == COW_OK);
    CHECK(cow_buf_data(a) != old);
    CHECK(cow_buf_data(s) == old);
    CHECK(contents(s) == "abc");
    CHECK(contents(a) == "abcdefg");
    CHECK_FALSE(cow_is_shared(a));  // the new storage is its own
    cow_release(s);
    cow_release(a);
}

TEST_CASE("into hands over a storage block without copying when unique, copies when shared or when the storage shares the header's block") {
    test::leak_check lc;
    test::allocator_scope scope;
    const std::string large(2000, 'p');
    cow_buf *a = nullptr;
    REQUIRE(cow_buf_new(&a, large.data(), large.size(), nullptr) == COW_OK);
    const uint8_t *data = cow_buf_data(a);
    long before = scope.allocator.successful_allocations();
    cow_owned out{};
    REQUIRE(cow_buf_into(&a, &out) == COW_OK);
    CHECK(a == nullptr);
    CHECK(out.data == data);
    CHECK(out.len == large.size());
    CHECK(scope.allocator.successful_allocations() == before);
    CHECK(std::memcmp(out.data, large.data(), large.size()) == 0);
    cow_owned_free(&out);
    CHECK(out.data == nullptr);

    // Small storage lives in the header's block: it is copied out.
    REQUIRE(cow_buf_new(&a, "payload", 7, nullptr) == COW_OK);
    before = scope.allocator.successful_allocations();
    REQUIRE(cow_buf_into(&a, &out) == COW_OK);
    CHECK(scope.allocator.successful_allocations() == before + 1);
    CHECK(out.len == 7);
    CHECK(std::memcmp(out.data, "payload", 8) == 0);  // with its NUL
    cow_owned_free(&out);

    cow_buf *b = nullptr;
    REQUIRE(cow_buf_new(&b, "shared", 6, nullptr) == COW_OK);
    cow_buf *keep = cow_buf_clone(b);
    REQUIRE(cow_buf_into(&b, &out) == COW_OK);
    CHECK(b == nullptr);
    CHECK(out.data != cow_buf_data(keep));
    CHECK(std::memcmp(out.data, "shared", 6) == 0);
    CHECK(cow_strong_count(keep) == 1);
    cow_owned_free(&out);
    cow_release(keep);
}

TEST_CASE("a small buffer and its copy are one allocation each; larger storage has a block of its own") {
    test::leak_check lc;
    test::allocator_scope scope;
    cow_options o = COW_OPTIONS_INIT;
    o.flags = COW_OPT_NO_STATS;  // no lineage block: the value's own allocations only
    auto allocations_of_new = [&](std::size_t len) {
        long before = scope.allocator.calls;
        cow_buf *b = nullptr;
        REQUIRE(cow_buf_new(&b, std::string(len, 'x').data(), len, &o) == COW_OK);
        long made = scope.allocator.calls - before;
        cow_buf *c = cow_buf_clone(b);
        before = scope.allocator.calls;
        REQUIRE(cow_buf_make_mut(&c, nullptr) == COW_OK);
        CHECK(scope.allocator.calls - before == made);  // a copy allocates as new does
        cow_release(c);
        cow_release(b);
        return made;
    };
    CHECK(allocations_of_new(64) == 1);
    CHECK(allocations_of_new(900) == 1);
    CHECK(allocations_of_new(1024) == 2);
    CHECK(allocations_of_new(4096) == 2);
}

TEST_CASE("a buffer outgrowing the header's block keeps its bytes, and keeps growing in place") {
    test::leak_check lc;
    cow_buf *b = nullptr;
    REQUIRE(cow_buf_new(&b, "0123456789", 10, nullptr) == COW_OK);
    std::string expect = "0123456789";
    for (int i = 0; i < 300; ++i) {
        REQUIRE(cow_buf_append(&b, "abcdefghij", 10) == COW_OK);
        expect += "abcdefghij";
    }
    CHECK(contents(b) == expect);
    cow_buf *s = nullptr;
    REQUIRE(cow_buf_slice(&s, b, 5, 20) == COW_OK);
    CHECK(contents(s) == expect.substr(5, 20));
    cow_release(s);
    cow_release(b);
}

TEST_CASE("empty buffers have a non-NULL data pointer and grow on first write") {
    test::leak_check lc;
    cow_buf *e = nullptr;
    REQUIRE(cow_buf_new(&e, nullptr, 0, nullptr) == COW_OK);
    CHECK(cow_buf_data(e) != nullptr);
    CHECK(cow_buf_len(e) == 0);
    cow_buf *e2 = cow_buf_clone(e);
    REQUIRE(cow_buf_append(&e2, "x", 1) == COW_OK);
    CHECK(cow_buf_len(e) == 0);
    CHECK(contents(e2) == "x");
    cow_owned out{};
    REQUIRE(cow_buf_into(&e, &out) == COW_OK);
    CHECK(out.data != nullptr);
    CHECK(out.len == 0);
    cow_owned_free(&out);
    cow_release(e2);
}

TEST_CASE("appending a buffer to itself works across growth") {
    test::leak_check lc;
    cow_buf *a = nullptr;
    REQUIRE(cow_buf_new(&a, "abc", 3, nullptr) == COW_OK);
    for (int i = 0; i < 5; ++i) REQUIRE(cow_buf_append(&a, cow_buf_data(a), cow_buf_len(a)) == COW_OK);
    CHECK(cow_buf_len(a) == 96);
    std::string expect;
    for (int i = 0; i < 32; ++i) expect += "abc";
    CHECK(contents(a) == expect);
    REQUIRE(cow_buf_insert(&a, 1, cow_buf_data(a), 2) == COW_OK);
    CHECK(contents(a).substr(0, 6) == "aabbca");
    cow_release(a);
}

TEST_CASE("equal, compare and hash") {
    test::leak_check lc;
    cow_buf *a = nullptr, *b = nullptr, *c = nullptr;
    REQUIRE(cow_buf_new(&a, "abc", 3, nullptr) == COW_OK);
    REQUIRE(cow_buf_new(&b, "abc", 3, nullptr) == COW_OK);
    REQUIRE(cow_buf_new(&c, "abd", 3, nullptr) == COW_OK);
    CHECK(cow_buf_equal(a, b));
    CHECK_FALSE(cow_buf_equal(a, c));
    CHECK(cow_buf_compare(a, c) < 0);
    CHECK(cow_buf_compare(c, a) > 0);
    CHECK(cow_buf_compare(a, b) == 0);
    CHECK(cow_buf_hash(a) == cow_buf_hash(b));
    CHECK(cow_buf_hash(a) != cow_buf_hash(c));
    cow_buf *p = nullptr;
    REQUIRE(cow_buf_slice(&p, a, 0, 2) == COW_OK);
    CHECK(cow_buf_compare(p, a) < 0);  // a prefix sorts first
    cow_release(p);
    cow_release(a);
    cow_release(b);
    cow_release(c);
}
