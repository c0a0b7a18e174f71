#include "alloc.hpp"

#include <atomic>
#include <cstdlib>

namespace cow::detail {
namespace {

void *default_malloc(void *, std::size_t size) { return std::malloc(size); }
void *default_realloc(void *, void *p, std::size_t, std::size_t n) { return std::realloc(p, n); }
void default_free(void *, void *p, std::size_t) { std::free(p); }

cow_allocator current{sizeof(cow_allocator), 0, nullptr, default_malloc, default_realloc,
                      default_free};

// Separate cache lines: the value counter moves with every copy, the byte
// counters with every allocation.
alignas(64) std::atomic<std::uint64_t> live_values{0};
alignas(64) std::atomic<std::uint64_t> live_bytes{0};
alignas(64) std::atomic<std::uint64_t> live_allocations{0};

}  // namespace

void *mem_alloc(std::size_t size) noexcept {
    if (size == 0 || size > max_alloc) return nullptr;
    void *p = current.malloc_fn(current.ctx, size);
    if (p) {
        live_bytes.fetch_add(size, std::memory_order_relaxed);
        live_allocations.fetch_add(1, std::memory_order_relaxed);
    }
    return p;
}

void *mem_realloc(void *ptr, std::size_t old_size, std::size_t new_size) noexcept {
    if (new_size == 0 || new_size > max_alloc) return nullptr;
    void *p = current.realloc_fn(current.ctx, ptr, old_size, new_size);
    if (p) {
        if (new_size >= old_size)
            live_bytes.fetch_add(new_size - old_size, std::memory_order_relaxed);
        else
            live_bytes.fetch_sub(old_size - new_size, std::memory_order_relaxed);
    }
    return p;
}

void mem_free(void *ptr, std::size_t size) noexcept {
    if (!ptr) return;
    current.free_fn(current.ctx, ptr, size);
    live_bytes.fetch_sub(size, std::memory_order_relaxed);
    live_allocations.fetch_sub(1, std::memory_order_relaxed);
}

void count_value_created() noexcept { live_values.fetch_add(1, std::memory_order_relaxed); }
void count_value_destroyed() noexcept { live_values.fetch_sub(1, std::memory_order_relaxed); }

cow_status set_allocator(const cow_allocator *a) noexcept {
    if (live_allocations.load(std::memory_order_acquire) != 0) return COW_EBUSY;
    if (!a) {
        current = cow_allocator{sizeof(cow_allocator), 0, nullptr, default_malloc,
                                default_realloc, default_free};
        return COW_OK;
    }
    if (a->size < sizeof(cow_allocator) || !a->malloc_fn || !a->realloc_fn || !a->free_fn)
        return COW_EINVAL;
    current = *a;
    current.size = sizeof(cow_allocator);
    return COW_OK;
}

void global_stats(cow_global_stats_info &out) noexcept {
    out.live_values = live_values.load(std::memory_order_relaxed);
    out.live_bytes = live_bytes.load(std::memory_order_relaxed);
    out.live_allocations = live_allocations.load(std::memory_order_relaxed);
}

}  // namespace cow::detail
