// 64-bit hashing, seeded once per process (equal across all values of the
// process, so versions of a map hash alike; not stable across processes).
#pragma once
#include <cstddef>
#include <cstdint>

namespace cow::detail {

std::uint64_t process_seed() noexcept;
std::uint64_t hash_bytes(const void *data, std::size_t n, std::uint64_t seed) noexcept;
inline std::uint64_t hash_bytes(const void *data, std::size_t n) noexcept {
    return hash_bytes(data, n, process_seed());
}
// Final avalanche of a 64-bit value.
std::uint64_t hash_mix(std::uint64_t x) noexcept;

}  // namespace cow::detail
