// Text and JSON renderings of lineage statistics.
#pragma once
#include <cstddef>
#include <cstdint>

#include "cow.h"

namespace cow::detail {

// Writes the report into buf (NUL-terminated, truncated to cap); returns its
// length. `adaptive`: the value's strategy is ADAPTIVE.
std::size_t format_report(const cow_stats_info &s, std::uint32_t format, bool adaptive, char *buf,
                          std::size_t cap) noexcept;

}  // namespace cow::detail
