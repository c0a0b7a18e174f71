// The generic vector tests (vec_generic.ipp) with the STRUCTURAL strategy, and
// what the library answers for it. Until cow_vec_new accepts STRUCTURAL the
// generic tests are registered as skipped (doctest counts them as such) and
// the availability test says so; they run as soon as it is accepted.
#include "vec_strategy.hpp"

#define VEC_STRATEGY vec_test::structural
#define VEC_STRATEGY_NAME "structural"
#include "vec_generic.ipp"

TEST_CASE("vec, structural: every constructor accepts the strategy, or refuses it and changes nothing") {
    test::leak_check leaks;
    const cow_options o = structural.options();
    int32_t x = 1;
    cow_vec *made = nullptr;
    if (!structural_vectors_available()) {
        MESSAGE("STRUCTURAL vectors are not available yet (COW_EUNSUPPORTED): "
                << generic_tests_registered << " generic vector tests skipped for STRUCTURAL");
        test::allocator_scope scope;
        CHECK(cow_vec_new(&made, i32(), &o) == COW_EUNSUPPORTED);
        CHECK(cow_vec_with_capacity(&made, i32(), 4, &o) == COW_EUNSUPPORTED);
        CHECK(cow_vec_from_array(&made, i32(), &x, 1, &o) == COW_EUNSUPPORTED);
        CHECK(made == nullptr);
        CHECK(scope.allocator.calls == 0);  // refused before anything is allocated
        return;
    }
    cow_vec *a = nullptr, *b = nullptr, *c = nullptr;
    REQUIRE(cow_vec_new(&a, i32(), &o) == COW_OK);
    REQUIRE(cow_vec_with_capacity(&b, i32(), 4, &o) == COW_OK);
    REQUIRE(cow_vec_from_array(&c, i32(), &x, 1, &o) == COW_OK);
    for (cow_vec *v : {a, b, c}) {
        CHECK(test::stats(v).representation == COW_REPRESENTATION_TREE);
        const void *data = nullptr;
        CHECK(cow_vec_data(v, &data) == COW_ENOTCONTIGUOUS);
        cow_vec_release(v);
    }
}
