// The tree vector (COW_STRATEGY_STRUCTURAL) beside its baselines in the
// same process: a write to a shared version against bare atomic pairs, and
// reads, iteration and building against the flat vector and std::vector.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "support.hpp"

namespace {

using bench::must;

constexpr std::size_t n_large = 1000000;

cow_options options_for(cow_strategy_t s) {
    cow_options o = COW_OPTIONS_INIT;
    o.strategy = s;
    return o;
}

const std::vector<std::uint64_t> &values(std::size_t n) {
    static std::vector<std::uint64_t> v;
    if (v.size() != n) {
        v.resize(n);
        bench::rng r(n);
        for (auto &x : v) x = r.next();
    }
    return v;
}

// A vector of n u64 under a strategy, built once and kept.
cow_vec *built(cow_strategy_t s, std::size_t n) {
    static cow_vec *cache[2] = {nullptr, nullptr};
    cow_vec *&slot = cache[s == COW_STRATEGY_STRUCTURAL];
    if (!slot || cow_vec_len(slot) != n) {
        if (slot) cow_vec_release(slot);
        cow_options o = options_for(s);
        must(cow_vec_from_array(&slot, cow_type_u64(), values(n).data(), n, &o), "cow_vec_from_array");
    }
    return slot;
}

std::vector<std::size_t> shuffled_indices(std::size_t n, std::size_t count) {
    bench::rng r(n * 3 + 1);
    std::vector<std::size_t> idx(count);
    for (auto &i : idx) i = r.below(n);
    return idx;
}

// The floor of any shared write: one atomic increment and decrement.
void BM_tree_atomic_pair(benchmark::State &state) {
    static std::atomic<std::uint64_t> counter{1};
    for (auto _ : state) {
        counter.fetch_add(1, std::memory_order_relaxed);
        counter.fetch_sub(1, std::memory_order_acq_rel);
    }
}
BENCHMARK(BM_tree_atomic_pair);

// A new version one write away from a shared one, then dropped: clone,
// set one element (the path is copied), release.
void BM_tree_shared_set(benchmark::State &state) {
    std::size_t n = static_cast<std::size_t>(state.range(0));
    cow_vec *v = built(COW_STRATEGY_STRUCTURAL, n);
    auto idx = shuffled_indices(n, 4096);
    std::size_t k = 0;
    for (auto _ : state) {
        cow_vec *w = cow_vec_clone(v);
        std::uint64_t x = k;
        if (cow_vec_set(&w, idx[k++ & 4095], &x, nullptr) != COW_OK) std::abort();
        cow_vec_release(w);
    }
}
BENCHMARK(BM_tree_shared_set)->Arg(1000)->Arg(n_large);

template <cow_strategy_t S>
void BM_tree_get(benchmark::State &state) {
    std::size_t n = static_cast<std::size_t>(state.range(0));
    cow_vec *v = built(S, n);
    auto idx = shuffled_indices(n, 1000);
    for (auto _ : state) {
        std::uint64_t sum = 0;
        for (std::size_t i : idx) sum += *static_cast<const std::uint64_t *>(cow_vec_get(v, i));
        benchmark::DoNotOptimize(sum);
    }
    state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK_TEMPLATE(BM_tree_get, COW_STRATEGY_LAZY)->Arg(1000)->Arg(n_large);
BENCHMARK_TEMPLATE(BM_tree_get, COW_STRATEGY_STRUCTURAL)->Arg(1000)->Arg(n_large);

[[gnu::noinline]] std::uint64_t sum_of(const std::uint64_t *p, std::size_t n) {
    std::uint64_t s = 0;
    for (std::size_t i = 0; i < n; ++i) s += p[i];
    return s;
}

void BM_tree_iterate_std(benchmark::State &state) {
    const auto &v = values(static_cast<std::size_t>(state.range(0)));
    for (auto _ : state) benchmark::DoNotOptimize(sum_of(v.data(), v.size()));
}
BENCHMARK(BM_tree_iterate_std)->Arg(n_large);

void BM_tree_iterate(benchmark::State &state) {
    cow_vec *v = built(COW_STRATEGY_STRUCTURAL, static_cast<std::size_t>(state.range(0)));
    for (auto _ : state) {
        std::uint64_t sum = 0;
        cow_vec_cursor c;
        if (cow_vec_cursor_init(&c, v) != COW_OK) std::abort();
        const void *data;
        std::size_t count;
        while (cow_vec_next_span(&c, &data, &count))
            sum += sum_of(static_cast<const std::uint64_t *>(data), count);
        benchmark::DoNotOptimize(sum);
    }
}
BENCHMARK(BM_tree_iterate)->Arg(n_large);

// A new vector of n u64 built by one push per element, then released.
template <cow_strategy_t S>
void BM_tree_push_build(benchmark::State &state) {
    std::size_t n = static_cast<std::size_t>(state.range(0));
    const auto &src = values(n);
    cow_options o = options_for(S);
    for (auto _ : state) {
        cow_vec *v = nullptr;
        must(cow_vec_new(&v, cow_type_u64(), &o), "cow_vec_new");
        for (std::size_t i = 0; i < n; ++i)
            if (cow_vec_push(&v, &src[i]) != COW_OK) std::abort();
        cow_vec_release(v);
    }
}
BENCHMARK_TEMPLATE(BM_tree_push_build, COW_STRATEGY_LAZY)->Arg(n_large)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_tree_push_build, COW_STRATEGY_STRUCTURAL)->Arg(n_large)->Unit(benchmark::kMillisecond);

// A new vector of n u64 built by one extend, then released.
void BM_tree_extend_std(benchmark::State &state) {
    const auto &src = values(static_cast<std::size_t>(state.range(0)));
    for (auto _ : state) {
        std::vector<std::uint64_t> v;
        v.insert(v.end(), src.begin(), src.end());
        benchmark::DoNotOptimize(v.data());
    }
}
BENCHMARK(BM_tree_extend_std)->Arg(n_large)->Unit(benchmark::kMillisecond);

void BM_tree_extend(benchmark::State &state) {
    std::size_t n = static_cast<std::size_t>(state.range(0));
    const auto &src = values(n);
    cow_options o = options_for(COW_STRATEGY_STRUCTURAL);
    for (auto _ : state) {
        cow_vec *v = nullptr;
        must(cow_vec_new(&v, cow_type_u64(), &o), "cow_vec_new");
        must(cow_vec_extend(&v, src.data(), n), "cow_vec_extend");
        cow_vec_release(v);
    }
}
BENCHMARK(BM_tree_extend)->Arg(n_large)->Unit(benchmark::kMillisecond);

// A slice of a shared 1,000,000-element tree that cuts leaves on both
// sides, then released: two trimmed edges, everything else shared.
void BM_tree_slice(benchmark::State &state) {
    std::size_t n = static_cast<std::size_t>(state.range(0));
    cow_vec *v = built(COW_STRATEGY_STRUCTURAL, n);
    auto idx = shuffled_indices(n / 2, 4096);
    std::size_t k = 0;
    for (auto _ : state) {
        std::size_t from = idx[k++ & 4095];
        cow_vec *s = nullptr;
        must(cow_vec_slice(&s, v, from, n / 2), "cow_vec_slice");
        cow_vec_release(s);
    }
}
BENCHMARK(BM_tree_slice)->Arg(n_large);

// Two 1,000,000-element trees joined (a version of the first with the
// second appended), then released: the nodes along the seam are rebuilt.
void BM_tree_concat(benchmark::State &state) {
    std::size_t n = static_cast<std::size_t>(state.range(0));
    cow_vec *v = built(COW_STRATEGY_STRUCTURAL, n);
    for (auto _ : state) {
        cow_vec *w = cow_vec_clone(v);
        must(cow_vec_concat(&w, v), "cow_vec_concat");
        cow_vec_release(w);
    }
}
BENCHMARK(BM_tree_concat)->Arg(n_large);

// A diff of two versions one set apart: the shared subtrees are skipped.
int count_range(void *ctx, size_t, size_t) {
    *static_cast<std::size_t *>(ctx) += 1;
    return 0;
}
void BM_tree_diff_one_set(benchmark::State &state) {
    std::size_t n = static_cast<std::size_t>(state.range(0));
    cow_vec *v = built(COW_STRATEGY_STRUCTURAL, n);
    cow_vec *w = cow_vec_clone(v);
    std::uint64_t x = 0;
    must(cow_vec_set(&w, n / 3, &x, nullptr), "cow_vec_set");
    for (auto _ : state) {
        std::size_t ranges = 0;
        must(cow_vec_diff(v, w, count_range, &ranges, nullptr), "cow_vec_diff");
        benchmark::DoNotOptimize(ranges);
    }
    cow_vec_release(w);
}
BENCHMARK(BM_tree_diff_one_set)->Arg(n_large);

}  // namespace

BENCHMARK_MAIN();
