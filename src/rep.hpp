// The representation header shared by every libcow value, its reference
// count (fused with a per-representation clone counter) and its lineage.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "cow.h"

namespace cow::detail {

struct rep;
struct lineage;

// What differs between kinds. Every function is noexcept and never throws.
struct rep_ops {
    // The last handle is gone: free the value (or defer, for shared storage).
    void (*last_handle_released)(rep *r) noexcept;
    // A private copy of r in *out (not yet initialised as a rep: the caller
    // calls rep_init_copy). Must leave r untouched on failure.
    cow_status (*copy)(const rep *r, rep **out) noexcept;
    // Bytes of value data (for statistics and the threshold strategy).
    std::size_t (*value_bytes)(const rep *r) noexcept;
    // True when storage is shared beyond the reference count (slices);
    // nullptr for kinds whose storage only the handles share.
    bool (*storage_shared)(const rep *r) noexcept;
    // Bytes that copy() copies; nullptr means value_bytes (a flat copy).
    // A tree's copy shares its nodes and copies none of them.
    std::size_t (*copy_bytes)(const rep *r) noexcept;
    // COW_REPRESENTATION_FLAT (0) or COW_REPRESENTATION_TREE.
    std::uint32_t representation;
};

// The low 32 bits of rep::count hold the number of handles; the high 32
// bits count clones made of this representation (mod 2^32; a wrap carries
// into the lineage). One fetch_add updates both: statistics cost no extra
// atomic operation on the clone path.
constexpr std::uint64_t one_handle = 1;
constexpr std::uint64_t one_clone = std::uint64_t{1} << 32;
constexpr std::uint64_t handle_mask = 0xffffffffu;

constexpr std::uint32_t tag_base = 0x636f7700u;  // "cow\0"

struct rep {
    std::uint32_t tag;  // tag_base | COW_KIND_*
    std::uint32_t strategy;
    std::uint64_t threshold;
    const rep_ops *ops;
    lineage *lin;  // nullptr when statistics are off
    rep *lin_prev; // registry links, guarded by lin's mutex
    rep *lin_next;
    // A clone or release reads the tag and strategy, then changes the count.
    // Were they on one cache line, threads cloning and releasing one value
    // would move that line twice per call (a shared copy for the read, then
    // ownership for the write): the count sits 64 bytes past them, so on
    // another line whatever the block's alignment, and the read-only line
    // stays cached by every thread.
    unsigned char count_apart[16];
    std::atomic<std::uint64_t> count;
};
static_assert(offsetof(rep, count) - offsetof(rep, strategy) >= 60,
              "the count must not share a cache line with the fields a clone reads");

// How a new value is set up, decoded from cow_options.
struct rep_seed {
    std::uint32_t strategy = COW_STRATEGY_LAZY;
    std::uint64_t threshold = 0;
    lineage *lin = nullptr;  // allocated by seed_from_options when stats are on
};

// Validates options and allocates a lineage. On success the seed must be
// given to rep_init_new or seed_discard.
// STRUCTURAL and ADAPTIVE are accepted only where `trees` says the kind has
// a tree representation; elsewhere they answer COW_EUNSUPPORTED.
cow_status seed_from_options(const cow_options *options, rep_seed &out,
                             bool trees = false) noexcept;
void seed_discard(rep_seed &seed) noexcept;
// A seed for a new value made from src (a slice): src's strategy and
// options, with a lineage of its own when src keeps statistics.
cow_status seed_like(const rep *src, rep_seed &out) noexcept;

// Initialises a freshly allocated value: one handle, joins the seed's lineage.
void rep_init_new(rep *r, cow_kind_t kind, const rep_ops *ops, rep_seed &seed) noexcept;
// Initialises a private copy of src: same kind, strategy and lineage. Counts
// one copy of `bytes_copied` bytes, and one clone too for an eager clone.
void rep_init_copy(rep *copy, const rep *src, std::uint64_t bytes_copied,
                   bool eager_clone) noexcept;
// Makes `copy`, a value built by rep_init_new from a seed without lineage,
// the copy of src that a write made in the other representation
// (ADAPTIVE): it joins src's lineage as one copy of bytes_copied bytes and
// one switch.
void rep_adopt_switched(rep *copy, const rep *src, std::uint64_t bytes_copied) noexcept;
// Counts node copies made by a write under a private root (trees): they
// add to the lineage's nodes_copied and bytes_copied, not to copies.
void rep_count_node_copies(const rep *r, std::uint64_t nodes, std::uint64_t bytes) noexcept;
// Initialises a value that views src's storage (a slice): same lineage,
// counted neither as a clone nor as a copy.
void rep_init_view(rep *view, const rep *src) noexcept;
// Leaves the lineage (flushing this rep's clone count into it). Call just
// before freeing the memory of a rep.
void rep_retire(rep *r) noexcept;

// A handle is the address of a representation's rep base, never of the
// kind's derived struct (bytes_rep, vec_rep, ...): a kind's representation
// becomes a handle through handle_of, which converts it to its rep first.
// So rep_of's cast from void * yields the very rep the handle was made from,
// whatever the kind, and a kind's code downcasts that rep to its own type.
template <class Handle>
inline Handle *handle_of(rep *r) noexcept {
    return reinterpret_cast<Handle *>(r);
}

// The rep behind a handle if it carries the tag of `kind` (0: any kind).
inline rep *rep_of(const void *handle, cow_kind_t kind = 0) noexcept {
    if (!handle) return nullptr;
    auto *r = static_cast<rep *>(const_cast<void *>(handle));
    std::uint32_t t = r->tag;
    // One comparison when the kind is known (kinds fit in the low byte).
    if (kind != 0) return t == (tag_base | kind) ? r : nullptr;
    return (t & 0xffffff00u) == tag_base ? r : nullptr;
}
inline cow_kind_t rep_kind(const rep *r) noexcept { return r->tag & 0xffu; }

inline std::uint64_t rep_handles(const rep *r) noexcept {
    return r->count.load(std::memory_order_acquire) & handle_mask;
}

// "A write through this handle would copy". Acquire pairs with the release
// in rep_release, so the writer sees every other holder's last reads done.
inline bool rep_is_shared(const rep *r) noexcept {
    return rep_handles(r) != 1 || (r->ops->storage_shared && r->ops->storage_shared(r));
}

// cow_clone with the reason for a failure: a new reference (lazy) or a copy
// (eager, threshold below the limit) in *out. COW_EOVERFLOW when the count
// is at its limit; an eager copy's own failure status otherwise.
cow_status rep_try_clone(rep *r, rep **out) noexcept;

// A wrap of a rep's 32-bit clone field carries into its lineage.
void carry_clones(rep *r) noexcept;

// The LAZY clone, inline: one fetch_add counts the handle and the clone.
// Relaxed is enough to add a reference (the caller already holds one).
inline cow_status rep_add_handle(rep *r) noexcept {
    std::uint64_t old = r->count.fetch_add(one_handle + one_clone, std::memory_order_relaxed);
    if (__builtin_expect((old & handle_mask) >= COW_MAX_REFCOUNT, 0)) {
        r->count.fetch_sub(one_handle + one_clone, std::memory_order_relaxed);
        return COW_EOVERFLOW;
    }
    if (__builtin_expect((old >> 32) == handle_mask, 0)) carry_clones(r);
    return COW_OK;
}

// rep_try_clone for the C API's clone calls, which can only answer NULL.
inline rep *rep_clone_or_null(rep *r) noexcept {
    // Only EAGER and THRESHOLD may copy at clone; every other strategy
    // (LAZY, STRUCTURAL, ADAPTIVE) clones with one fetch_add, inline.
    if (r->strategy != COW_STRATEGY_EAGER && r->strategy != COW_STRATEGY_THRESHOLD)
        return rep_add_handle(r) == COW_OK ? r : nullptr;
    rep *out = nullptr;
    return rep_try_clone(r, &out) == COW_OK ? out : nullptr;
}
// cow_release: drop one handle.
inline void rep_release(rep *r) noexcept {
    // One read-modify-write. (Loading first to skip it for the last handle
    // saved little on the copy path and adds a load on the shared path.)
    std::uint64_t old = r->count.fetch_sub(one_handle, std::memory_order_acq_rel);
    if ((old & handle_mask) == 1) r->ops->last_handle_released(r);
}

// Replaces *slot by a private copy when it is shared (cow_make_mut).
cow_status rep_make_unique(rep **slot) noexcept;

// Statistics of r's lineage.
void rep_stats(const rep *r, cow_stats_info &out) noexcept;

}  // namespace cow::detail
