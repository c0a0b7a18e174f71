// A copy-on-write strategy the generic tests run with (vec_strategy.hpp,
// map_strategy.hpp), and the options that ask for it.
#pragma once
#include <cstdint>

#include "cow.h"

namespace test {

struct strategy {
    const char *name;
    cow_strategy_t id;
    std::uint64_t threshold_bytes;

    cow_options options(std::uint32_t flags = 0) const {
        cow_options o = COW_OPTIONS_INIT;
        o.strategy = id;
        o.threshold_bytes = threshold_bytes;
        o.flags = flags;
        return o;
    }
};

}  // namespace test
