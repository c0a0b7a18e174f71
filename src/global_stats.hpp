// The process-wide counters of cow_global_stats: live values, bytes and
// allocations, updated without an atomic read-modify-write and summed when
// read.
#pragma once
#include <cstddef>
#include <cstdint>

#include "cow.h"

namespace cow::detail {

// Called by the allocator for every block it hands out, resizes or frees.
void count_allocated(std::size_t bytes) noexcept;
void count_resized(std::size_t old_size, std::size_t new_size) noexcept;
void count_freed(std::size_t bytes) noexcept;

// Live representations (one per rep, not per block).
void count_value_created() noexcept;
void count_value_destroyed() noexcept;

// Blocks allocated and not yet freed: exact when no other thread is inside
// libcow.
std::int64_t live_allocations() noexcept;

void global_stats(cow_global_stats_info &out) noexcept;

}  // namespace cow::detail
