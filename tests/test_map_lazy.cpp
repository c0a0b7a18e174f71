// The generic map tests (map_generic.ipp) with the LAZY strategy.
#include "map_strategy.hpp"

#define MAP_STRATEGY map_test::lazy
#define MAP_STRATEGY_NAME "lazy"
#include "map_generic.ipp"
