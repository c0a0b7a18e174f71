// The persistent vector representation (COW_STRATEGY_STRUCTURAL): a relaxed
// radix-balanced tree with a tail buffer. Nodes carry their own reference
// counts, so versions share every node that neither of them changed; a
// write copies only the nodes on its path that another version still holds.
//
// Shape: inner nodes have up to `tree_branches` children; a leaf holds up to
// 2^leaf_bits elements, as many as fit in `tree_leaf_bytes` (at least one).
// The last elements live in the tail leaf, outside the tree, so a push is a
// store into the tail until it is full. Inner nodes keep cumulative sizes;
// a node marked regular (every child but the last full) is indexed by
// shifts alone, a relaxed one (after inserts and erases in the middle) by
// its sizes.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "vec.hpp"

#ifndef COW_TREE_BITS
#define COW_TREE_BITS 5
#endif
#ifndef COW_TREE_LEAF_BYTES
#define COW_TREE_LEAF_BYTES 512
#endif

namespace cow::detail {

constexpr unsigned tree_branch_bits = COW_TREE_BITS;
constexpr std::uint32_t tree_branches = 1u << tree_branch_bits;
constexpr std::size_t tree_leaf_bytes = COW_TREE_LEAF_BYTES;

struct tree_node {
    std::atomic<std::uint64_t> refs;
    std::uint32_t count;  // a leaf: its elements; an inner node: its children
    std::uint32_t info;   // a leaf: its offset in its block; an inner node: 1 when regular
};

struct tree_node_pool;

struct tree_vec : vec_rep {
    tree_node *root;          // nullptr when every element is in the tail
    std::uint32_t height;     // of the root: 0 when the root is a leaf
    std::uint32_t leaf_bits;  // a leaf holds up to 2^leaf_bits elements
    bool regular;             // no relaxed node: reads find leaves by shifts alone
    tree_node *tail;          // the last elements; nullptr when there are none outside the tree
    std::size_t leaf_offset;  // where the elements start inside a leaf
    std::size_t leaf_block;   // bytes allocated for one leaf
    // Node copies of the write under way, counted in the lineage when it
    // succeeds (a new header joins the lineage only then).
    std::uint64_t write_nodes, write_bytes;
    // Nodes allocated before a write of several steps, which then takes
    // them instead of allocating (nullptr outside such a write).
    tree_node_pool *pool;
};

// vec_new for the tree representation; consumes the seed on success.
cow_status tree_vec_new(vec_rep **out, const cow_type *t, const void *elems, std::size_t count,
                        rep_seed &seed) noexcept;

// vec_slice of a tree: shares the nodes inside the range; consumes the seed
// on success.
cow_status tree_vec_slice(vec_rep **out, const tree_vec *v, std::size_t offset, std::size_t len,
                          rep_seed &seed) noexcept;

// vec_concat of two trees with room for the result (the caller checked
// types and sizes): joins them, sharing both.
cow_status tree_vec_concat(vec_rep **slot, const tree_vec *other) noexcept;

// The tree representation's operations (ADAPTIVE vectors wrap them).
const vec_impl &tree_vec_ops() noexcept;

}  // namespace cow::detail
