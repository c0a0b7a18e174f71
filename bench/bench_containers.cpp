// The containers' benchmarks, each next to its std:: baseline with the same
// data in the same order: map lookups (u64 and string keys), vector get,
// span iteration, extend, and map memory per entry.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "support.hpp"

namespace {

using bench::cow_live_bytes;
using bench::heap_in_use;
using bench::must;

constexpr std::size_t lookups_per_iteration = 1000;  // map lookups, chained vector reads

// ---------------------------------------------------------------------------
// Keys: the same keys, inserted in the same order and looked up in the same
// (shuffled) order on both sides.
// ---------------------------------------------------------------------------

std::vector<std::uint64_t> u64_keys(std::size_t n) {
    bench::rng r(n);
    std::vector<std::uint64_t> keys(n);
    for (auto &k : keys) k = r.next();
    return keys;
}

// Distinct (they start with the index), 8 to 31 bytes long.
std::vector<std::string> string_keys(std::size_t n) {
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    bench::rng r(n + 1);
    std::vector<std::string> keys(n);
    for (std::size_t i = 0; i < n; ++i) {
        std::string k = std::to_string(i) + ":";
        std::size_t len = 8 + r.below(24);
        while (k.size() < len) k += alphabet[r.below(36)];
        keys[i] = std::move(k);
    }
    return keys;
}

template <class Key>
struct key_set {
    std::vector<Key> keys;   // insertion order; value of keys[i] is i
    std::vector<Key> order;  // lookup order
};

template <class Key>
const key_set<Key> &keys_of(std::size_t n) {
    static std::map<std::size_t, std::unique_ptr<key_set<Key>>> cache;
    auto &slot = cache[n];
    if (!slot) {
        slot = std::make_unique<key_set<Key>>();
        if constexpr (std::is_same_v<Key, std::uint64_t>)
            slot->keys = u64_keys(n);
        else
            slot->keys = string_keys(n);
        slot->order = slot->keys;
        bench::shuffle(slot->order, 2 * n + 3);
    }
    return *slot;
}

const void *key_ptr(const std::uint64_t &k) { return &k; }
std::size_t key_len(const std::uint64_t &) { return sizeof(std::uint64_t); }
const void *key_ptr(const std::string &k) { return k.data(); }
std::size_t key_len(const std::string &k) { return k.size(); }

const cow_type *key_type(std::uint64_t) { return cow_type_u64(); }
const cow_type *key_type(const std::string &) { return cow_type_string(); }

template <class Key>
const std::unordered_map<Key, std::uint64_t> &std_map_of(std::size_t n) {
    static std::map<std::size_t, std::unique_ptr<std::unordered_map<Key, std::uint64_t>>> cache;
    auto &slot = cache[n];
    if (!slot) {
        const auto &ks = keys_of<Key>(n);
        slot = std::make_unique<std::unordered_map<Key, std::uint64_t>>();
        for (std::size_t i = 0; i < n; ++i) slot->emplace(ks.keys[i], i);
        if (slot->size() != n) std::abort();
    }
    return *slot;
}

// Built once per size and kept for the whole run; every key is checked.
template <class Key>
const cow_map *cow_map_of(std::size_t n) {
    static std::map<std::size_t, cow_map *> cache;
    cow_map *&m = cache[n];
    if (!m) {
        const auto &ks = keys_of<Key>(n);
        must(cow_map_new(&m, key_type(Key{}), cow_type_u64(), nullptr), "cow_map_new");
        for (std::size_t i = 0; i < n; ++i) {
            std::uint64_t v = i;
            must(cow_map_insert(&m, key_ptr(ks.keys[i]), key_len(ks.keys[i]), &v, nullptr, nullptr),
                 "cow_map_insert");
        }
        if (cow_map_len(m) != n) std::abort();
        for (std::size_t i = 0; i < n; ++i) {
            auto *v = static_cast<const std::uint64_t *>(
                cow_map_get(m, key_ptr(ks.keys[i]), key_len(ks.keys[i])));
            if (!v || *v != i) std::abort();
        }
    }
    return m;
}

// ---------------------------------------------------------------------------
// Map lookup: 1,000 lookups per iteration, walking the shuffled order.
// ---------------------------------------------------------------------------

template <class Key>
void BM_map_get_std(benchmark::State &state) {
    std::size_t n = static_cast<std::size_t>(state.range(0));
    const auto &order = keys_of<Key>(n).order;
    const auto &m = std_map_of<Key>(n);
    std::size_t pos = 0;
    for (auto _ : state) {
        std::uint64_t sum = 0;
        for (std::size_t k = 0; k < lookups_per_iteration; ++k) {
            sum += m.find(order[pos])->second;
            if (++pos == n) pos = 0;
        }
        benchmark::DoNotOptimize(sum);
    }
    state.SetItemsProcessed(state.iterations() * lookups_per_iteration);
}

template <class Key>
void BM_map_get_cow(benchmark::State &state) {
    std::size_t n = static_cast<std::size_t>(state.range(0));
    const auto &order = keys_of<Key>(n).order;
    const cow_map *m = cow_map_of<Key>(n);
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

BENCHMARK_TEMPLATE(BM_map_get_std, std::uint64_t)->Arg(1000)->Arg(1000000);
BENCHMARK_TEMPLATE(BM_map_get_cow, std::uint64_t)->Arg(1000)->Arg(1000000);
BENCHMARK_TEMPLATE(BM_map_get_std, std::string)->Arg(1000)->Arg(1000000);
BENCHMARK_TEMPLATE(BM_map_get_cow, std::string)->Arg(1000)->Arg(1000000);

// ---------------------------------------------------------------------------
// A write to a shared map (clone, replace one value, release: the table is
// copied) against copying a std::unordered_map with the same entries.
// ---------------------------------------------------------------------------

template <class Key>
void BM_map_copy_std(benchmark::State &state) {
    const auto &m = std_map_of<Key>(static_cast<std::size_t>(state.range(0)));
    for (auto _ : state) {
        std::unordered_map<Key, std::uint64_t> copy(m);
        benchmark::DoNotOptimize(copy.size());
    }
}

template <class Key>
void BM_map_shared_write_cow(benchmark::State &state) {
    std::size_t n = static_cast<std::size_t>(state.range(0));
    const auto &keys = keys_of<Key>(n).keys;
    const cow_map *m = cow_map_of<Key>(n);
    std::size_t pos = 0;
    for (auto _ : state) {
        cow_map *w = cow_map_clone(m);
        const Key &k = keys[pos];
        std::uint64_t v = pos;
        if (cow_map_insert(&w, key_ptr(k), key_len(k), &v, nullptr, nullptr) != COW_OK) std::abort();
        cow_map_release(w);
        if (++pos == n) pos = 0;
    }
}

BENCHMARK_TEMPLATE(BM_map_copy_std, std::string)->Arg(1000);
BENCHMARK_TEMPLATE(BM_map_shared_write_cow, std::string)->Arg(1000);

// ---------------------------------------------------------------------------
// Vectors of u64: get by shuffled index, span sum, extend.
// ---------------------------------------------------------------------------

struct vec_data {
    std::vector<std::uint64_t> values;
    std::vector<std::size_t> index_order;  // a shuffled permutation of 0..n-1
    std::vector<std::uint64_t> cycle;      // cycle[i] is the next index: one cycle through all
};

const vec_data &vec_data_of(std::size_t n) {
    static std::map<std::size_t, std::unique_ptr<vec_data>> cache;
    auto &slot = cache[n];
    if (!slot) {
        slot = std::make_unique<vec_data>();
        bench::rng r(7 * n);
        slot->values.resize(n);
        for (auto &v : slot->values) v = r.next() >> 8;
        slot->index_order.resize(n);
        for (std::size_t i = 0; i < n; ++i) slot->index_order[i] = i;
        bench::shuffle(slot->index_order, 11 * n);
        // Sattolo's shuffle of the identity gives a single n-cycle.
        slot->cycle.resize(n);
        for (std::size_t i = 0; i < n; ++i) slot->cycle[i] = i;
        for (std::size_t i = n - 1; i > 0; --i) std::swap(slot->cycle[i], slot->cycle[r.below(i)]);
    }
    return *slot;
}

// The libcow twin of vec_data_of(n).values (or .cycle), built once.
const cow_vec *cow_vec_of(std::size_t n, bool cycle = false) {
    static std::map<std::pair<std::size_t, bool>, cow_vec *> cache;
    cow_vec *&v = cache[{n, cycle}];
    if (!v) {
        const auto &d = vec_data_of(n);
        const std::uint64_t *src = cycle ? d.cycle.data() : d.values.data();
        must(cow_vec_from_array(&v, cow_type_u64(), src, n, nullptr), "cow_vec_from_array");
        if (cow_vec_len(v) != n) std::abort();
    }
    return v;
}

// Out of line so both sides run the very same summing code.
[[gnu::noinline]] std::uint64_t sum_of(const std::uint64_t *p, std::size_t n) {
    std::uint64_t s = 0;
    for (std::size_t i = 0; i < n; ++i) s += p[i];
    return s;
}

void BM_vec_get_std(benchmark::State &state) {
    std::size_t n = static_cast<std::size_t>(state.range(0));
    const auto &d = vec_data_of(n);
    const std::vector<std::uint64_t> &v = d.values;
    for (auto _ : state) {
        std::uint64_t sum = 0;
        for (std::size_t i : d.index_order) sum += v[i];
        benchmark::DoNotOptimize(sum);
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
}

void BM_vec_get_cow(benchmark::State &state) {
    std::size_t n = static_cast<std::size_t>(state.range(0));
    const auto &d = vec_data_of(n);
    const cow_vec *v = cow_vec_of(n);
    for (auto _ : state) {
        std::uint64_t sum = 0;
        for (std::size_t i : d.index_order) sum += *static_cast<const std::uint64_t *>(cow_vec_get(v, i));
        benchmark::DoNotOptimize(sum);
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
}
BENCHMARK(BM_vec_get_std)->Arg(1000)->Arg(1000000);
BENCHMARK(BM_vec_get_cow)->Arg(1000)->Arg(1000000);

// The same reads as a dependent chain (each element is the next index), 1,000
// per iteration: the latency of one get, not the throughput of independent ones.
void BM_vec_chase_std(benchmark::State &state) {
    std::size_t n = static_cast<std::size_t>(state.range(0));
    const std::vector<std::uint64_t> &v = vec_data_of(n).cycle;
    std::uint64_t i = 0;
    for (auto _ : state) {
        for (std::size_t k = 0; k < lookups_per_iteration; ++k) i = v[i];
        benchmark::DoNotOptimize(i);
    }
    state.SetItemsProcessed(state.iterations() * lookups_per_iteration);
}

void BM_vec_chase_cow(benchmark::State &state) {
    std::size_t n = static_cast<std::size_t>(state.range(0));
    const cow_vec *v = cow_vec_of(n, true);
    std::uint64_t i = 0;
    for (auto _ : state) {
        for (std::size_t k = 0; k < lookups_per_iteration; ++k)
            i = *static_cast<const std::uint64_t *>(cow_vec_get(v, i));
        benchmark::DoNotOptimize(i);
    }
    state.SetItemsProcessed(state.iterations() * lookups_per_iteration);
}
BENCHMARK(BM_vec_chase_std)->Arg(1000)->Arg(1000000);
BENCHMARK(BM_vec_chase_cow)->Arg(1000)->Arg(1000000);

void BM_vec_iterate_std(benchmark::State &state) {
    std::size_t n = static_cast<std::size_t>(state.range(0));
    const std::vector<std::uint64_t> &v = vec_data_of(n).values;
    for (auto _ : state) {
        std::uint64_t sum = sum_of(v.data(), v.size());
        benchmark::DoNotOptimize(sum);
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
}

void BM_vec_iterate_cow(benchmark::State &state) {
    std::size_t n = static_cast<std::size_t>(state.range(0));
    const cow_vec *v = cow_vec_of(n);
    if (sum_of(vec_data_of(n).values.data(), n) == 0) std::abort();
    for (auto _ : state) {
        std::uint64_t sum = 0;
        cow_vec_cursor cursor;
        if (cow_vec_cursor_init(&cursor, v) != COW_OK) std::abort();
        const void *span;
        std::size_t count;
        while (cow_vec_next_span(&cursor, &span, &count))
            sum += sum_of(static_cast<const std::uint64_t *>(span), count);
        benchmark::DoNotOptimize(sum);
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
}
BENCHMARK(BM_vec_iterate_std)->Arg(1000)->Arg(1000000);
BENCHMARK(BM_vec_iterate_cow)->Arg(1000)->Arg(1000000);

// Appending n elements to an emptied vector that keeps its storage.
void BM_vec_extend_std(benchmark::State &state) {
    std::size_t n = static_cast<std::size_t>(state.range(0));
    const std::vector<std::uint64_t> &src = vec_data_of(n).values;
    std::vector<std::uint64_t> v;
    for (auto _ : state) {
        v.clear();
        v.insert(v.end(), src.begin(), src.end());
        benchmark::DoNotOptimize(v.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
}

void BM_vec_extend_cow(benchmark::State &state) {
    std::size_t n = static_cast<std::size_t>(state.range(0));
    const std::vector<std::uint64_t> &src = vec_data_of(n).values;
    cow_vec *v = nullptr;
    must(cow_vec_new(&v, cow_type_u64(), nullptr), "cow_vec_new");
    for (auto _ : state) {
        if (cow_vec_clear(&v) != COW_OK) std::abort();
        if (cow_vec_extend(&v, src.data(), n) != COW_OK) std::abort();
        benchmark::ClobberMemory();
    }
    if (cow_vec_len(v) != n || *static_cast<const std::uint64_t *>(cow_vec_get(v, n - 1)) != src[n - 1])
        state.SkipWithError("cow_vec_extend gave wrong contents");
    cow_vec_release(v);
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
}
BENCHMARK(BM_vec_extend_std)->Arg(1000)->Arg(1000000);
BENCHMARK(BM_vec_extend_cow)->Arg(1000)->Arg(1000000);

// Appending n elements one push at a time to an emptied vector that keeps
// its storage: the cost of one push call on a unique vector with room.
void BM_vec_push_std(benchmark::State &state) {
    std::size_t n = static_cast<std::size_t>(state.range(0));
    const std::vector<std::uint64_t> &src = vec_data_of(n).values;
    std::vector<std::uint64_t> v;
    for (auto _ : state) {
        v.clear();
        for (std::size_t i = 0; i < n; ++i) v.push_back(src[i]);
        benchmark::DoNotOptimize(v.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
}

void BM_vec_push_cow(benchmark::State &state) {
    std::size_t n = static_cast<std::size_t>(state.range(0));
    const std::vector<std::uint64_t> &src = vec_data_of(n).values;
    cow_vec *v = nullptr;
    must(cow_vec_new(&v, cow_type_u64(), nullptr), "cow_vec_new");
    for (auto _ : state) {
        if (cow_vec_clear(&v) != COW_OK) std::abort();
        for (std::size_t i = 0; i < n; ++i)
            if (cow_vec_push(&v, &src[i]) != COW_OK) std::abort();
        benchmark::ClobberMemory();
    }
    if (cow_vec_len(v) != n || *static_cast<const std::uint64_t *>(cow_vec_get(v, n - 1)) != src[n - 1])
        state.SkipWithError("cow_vec_push gave wrong contents");
    cow_vec_release(v);
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
}
BENCHMARK(BM_vec_push_std)->Arg(1000)->Arg(1000000);
BENCHMARK(BM_vec_push_cow)->Arg(1000)->Arg(1000000);

// n calls of cow_version(), the cheapest call into libcow.so: the price of
// crossing the library boundary, which a push pays on top of std's.
void BM_version_call(benchmark::State &state) {
    std::size_t n = static_cast<std::size_t>(state.range(0));
    for (auto _ : state) {
        for (std::size_t i = 0; i < n; ++i) {
            std::uint32_t v = cow_version();
            benchmark::DoNotOptimize(v);
        }
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
}
BENCHMARK(BM_version_call)->Arg(1000000);

// ---------------------------------------------------------------------------
// Map memory per entry at 1,000,000 u64 -> u64 entries. Two rulers for both:
// bytes requested from the allocator (libcow: cow_global_stats live_bytes;
// std: a counting allocator) and bytes the heap holds (mallinfo2).
// ---------------------------------------------------------------------------

constexpr std::size_t memory_entries = 1000000;

std::int64_t std_live_bytes = 0;

template <class T>
struct counting_allocator {
    using value_type = T;
    counting_allocator() = default;
    template <class U>
    counting_allocator(const counting_allocator<U> &) noexcept {}
    T *allocate(std::size_t n) {
        std_live_bytes += static_cast<std::int64_t>(n * sizeof(T));
        return std::allocator<T>{}.allocate(n);
    }
    void deallocate(T *p, std::size_t n) noexcept {
        std_live_bytes -= static_cast<std::int64_t>(n * sizeof(T));
        std::allocator<T>{}.deallocate(p, n);
    }
    template <class U>
    bool operator==(const counting_allocator<U> &) const noexcept { return true; }
};

void report_memory(benchmark::State &state, std::int64_t requested, std::int64_t heap) {
    double n = static_cast<double>(memory_entries);
    state.counters["bytes_per_entry"] = static_cast<double>(requested) / n;
    state.counters["heap_bytes_per_entry"] = static_cast<double>(heap) / n;
}

void BM_map_memory_std(benchmark::State &state) {
    const auto &keys = keys_of<std::uint64_t>(memory_entries).keys;
    for (auto _ : state) {
        std::int64_t heap0 = heap_in_use(), bytes0 = std_live_bytes;
        {
            std::unordered_map<std::uint64_t, std::uint64_t, std::hash<std::uint64_t>,
                               std::equal_to<std::uint64_t>,
                               counting_allocator<std::pair<const std::uint64_t, std::uint64_t>>>
                m;
            for (std::size_t i = 0; i < memory_entries; ++i) m.emplace(keys[i], i);
            if (m.size() != memory_entries) std::abort();
            report_memory(state, std_live_bytes - bytes0, heap_in_use() - heap0);
        }
    }
}

void BM_map_memory_cow(benchmark::State &state) {
    const auto &keys = keys_of<std::uint64_t>(memory_entries).keys;
    for (auto _ : state) {
        std::int64_t heap0 = heap_in_use(), bytes0 = cow_live_bytes();
        cow_map *m = nullptr;
        must(cow_map_new(&m, cow_type_u64(), cow_type_u64(), nullptr), "cow_map_new");
        for (std::size_t i = 0; i < memory_entries; ++i) {
            std::uint64_t v = i;
            must(cow_map_insert(&m, &keys[i], sizeof keys[i], &v, nullptr, nullptr), "cow_map_insert");
        }
        if (cow_map_len(m) != memory_entries) std::abort();
        report_memory(state, cow_live_bytes() - bytes0, heap_in_use() - heap0);
        cow_map_release(m);
    }
}
// One build each: the time is that of 1,000,000 inserts.
BENCHMARK(BM_map_memory_std)->Iterations(1)->Repetitions(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_map_memory_cow)->Iterations(1)->Repetitions(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
