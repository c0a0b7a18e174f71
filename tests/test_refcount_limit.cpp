// Reference-count overflow: a value with COW_MAX_REFCOUNT handles refuses
// another clone (cow_clone returns NULL, the count stays), never wraps into
// a use-after-free. 2^31 real handles cannot be made in a test, so this
// program reaches into the representation header (src/rep.hpp, the layout
// behind every handle) and sets the handle count of a live value to the
// limit directly, then uses only the public API.
#include <cstring>

#include "rep.hpp"
#include "support.hpp"

namespace {

using cow::detail::rep;

rep *rep_behind(void *handle) { return static_cast<rep *>(handle); }

// Sets the number of handles (the low half of the fused counter), keeping
// the clone count of the high half.
void set_handles(void *handle, std::uint64_t n) {
    std::uint64_t old = rep_behind(handle)->count.load();
    rep_behind(handle)->count.store((old & ~cow::detail::handle_mask) | n);
}

}  // namespace

TEST_CASE("a value at COW_MAX_REFCOUNT handles refuses another clone") {
    test::leak_check leaks;
    cow_str *s = nullptr;
    REQUIRE(cow_str_new(&s, "limit", 5, nullptr) == COW_OK);
    std::uint64_t clones_before = test::stats(s).clones;

    set_handles(s, COW_MAX_REFCOUNT - 1);
    void *last = cow_clone(s);  // the last one allowed
    CHECK(last == s);
    CHECK(cow_strong_count(s) == COW_MAX_REFCOUNT);

    CHECK(cow_clone(s) == nullptr);
    CHECK(cow_str_clone(s) == nullptr);
    CHECK(cow_strong_count(s) == COW_MAX_REFCOUNT);  // unchanged, not wrapped
    CHECK(test::stats(s).clones == clones_before + 1);  // refused clones are not counted

    // Storing it in a container clones it too: refused, the vector unchanged.
    cow_vec *v = nullptr;
    REQUIRE(cow_vec_new(&v, cow_type_handle(), nullptr) == COW_OK);
    cow_vec *before = v;
    CHECK(cow_vec_push(&v, &s) == COW_EOVERFLOW);
    CHECK(v == before);
    CHECK(cow_vec_len(v) == 0);
    CHECK(cow_strong_count(s) == COW_MAX_REFCOUNT);

    // A write through one of the handles copies (the value is shared).
    cow_str *w = s;
    REQUIRE(cow_str_append(&w, "!", 1) == COW_OK);
    CHECK(w != s);
    CHECK(cow_strong_count(s) == COW_MAX_REFCOUNT - 1);
    cow_release(w);

    // Give back the pretend handles: the value is freed normally.
    cow_release(last);
    set_handles(s, 1);
    cow_release(v);
    cow_release(s);
}

TEST_CASE("an eager value at the limit still copies on clone") {
    test::leak_check leaks;
    cow_options eager COW_OPTIONS_INIT;
    eager.strategy = COW_STRATEGY_EAGER;
    cow_buf *b = nullptr;
    REQUIRE(cow_buf_new(&b, "eager", 5, &eager) == COW_OK);
    set_handles(b, COW_MAX_REFCOUNT);
    // An eager clone is a new value with its own single handle.
    cow_buf *c = cow_buf_clone(b);
    REQUIRE(c != nullptr);
    CHECK(c != b);
    CHECK(cow_strong_count(c) == 1);
    CHECK(cow_strong_count(b) == COW_MAX_REFCOUNT);
    cow_release(c);
    set_handles(b, 1);
    cow_release(b);
}
