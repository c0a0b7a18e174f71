// The generic map tests (map_generic.ipp) with the ADAPTIVE strategy.
#include "map_strategy.hpp"

#define MAP_STRATEGY map_test::adaptive
#define MAP_STRATEGY_NAME "adaptive"
#include "map_generic.ipp"
