// The generic vector tests (vec_generic.ipp) with the EAGER strategy.
#include "vec_strategy.hpp"

#define VEC_STRATEGY vec_test::eager
#define VEC_STRATEGY_NAME "eager"
#include "vec_generic.ipp"
