// map_new: the one place that knows every map representation.
#include "map.hpp"

#include "champ.hpp"
#include "flat.hpp"

namespace cow::detail {

cow_status map_new(map_rep **out, const cow_type *key_type, const cow_type *value_type,
                   const cow_options *options) noexcept {
    rep_seed seed;
    cow_status s = seed_from_options(options, seed, true);
    if (s != COW_OK) return s;
    if (seed.strategy == COW_STRATEGY_STRUCTURAL)
        s = champ_map_new(out, key_type, value_type, seed);
    else
        s = flat_map_new(out, key_type, value_type, seed);  // ADAPTIVE starts flat
    if (s != COW_OK) {
        seed_discard(seed);
        return s;
    }
    map_use_strategy_ops(*out);
    return COW_OK;
}

}  // namespace cow::detail
