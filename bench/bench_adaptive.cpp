// The ADAPTIVE strategy's three workloads, each run under LAZY, STRUCTURAL
// and ADAPTIVE on a vector of u64 and on a map u64 -> u64 in the same
// process; tools/bench_ratios.py divides each strategy's time by the best
// of the three. Every benchmark checks the representation its value ends
// in, and under ADAPTIVE its switches, and fails when they are not what
// the ADAPTIVE rule of cow.h gives:
//   1. read-heavy: 8 reader threads read a 1,000,000-element value (one
//      clone per 1,000 reads), a writer makes a version every 10,000
//      reads: each version is cloned 11 times and copied once, and its
//      copy (8 MB or more) costs more than the tree's slower reads after
//      11 clones (11 x 256 KiB by the rule): ADAPTIVE becomes a tree at
//      its second copy (one switch);
//   2. small values, many writes: 100 elements, 100,000 versions one
//      write apart: ADAPTIVE stays flat (below the 64 KiB floor, no switch);
//   3. large values written after every clone: 1,000,000 elements, 10,000
//      versions one write apart, timed from the value's creation:
//      ADAPTIVE becomes a tree at the second copy (one switch).
#include <benchmark/benchmark.h>

#include <time.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "support.hpp"

namespace {

using bench::must;

cow_options options_for(cow_strategy_t s) {
    cow_options o = COW_OPTIONS_INIT;
    o.strategy = s;
    return o;
}

// The two kinds, behind one interface: n elements (the vector: element i
// is i) or n entries (the map: key i -> i), read and written at index or
// key i < n.
struct vec {
    using handle = cow_vec;
    static handle *make(cow_strategy_t s, std::size_t n) {
        static std::vector<std::uint64_t> values;
        if (values.size() < n) {
            values.resize(n);
            for (std::size_t i = 0; i < n; ++i) values[i] = i;
        }
        cow_options o = options_for(s);
        handle *v = nullptr;
        must(cow_vec_from_array(&v, cow_type_u64(), values.data(), n, &o), "cow_vec_from_array");
        return v;
    }
    static std::uint64_t get(const handle *v, std::uint64_t i) {
        return *static_cast<const std::uint64_t *>(cow_vec_get(v, i));
    }
    static void set(handle **slot, std::uint64_t i, std::uint64_t x) {
        if (cow_vec_set(slot, i, &x, nullptr) != COW_OK) std::abort();
    }
};

struct map {
    using handle = cow_map;
    static handle *make(cow_strategy_t s, std::size_t n) {
        cow_options o = options_for(s);
        handle *m = nullptr;
        must(cow_map_new(&m, cow_type_u64(), cow_type_u64(), &o), "cow_map_new");
        for (std::uint64_t i = 0; i < n; ++i)
            if (cow_map_insert(&m, &i, sizeof i, &i, nullptr, nullptr) != COW_OK) std::abort();
        return m;
    }
    static std::uint64_t get(const handle *m, std::uint64_t key) {
        return *static_cast<const std::uint64_t *>(cow_map_get(m, &key, sizeof key));
    }
    static void set(handle **slot, std::uint64_t key, std::uint64_t x) {
        if (cow_map_insert(slot, &key, sizeof key, &x, nullptr, nullptr) != COW_OK) std::abort();
    }
};

cow_stats_info stats_of(const void *h) {
    cow_stats_info info = COW_STATS_INFO_INIT;
    must(cow_stats(h, &info), "cow_stats");
    return info;
}

// The representation a strategy's value must end in: LAZY flat, STRUCTURAL
// a tree, ADAPTIVE the workload's, after that many switches.
bool check_end(benchmark::State &state, cow_strategy_t s, const void *h, std::uint32_t adaptive_rep,
               std::uint64_t adaptive_switches) {
    cow_stats_info st = stats_of(h);
    std::uint32_t want = s == COW_STRATEGY_LAZY         ? COW_REPRESENTATION_FLAT
                         : s == COW_STRATEGY_STRUCTURAL ? COW_REPRESENTATION_TREE
                                                        : adaptive_rep;
    state.counters["switches"] = static_cast<double>(st.switches);
    state.counters["tree"] = st.representation == COW_REPRESENTATION_TREE ? 1 : 0;
    if (st.representation != want) {
        state.SkipWithError(want == COW_REPRESENTATION_TREE ? "ended flat, expected a tree"
                                                            : "ended a tree, expected flat");
        return false;
    }
    if (s == COW_STRATEGY_ADAPTIVE && st.switches != adaptive_switches) {
        state.SkipWithError("unexpected number of switches");
        return false;
    }
    return true;
}

// ---- 1. read-heavy ---------------------------------------------------------
// A 1,000,000-element value read at random by 8 threads, each cloning the
// current version once per batch of 1,000 reads. A writer makes version
// v + 1 (clone the current, one write at a random index, publish it in
// place of the current, release the old) once the readers have done
// (v + 1) * 10,000 reads, counted in batches by an atomic the readers
// share; the readers wait for the version their next batch belongs to, so
// that every version is read 10,000 times and cloned 10 times by the
// readers (11 with the writer's clone) whatever the writer's copy costs,
// and the lineage's history is the same in every run. Timed (wall clock,
// manual time) from the value's creation, as workload 3 is, until the
// threads have done 1,000,000 reads and 100 versions: a switch is paid
// inside the measurement, and so is the tree's slower creation.
constexpr std::size_t read_heavy_n = 1000000;
constexpr unsigned read_heavy_readers = 8;
constexpr std::uint64_t reads_per_batch = 1000;
constexpr std::uint64_t batches_per_version = 10;
constexpr std::uint64_t read_heavy_batches = 1000;  // 1,000,000 reads, 100 versions

template <class Kind>
struct read_heavy_run {
    using handle = typename Kind::handle;
    std::mutex mu;  // guards the pointer current (reading the value needs no lock)
    std::condition_variable readers_cv, writer_cv;
    handle *current;
    std::atomic<std::uint64_t> claimed{0}, done{0}, published{0};
    std::atomic<std::uint64_t> sink{0};

    explicit read_heavy_run(handle *h) : current(h) {}

    void reader(unsigned id) {
        bench::rng r(id * 7919 + 1);
        std::uint64_t sum = 0;
        for (;;) {
            std::uint64_t b = claimed.fetch_add(1, std::memory_order_relaxed);
            if (b >= read_heavy_batches) break;
            std::uint64_t version = b / batches_per_version;
            if (published.load(std::memory_order_acquire) < version) {
                std::unique_lock<std::mutex> l(mu);
                readers_cv.wait(l, [&] { return published.load() >= version; });
            }
            handle *h;
            {
                std::lock_guard<std::mutex> l(mu);
                h = static_cast<handle *>(cow_clone(current));
            }
            if (!h) std::abort();
            for (std::uint64_t k = 0; k < reads_per_batch; ++k) sum += Kind::get(h, r.below(read_heavy_n));
            cow_release(h);
            if ((done.fetch_add(1, std::memory_order_acq_rel) + 1) % batches_per_version == 0) {
                std::lock_guard<std::mutex> l(mu);
                writer_cv.notify_one();
            }
        }
        sink.fetch_add(sum, std::memory_order_relaxed);
    }

    void writer() {
        bench::rng r(42);
        for (std::uint64_t v = 1; v <= read_heavy_batches / batches_per_version; ++v) {
            {
                std::unique_lock<std::mutex> l(mu);
                writer_cv.wait(l, [&] { return done.load() >= v * batches_per_version; });
            }
            // Only this thread replaces current: it may clone it unlocked.
            handle *c = static_cast<handle *>(cow_clone(current));
            if (!c) std::abort();
            Kind::set(&c, r.below(read_heavy_n), v);
            handle *old;
            {
                std::lock_guard<std::mutex> l(mu);
                old = current;
                current = c;
                published.store(v, std::memory_order_release);
            }
            readers_cv.notify_all();
            cow_release(old);
        }
    }
};

template <class Kind, cow_strategy_t S>
void BM_adaptive_read_heavy(benchmark::State &state) {
    bool ok = true;
    for (auto _ : state) {
        auto t0 = std::chrono::steady_clock::now();
        read_heavy_run<Kind> run(Kind::make(S, read_heavy_n));
        std::vector<std::thread> threads;
        for (unsigned i = 0; i < read_heavy_readers; ++i)
            threads.emplace_back([&run, i] { run.reader(i); });
        threads.emplace_back([&run] { run.writer(); });
        for (auto &t : threads) t.join();
        state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        benchmark::DoNotOptimize(run.sink.load());
        ok = ok && check_end(state, S, run.current, COW_REPRESENTATION_TREE, 1);
        cow_release(run.current);
        if (!ok) break;
    }
    state.SetItemsProcessed(
        static_cast<std::int64_t>(state.iterations() * read_heavy_batches * reads_per_batch));
}
BENCHMARK_TEMPLATE(BM_adaptive_read_heavy, vec, COW_STRATEGY_LAZY)
    ->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_adaptive_read_heavy, vec, COW_STRATEGY_STRUCTURAL)
    ->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_adaptive_read_heavy, vec, COW_STRATEGY_ADAPTIVE)
    ->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_adaptive_read_heavy, map, COW_STRATEGY_LAZY)
    ->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_adaptive_read_heavy, map, COW_STRATEGY_STRUCTURAL)
    ->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_adaptive_read_heavy, map, COW_STRATEGY_ADAPTIVE)
    ->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

// ---- 2. small values, many writes -------------------------------------------
// A 100-element value, then 100,000 versions, each one write away from the
// previous one (clone, one write, release the old).
constexpr std::size_t small_n = 100;
constexpr std::size_t small_rounds = 100000;

template <class Kind, cow_strategy_t S>
void BM_adaptive_small_writes(benchmark::State &state) {
    using handle = typename Kind::handle;
    handle *cur = nullptr;
    for (auto _ : state) {
        if (cur) cow_release(cur);
        cur = Kind::make(S, small_n);
        bench::rng r(7);
        for (std::size_t i = 0; i < small_rounds; ++i) {
            handle *c = static_cast<handle *>(cow_clone(cur));
            if (!c) std::abort();
            Kind::set(&c, r.below(small_n), i);
            cow_release(cur);
            cur = c;
        }
    }
    check_end(state, S, cur, COW_REPRESENTATION_FLAT, 0);
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * small_rounds));
    cow_release(cur);
}
BENCHMARK_TEMPLATE(BM_adaptive_small_writes, vec, COW_STRATEGY_LAZY)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_adaptive_small_writes, vec, COW_STRATEGY_STRUCTURAL)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_adaptive_small_writes, vec, COW_STRATEGY_ADAPTIVE)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_adaptive_small_writes, map, COW_STRATEGY_LAZY)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_adaptive_small_writes, map, COW_STRATEGY_STRUCTURAL)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_adaptive_small_writes, map, COW_STRATEGY_ADAPTIVE)
    ->Unit(benchmark::kMillisecond);

// ---- 3. large values written after every clone ------------------------------
// A 1,000,000-element value, then 10,000 versions, each one write away from
// the previous one (c = clone(cur); one write to c; release(cur); cur = c),
// timed from the value's creation: a switch is paid inside the measurement.
// Manual time: the benchmark thread's CPU time (CLOCK_THREAD_CPUTIME_ID),
// as tools/bench_ratios.py uses CPU time for the other single-threaded
// benchmarks.
// LAZY copies the whole value at every round (8 MB, the map's 16 MB of
// entries): 10,000 rounds would take minutes, so LAZY runs 100 rounds and
// its figure is computed from the measured per-round cost: the creation
// plus 10,000 x (the time of the 100 rounds) / 100. Its label says so.
constexpr std::size_t large_n = 1000000;
constexpr std::size_t large_rounds = 10000;
constexpr std::size_t large_rounds_lazy = 100;

double thread_seconds() {
    timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

template <class Kind, cow_strategy_t S>
void BM_adaptive_large_writes(benchmark::State &state) {
    using handle = typename Kind::handle;
    constexpr std::size_t rounds = S == COW_STRATEGY_LAZY ? large_rounds_lazy : large_rounds;
    constexpr double scale = static_cast<double>(large_rounds) / static_cast<double>(rounds);
    bool ok = true;
    for (auto _ : state) {
        double t0 = thread_seconds();
        handle *cur = Kind::make(S, large_n);
        double t1 = thread_seconds();
        bench::rng r(11);
        for (std::size_t i = 0; i < rounds; ++i) {
            handle *c = static_cast<handle *>(cow_clone(cur));
            if (!c) std::abort();
            Kind::set(&c, r.below(large_n), i);
            cow_release(cur);
            cur = c;
        }
        double t2 = thread_seconds();
        state.SetIterationTime((t1 - t0) + (t2 - t1) * scale);
        ok = ok && check_end(state, S, cur, COW_REPRESENTATION_TREE, 1);
        cow_release(cur);
        if (!ok) break;
    }
    if (S == COW_STRATEGY_LAZY) state.SetLabel("computed: 100 rounds measured, scaled to 10,000");
}
BENCHMARK_TEMPLATE(BM_adaptive_large_writes, vec, COW_STRATEGY_LAZY)
    ->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_adaptive_large_writes, vec, COW_STRATEGY_STRUCTURAL)
    ->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_adaptive_large_writes, vec, COW_STRATEGY_ADAPTIVE)
    ->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_adaptive_large_writes, map, COW_STRATEGY_LAZY)
    ->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_adaptive_large_writes, map, COW_STRATEGY_STRUCTURAL)
    ->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_adaptive_large_writes, map, COW_STRATEGY_ADAPTIVE)
    ->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
