// The tree representation's nodes and the primitives every tree operation
// uses: allocation (with the reservation pool of a write of several steps),
// reference counts, sizes, and the write headers (a private header per
// write, published or dropped at its end). Internal to src/vec.
#pragma once
#include <cstring>
#include <new>
#include <utility>

#include "../alloc.hpp"
#include "../type.hpp"
#include "tree.hpp"
#include "../tree_counters.hpp"

namespace cow::detail {

// Nodes allocated ahead for a write of several steps, so that no step after
// the first change can fail for want of memory (see reserve_nodes).
struct tree_node_pool {
    tree_node **leaves = nullptr;
    std::size_t leaf_count = 0, leaf_used = 0;
    tree_node **inners = nullptr;
    std::size_t inner_count = 0, inner_used = 0;
};

// Internal linkage in each file that includes it, as file-local helpers:
// the compiler inlines them as freely as it would its own.
namespace tree {
namespace {

// Paths are at most this deep: every level multiplies the elements a
// subtree can hold by at least two, and sizes are below 2^63.
constexpr unsigned max_levels = 64;

// One slot more than a node keeps: an edit adds a child before it splits.
struct inner : tree_node {
    tree_node *child[tree_branches + 1];   // first: a read by radix touches the header's line
    std::size_t sizes[tree_branches + 1];  // sizes[k]: elements under child[0..k]
};

inline inner *as_inner(tree_node *n) noexcept { return static_cast<inner *>(n); }
inline const inner *as_inner(const tree_node *n) noexcept { return static_cast<const inner *>(n); }
inline tree_vec *as_tree(vec_rep *v) noexcept { return static_cast<tree_vec *>(v); }
inline const tree_vec *as_tree(const vec_rep *v) noexcept { return static_cast<const tree_vec *>(v); }

// ---- reference counts ------------------------------------------------------

inline void retain(tree_node *n) noexcept {
    COW_TREE_COUNT(retains);
    n->refs.fetch_add(1, std::memory_order_relaxed);
}

// Acquire pairs with the release in drop_ref, as for handles (rep.hpp).
inline bool is_unique(const tree_node *n) noexcept { return n->refs.load(std::memory_order_acquire) == 1; }


// ---- leaves ----------------------------------------------------------------

inline std::size_t leaf_cap(const tree_vec *v) noexcept { return std::size_t{1} << v->leaf_bits; }

inline unsigned char *elems_of(const tree_vec *v, const tree_node *leaf) noexcept {
    return const_cast<unsigned char *>(reinterpret_cast<const unsigned char *>(leaf)) + v->leaf_offset;
}

inline unsigned char *elem_in(const tree_vec *v, const tree_node *leaf, std::size_t i) noexcept {
    return elems_of(v, leaf) + i * v->elem_size;
}

inline std::size_t node_align(const cow_type *t) noexcept {
    return t->elem_align > alignof(std::max_align_t) ? t->elem_align : alignof(std::max_align_t);
}




inline tree_node *leaf_alloc_new(const tree_vec *v) noexcept;
inline tree_node *inner_alloc_new() noexcept;

// An empty leaf with one reference, or nullptr.
inline tree_node *leaf_alloc(const tree_vec *v) noexcept {
    tree_node_pool *pl = v->pool;
    if (pl && pl->leaf_used < pl->leaf_count) return pl->leaves[pl->leaf_used++];
    return leaf_alloc_new(v);
}

inline tree_node *leaf_alloc_new(const tree_vec *v) noexcept {
    void *block = mem_alloc(v->leaf_block);
    COW_TREE_COUNT(allocations);
    if (!block) return nullptr;
    auto addr = reinterpret_cast<std::uintptr_t>(block);
    auto pad = static_cast<std::uint32_t>(-addr & (node_align(v->type) - 1));
    auto *n = new (static_cast<unsigned char *>(block) + pad) tree_node();
    n->refs.store(1, std::memory_order_relaxed);
    n->count = 0;
    n->info = pad;
    return n;
}

// Frees a leaf's memory; its elements were dropped or moved out.
inline void leaf_free(const tree_vec *v, tree_node *leaf) noexcept {
    void *block = reinterpret_cast<unsigned char *>(leaf) - leaf->info;
    leaf->~tree_node();
    mem_free(block, v->leaf_block);
}

// ---- inner nodes -------------------------------------------------------------

inline inner *inner_alloc(const tree_vec *v) noexcept {
    tree_node_pool *pl = v->pool;
    if (pl && pl->inner_used < pl->inner_count)
        return static_cast<inner *>(pl->inners[pl->inner_used++]);
    return static_cast<inner *>(inner_alloc_new());
}

inline tree_node *inner_alloc_new() noexcept {
    void *m = mem_alloc(sizeof(inner));
    COW_TREE_COUNT(allocations);
    if (!m) return nullptr;
    auto *n = new (m) inner;
    n->refs.store(1, std::memory_order_relaxed);
    n->count = 0;
    n->info = 1;
    return n;
}

inline void inner_free(inner *n) noexcept {
    n->~inner();
    mem_free(n, sizeof(inner));
}

inline std::size_t size_of(const tree_node *n, std::uint32_t height) noexcept {
    return height == 0 ? n->count : as_inner(n)->sizes[n->count - 1];
}

// Elements a full subtree of this height holds (saturating).
inline std::size_t full_size(const tree_vec *v, std::uint32_t height) noexcept {
    unsigned bits = v->leaf_bits + height * tree_branch_bits;
    return bits >= 63 ? SIZE_MAX : std::size_t{1} << bits;
}

// Regular: every child but the last holds a full subtree, so a child is
// found by shifting the index. Each child holds at most a full subtree,
// so the first count - 1 sum to (count - 1) * full exactly when all are full.
inline void update_regular(tree_vec *v, inner *n, std::uint32_t height) noexcept {
    std::uint32_t c = n->count;
    n->info = c <= 1 || n->sizes[c - 2] == (c - 1) * full_size(v, height - 1) ? 1 : 0;
    if (!n->info) v->regular = false;
}

// Sets sizes[from..count) from the children's sizes.
inline void resize_from(inner *n, std::uint32_t height, std::uint32_t from) noexcept {
    std::size_t total = from ? n->sizes[from - 1] : 0;
    for (std::uint32_t k = from; k < n->count; ++k) {
        total += size_of(n->child[k], height - 1);
        n->sizes[k] = total;
    }
}

// Frees a node whose last reference is gone, and what only it held.
inline void destroy(const tree_vec *v, tree_node *n, std::uint32_t height) noexcept;

inline void release(const tree_vec *v, tree_node *n, std::uint32_t height) noexcept {
    COW_TREE_COUNT(releases);
    if (n->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy(v, n, height);
}

inline void destroy(const tree_vec *v, tree_node *n, std::uint32_t height) noexcept {
    if (height == 0) {
        type_drop_n(v->type, elems_of(v, n), n->count);
        leaf_free(v, n);
        return;
    }
    inner *in = as_inner(n);
    for (std::uint32_t k = 0; k < in->count; ++k) release(v, in->child[k], height - 1);
    inner_free(in);
}

// The child holding element i of the subtree under n (height >= 1); i
// becomes the index inside that child.
inline std::uint32_t child_for(const tree_vec *v, const inner *n, std::uint32_t height,
                        std::size_t &i) noexcept {
    unsigned shift = v->leaf_bits + (height - 1) * tree_branch_bits;
    auto k = static_cast<std::uint32_t>(i >> shift);
    if (n->info) {
        i -= std::size_t{k} << shift;
        return k;
    }
    // Relaxed: children hold at most a full subtree, so the answer is at k or after.
    while (n->sizes[k] <= i) ++k;
    if (k) i -= n->sizes[k - 1];
    return k;
}

inline void note_copies(tree_vec *v, std::uint64_t nodes, std::uint64_t bytes) noexcept {
    v->write_nodes += nodes;
    v->write_bytes += bytes;
}

// Counts the write's node copies in the lineage (v is a rep by now).
inline void flush_copies(tree_vec *v) noexcept {
    rep_count_node_copies(v, v->write_nodes, v->write_bytes);
    v->write_nodes = v->write_bytes = 0;
}

inline std::size_t tail_len(const tree_vec *v) noexcept { return v->tail ? v->tail->count : 0; }
inline std::size_t tree_len(const tree_vec *v) noexcept { return v->len - tail_len(v); }

// A private header for a write: the value itself when this handle is its
// only one, else a new header sharing every node (not yet a rep: see
// finish_write).
inline cow_status header_sharing_nodes(const tree_vec *v, tree_vec **out) noexcept {
    void *m = mem_alloc(sizeof(tree_vec));
    if (!m) return COW_ENOMEM;
    auto *w = new (m) tree_vec();
    w->flat = nullptr;
    w->flat_len = w->flat_cap = 0;
    w->type = v->type;
    w->elem_size = v->elem_size;
    w->len = v->len;
    w->root = v->root;
    w->height = v->height;
    w->leaf_bits = v->leaf_bits;
    w->tail = v->tail;
    w->leaf_offset = v->leaf_offset;
    w->leaf_block = v->leaf_block;
    w->write_nodes = w->write_bytes = 0;
    w->regular = v->regular;
    if (w->root) retain(w->root);
    if (w->tail) retain(w->tail);
    *out = w;
    return COW_OK;
}

inline cow_status begin_write(tree_vec *v, tree_vec **out) noexcept {
    if (!rep_is_shared(v)) {
        *out = v;
        return COW_OK;
    }
    return header_sharing_nodes(v, out);
}

inline void free_header(tree_vec *w) noexcept {
    w->~tree_vec();
    mem_free(w, sizeof(tree_vec));
}

// Releases what a header holds and frees it (a value never published, or
// one whose last handle is gone).
inline void drop_header(tree_vec *w) noexcept {
    if (w->root) release(w, w->root, w->height);
    if (w->tail) release(w, w->tail, 0);
    free_header(w);
}

// Ends a write begun by begin_write: on success a new header replaces the
// shared value in the slot (one copy in its lineage); on failure it goes.
inline cow_status finish_write(vec_rep **slot, tree_vec *w, cow_status s) noexcept {
    vec_rep *old = *slot;
    if (w == old) {
        if (s == COW_OK) flush_copies(w);
        w->write_nodes = w->write_bytes = 0;
        return s;
    }
    if (s != COW_OK) {
        drop_header(w);
        return s;
    }
    rep_init_copy(w, old, 0, false);
    flush_copies(w);
    *slot = w;
    rep_release(old);
    return COW_OK;
}

// Ends a write that a unique value v made on a new header w sharing its
// nodes (so that a failure part-way leaves v as it was): on success v takes
// w's tree, in place (the handle stays), and w goes with v's old one.
inline cow_status finish_on_header(tree_vec *v, tree_vec *w, cow_status s) noexcept {
    if (s == COW_OK) {
        std::swap(v->root, w->root);
        std::swap(v->height, w->height);
        std::swap(v->tail, w->tail);
        std::swap(v->len, w->len);
        std::swap(v->regular, w->regular);
        note_copies(v, w->write_nodes, w->write_bytes);
        flush_copies(v);
    }
    drop_header(w);
    return s;
}

// The leaf holding element i (< len) and the offset of i inside it.
inline const tree_node *leaf_at(const tree_vec *v, std::size_t &i) noexcept {
    std::size_t in_tree = tree_len(v);
    if (i >= in_tree) {
        i -= in_tree;
        return v->tail;
    }
    const tree_node *n = v->root;
    if (v->regular) {  // as in get: shifts alone
        unsigned shift = v->leaf_bits + v->height * tree_branch_bits;
        for (std::uint32_t h = v->height; h > 0; --h) {
            shift -= tree_branch_bits;
            n = as_inner(n)->child[(i >> shift) & (tree_branches - 1)];
        }
        i &= (std::size_t{1} << v->leaf_bits) - 1;
        return n;
    }
    for (std::uint32_t h = v->height; h > 0; --h) {
        const inner *in = as_inner(n);
        n = in->child[child_for(v, in, h, i)];
    }
    return n;
}

}  // namespace
}  // namespace tree
}  // namespace cow::detail
