#include "alloc.hpp"

#include <cstdlib>

#include "global_stats.hpp"

namespace cow::detail {
namespace {

void *default_malloc(void *, std::size_t size) { return std::malloc(size); }
void *default_realloc(void *, void *p, std::size_t, std::size_t n) { return std::realloc(p, n); }
void default_free(void *, void *p, std::size_t) { std::free(p); }

cow_allocator current{sizeof(cow_allocator), 0, nullptr, default_malloc, default_realloc,
                      default_free};

}  // namespace

void *mem_alloc(std::size_t size) noexcept {
    if (size == 0 || size > max_alloc) return nullptr;
    void *p = current.malloc_fn(current.ctx, size);
    if (p) count_allocated(size);
    return p;
}

void *mem_realloc(void *ptr, std::size_t old_size, std::size_t new_size) noexcept {
    if (new_size == 0 || new_size > max_alloc) return nullptr;
    void *p = current.realloc_fn(current.ctx, ptr, old_size, new_size);
    if (p) count_resized(old_size, new_size);
    return p;
}

void mem_free(void *ptr, std::size_t size) noexcept {
    if (!ptr) return;
    current.free_fn(current.ctx, ptr, size);
    count_freed(size);
}

cow_status set_allocator(const cow_allocator *a) noexcept {
    // Exact when no other thread is inside libcow, which the contract requires.
    if (live_allocations() != 0) return COW_EBUSY;
    if (!a) {
        current = cow_allocator{sizeof(cow_allocator), 0, nullptr, default_malloc,
                                default_realloc, default_free};
        return COW_OK;
    }
    // This layout is the first, and all of it is required. A later version
    // that grows the struct must still accept this size (cow.h: STABILITY).
    if (a->size < sizeof(cow_allocator) || !a->malloc_fn || !a->realloc_fn || !a->free_fn)
        return COW_EINVAL;
    current = *a;
    current.size = sizeof(cow_allocator);
    return COW_OK;
}

}  // namespace cow::detail
