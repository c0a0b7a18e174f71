// The generic map tests (map_generic.ipp) with the STRUCTURAL strategy, and
// what the library answers for it. Until cow_map_new accepts STRUCTURAL the
// generic tests are registered as skipped (doctest counts them as such) and
// the availability test says so; they run as soon as it is accepted.
#include "map_strategy.hpp"

#define MAP_STRATEGY map_test::structural
#define MAP_STRATEGY_NAME "structural"
#include "map_generic.ipp"

TEST_CASE("map, structural: cow_map_new accepts the strategy, or refuses it and changes nothing") {
    test::leak_check leaks;
    const cow_options o = structural.options();
    if (!structural_maps_available()) {
        MESSAGE("STRUCTURAL maps are not available yet (COW_EUNSUPPORTED): "
                << generic_tests_registered << " generic map tests skipped for STRUCTURAL");
        test::allocator_scope scope;
        for (const cow_type *key : {cow_type_u64(), cow_type_bytes(), cow_type_string()}) {
            cow_map *made = reinterpret_cast<cow_map *>(0x1);
            CHECK(cow_map_new(&made, key, cow_type_u64(), &o) == COW_EUNSUPPORTED);
            CHECK(made == reinterpret_cast<cow_map *>(0x1));
        }
        CHECK(scope.allocator.calls == 0);  // refused before anything is allocated
        return;
    }
    for (const cow_type *key : {cow_type_u64(), cow_type_bytes(), cow_type_string()}) {
        cow_map *m = nullptr;
        REQUIRE(cow_map_new(&m, key, cow_type_u64(), &o) == COW_OK);
        CHECK(cow_map_len(m) == 0);
        CHECK(test::stats(m).representation == COW_REPRESENTATION_TREE);
        cow_map_release(m);
    }
}
