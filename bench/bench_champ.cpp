// The tree map (COW_STRATEGY_STRUCTURAL) beside its baselines in the same
// process: a write to a shared version against bare atomic pairs and the
// flat table's copy, and lookups, building and memory against the flat map.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "support.hpp"

namespace {

using bench::must;

constexpr std::size_t n_large = 1000000;
constexpr std::size_t lookups_per_iteration = 1000;

// n distinct keys (u64, or strings of 16 to 24 bytes: stored inline), in a
// fixed order, and that order shuffled for lookups.
template <class Key>
struct key_set {
    std::vector<Key> keys, order;
};

template <class Key>
Key key_from(std::uint64_t x) {
    if constexpr (std::is_same_v<Key, std::string>) {
        char buf[40];
        int len = std::snprintf(buf, sizeof buf, "config.%llx", static_cast<unsigned long long>(x));
        return std::string(buf, static_cast<std::size_t>(len));
    } else {
        return x;
    }
}

template <class Key>
const key_set<Key> &keys_of(std::size_t n) {
    static key_set<Key> ks;
    if (ks.keys.size() != n) {
        ks.keys.clear();
        bench::rng r(n * 7 + 3);
        for (std::size_t i = 0; i < n; ++i) ks.keys.push_back(key_from<Key>(r.next()));
        ks.order = ks.keys;
        bench::shuffle(ks.order, n);
    }
    return ks;
}

// A key none of the maps hold (the generator gives distinct values).
template <class Key>
Key absent_key(std::size_t i) {
    return key_from<Key>(0x5eed000000000000ull + i);
}

template <class Key>
const void *key_ptr(const Key &k) {
    if constexpr (std::is_same_v<Key, std::string>) return k.data();
    else return &k;
}
template <class Key>
std::size_t key_len(const Key &k) {
    if constexpr (std::is_same_v<Key, std::string>) return k.size();
    else return sizeof k;
}
template <class Key>
const cow_type *key_type() {
    if constexpr (std::is_same_v<Key, std::string>) return cow_type_string();
    else return cow_type_u64();
}

cow_options options_for(cow_strategy_t s) {
    cow_options o = COW_OPTIONS_INIT;
    o.strategy = s;
    return o;
}

template <class Key>
cow_map *build(cow_strategy_t s, std::size_t n) {
    const auto &keys = keys_of<Key>(n).keys;
    cow_options o = options_for(s);
    cow_map *m = nullptr;
    must(cow_map_new(&m, key_type<Key>(), cow_type_u64(), &o), "cow_map_new");
    for (std::size_t i = 0; i < n; ++i) {
        std::uint64_t v = i;
        must(cow_map_insert(&m, key_ptr(keys[i]), key_len(keys[i]), &v, nullptr, nullptr), "cow_map_insert");
    }
    if (cow_map_len(m) != n) std::abort();
    return m;
}

// A map of n entries per strategy and key kind, built once and kept.
template <class Key>
const cow_map *built(cow_strategy_t s, std::size_t n) {
    static cow_map *cache[2] = {nullptr, nullptr};
    cow_map *&slot = cache[s == COW_STRATEGY_STRUCTURAL];
    if (!slot || cow_map_len(slot) != n) {
        if (slot) cow_map_release(slot);
        slot = build<Key>(s, n);
    }
    return slot;
}

// The floor of any shared write: one atomic increment and decrement.
void BM_champ_atomic_pair(benchmark::State &state) {
    static std::atomic<std::uint64_t> counter{1};
    for (auto _ : state) {
        counter.fetch_add(1, std::memory_order_relaxed);
        counter.fetch_sub(1, std::memory_order_acq_rel);
    }
}
BENCHMARK(BM_champ_atomic_pair);

// One insert of a new key into a shared version: clone, insert, release
// (the original is unchanged, so every iteration writes the same map).
template <class Key, cow_strategy_t S>
void BM_champ_shared_insert(benchmark::State &state) {
    std::size_t n = static_cast<std::size_t>(state.range(0));
    const cow_map *m = built<Key>(S, n);
    std::vector<Key> fresh;
    for (std::size_t i = 0; i < 1024; ++i) fresh.push_back(absent_key<Key>(i));
    std::size_t pos = 0;
    for (auto _ : state) {
        cow_map *w = cow_map_clone(m);
        const Key &k = fresh[pos++ & 1023];
        std::uint64_t v = pos;
        if (cow_map_insert(&w, key_ptr(k), key_len(k), &v, nullptr, nullptr) != COW_OK) std::abort();
        cow_map_release(w);
    }
}
BENCHMARK_TEMPLATE(BM_champ_shared_insert, std::uint64_t, COW_STRATEGY_STRUCTURAL)->Arg(1000)->Arg(n_large);
BENCHMARK_TEMPLATE(BM_champ_shared_insert, std::string, COW_STRATEGY_STRUCTURAL)->Arg(1000)->Arg(n_large);
BENCHMARK_TEMPLATE(BM_champ_shared_insert, std::uint64_t, COW_STRATEGY_LAZY)->Arg(1000);

// 1,000 lookups per iteration in shuffled order.
template <class Key, cow_strategy_t S>
void BM_champ_get(benchmark::State &state) {
    std::size_t n = static_cast<std::size_t>(state.range(0));
    const auto &order = keys_of<Key>(n).order;
    const cow_map *m = built<Key>(S, n);
    std::size_t pos = 0;
    for (auto _ : state) {
        std::uint64_t sum = 0;
        for (std::size_t k = 0; k < lookups_per_iteration; ++k) {
            const Key &key = order[pos];
            sum += *static_cast<const std::uint64_t *>(cow_map_get(m, key_ptr(key), key_len(key)));
            if (++pos == n) pos = 0;
        }
        benchmark::DoNotOptimize(sum);
    }
    state.SetItemsProcessed(state.iterations() * lookups_per_iteration);
}
BENCHMARK_TEMPLATE(BM_champ_get, std::uint64_t, COW_STRATEGY_LAZY)->Arg(1000)->Arg(n_large);
BENCHMARK_TEMPLATE(BM_champ_get, std::uint64_t, COW_STRATEGY_STRUCTURAL)->Arg(1000)->Arg(n_large);
BENCHMARK_TEMPLATE(BM_champ_get, std::string, COW_STRATEGY_LAZY)->Arg(1000)->Arg(n_large);
BENCHMARK_TEMPLATE(BM_champ_get, std::string, COW_STRATEGY_STRUCTURAL)->Arg(1000)->Arg(n_large);

// Building an unshared map by inserting n keys; with the bytes it holds
// per entry, read from libcow's own statistics.
template <cow_strategy_t S>
void BM_champ_build(benchmark::State &state) {
    std::size_t n = static_cast<std::size_t>(state.range(0));
    keys_of<std::uint64_t>(n);
    double bytes_per_entry = 0;
    for (auto _ : state) {
        cow_global_stats_info before = COW_GLOBAL_STATS_INFO_INIT, after = COW_GLOBAL_STATS_INFO_INIT;
        must(cow_global_stats(&before), "cow_global_stats");
        cow_map *m = build<std::uint64_t>(S, n);
        must(cow_global_stats(&after), "cow_global_stats");
        bytes_per_entry = static_cast<double>(after.live_bytes - before.live_bytes) / static_cast<double>(n);
        state.PauseTiming();
        cow_map_release(m);
        state.ResumeTiming();
    }
    state.counters["bytes_per_entry"] = bytes_per_entry;
}
BENCHMARK_TEMPLATE(BM_champ_build, COW_STRATEGY_LAZY)->Arg(n_large)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_champ_build, COW_STRATEGY_STRUCTURAL)->Arg(n_large)->Unit(benchmark::kMillisecond);

int count_change(void *ctx, cow_map_change_t, const void *, size_t, const void *, const void *) {
    ++*static_cast<std::size_t *>(ctx);
    return 0;
}

// The diff of two versions 10 values apart (the later made from the
// earlier by 10 inserts): its cost against 1,000 lookups (BM_champ_get).
void BM_champ_diff_ten(benchmark::State &state) {
    std::size_t n = static_cast<std::size_t>(state.range(0));
    const auto &keys = keys_of<std::uint64_t>(n).keys;
    const cow_map *base = built<std::uint64_t>(COW_STRATEGY_STRUCTURAL, n);
    cow_map *next = cow_map_clone(base);
    for (std::size_t i = 0; i < 10; ++i) {
        std::uint64_t v = n + i;
        const std::uint64_t &k = keys[(i * 7919) % n];
        must(cow_map_insert(&next, &k, sizeof k, &v, nullptr, nullptr), "cow_map_insert");
    }
    for (auto _ : state) {
        std::size_t changes = 0;
        must(cow_map_diff(base, next, count_change, &changes, nullptr), "cow_map_diff");
        if (changes != 10) std::abort();
    }
    cow_map_release(next);
}
BENCHMARK(BM_champ_diff_ten)->Arg(n_large);

}  // namespace

BENCHMARK_MAIN();
