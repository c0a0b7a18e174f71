#include "tree_counters.hpp"

namespace cow::detail {

#ifdef COW_TREE_COUNTERS
tree_counters &tree_counters_of_thread() noexcept {
    static thread_local tree_counters counters;
    return counters;
}
#endif

}  // namespace cow::detail
