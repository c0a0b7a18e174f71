// The generic vector tests (vec_generic.ipp) with the THRESHOLD strategy. Its
// threshold (vec_test::threshold_bytes) puts the tests' small vectors on the
// eager side and their large ones on the lazy side.
#include "vec_strategy.hpp"

#define VEC_STRATEGY vec_test::threshold
#define VEC_STRATEGY_NAME "threshold"
#include "vec_generic.ipp"
