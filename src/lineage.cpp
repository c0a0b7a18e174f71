#include "lineage.hpp"

#include <mutex>

#include <new>

#include "alloc.hpp"

namespace cow::detail {

lineage *lineage_new() noexcept {
    void *mem = mem_alloc(sizeof(lineage));
    if (!mem) return nullptr;
    return new (mem) lineage();
}

void lineage_join(lineage *l, rep *r, std::uint64_t copies, std::uint64_t bytes,
                  std::uint64_t clones, std::uint64_t switches) noexcept {
    std::lock_guard<spinlock> lock(l->mu);
    r->lin_prev = nullptr;
    r->lin_next = l->head;
    if (l->head) l->head->lin_prev = r;
    l->head = r;
    l->copies += copies;
    l->bytes_copied += bytes;
    l->retired_clones += clones;
    l->switches += switches;
}

void lineage_count_nodes(lineage *l, std::uint64_t nodes, std::uint64_t bytes) noexcept {
    std::lock_guard<spinlock> lock(l->mu);
    l->nodes_copied += nodes;
    l->bytes_copied += bytes;
}

void lineage_leave(lineage *l, rep *r) noexcept {
    bool last;
    {
        std::lock_guard<spinlock> lock(l->mu);
        l->retired_clones += r->count.load(std::memory_order_relaxed) >> 32;
        if (r->lin_prev)
            r->lin_prev->lin_next = r->lin_next;
        else
            l->head = r->lin_next;
        if (r->lin_next) r->lin_next->lin_prev = r->lin_prev;
        last = l->head == nullptr;
    }
    // No rep is left, so no handle can reach the lineage any more.
    if (last) {
        l->~lineage();
        mem_free(l, sizeof(lineage));
    }
}

}  // namespace cow::detail
