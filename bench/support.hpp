// Helpers shared by the benchmark programs: fail loudly, deterministic data.
#pragma once
#include <cow.h>
#include <malloc.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

namespace bench {

// A benchmark that silently measures a failing call measures nothing: abort.
inline void must(cow_status s, const char *what) {
    if (s != COW_OK) {
        std::fprintf(stderr, "bench: %s failed: %s\n", what, cow_strerror(s));
        std::abort();
    }
}

// splitmix64: a fixed, fast sequence so every run uses the same data.
struct rng {
    std::uint64_t state;
    explicit rng(std::uint64_t seed) : state(seed) {}
    std::uint64_t next() {
        std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
};

// Fisher-Yates with the fixed generator: the same order in every run.
template <class T>
void shuffle(std::vector<T> &v, std::uint64_t seed) {
    rng r(seed);
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[r.below(i)]);
}

// Bytes malloc hands out now, its own overhead included (mallinfo2): what a
// structure costs the process, whoever allocated it.
inline std::int64_t heap_in_use() {
    struct mallinfo2 mi = mallinfo2();
    return static_cast<std::int64_t>(mi.uordblks + mi.hblkhd);
}

// Bytes libcow has asked its allocator for and not freed.
inline std::int64_t cow_live_bytes() {
    cow_global_stats_info g = COW_GLOBAL_STATS_INFO_INIT;
    must(cow_global_stats(&g), "cow_global_stats");
    return static_cast<std::int64_t>(g.live_bytes);
}

}  // namespace bench
