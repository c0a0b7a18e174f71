// The ADAPTIVE strategy's decision, shared by vectors and maps: which
// representation the copy a write must make anyway should take.
//
// Each ADAPTIVE value carries the history of the copies that writes made
// along the versions it came from: how many copies, against how many clones
// of the values they copied. Clones stand for reads (a reader clones the
// version it reads), copies for writes. A write that finds the value shared
// adds itself (one copy, and the clones of this value not yet counted by an
// earlier copy of it), ages the history, and weighs what the lineage pays
// flat, a whole copy of V bytes per copy, against what it would pay as a
// tree, slower reads after every clone, worth `w` bytes of flat copying
// per clone: w = min(V / 2, adaptive_clone_bytes). It picks
//   - a tree, from flat, when V is at least the floor, at least
//     adaptive_min_copies copies were made, and copies * V >= clones * w
//     (for values up to 512 KiB: copies >= clones / 2, most clones end up
//     written; larger values switch at lower copy rates, their copies cost
//     more);
//   - flat, from a tree, when V fell below the floor, or the lineage has
//     stopped copying: copies * V * 4 < clones * w (the hysteresis keeps a
//     value from switching back and forth at the boundary);
//   - its current representation otherwise.
// Reads, clones and writes to unique values never look at the history, so
// the decision adds nothing outside copies and no pass of its own: the
// copy it makes is the one the write would have made.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "rep.hpp"

namespace cow::detail {

// The size floor when threshold_bytes is 0 (see cow.h): below it a flat
// copy costs about what a tree's path copy does (measured by bench_adaptive).
constexpr std::uint64_t adaptive_default_floor = 64 * 1024;
// Copies a flat lineage makes before it may become a tree.
constexpr std::uint32_t adaptive_min_copies = 2;
// What the reads that follow one clone cost a tree more than a flat value,
// in bytes a flat copy copies in the same time (measured by bench_adaptive:
// random reads, a thousand per clone, at a million elements).
constexpr std::uint64_t adaptive_clone_bytes = 256 * 1024;
// Clones the history remembers: older ones are scaled away, so the
// decision follows what the lineage does now.
constexpr std::uint32_t adaptive_window = 64;

struct adaptive_counts {
    std::uint32_t copies = 0;
    std::uint32_t clones = 0;
};

// What an ADAPTIVE value carries (vec_rep and map_rep); zero elsewhere.
struct adaptive_history {
    adaptive_counts counts;  // set once, before the value is published
    // This value's clones already counted by a copy made of it, so that
    // several copies of one value count its clones once.
    std::atomic<std::uint32_t> clones_counted{0};
};

// A copying write under way: the history its copy will carry and the
// representation that copy takes.
struct adaptive_step {
    adaptive_counts counts;
    std::uint32_t clones_taken = 0;  // given back when the write fails
    bool tree = false;
};

// The step for a write that found `r` shared. `tree`: r's representation.
adaptive_step adaptive_plan(const rep *r, adaptive_history &h, bool tree,
                            std::uint64_t value_bytes) noexcept;
// The write failed: r keeps its clones uncounted.
void adaptive_cancel(adaptive_history &h, const adaptive_step &step) noexcept;

// Runs write(slot, ops) with the operations of the value it is given, for
// a kind whose representation struct Rep has an `adapt` member. A unique
// value is written in place; a shared one is copied in the representation
// the rule picks, and the copy carries the history on. `growth`: the
// elements or entries the write adds; `stay_flat`: the caller wants
// contiguous data, so a flat value stays flat. Kind gives:
//   base_ops(v)          the operations of v's representation
//   is_tree(v), bytes(v) v's representation and value bytes
//   fits(v, growth)      whether both representations could hold the
//                        result (a switch is made only then, so that a
//                        size overflow is refused before any allocation)
//   switched_copy(v, &c) a unique copy in the other representation, made
//                        outside any lineage
//   use_strategy_ops(c)  gives c the ADAPTIVE operations
// adaptive_write_switching takes `switched(v, &c)`, which makes that copy
// with the write applied; adaptive_write runs the write on switched_copy's
// copy, in place (c is unique). A write that drops what it replaces passes
// its own, so that the copy leaves it out.
template <class Kind, class Rep, class Write, class Switched>
cow_status adaptive_write_switching(Rep **slot, Write write, Switched switched,
                                    std::size_t growth = 0, bool stay_flat = false) noexcept {
    Rep *v = *slot;
    if (!rep_is_shared(v)) return write(slot, Kind::base_ops(v));
    bool tree = Kind::is_tree(v);
    std::uint64_t bytes = Kind::bytes(v);
    adaptive_step step = adaptive_plan(v, v->adapt, tree, bytes);
    if ((stay_flat && !tree) || !Kind::fits(v, growth)) step.tree = tree;
    if (step.tree == tree) {
        cow_status s = write(slot, Kind::base_ops(v));
        if (s != COW_OK)
            adaptive_cancel(v->adapt, step);
        else if (*slot != v)
            (*slot)->adapt.counts = step.counts;
        return s;
    }
    Rep *c;
    cow_status s = switched(v, &c);
    if (s != COW_OK) {
        adaptive_cancel(v->adapt, step);
        return s;
    }
    c->adapt.counts = step.counts;
    Kind::use_strategy_ops(c);
    rep_adopt_switched(c, v, bytes);
    *slot = c;
    rep_release(v);
    return COW_OK;
}

template <class Kind, class Rep, class Write>
cow_status adaptive_write(Rep **slot, Write write, std::size_t growth = 0,
                          bool stay_flat = false) noexcept {
    auto switched = [&](const Rep *v, Rep **c) {
        cow_status s = Kind::switched_copy(v, c);
        if (s != COW_OK) return s;
        s = write(c, Kind::base_ops(*c));
        if (s != COW_OK) rep_release(*c);
        return s;
    };
    return adaptive_write_switching<Kind>(slot, write, switched, growth, stay_flat);
}

}  // namespace cow::detail
