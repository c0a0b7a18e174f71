// What sets the vector strategies apart: EAGER copies at every clone,
// THRESHOLD copies below its threshold and shares above, and the options a
// vector accepts. The behaviour every strategy shares is in vec_generic.ipp
// (one test_vec_<strategy> program each); the flat layout's allocation
// counts are in test_vec_flat_allocations.cpp.
#include <cstdint>
#include <vector>

#include <doctest/doctest.h>

#include "cow.h"
#include "support.hpp"
#include "vec_strategy.hpp"

using namespace vec_test;

TEST_CASE("vec strategies: an eager clone is a private copy, and writes then copy nothing") {
    test::leak_check leaks;
    cow_vec *v = make_i32({1, 2, 3}, eager);
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
    CHECK(items(w) == std::vector<int32_t>{1, 2, 3, 4});
    CHECK(test::stats(v).copies == 1);
    cow_vec_release(v);
    cow_vec_release(w);
}

TEST_CASE("vec strategies: threshold copies a clone below the threshold and shares one above") {
    test::leak_check leaks;
    strategy t = threshold;
    t.threshold_bytes = 4 * sizeof(int32_t);
    cow_vec *small = make_i32({1, 2, 3}, t);
    cow_vec *big = make_i32({1, 2, 3, 4}, t);  // at the threshold: not below it
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
    CHECK(cow_vec_len(b2) == 5);

    // The decision follows the current size: the small one, grown, shares.
    for (int32_t i = 0; i < 2; ++i) REQUIRE(cow_vec_push(&small, &i) == COW_OK);
    cow_vec *s3 = cow_vec_clone(small);
    CHECK(cow_ptr_eq(small, s3));
    CHECK(test::stats(small).copies == 1);
    cow_vec_release(small);
    cow_vec_release(big);
    cow_vec_release(s2);
    cow_vec_release(b2);
    cow_vec_release(s3);
}

TEST_CASE("vec strategies: an unknown strategy is refused") {
    test::leak_check leaks;
    cow_vec *made = nullptr;
    cow_options opt = COW_OPTIONS_INIT;
    opt.strategy = 99;
    CHECK(cow_vec_new(&made, i32(), &opt) == COW_EINVAL);
    opt.strategy = COW_STRATEGY_ADAPTIVE + 1;
    CHECK(cow_vec_new(&made, i32(), &opt) == COW_EINVAL);
    CHECK(made == nullptr);
}
