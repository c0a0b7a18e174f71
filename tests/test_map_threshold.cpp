// The generic map tests (map_generic.ipp) with the THRESHOLD strategy. Its
// threshold (map_test::threshold_bytes) puts the tests' small maps on the
// eager side and their large ones on the lazy side.
#include "map_strategy.hpp"

#define MAP_STRATEGY map_test::threshold
#define MAP_STRATEGY_NAME "threshold"
#include "map_generic.ipp"

TEST_CASE("map, threshold: a clone copies below the threshold and shares from it on") {
    test::leak_check leaks;
    const u64 per_entry = 16;  // u64 -> u64
    const u64 at = threshold_bytes / per_entry;
    for (u64 n : {u64(0), u64(1), at - 1, at, at + 1, 10 * at}) {
        CAPTURE(n);
        cow_map *m = make_u64(static_cast<std::size_t>(n), threshold);
        REQUIRE(test::stats(m).value_bytes == n * per_entry);
        cow_map *c = cow_map_clone(m);
        REQUIRE(c != nullptr);
        CHECK(cow_ptr_eq(m, c) == (n * per_entry >= threshold_bytes));
        CHECK(entries(c) == model_u64(static_cast<std::size_t>(n)));
        cow_map_release(c);
        cow_map_release(m);
    }
    // The decision follows the map's current size, not its size at creation.
    cow_map *m = make_u64(static_cast<std::size_t>(10 * at), threshold);
    cow_map *c = cow_map_clone(m);
    CHECK(cow_ptr_eq(m, c));
    cow_map_release(c);
    REQUIRE(cow_map_clear(&m) == COW_OK);
    c = cow_map_clone(m);
    CHECK_FALSE(cow_ptr_eq(m, c));
    cow_map_release(c);
    cow_map_release(m);
}
