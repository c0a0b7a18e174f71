#include "hash.hpp"

#include <chrono>
#include <cstring>

namespace cow::detail {

namespace {
// Multiply the two halves into 128 bits and fold: fast and well mixing.
inline std::uint64_t fold_mul(std::uint64_t a, std::uint64_t b) noexcept {
    __extension__ typedef unsigned __int128 u128;
    u128 p = static_cast<u128>(a) * b;
    return static_cast<std::uint64_t>(p) ^ static_cast<std::uint64_t>(p >> 64);
}
constexpr std::uint64_t k0 = 0x9e3779b97f4a7c15ull;
constexpr std::uint64_t k1 = 0xd6e8feb86659fd93ull;
constexpr std::uint64_t k2 = 0xa0761d6478bd642full;

inline std::uint64_t load32(const unsigned char *p) noexcept {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}
inline std::uint64_t load64(const unsigned char *p) noexcept {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}

std::uint64_t make_seed() noexcept {
#ifdef COW_HASH_SEED
    return COW_HASH_SEED;  // a test build's fixed seed (meson option hash_seed)
#endif
    // Address-space layout and time: differs between processes.
    static int anchor;
    auto t = static_cast<std::uint64_t>(
        std::chrono::high_resolution_clock::now().time_since_epoch().count());
    return hash_mix(t ^ reinterpret_cast<std::uintptr_t>(&anchor) ^ k2);
}
}  // namespace

std::uint64_t hash_mix(std::uint64_t x) noexcept {
    x ^= x >> 32;
    x *= k1;
    x ^= x >> 29;
    x *= k0;
    x ^= x >> 32;
    return x;
}

std::uint64_t process_seed() noexcept {
    static const std::uint64_t seed = make_seed();
    return seed;
}

std::uint64_t hash_bytes(const void *data, std::size_t n, std::uint64_t seed) noexcept {
    auto *p = static_cast<const unsigned char *>(data);
    std::uint64_t h = seed ^ fold_mul(n + k0, k1);
    while (n >= 16) {
        h = fold_mul(load64(p) ^ k0 ^ h, load64(p + 8) ^ k1);
        p += 16;
        n -= 16;
    }
    std::uint64_t a = 0, b = 0;
    if (n >= 8) {
        a = load64(p);
        b = load64(p + n - 8);
    } else if (n >= 4) {
        // 4..7 bytes: two overlapping 4-byte loads (no variable-length copy).
        a = load32(p);
        b = load32(p + n - 4);
    } else if (n > 0) {
        // 1..3 bytes: first, middle and last byte.
        a = (std::uint64_t{p[0]} << 16) | (std::uint64_t{p[n / 2]} << 8) | p[n - 1];
    }
    h = fold_mul(a ^ k2 ^ h, b ^ k1);
    return hash_mix(h ^ n);
}

}  // namespace cow::detail
