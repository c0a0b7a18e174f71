#include "rep.hpp"

#include "alloc.hpp"
#include "global_stats.hpp"
#include "lineage.hpp"

#include <mutex>

namespace cow::detail {

cow_status seed_from_options(const cow_options *options, rep_seed &out, bool trees) noexcept {
    cow_options o = COW_OPTIONS_INIT;
    if (options) {
        // Versioned struct: read what both sides know, the rest stays zero.
        if (options->size < 2 * sizeof(std::uint32_t)) return COW_EINVAL;
        std::size_t n = options->size < sizeof(o) ? options->size : sizeof(o);
        o = cow_options{};
        __builtin_memcpy(&o, options, n);
    }
    if ((o.strategy == COW_STRATEGY_STRUCTURAL || o.strategy == COW_STRATEGY_ADAPTIVE) && !trees)
        return COW_EUNSUPPORTED;
    if (o.strategy > COW_STRATEGY_ADAPTIVE) return COW_EINVAL;
    if ((o.flags & ~COW_OPT_NO_STATS) != 0 || o.reserved != 0) return COW_EINVAL;
    out.strategy = o.strategy;
    out.threshold = o.threshold_bytes;
    out.lin = nullptr;
    if (!(o.flags & COW_OPT_NO_STATS)) {
        out.lin = lineage_new();
        if (!out.lin) return COW_ENOMEM;
    }
    return COW_OK;
}

cow_status seed_like(const rep *src, rep_seed &out) noexcept {
    out.strategy = src->strategy;
    out.threshold = src->threshold;
    out.lin = nullptr;
    if (src->lin) {
        out.lin = lineage_new();
        if (!out.lin) return COW_ENOMEM;
    }
    return COW_OK;
}

void seed_discard(rep_seed &seed) noexcept {
    if (seed.lin) {
        seed.lin->~lineage();
        mem_free(seed.lin, sizeof(lineage));
        seed.lin = nullptr;
    }
}

static void init_common(rep *r, std::uint32_t tag, const rep_ops *ops, std::uint32_t strategy,
                        std::uint64_t threshold, lineage *lin) noexcept {
    r->count.store(one_handle, std::memory_order_relaxed);
    r->tag = tag;
    r->strategy = strategy;
    r->threshold = threshold;
    r->ops = ops;
    r->lin = lin;
    r->lin_prev = r->lin_next = nullptr;
    count_value_created();
}

void rep_init_new(rep *r, cow_kind_t kind, const rep_ops *ops, rep_seed &seed) noexcept {
    init_common(r, tag_base | kind, ops, seed.strategy, seed.threshold, seed.lin);
    if (seed.lin) lineage_join(seed.lin, r, 0, 0, 0);
    seed.lin = nullptr;
}

void rep_init_copy(rep *copy, const rep *src, std::uint64_t bytes_copied,
                   bool eager_clone) noexcept {
    init_common(copy, src->tag, src->ops, src->strategy, src->threshold, src->lin);
    if (src->lin) lineage_join(src->lin, copy, 1, bytes_copied, eager_clone ? 1 : 0);
}

void rep_adopt_switched(rep *copy, const rep *src, std::uint64_t bytes_copied) noexcept {
    copy->lin = src->lin;
    if (src->lin) lineage_join(src->lin, copy, 1, bytes_copied, 0, 1);
}

void rep_count_node_copies(const rep *r, std::uint64_t nodes, std::uint64_t bytes) noexcept {
    if (r->lin && nodes) lineage_count_nodes(r->lin, nodes, bytes);
}

void rep_init_view(rep *view, const rep *src) noexcept {
    init_common(view, src->tag, src->ops, src->strategy, src->threshold, src->lin);
    if (src->lin) lineage_join(src->lin, view, 0, 0, 0);
}

void rep_retire(rep *r) noexcept {
    if (r->lin) lineage_leave(r->lin, r);
    r->tag = 0;  // a stale handle no longer passes the tag check (best effort)
    count_value_destroyed();
}

static std::size_t copied_bytes(const rep *r) noexcept {
    return r->ops->copy_bytes ? r->ops->copy_bytes(r) : r->ops->value_bytes(r);
}

static bool copies_at_clone(const rep *r) noexcept {
    switch (r->strategy) {
    case COW_STRATEGY_EAGER: return true;
    case COW_STRATEGY_THRESHOLD: return r->ops->value_bytes(r) < r->threshold;
    default: return false;
    }
}

cow_status rep_try_clone(rep *r, rep **out) noexcept {
    if (copies_at_clone(r)) {
        rep *copy = nullptr;
        cow_status s = r->ops->copy(r, &copy);
        if (s != COW_OK) return s;
        rep_init_copy(copy, r, copied_bytes(r), true);
        *out = copy;
        return COW_OK;
    }
    cow_status s = rep_add_handle(r);
    if (s == COW_OK) *out = r;
    return s;
}

void carry_clones(rep *r) noexcept {
    if (r->lin) r->lin->carried_clones.fetch_add(one_clone, std::memory_order_relaxed);
}

cow_status rep_make_unique(rep **slot) noexcept {
    rep *r = *slot;
    if (!rep_is_shared(r)) return COW_OK;
    rep *copy = nullptr;
    cow_status s = r->ops->copy(r, &copy);
    if (s != COW_OK) return s;
    rep_init_copy(copy, r, copied_bytes(r), false);
    *slot = copy;
    rep_release(r);
    return COW_OK;
}

void rep_stats(const rep *r, cow_stats_info &out) noexcept {
    std::uint64_t bytes = r->ops->value_bytes(r);
    out.value_bytes = bytes;
    out.representation = r->ops->representation;
    lineage *l = r->lin;
    if (!l) return;
    out.enabled = 1;
    std::uint64_t clones, handles = 0, values = 0;
    {
        std::lock_guard<spinlock> lock(l->mu);
        clones = l->retired_clones + l->carried_clones.load(std::memory_order_relaxed);
        for (rep *p = l->head; p; p = p->lin_next) {
            std::uint64_t c = p->count.load(std::memory_order_relaxed);
            clones += c >> 32;
            handles += c & handle_mask;
            ++values;
        }
        out.copies = l->copies;
        out.bytes_copied = l->bytes_copied;
        out.nodes_copied = l->nodes_copied;
        out.switches = l->switches;
    }
    out.clones = clones;
    out.live_handles = handles;
    out.live_values = values;
    out.copy_rate = clones ? double(out.copies) / double(clones) : 0.0;
    // What the clones would have copied, less what writes did copy: one
    // rule for every representation (a tree's write copies a path, a flat
    // write may copy less than the whole value). Saturates rather than wraps.
    std::uint64_t would_copy = 0;
    if (__builtin_mul_overflow(clones, bytes, &would_copy)) would_copy = UINT64_MAX;
    out.memory_saved = would_copy > out.bytes_copied ? would_copy - out.bytes_copied : 0;
}

}  // namespace cow::detail
