// The generic map tests (map_generic.ipp) with the EAGER strategy.
#include "map_strategy.hpp"

#define MAP_STRATEGY map_test::eager
#define MAP_STRATEGY_NAME "eager"
#include "map_generic.ipp"
