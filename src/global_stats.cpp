#include "global_stats.hpp"

#include <pthread.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <new>

namespace cow::detail {
namespace {

// Process-wide counters without an atomic read-modify-write per allocation:
// each thread owns a block of counters it updates with plain relaxed
// load+store; readers sum every block. A block outlives its thread and is
// handed to the next new thread, so the sums stay exact. Blocks come from
// std::aligned_alloc (not the user's allocator) and are never freed.
struct alignas(64) counter_block {  // own cache lines: no false sharing
    std::atomic<std::int64_t> bytes{0};
    std::atomic<std::int64_t> allocations{0};
    std::atomic<std::int64_t> values{0};
    counter_block *next_all = nullptr;   // every block ever made (push only)
    counter_block *next_free = nullptr;  // blocks whose thread has exited
};

std::atomic<counter_block *> all_blocks{nullptr};
std::mutex free_mutex;
counter_block *free_blocks = nullptr;
// Used by a thread whose own block was already given back (libcow called
// from another thread-exit destructor): shared, so updated atomically.
counter_block late_block;

pthread_key_t exit_key;
pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;

__attribute__((tls_model("initial-exec"))) thread_local counter_block *my_block = nullptr;
__attribute__((tls_model("initial-exec"))) thread_local bool my_thread_exited = false;

void give_back(void *p) {
    auto *b = static_cast<counter_block *>(p);
    my_block = nullptr;
    my_thread_exited = true;
    std::lock_guard<std::mutex> lock(free_mutex);
    b->next_free = free_blocks;
    free_blocks = b;
}

bool exit_key_made = false;
void make_exit_key() { exit_key_made = pthread_key_create(&exit_key, give_back) == 0; }

// When libcow is unloaded (dlclose by an FFI host), threads still running
// must not call give_back, whose code is gone, when they exit. Their blocks
// are simply not given back then.
[[gnu::destructor]] void delete_exit_key() {
    if (exit_key_made) pthread_key_delete(exit_key);
}

counter_block *acquire_block() noexcept {
    pthread_once(&exit_key_once, make_exit_key);
    counter_block *b = nullptr;
    {
        std::lock_guard<std::mutex> lock(free_mutex);
        if (free_blocks) {
            b = free_blocks;
            free_blocks = b->next_free;
        }
    }
    if (!b) {
        void *mem = std::aligned_alloc(alignof(counter_block), sizeof(counter_block));
        if (!mem) return nullptr;
        b = new (mem) counter_block();
        counter_block *head = all_blocks.load(std::memory_order_relaxed);
        do b->next_all = head;
        while (!all_blocks.compare_exchange_weak(head, b, std::memory_order_release,
                                                 std::memory_order_relaxed));
    }
    pthread_setspecific(exit_key, b);
    return b;
}

// Adds to one counter of this thread's block.
void bump(std::atomic<std::int64_t> counter_block::*field, std::int64_t delta) noexcept {
    counter_block *b = my_block;
    if (__builtin_expect(b == nullptr, 0)) {
        if (!my_thread_exited) b = my_block = acquire_block();
        if (!b) {
            (late_block.*field).fetch_add(delta, std::memory_order_relaxed);
            return;
        }
    }
    auto &c = b->*field;
    c.store(c.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
}

std::int64_t sum(std::atomic<std::int64_t> counter_block::*field) noexcept {
    std::int64_t total = (late_block.*field).load(std::memory_order_relaxed);
    for (counter_block *b = all_blocks.load(std::memory_order_acquire); b; b = b->next_all)
        total += (b->*field).load(std::memory_order_relaxed);
    return total;
}

std::uint64_t non_negative(std::int64_t v) { return v > 0 ? std::uint64_t(v) : 0; }

}  // namespace

void count_allocated(std::size_t bytes) noexcept {
    bump(&counter_block::bytes, std::int64_t(bytes));
    bump(&counter_block::allocations, 1);
}

void count_resized(std::size_t old_size, std::size_t new_size) noexcept {
    bump(&counter_block::bytes, std::int64_t(new_size) - std::int64_t(old_size));
}

void count_freed(std::size_t bytes) noexcept {
    bump(&counter_block::bytes, -std::int64_t(bytes));
    bump(&counter_block::allocations, -1);
}

void count_value_created() noexcept { bump(&counter_block::values, 1); }
void count_value_destroyed() noexcept { bump(&counter_block::values, -1); }

std::int64_t live_allocations() noexcept { return sum(&counter_block::allocations); }

void global_stats(cow_global_stats_info &out) noexcept {
    out.live_values = non_negative(sum(&counter_block::values));
    out.live_bytes = non_negative(sum(&counter_block::bytes));
    out.live_allocations = non_negative(sum(&counter_block::allocations));
}

}  // namespace cow::detail
