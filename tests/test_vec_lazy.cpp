// The generic vector tests (vec_generic.ipp) with the LAZY strategy.
#include "vec_strategy.hpp"

#define VEC_STRATEGY vec_test::lazy
#define VEC_STRATEGY_NAME "lazy"
#include "vec_generic.ipp"
