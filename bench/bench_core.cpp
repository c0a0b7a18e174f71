// The core benchmarks, each next to its baseline in the
// same run: clone + release against a bare atomic pair, a write to an
// unshared value against cow_is_shared, and the first write to a shared
// buffer against malloc + memcpy + free. tools/bench_ratios.py prints the
// ratios. Values are created and released inside each benchmark so that the
// cold benchmarks may install their allocator (only allowed with no value
// alive).
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <sys/mman.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "support.hpp"

namespace {

using bench::must;

constexpr std::size_t kib = 1024;
constexpr std::size_t mib = 1024 * 1024;

std::vector<unsigned char> pattern(std::size_t size) {
    std::vector<unsigned char> bytes(size);
    for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<unsigned char>(i * 31 + 7);
    return bytes;
}

cow_buf *new_buf(std::size_t size, bool stats) {
    std::vector<unsigned char> bytes = pattern(size);
    cow_options options = COW_OPTIONS_INIT;
    if (!stats) options.flags = COW_OPT_NO_STATS;
    cow_buf *b = nullptr;
    must(cow_buf_new(&b, bytes.data(), size, &options), "cow_buf_new");
    return b;
}

// ---------------------------------------------------------------------------
// clone + release of a shared value against fetch_add + fetch_sub
// ---------------------------------------------------------------------------

// On its own cache line, like a reference count nothing else writes.
alignas(64) std::atomic<std::uint64_t> bare_count{1};

void BM_atomic_pair(benchmark::State &state) {
    for (auto _ : state) {
        bare_count.fetch_add(1, std::memory_order_relaxed);
        bare_count.fetch_sub(1, std::memory_order_acq_rel);
    }
}
BENCHMARK(BM_atomic_pair);
BENCHMARK(BM_atomic_pair)->Threads(2)->UseRealTime();

// Created by thread 0 before the timed loop; the loop's start barrier
// publishes it to the other thread, the end barrier keeps it alive.
cow_buf *shared_value = nullptr;
cow_buf *second_handle = nullptr;

void BM_clone_release(benchmark::State &state, bool stats) {
    if (state.thread_index() == 0) {
        shared_value = new_buf(64, stats);
        second_handle = cow_buf_clone(shared_value);  // the value is shared throughout
    }
    for (auto _ : state) {
        void *c = cow_clone(shared_value);
        cow_release(c);
    }
    if (state.thread_index() == 0) {
        cow_buf_release(second_handle);
        cow_buf_release(shared_value);
    }
}
BENCHMARK_CAPTURE(BM_clone_release, stats_on, true);
BENCHMARK_CAPTURE(BM_clone_release, stats_off, false);
BENCHMARK_CAPTURE(BM_clone_release, stats_on, true)->Threads(2)->UseRealTime();
BENCHMARK_CAPTURE(BM_clone_release, stats_off, false)->Threads(2)->UseRealTime();

// ---------------------------------------------------------------------------
// A write to an unshared value against the uniqueness query itself
// ---------------------------------------------------------------------------

void BM_is_shared(benchmark::State &state) {
    cow_buf *b = new_buf(64, true);
    for (auto _ : state) {
        bool shared = cow_is_shared(b);
        benchmark::DoNotOptimize(shared);
    }
    cow_buf_release(b);
}
BENCHMARK(BM_is_shared);

void BM_unique_make_mut(benchmark::State &state) {
    cow_buf *b = new_buf(64, true);
    cow_buf *before = b;
    std::uint8_t *data = nullptr;
    for (auto _ : state) {
        if (cow_buf_make_mut(&b, &data) != COW_OK) std::abort();
        benchmark::DoNotOptimize(data);
    }
    if (b != before) state.SkipWithError("cow_buf_make_mut copied a unique buffer");
    cow_buf_release(b);
}
BENCHMARK(BM_unique_make_mut);

// ---------------------------------------------------------------------------
// First write to a shared buffer: clone, make_mut (copies), release the copy.
// Its own cost is that minus clone + release of the same value.
// ---------------------------------------------------------------------------

// Fails loudly unless make_mut on a clone really copies the bytes.
void check_first_write_copies(cow_buf *b) {
    cow_buf *c = cow_buf_clone(b);
    std::uint8_t *data = nullptr;
    must(cow_buf_make_mut(&c, &data), "cow_buf_make_mut");
    if (c == b || data == cow_buf_data(b) ||
        std::memcmp(data, cow_buf_data(b), cow_buf_len(b)) != 0) {
        std::fprintf(stderr, "bench: make_mut on a shared buffer did not copy\n");
        std::abort();
    }
    cow_buf_release(c);
}

inline void first_write(cow_buf *b) {
    cow_buf *c = cow_buf_clone(b);
    std::uint8_t *data = nullptr;
    if (cow_buf_make_mut(&c, &data) != COW_OK) std::abort();
    benchmark::DoNotOptimize(data);
    benchmark::ClobberMemory();
    cow_buf_release(c);
}

void BM_first_write(benchmark::State &state, bool stats) {
    cow_buf *b = new_buf(static_cast<std::size_t>(state.range(0)), stats);
    check_first_write_copies(b);
    for (auto _ : state) first_write(b);
    cow_buf_release(b);
}
// 64 B and 1 KiB fit glibc's per-thread cache (1,032 bytes) on their own,
// 4 KiB does not, 1 MiB is memcpy-bound.
#define FIRST_WRITE_SIZES ->Arg(64)->Arg(kib)->Arg(4 * kib)->Arg(mib)
BENCHMARK_CAPTURE(BM_first_write, stats_on, true) FIRST_WRITE_SIZES;
BENCHMARK_CAPTURE(BM_first_write, stats_off, false) FIRST_WRITE_SIZES;

void BM_clone_release_buf(benchmark::State &state) {
    cow_buf *b = new_buf(static_cast<std::size_t>(state.range(0)), true);
    for (auto _ : state) {
        cow_buf *c = cow_buf_clone(b);
        benchmark::DoNotOptimize(c);
        cow_buf_release(c);
    }
    cow_buf_release(b);
}
BENCHMARK(BM_clone_release_buf) FIRST_WRITE_SIZES;

void BM_malloc_memcpy_free(benchmark::State &state) {
    std::size_t size = static_cast<std::size_t>(state.range(0));
    std::vector<unsigned char> src = pattern(size);
    for (auto _ : state) {
        void *p = std::malloc(size);
        std::memcpy(p, src.data(), size);
        benchmark::DoNotOptimize(p);
        benchmark::ClobberMemory();
        std::free(p);
    }
}
// 1145 = a 120-byte header + 1 KiB + NUL in one block: past glibc's
// 1032-byte thread-cache limit (why a 1 KiB buffer keeps two blocks).
BENCHMARK(BM_malloc_memcpy_free) FIRST_WRITE_SIZES->Arg(120 + kib + 1);

// ---------------------------------------------------------------------------
// Cold: every copy lands on fresh 4 KiB pages. Both sides allocate from the
// same bump arena (installed in libcow with cow_set_allocator); free does
// nothing, and when the arena is used up its pages are dropped
// (MADV_DONTNEED, outside the timing) so they fault again on next touch.
// ---------------------------------------------------------------------------

struct fresh_arena {
    static constexpr std::size_t capacity = 256 * mib;
    char *base = nullptr;
    std::size_t kept = 0;  // bytes before this survive reset()
    std::size_t used = 0;

    fresh_arena() {
        void *p = mmap(nullptr, capacity, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) std::abort();
        base = static_cast<char *>(p);
        madvise(base, capacity, MADV_NOHUGEPAGE);  // 4 KiB faults, as glibc's heap gets them
    }
    void *take(std::size_t n) {
        std::size_t rounded = (n + 15) & ~std::size_t{15};
        if (rounded > capacity - used) return nullptr;
        void *p = base + used;
        used += rounded;
        return p;
    }
    bool has_room(std::size_t n) const { return capacity - used >= n; }
    // Everything allocated so far is kept; later blocks are recycled.
    void keep_current() { kept = (used + 4095) & ~std::size_t{4095}; used = kept; }
    void reset() {
        madvise(base + kept, capacity - kept, MADV_DONTNEED);
        used = kept;
    }
    void clear() { madvise(base, capacity, MADV_DONTNEED); kept = used = 0; }
};

fresh_arena &arena() {
    static fresh_arena a;
    return a;
}

void *arena_malloc(void *, std::size_t n) { return arena().take(n); }
void *arena_realloc(void *, void *p, std::size_t old_size, std::size_t n) {
    void *q = arena().take(n);
    if (q) std::memcpy(q, p, old_size < n ? old_size : n);
    return q;
}
void arena_free(void *, void *, std::size_t) {}

const cow_allocator arena_allocator = {sizeof(cow_allocator), 0, nullptr, arena_malloc,
                                       arena_realloc, arena_free};

// Room for one more copy (bytes plus headers); else recycle, untimed.
void ensure_fresh_room(benchmark::State &state, std::size_t size) {
    if (arena().has_room(size + 4096)) return;
    state.PauseTiming();
    arena().reset();
    state.ResumeTiming();
}

void BM_first_write_cold(benchmark::State &state) {
    std::size_t size = static_cast<std::size_t>(state.range(0));
    arena().clear();
    must(cow_set_allocator(&arena_allocator), "cow_set_allocator (no value may be alive)");
    cow_buf *b = new_buf(size, true);
    arena().keep_current();
    check_first_write_copies(b);
    for (auto _ : state) {
        ensure_fresh_room(state, size);
        first_write(b);
    }
    cow_buf_release(b);
    must(cow_set_allocator(nullptr), "cow_set_allocator(NULL)");
    arena().clear();
}
BENCHMARK(BM_first_write_cold)->Arg(kib)->Arg(mib);

void BM_alloc_memcpy_cold(benchmark::State &state) {
    std::size_t size = static_cast<std::size_t>(state.range(0));
    std::vector<unsigned char> src = pattern(size);
    arena().clear();
    for (auto _ : state) {
        ensure_fresh_room(state, size);
        void *p = arena_malloc(nullptr, size);
        std::memcpy(p, src.data(), size);
        benchmark::DoNotOptimize(p);
        benchmark::ClobberMemory();
        arena_free(nullptr, p, size);
    }
    arena().clear();
}
BENCHMARK(BM_alloc_memcpy_cold)->Arg(kib)->Arg(mib);

}  // namespace

int main(int argc, char **argv) {
    // Warm means memory is reused: keep 1 MiB blocks on the heap (no mmap
    // per block) and never hand the top of the heap back to the kernel.
    mallopt(M_MMAP_THRESHOLD, 32 * mib);
    mallopt(M_TRIM_THRESHOLD, 1024 * mib);
    // glibc's malloc skips its arena lock until a process starts a thread;
    // the 2-thread benchmarks start some, so start one first: every
    // benchmark then sees the same malloc, whatever the order.
    std::thread([] {}).join();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
