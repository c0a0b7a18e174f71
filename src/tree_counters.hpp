// Counters of tree work, in vector and map trees alike (reference count
// operations, nodes allocated, nodes visited by walks) for deterministic
// complexity tests. They exist only in builds configured with
// -Dtree_counters=true, are per thread, and are never exported: tests that
// read them link the internal core library.
#pragma once
#include <cstdint>

namespace cow::detail {

struct tree_counters {
    std::uint64_t retains = 0;      // node reference counts incremented
    std::uint64_t releases = 0;     // node reference counts decremented
    std::uint64_t allocations = 0;  // nodes allocated (leaves and inner nodes)
    std::uint64_t visits = 0;       // nodes a comparison or diff entered
};

#ifdef COW_TREE_COUNTERS
// This thread's counters.
tree_counters &tree_counters_of_thread() noexcept;
#define COW_TREE_COUNT(field) (::cow::detail::tree_counters_of_thread().field += 1)
#else
#define COW_TREE_COUNT(field) ((void)0)
#endif

}  // namespace cow::detail
