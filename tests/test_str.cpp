// cow_str through the C API: UTF-8 validation, character boundaries,
// substrings, cstr, find, and copy-on-write behaviour.
#include <cstring>
#include <string>

#include "support.hpp"

namespace {
std::string contents(const cow_str *s) { return std::string(cow_str_data(s), cow_str_len(s)); }
cow_str *make(const std::string &t) {
    cow_str *s = nullptr;
    REQUIRE(cow_str_new(&s, t.data(), t.size(), nullptr) == COW_OK);
    return s;
}
}  // namespace

TEST_CASE("string clone shares; a write copies; the original is unchanged") {
    test::leak_check lc;
    test::allocator_scope scope;
    cow_str *a = make("hello");
    long before = scope.allocator.successful_allocations();
    cow_str *b = cow_str_clone(a);
    CHECK(scope.allocator.successful_allocations() == before);
    CHECK(cow_strong_count(a) == 2);
    REQUIRE(cow_str_append(&b, ", world", 7) == COW_OK);
    CHECK(contents(a) == "hello");
    CHECK(contents(b) == "hello, world");
    CHECK(cow_strong_count(a) == 1);
    cow_str_release(b);
    CHECK(cow_strong_count(a) == 1);
    cow_str_release(a);
}

TEST_CASE("unique writes happen in place") {
    test::leak_check lc;
    test::allocator_scope scope;
    cow_str *a = make("hello");
    REQUIRE(cow_str_append(&a, " there", 6) == COW_OK);  // grows once
    const char *data = cow_str_data(a);
    cow_str *slot = a;
    long before = scope.allocator.successful_allocations();
    REQUIRE(cow_str_make_mut(&a) == COW_OK);
    REQUIRE(cow_str_erase(&a, 0, 1) == COW_OK);
    REQUIRE(cow_str_insert(&a, 0, "H", 1) == COW_OK);
    REQUIRE(cow_str_truncate(&a, 5) == COW_OK);
    CHECK(scope.allocator.successful_allocations() == before);
    CHECK(a == slot);
    CHECK(cow_str_data(a) == data);
    CHECK(contents(a) == "Hello");
    CHECK(test::stats(a).copies == 0);
    cow_str_release(a);
}

TEST_CASE("invalid UTF-8 is refused with COW_EUTF8 and changes nothing") {
    test::leak_check lc;
    const char *bad[] = {
        "\xc0\xaf",          // overlong '/'
        "\xe0\x80\xaf",      // overlong 3-byte
        "\xf0\x80\x80\xaf",  // overlong 4-byte
        "\xed\xa0\x80",      // surrogate U+D800
        "\xf4\x90\x80\x80",  // above U+10FFFF
        "\xe2\x82",          // truncated
        "\x80",              // lone continuation
        "\xff",              // never valid
    };
    cow_str *s = make("ok");
    for (const char *b : bad) {
        CAPTURE(b);
        cow_str *out = nullptr;
        CHECK(cow_str_new(&out, b, std::strlen(b), nullptr) == COW_EUTF8);
        CHECK(out == nullptr);
        cow_str *before = s;
        CHECK(cow_str_append(&s, b, std::strlen(b)) == COW_EUTF8);
        CHECK(cow_str_insert(&s, 0, b, std::strlen(b)) == COW_EUTF8);
        CHECK(s == before);
        CHECK(contents(s) == "ok");
    }
    const char *good = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";  // a é € 😀
    REQUIRE(cow_str_append(&s, good, std::strlen(good)) == COW_OK);
    CHECK(cow_str_char_count(s) == 6);
    CHECK(cow_str_len(s) == 12);
    cow_str_release(s);
}

TEST_CASE("offsets must fall on character boundaries") {
    test::leak_check lc;
    cow_str *s = make("\xc3\xa9t\xc3\xa9");  // été
    CHECK(cow_str_insert(&s, 1, "x", 1) == COW_EINVAL);
    CHECK(cow_str_erase(&s, 0, 1) == COW_EINVAL);
    CHECK(cow_str_truncate(&s, 4) == COW_EINVAL);
    cow_str *sub = nullptr;
    CHECK(cow_str_substr(&sub, s, 1, 2) == COW_EINVAL);
    CHECK(cow_str_insert(&s, 6, "x", 1) == COW_ERANGE);
    CHECK(cow_str_erase(&s, 2, 5) == COW_ERANGE);
    CHECK(contents(s) == "\xc3\xa9t\xc3\xa9");
    REQUIRE(cow_str_erase(&s, 2, 1) == COW_OK);
    CHECK(contents(s) == "\xc3\xa9\xc3\xa9");
    cow_str_release(s);
}

TEST_CASE("substrings are O(1) views; cstr copies only when it must") {
    test::leak_check lc;
    test::allocator_scope scope;
    cow_str *s = make("key=value");
    long before = scope.allocator.successful_allocations();
    cow_str *tail = nullptr, *head = nullptr;
    REQUIRE(cow_str_substr(&tail, s, 4, 5) == COW_OK);
    REQUIRE(cow_str_substr(&head, s, 0, 3) == COW_OK);
    CHECK(scope.allocator.successful_allocations() == before + 2);  // two small handles, no text copied
    CHECK(cow_str_data(tail) == cow_str_data(s) + 4);
    CHECK(contents(head) == "key");

    // The tail ends where the storage ends: its cstr is the shared bytes.
    const char *c = nullptr;
    cow_str *tail_slot = tail;
    REQUIRE(cow_str_cstr(&tail, &c) == COW_OK);
    CHECK(tail == tail_slot);
    CHECK(c == cow_str_data(s) + 4);
    CHECK(std::strcmp(c, "value") == 0);

    // The head does not: cstr makes a private NUL-terminated copy.
    cow_str *head_slot = head;
    REQUIRE(cow_str_cstr(&head, &c) == COW_OK);
    CHECK(head != head_slot);
    CHECK(std::strcmp(c, "key") == 0);
    CHECK(contents(s) == "key=value");

    // A whole string's cstr never copies: O(1), no allocation.
    cow_str *s_slot = s;
    before = scope.allocator.successful_allocations();
    REQUIRE(cow_str_cstr(&s, &c) == COW_OK);
    CHECK(scope.allocator.successful_allocations() == before);
    CHECK(s == s_slot);
    CHECK(c == cow_str_data(s));
    CHECK(std::strcmp(c, "key=value") == 0);
    cow_release(head);
    cow_release(tail);
    cow_release(s);
}

TEST_CASE("find, compare, equal, hash") {
    test::leak_check lc;
    cow_str *s = make("abracadabra");
    size_t pos = 99;
    REQUIRE(cow_str_find(s, "cad", 3, 0, &pos) == COW_OK);
    CHECK(pos == 4);
    REQUIRE(cow_str_find(s, "abra", 4, 1, &pos) == COW_OK);
    CHECK(pos == 7);
    CHECK(cow_str_find(s, "zzz", 3, 0, &pos) == COW_ENOTFOUND);
    CHECK(pos == 7);  // untouched on failure
    CHECK(cow_str_find(s, "a", 1, 12, &pos) == COW_ERANGE);
    REQUIRE(cow_str_find(s, "", 0, 11, &pos) == COW_OK);
    CHECK(pos == 11);
    // The needle is validated and `from` must be a character boundary, so a
    // match never starts inside a character.
    cow_str *e = make("\xc3\xa9x\xc3\xa9");  // "éxé"
    pos = 99;
    CHECK(cow_str_find(e, "\xa9", 1, 0, &pos) == COW_EUTF8);
    CHECK(cow_str_find(e, "", 0, 1, &pos) == COW_EINVAL);
    CHECK(cow_str_find(e, "x", 1, 1, &pos) == COW_EINVAL);
    CHECK(pos == 99);
    REQUIRE(cow_str_find(e, "\xc3\xa9", 2, 2, &pos) == COW_OK);
    CHECK(pos == 3);
    cow_str_release(e);
    cow_str *t = make("abracadabra");
    cow_str *u = make("abracadabrb");
    CHECK(cow_str_equal(s, t));
    CHECK_FALSE(cow_str_equal(s, u));
    CHECK(cow_str_compare(s, u) < 0);
    CHECK(cow_str_hash(s) == cow_str_hash(t));
    CHECK(cow_str_hash(s) != cow_str_hash(u));
    cow_buf *b = nullptr;
    REQUIRE(cow_buf_new(&b, "abracadabra", 11, nullptr) == COW_OK);
    CHECK(cow_buf_hash(b) == cow_str_hash(s));  // same bytes, same hash
    cow_release(b);
    cow_release(s);
    cow_release(t);
    cow_release(u);
}

TEST_CASE("from_cstr, into and embedded NUL") {
    test::leak_check lc;
    test::allocator_scope scope;
    cow_str *s = nullptr;
    REQUIRE(cow_str_from_cstr(&s, "plain", nullptr) == COW_OK);
    CHECK(cow_str_len(s) == 5);
    REQUIRE(cow_str_append(&s, "\0x", 2) == COW_OK);
    CHECK(cow_str_len(s) == 7);
    CHECK(cow_str_char_count(s) == 7);
    const char *data = cow_str_data(s);
    cow_owned out{};
    long before = scope.allocator.successful_allocations();
    REQUIRE(cow_str_into(&s, &out) == COW_OK);
    CHECK(scope.allocator.successful_allocations() == before);  // unique: no copy, no allocation
    CHECK(s == nullptr);
    CHECK(out.data == data);
    CHECK(out.len == 7);
    CHECK(static_cast<char *>(out.data)[7] == 0);  // NUL-terminated
    cow_owned_free(&out);
}
