// The generic vector tests (vec_generic.ipp) with the ADAPTIVE strategy.
#include "vec_strategy.hpp"

#define VEC_STRATEGY vec_test::adaptive
#define VEC_STRATEGY_NAME "adaptive"
#include "vec_generic.ipp"
