// Every buffer/string/generic entry point refuses bad arguments with a
// specific status and leaves the slot and the value unchanged.
#include <cstdint>
#include <cstring>
#include <string>

#include "support.hpp"

namespace {
struct fixture {
    test::leak_check lc;
    cow_buf *buf = nullptr;
    cow_str *str = nullptr;
    fixture() {
        REQUIRE(cow_buf_new(&buf, "bytes", 5, nullptr) == COW_OK);
        REQUIRE(cow_str_new(&str, "text", 4, nullptr) == COW_OK);
    }
    ~fixture() {
        // Nothing changed: same handles, same contents.
        CHECK(cow_buf_len(buf) == 5);
        CHECK(std::memcmp(cow_buf_data(buf), "bytes", 5) == 0);
        CHECK(std::string(cow_str_data(str), cow_str_len(str)) == "text");
        cow_release(buf);
        cow_release(str);
    }
    // A buffer handle passed where a string is expected, and vice versa.
    cow_str *buf_as_str() { return reinterpret_cast<cow_str *>(buf); }
    cow_buf *str_as_buf() { return reinterpret_cast<cow_buf *>(str); }
};
}  // namespace

TEST_CASE_FIXTURE(fixture, "NULL arguments give COW_EINVAL") {
    cow_buf *nb = nullptr;
    cow_str *ns = nullptr;
    CHECK(cow_buf_new(nullptr, "x", 1, nullptr) == COW_EINVAL);
    CHECK(cow_buf_new(&nb, nullptr, 1, nullptr) == COW_EINVAL);
    CHECK(cow_buf_with_capacity(nullptr, 1, nullptr) == COW_EINVAL);
    CHECK(cow_buf_append(nullptr, "x", 1) == COW_EINVAL);
    CHECK(cow_buf_append(&nb, "x", 1) == COW_EINVAL);
    CHECK(cow_buf_append(&buf, nullptr, 1) == COW_EINVAL);
    CHECK(cow_buf_insert(&buf, 0, nullptr, 1) == COW_EINVAL);
    CHECK(cow_buf_erase(nullptr, 0, 1) == COW_EINVAL);
    CHECK(cow_buf_truncate(&nb, 0) == COW_EINVAL);
    CHECK(cow_buf_resize(nullptr, 0, 0) == COW_EINVAL);
    CHECK(cow_buf_make_mut(nullptr, nullptr) == COW_EINVAL);
    CHECK(cow_buf_slice(nullptr, buf, 0, 1) == COW_EINVAL);
    CHECK(cow_buf_slice(&nb, nullptr, 0, 1) == COW_EINVAL);
    CHECK(cow_buf_into(&buf, nullptr) == COW_EINVAL);
    cow_owned o{};
    CHECK(cow_buf_into(nullptr, &o) == COW_EINVAL);
    CHECK(cow_str_new(nullptr, "x", 1, nullptr) == COW_EINVAL);
    CHECK(cow_str_new(&ns, nullptr, 1, nullptr) == COW_EINVAL);
    CHECK(cow_str_from_cstr(&ns, nullptr, nullptr) == COW_EINVAL);
    CHECK(cow_str_append(&str, nullptr, 1) == COW_EINVAL);
    CHECK(cow_str_append(nullptr, "x", 1) == COW_EINVAL);
    CHECK(cow_str_cstr(&str, nullptr) == COW_EINVAL);
    CHECK(cow_str_find(str, nullptr, 1, 0, nullptr) == COW_EINVAL);
    size_t pos;
    CHECK(cow_str_find(nullptr, "t", 1, 0, &pos) == COW_EINVAL);
    CHECK(cow_str_substr(&ns, nullptr, 0, 0) == COW_EINVAL);
    CHECK(cow_str_into(&str, nullptr) == COW_EINVAL);
    CHECK(cow_make_mut(nullptr) == COW_EINVAL);
    void *null_handle = nullptr;
    CHECK(cow_make_mut(&null_handle) == COW_EINVAL);
    CHECK(cow_stats(nullptr, nullptr) == COW_EINVAL);
    CHECK(cow_stats(buf, nullptr) == COW_EINVAL);
    CHECK(cow_stats_report(buf, COW_REPORT_TEXT, nullptr) == COW_EINVAL);
    cow_str *r = nullptr;
    CHECK(cow_stats_report(buf, 7, &r) == COW_EINVAL);
    CHECK(cow_global_stats(nullptr) == COW_EINVAL);
    CHECK(nb == nullptr);
    CHECK(ns == nullptr);
    CHECK(r == nullptr);
    // Queries on NULL answer with their documented neutral values.
    CHECK(cow_buf_len(nullptr) == 0);
    CHECK(cow_buf_data(nullptr) == nullptr);
    CHECK(cow_str_data(nullptr) == nullptr);
    CHECK(cow_strong_count(nullptr) == 0);
    CHECK_FALSE(cow_is_shared(nullptr));
    CHECK_FALSE(cow_ptr_eq(nullptr, nullptr));
    CHECK(cow_clone(nullptr) == nullptr);
    CHECK(cow_kind(nullptr) == COW_KIND_INVALID);
    cow_release(nullptr);  // no effect
    cow_owned_free(nullptr);
}

TEST_CASE_FIXTURE(fixture, "a handle of the wrong type gives COW_ETYPE") {
    cow_str *s = buf_as_str();
    cow_buf *b = str_as_buf();
    CHECK(cow_str_append(&s, "x", 1) == COW_ETYPE);
    CHECK(cow_str_insert(&s, 0, "x", 1) == COW_ETYPE);
    CHECK(cow_str_erase(&s, 0, 1) == COW_ETYPE);
    CHECK(cow_str_truncate(&s, 0) == COW_ETYPE);
    CHECK(cow_str_make_mut(&s) == COW_ETYPE);
    const char *c;
    CHECK(cow_str_cstr(&s, &c) == COW_ETYPE);
    cow_str *sub = nullptr;
    CHECK(cow_str_substr(&sub, s, 0, 1) == COW_ETYPE);
    size_t pos;
    CHECK(cow_str_find(s, "b", 1, 0, &pos) == COW_ETYPE);
    CHECK(cow_buf_append(&b, "x", 1) == COW_ETYPE);
    CHECK(cow_buf_erase(&b, 0, 1) == COW_ETYPE);
    uint8_t *w;
    CHECK(cow_buf_make_mut(&b, &w) == COW_ETYPE);
    cow_buf *sl = nullptr;
    CHECK(cow_buf_slice(&sl, b, 0, 1) == COW_ETYPE);
    cow_owned o{};
    CHECK(cow_buf_into(&b, &o) == COW_ETYPE);
    CHECK(o.data == nullptr);
    CHECK(s == buf_as_str());
    CHECK(b == str_as_buf());
    // Typed queries on the wrong kind give their neutral values.
    CHECK(cow_str_len(s) == 0);
    CHECK(cow_buf_len(b) == 0);
    CHECK(cow_str_clone(s) == nullptr);
    cow_str_release(s);  // ignored: not a string
    CHECK(cow_strong_count(buf) == 1);
    // A pointer that is not a libcow handle at all.
    uint64_t junk[8] = {};
    CHECK(cow_kind(junk) == COW_KIND_INVALID);
    void *junk_slot = junk;
    CHECK(cow_make_mut(&junk_slot) == COW_ETYPE);
    cow_stats_info st COW_STATS_INFO_INIT;
    CHECK(cow_stats(junk, &st) == COW_ETYPE);
}

TEST_CASE_FIXTURE(fixture, "out-of-range offsets give COW_ERANGE") {
    CHECK(cow_buf_insert(&buf, 6, "x", 1) == COW_ERANGE);
    CHECK(cow_buf_erase(&buf, 5, 1) == COW_ERANGE);
    CHECK(cow_buf_erase(&buf, 2, SIZE_MAX) == COW_ERANGE);
    CHECK(cow_buf_truncate(&buf, 6) == COW_ERANGE);
    cow_buf *sl = nullptr;
    CHECK(cow_buf_slice(&sl, buf, 4, 2) == COW_ERANGE);
    CHECK(cow_buf_slice(&sl, buf, SIZE_MAX, 1) == COW_ERANGE);
    CHECK(sl == nullptr);
    CHECK(cow_str_insert(&str, 5, "x", 1) == COW_ERANGE);
    CHECK(cow_str_erase(&str, 3, 2) == COW_ERANGE);
    cow_str *sub = nullptr;
    CHECK(cow_str_substr(&sub, str, 0, 5) == COW_ERANGE);
    size_t pos;
    CHECK(cow_str_find(str, "t", 1, 5, &pos) == COW_ERANGE);
}

TEST_CASE("cow_strerror names every status") {
    for (cow_status s = COW_OK; s <= COW_ECALLBACK; ++s) {
        std::string name = cow_strerror(s);
        CHECK(name.rfind("COW_", 0) == 0);
    }
    CHECK(std::string(cow_strerror(COW_ENOMEM)).find("out of memory") != std::string::npos);
    CHECK(std::string(cow_strerror(-5)) == "unknown libcow status");
    CHECK(std::string(cow_strerror(1000)) == "unknown libcow status");
}

TEST_CASE("the allocator can be replaced only while nothing is alive") {
    test::leak_check lc;
    cow_buf *b = nullptr;
    REQUIRE(cow_buf_new(&b, "x", 1, nullptr) == COW_OK);
    test::failing_allocator unused;
    cow_allocator a = unused.callbacks();
    CHECK(cow_set_allocator(&a) == COW_EBUSY);
    CHECK(cow_set_allocator(nullptr) == COW_EBUSY);
    cow_release(b);
    cow_allocator bad = a;
    bad.free_fn = nullptr;
    CHECK(cow_set_allocator(&bad) == COW_EINVAL);
    bad = a;
    bad.size = 8;
    CHECK(cow_set_allocator(&bad) == COW_EINVAL);
    // A caller-owned block from *_into also pins the allocator.
    REQUIRE(cow_buf_new(&b, "y", 1, nullptr) == COW_OK);
    cow_owned o{};
    REQUIRE(cow_buf_into(&b, &o) == COW_OK);
    CHECK(cow_set_allocator(nullptr) == COW_EBUSY);
    cow_owned_free(&o);
    CHECK(cow_set_allocator(nullptr) == COW_OK);
}

TEST_CASE("version queries agree with the header") {
    CHECK(cow_version() == COW_VERSION_NUMBER);
    CHECK(std::string(cow_version_string()) == COW_VERSION_STRING);
    static_assert(COW_VERSION_NUMBER ==
                  COW_VERSION_MAJOR * 10000 + COW_VERSION_MINOR * 100 + COW_VERSION_PATCH);
}
