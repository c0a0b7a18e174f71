// The reference model of the fuzz targets: every live representation the
// library should have (its value, its handle count, whether it is a slice
// of another's storage, its strategy and lineage), the lineages' expected
// statistics, and a pool of handle slots. check() compares all of it with
// what the library reports.
//
// Values: buf/str keep their bytes; vec, map and box keep logical element
// values (types.hpp). Containers of handles hold references to other
// representations of the model: those count in their strong counts.
#pragma once
#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "harness.hpp"
#include "types.hpp"

// The tree shape of this build (meson options tree_bits and
// tree_leaf_bytes, passed by fuzz/meson.build): the model derives from it
// only bounds on what a tree write may copy, never the shape of a tree.
#ifndef FUZZ_TREE_BITS
#define FUZZ_TREE_BITS 5
#endif
#ifndef FUZZ_TREE_LEAF_BYTES
#define FUZZ_TREE_LEAF_BYTES 512
#endif

namespace fuzz {

constexpr std::uint64_t tree_branches = std::uint64_t{1} << FUZZ_TREE_BITS;
// Bytes a copy of one inner node may count: a child pointer and a
// cumulative size per child (one spare slot: a node splits past its limit).
constexpr std::uint64_t tree_inner_bytes_max = (tree_branches + 1) * (sizeof(void *) + sizeof(std::size_t));
// Bytes of elements one leaf holds: 2^k elements in tree_leaf_bytes, at least one.
inline std::uint64_t tree_leaf_bytes_max(std::size_t elem_size) {
    std::uint64_t n = 1;
    while (2 * n * elem_size <= FUZZ_TREE_LEAF_BYTES) n *= 2;
    return n * elem_size;
}
// Nodes a tree of n elements can have: leaves (the tail among them) hold at
// least one element each, and inner nodes are at most one per leaf plus a
// chain of single-child nodes no deeper than 64 levels.
inline std::uint64_t tree_nodes_max(std::uint64_t n) { return 2 * n + 2 * 65; }

// Map trees (CHAMP): a node sorts its keys by champ_bits hash bits a level
// (the tree's branching bits, at most 5) into champ_slots slots, each an
// entry or a child; below the last level a collision node lists the keys
// whose hashes are equal in full. A write copies at most its path.
constexpr unsigned champ_bits = FUZZ_TREE_BITS < 5 ? FUZZ_TREE_BITS : 5;
constexpr std::uint64_t champ_slots = std::uint64_t{1} << champ_bits;
constexpr std::uint64_t champ_path_nodes = (64 + champ_bits - 1) / champ_bits + 1;

struct lineage_model {
    std::uint64_t clones = 0;
    std::uint64_t copies = 0;
    std::uint64_t bytes_copied = 0;
    std::uint64_t nodes_copied = 0;  // trees only; read back from the library
    // Switches between representations (ADAPTIVE lineages): each one the
    // model saw, exactly.
    std::uint64_t switches = 0;
    // A lineage that holds trees (STRUCTURAL vectors and maps) or may come
    // to (ADAPTIVE ones): its tree writes copy the nodes that other
    // versions hold, which the model does not know. Each write adds bounds
    // for what it may copy; check() reads the counters back, checks the
    // growth against the bounds and adopts them. Its flat writes add what
    // they copy exactly, so with no tree write pending the counters must
    // not move.
    bool tree = false;
    std::uint64_t pending_elem_bytes = 0;  // elements (entries) the writes may carry over
    std::uint64_t pending_nodes_max = 0;
    std::uint64_t pending_nodes_min = 0;
    std::uint64_t pending_node_bytes_max = 0;  // what one copied node may count
    // Element handles held in trees whose leaves other versions share are
    // cloned only when their leaf is copied: this lineage's clones are read
    // back at the next check (they must not go down).
    bool clones_unknown = false;
    // An eager element of a vector of handles that switched representation
    // (world::dropped_copy): its clones, copies and bytes copied are read
    // back (they must not go down).
    bool counts_unknown = false;
};

// What a tree write may copy (world::edited).
struct tree_cost {
    bool path = true;          // false: only the root is made private (make_mut, reserve): no node copied
    bool reaches_leaf = false; // it edits an element's leaf: under a shared root it copies a node at least
    static tree_cost root_only() { return {false, false}; }
    static tree_cost leaf() { return {true, true}; }
};

// A map key in the model: 8 bytes of the key's identity (fixed-size keys)
// or the key's own bytes (cow_type_bytes / cow_type_string keys).
using key_model = std::string;

struct rep_model {
    cow_kind_t kind = COW_KIND_INVALID;
    std::string bytes;            // buf and str: the value
    const void *owner = nullptr;  // a slice: the owner whose storage it views
    std::size_t off = 0;          // a slice: its offset in that storage
    elem_kind ek = elem_kind::u8; // vec elements, map values, box value
    elem_kind kk = elem_kind::u8; // map keys (fixed-size)
    bool var_keys = false;        // map keys are cow_type_bytes / cow_type_string
    bool string_keys = false;     // ... cow_type_string (UTF-8 only)
    std::vector<std::uint64_t> elems;              // vec
    std::map<key_model, std::uint64_t> entries;    // map
    std::uint64_t boxed = 0;                       // box
    std::uint32_t strategy = COW_STRATEGY_LAZY;
    std::uint64_t threshold = 0;
    int lineage = -1;             // index in world::lineages; -1: statistics off
    std::uint64_t handles = 0;    // the strong count the library must report
    // Trees: the versions made from one another by writes, slices and
    // joins share nodes; they form a family. A tree alone in its family
    // holds every node alone, unless it is self-shared: a join of two trees
    // of one family (a vector concatenated with itself or with a relative)
    // may hold one node at several places, one reference for all of them.
    int family = -1;
    bool self_shared = false;
    // Whether it is a tree now: a STRUCTURAL vector or map always; an
    // ADAPTIVE one starts flat and changes only with a write that found it
    // shared (world::edited reads what the copy became).
    bool tree = false;
    // ADAPTIVE: the value was made by a copy, so the history it carries may
    // count copies. A value made by *_new or a slice carries none, and its
    // first copy cannot become a tree (that takes 2 copies in the history).
    bool copied_history = false;
    bool is_tree() const { return tree; }
    bool adaptive() const {
        return (kind == COW_KIND_VEC || kind == COW_KIND_MAP) && strategy == COW_STRATEGY_ADAPTIVE;
    }
    // ADAPTIVE: the size floor below which a copy is flat (threshold_bytes;
    // 0 means 64 KiB).
    std::uint64_t adaptive_floor() const { return threshold ? threshold : std::uint64_t{64} << 10; }
    // A lineage that holds trees or may come to (lineage_model::tree).
    bool tree_lineage() const { return tree || adaptive(); }
};

// What a successful write did to the value in its slot (world::edited).
enum class write_kind {
    none,       // a no-op edit: nothing changed
    in_place,   // a unique value, written in place
    copy,       // a shared flat value: a flat copy (its elements copied)
    path_copy,  // a shared tree: a new root sharing the untouched nodes
    switched,   // a shared ADAPTIVE value copied whole into the other representation
};
// Whether a write may make its copy in the other representation
// (ADAPTIVE values; world::edited checks what the copy became).
enum class adaptive_rule {
    applies,  // the write asks the rule: a tree below the floor must become flat
    may,      // the rule may decide or not (a concat that joins trees, a value stored into itself)
    never,    // the copy keeps the representation (cow_make_mut, cow_map_clear)
};

inline key_model fixed_key(elem_kind k, std::uint64_t v) {
    std::uint64_t id = key_identity(k, normalise(k, v));
    return key_model(reinterpret_cast<const char *>(&id), 8);
}
inline std::uint64_t fixed_key_value(const key_model &k) {
    std::uint64_t v;
    std::memcpy(&v, k.data(), 8);
    return v;
}

class world {
public:
    static constexpr int slots = 8;
    void *slot[slots] = {};
    void *pinned[2] = {};  // handles held outside the pool (the wrong-kind handles)
    std::map<const void *, rep_model> reps;  // every live representation
    std::vector<lineage_model> lineages;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> lineage_totals;  // scratch of check()
    int families = 0;
    // Values whose strong count the model cannot know exactly (element
    // handles of trees whose leaves other versions share): check() reads the
    // count back within bounds, and decides whether they live by whether
    // anything still holds them.
    std::set<const void *> unsynced;

    rep_model &rep(const void *h) {
        auto it = reps.find(h);
        FUZZ_CHECK(it != reps.end());
        return it->second;
    }
    bool known(const void *h) const { return h && reps.count(h) != 0; }

    static bool is_slice(const rep_model &r) { return r.owner != nullptr; }
    bool has_slices(const void *h) const {
        for (auto &[p, r] : reps)
            if (r.owner == h) return true;
        return false;
    }
    // "A write through this handle would copy." For a tree: its root is shared.
    bool shared(const void *h) {
        rep_model &r = rep(h);
        if (r.kind != COW_KIND_BUF && r.kind != COW_KIND_STR) return r.handles != 1;
        return r.handles != 1 || is_slice(r) || has_slices(h);
    }
    static std::uint64_t value_bytes(const rep_model &r) {
        switch (r.kind) {
        case COW_KIND_VEC: return r.elems.size() * size_of(r.ek);
        case COW_KIND_BOX: return size_of(r.ek);
        case COW_KIND_MAP: {
            // Keys count their stored size plus, for byte keys, their bytes.
            std::uint64_t n = 0, key_size = r.var_keys ? type_of_key(r)->elem_size : size_of(r.kk);
            for (auto &[k, v] : r.entries) n += key_size + size_of(r.ek) + (r.var_keys ? k.size() : 0);
            return n;
        }
        default: return r.bytes.size();
        }
    }
    static const cow_type *type_of_key(const rep_model &r) {
        if (r.var_keys) return r.string_keys ? cow_type_string() : cow_type_bytes();
        return type_of(r.kk);
    }
    static bool copies_at_clone(const rep_model &r) {
        return r.strategy == COW_STRATEGY_EAGER ||
               (r.strategy == COW_STRATEGY_THRESHOLD && value_bytes(r) < r.threshold);
    }
    lineage_model *lin(const rep_model &r) {
        return r.lineage >= 0 ? &lineages[static_cast<std::size_t>(r.lineage)] : nullptr;
    }

    // A value made by a *_new call; `proto` holds its kind and value.
    void created(void *h, rep_model proto, const options_draw &o) {
        FUZZ_CHECK(h && !known(h));
        proto.strategy = o.strategy;
        proto.threshold = o.threshold;
        proto.handles = 1;
        proto.lineage = -1;
        // ADAPTIVE values start flat.
        proto.tree = (proto.kind == COW_KIND_VEC || proto.kind == COW_KIND_MAP) &&
                     o.strategy == COW_STRATEGY_STRUCTURAL;
        proto.copied_history = false;
        if (proto.is_tree()) proto.family = families++;
        if (tracing()) std::fprintf(stderr, "  (new value %p: strategy %u%s)\n", h, o.strategy, proto.is_tree() ? ", a tree" : "");
        if (o.stats) {
            proto.lineage = static_cast<int>(lineages.size());
            lineages.emplace_back();
            lineages.back().tree = proto.tree_lineage();
        }
        reps.emplace(h, std::move(proto));
    }
    void created(void *h, cow_kind_t kind, std::string bytes, const options_draw &o) {
        rep_model r;
        r.kind = kind;
        r.bytes = std::move(bytes);
        created(h, std::move(r), o);
    }

    // The handles a container value holds (handle-typed elements).
    static std::vector<const void *> inner_handles(const rep_model &r) {
        std::vector<const void *> out;
        if (r.ek != elem_kind::handle) return out;
        auto add = [&](std::uint64_t v) {
            if (v) out.push_back(reinterpret_cast<const void *>(static_cast<std::uintptr_t>(v)));
        };
        if (r.kind == COW_KIND_VEC)
            for (auto v : r.elems) add(v);
        if (r.kind == COW_KIND_MAP)
            for (auto &[k, v] : r.entries) add(v);
        if (r.kind == COW_KIND_BOX) add(r.boxed);
        return out;
    }

    // Called when a container of handles was copied by the library (a
    // private copy or an eager clone): each element handle was cloned, so
    // the copy's elements are read back from the library. Set by the mixed
    // target; containers of plain values need nothing.
    std::function<void(void *copy, const rep_model &from)> on_container_copy;

    // A private copy of `from` (a write to a shared value, an eager clone),
    // with `apply` changing its value. `bytes_copied`: what it carried over.
    // A tree's copy is a new root sharing every node of `from` (same family):
    // its element handles are cloned only where a leaf is copied, so the
    // writes settle what they stored and read the rest back (settle_tree).
    void copied(void *h, const void *from, const std::function<void(rep_model &)> &apply,
                std::uint64_t bytes_copied, bool eager_clone) {
        FUZZ_CHECK(h && !known(h));
        rep_model r = rep(from);
        r.owner = nullptr;
        r.off = 0;
        r.handles = 1;
        r.copied_history = true;
        apply(r);
        if (lineage_model *l = lin(r)) {
            l->copies += 1;
            l->bytes_copied += bytes_copied;
            if (eager_clone) l->clones += 1;
        }
        rep_model snapshot = r;
        reps.emplace(h, std::move(r));
        if (snapshot.is_tree()) return;
        if (on_container_copy && !inner_handles(snapshot).empty()) on_container_copy(h, snapshot);
    }
    void copied(void *h, const void *from, std::string bytes, std::uint64_t bytes_copied,
                bool eager_clone) {
        copied(h, from, [&](rep_model &r) { r.bytes = std::move(bytes); }, bytes_copied, eager_clone);
    }
    // A slice [off, off+len) of `from`: a new rep viewing the same storage.
    void sliced(void *h, const void *from, std::size_t off, std::size_t len) {
        FUZZ_CHECK(h && !known(h));
        rep_model src = rep(from);
        rep_model r = src;
        r.bytes = src.bytes.substr(off, len);
        r.owner = is_slice(src) ? src.owner : from;
        r.off = is_slice(src) ? src.off + off : off;
        r.handles = 1;
        reps.emplace(h, std::move(r));
    }
    // One more handle to h (a lazy clone, or a reference stored elsewhere).
    void cloned(const void *h) {
        rep_model &r = rep(h);
        r.handles += 1;
        if (lineage_model *l = lin(r)) l->clones += 1;
    }
    // The live trees of a family.
    std::size_t family_members(int family) const {
        std::size_t n = 0;
        for (auto &[p, r] : reps) n += r.is_tree() && r.family == family;
        return n;
    }
    // Whether a tree may hold nodes that are held elsewhere too (by another
    // version, or at another place of itself).
    bool shares_nodes(const rep_model &r) const {
        return r.is_tree() && (r.self_shared || family_members(r.family) > 1);
    }
    // Two families become one: a tree joined with another holds its nodes.
    void merge_families(int into, int from) {
        if (into == from) return;
        for (auto &[p, r] : reps)
            if (r.is_tree() && r.family == from) r.family = into;
    }
    // A vector made by cow_vec_slice: elements [off, off + len) of `from`,
    // with its strategy and options and a lineage of its own. A tree slice
    // shares the nodes inside the range: it joins the source's family.
    void sliced_vec(void *h, const void *from, std::size_t off, std::size_t len) {
        FUZZ_CHECK(h && !known(h));
        rep_model r = rep(from);
        r.elems.assign(r.elems.begin() + static_cast<std::ptrdiff_t>(off),
                       r.elems.begin() + static_cast<std::ptrdiff_t>(off + len));
        r.owner = nullptr;
        r.off = 0;
        r.handles = 1;
        r.copied_history = false;  // a new value: no history
        if (r.lineage >= 0) {
            r.lineage = static_cast<int>(lineages.size());
            lineages.emplace_back();
            lineages.back().tree = r.tree_lineage();
        }
        reps.emplace(h, std::move(r));
    }
    // Whether h is an element of a tree whose family has other members:
    // the references to h of nodes shared between versions are counted once.
    bool held_by_shared_tree(const void *h) const {
        std::map<int, std::size_t> members;
        for (auto &[p, r] : reps)
            if (r.is_tree()) members[r.family] += 1;
        for (auto &[p, r] : reps) {
            if (!r.is_tree() || (members[r.family] < 2 && !r.self_shared)) continue;
            for (const void *e : inner_handles(r))
                if (e == h) return true;
        }
        return false;
    }
    bool count_unknown(const void *h) const { return unsynced.count(h) || held_by_shared_tree(h); }

    // One handle to h less; the representation dies with its last handle
    // (an owner whose storage slices still view lives on without handles)
    // and releases the handles it holds. A value whose count the model does
    // not know exactly is left to check() (reconcile).
    void released(const void *h) {
        rep_model &r = rep(h);
        if (count_unknown(h)) {
            if (r.handles > 0) r.handles -= 1;
            unsynced.insert(h);
            return;
        }
        FUZZ_CHECK(r.handles > 0);
        if (--r.handles > 0) return;
        if (is_slice(r)) {
            const void *owner = r.owner;
            reps.erase(h);
            if (rep(owner).handles == 0 && !has_slices(owner)) reps.erase(owner);
        } else if (!has_slices(h)) {
            died(h);
        }
    }
    // A value is gone: the handles it held lose a reference each, except
    // where a tree shared the leaf holding them with another version.
    void died(const void *h) {
        rep_model &r = rep(h);
        std::vector<const void *> inner = inner_handles(r);
        bool shared_nodes = shares_nodes(r);
        reps.erase(h);
        unsynced.erase(h);
        if (shared_nodes)
            for (const void *e : inner) unsynced.insert(e);
        for (const void *e : inner) released(e);
    }
    // Values of unknown count that nothing holds any more are gone (the
    // library's live count, checked next, must agree).
    void reconcile() {
        for (bool again = true; again;) {
            again = false;
            std::map<const void *, std::uint64_t> holders;
            for (void *h : slot)
                if (h) holders[h] += 1;
            for (void *h : pinned)
                if (h) holders[h] += 1;
            for (auto &[h, r] : reps)
                for (const void *e : inner_handles(r)) holders[e] += 1;
            for (const void *h : unsynced) {
                if (!known(h) || holders.count(h) || has_slices(h)) continue;
                died(h);
                again = true;
                break;
            }
        }
        for (auto it = unsynced.begin(); it != unsynced.end();)
            it = known(*it) ? std::next(it) : unsynced.erase(it);
    }
    // Reads back the strong count of a value the model holds as unknown
    // (checked against its bounds in check()). The clones that made it so
    // count in its lineage, which is read back at the next check even when
    // the value is gone by then (a lazy clone handed out of a shared leaf
    // and released).
    void sync_count(const void *h) {
        rep_model &r = rep(h);
        r.handles = cow_strong_count(h);
        unsynced.insert(h);
        if (lineage_model *l = lin(r)) l->clones_unknown = true;
    }

    // A tree write (or a failed one): the bounds of what it may copy. Every
    // node it copies is one the value had before (copied once: the copy is
    // its own); every element it carries over is one of the value's old
    // elements, carried once.
    // A tree alone in its family holds all its nodes alone: a write under
    // its private root copies nothing (nodes_copied counts the nodes copied
    // because another version held them).
    void tree_written(const rep_model &before, tree_cost cost, bool root_shared) {
        lineage_model *l = lin(before);
        if (!l || !cost.path) return;
        if (!root_shared && !shares_nodes(before)) return;
        tree_reach t = reach(before);
        l->pending_elem_bytes += t.elem_bytes;
        l->pending_nodes_max += t.nodes;
        l->pending_node_bytes_max = std::max(l->pending_node_bytes_max, t.node_bytes);
        if (root_shared && cost.reaches_leaf) l->pending_nodes_min += 1;
    }

    // What one write of tree r may copy: its elements (entries) once, so
    // many nodes, and at most so many bytes per node.
    struct tree_reach {
        std::uint64_t elem_bytes, nodes, node_bytes;
    };
    static tree_reach reach(const rep_model &r) {
        if (r.kind == COW_KIND_MAP) {
            // The nodes of one path; a bitmap node holds champ_slots entries
            // and children, a collision node any number of entries.
            std::uint64_t n = r.entries.size(), e = map_entry_bytes(r);
            return {n * e, champ_path_nodes, std::max(champ_slots * std::max<std::uint64_t>(e, sizeof(void *)), n * e)};
        }
        std::uint64_t n = r.elems.size(), es = size_of(r.ek);
        return {n * es, tree_nodes_max(n), std::max(tree_inner_bytes_max, tree_leaf_bytes_max(es))};
    }
    // A map entry as nodes store it (entries.hpp): the key (a variable-length
    // one as its length and up to 32 bytes inline, structural.md), then the
    // value at its alignment, the whole aligned for both.
    static std::uint64_t map_entry_bytes(const rep_model &r) {
        auto up = [](std::uint64_t n, std::uint64_t a) { return (n + a - 1) / a * a; };
        std::uint64_t ks = r.var_keys ? 32 + sizeof(std::size_t) : size_of(r.kk);
        std::uint64_t ka = r.var_keys ? alignof(std::size_t) : type_of(r.kk)->elem_align;
        std::uint64_t vs = size_of(r.ek), va = type_of(r.ek)->elem_align;
        return up(up(ks, va) + vs, std::max(ka, va));
    }

    // A join of two trees (cow_vec_concat) may copy the nodes along the
    // seam of either, which other versions may hold, whatever its own root:
    // the bounds of a write over both values, and no least copy.
    void tree_joined(const rep_model &before, std::uint64_t other_len) {
        lineage_model *l = lin(before);
        if (!l) return;
        std::uint64_t n = before.elems.size();
        l->pending_elem_bytes += (n + other_len) * size_of(before.ek);
        l->pending_nodes_max += tree_nodes_max(n) + tree_nodes_max(other_len);
        l->pending_node_bytes_max = std::max(l->pending_node_bytes_max, reach(before).node_bytes);
    }

    // The representation the library reports for h now.
    static bool library_tree(const void *h) {
        cow_stats_info s COW_STATS_INFO_INIT;
        FUZZ_CHECK(cow_stats(h, &s) == COW_OK);
        FUZZ_CHECK(s.representation == COW_REPRESENTATION_FLAT || s.representation == COW_REPRESENTATION_TREE);
        return s.representation == COW_REPRESENTATION_TREE;
    }

    // A write to the shared ADAPTIVE value `old` made a copy that is a tree
    // or not (`to_tree`): what the rule allows. Flat to tree takes a value
    // of at least the floor and a history of at least one earlier copy;
    // a tree below the floor copies flat wherever the write asks the rule.
    void check_adaptive_copy(const rep_model &old, bool to_tree, adaptive_rule rule) const {
        bool large = value_bytes(old) >= old.adaptive_floor();
        if (tracing() && to_tree != old.is_tree())
            std::fprintf(stderr, "  (switch to %s: %llu value bytes, floor %llu)\n", to_tree ? "a tree" : "flat",
                         (unsigned long long)value_bytes(old), (unsigned long long)old.adaptive_floor());
        if (rule == adaptive_rule::never) FUZZ_CHECK(to_tree == old.is_tree());
        if (!old.is_tree() && to_tree) FUZZ_CHECK(large && old.copied_history);
        if (old.is_tree() && !large && rule == adaptive_rule::applies) FUZZ_CHECK(!to_tree);
    }

    // A switch: the write to the shared ADAPTIVE value `from` copied it
    // whole into the other representation, then wrote the copy in place
    // (`apply`). One copy of the value's bytes before the write and one
    // switch in the lineage; no node copied. A tree made so shares no node
    // with any other version: a family of its own. Every element was copied
    // (handles cloned, as by a flat copy: read back by on_container_copy).
    void switched(void *h, const void *from, const std::function<void(rep_model &)> &apply, bool to_tree) {
        FUZZ_CHECK(h && !known(h));
        rep_model r = rep(from);
        std::uint64_t bytes = value_bytes(r);
        r.owner = nullptr;
        r.off = 0;
        r.handles = 1;
        r.copied_history = true;
        apply(r);
        r.tree = to_tree;
        r.self_shared = false;
        r.family = to_tree ? families++ : -1;
        if (lineage_model *l = lin(r)) {
            l->copies += 1;
            l->bytes_copied += bytes;
            l->switches += 1;
        }
        rep_model snapshot = r;
        reps.emplace(h, std::move(r));
        if (on_container_copy && !inner_handles(snapshot).empty()) on_container_copy(h, snapshot);
    }

    // The value the last edit made by a switch (nullptr: it made none).
    const void *last_switched = nullptr;
    // A vector write that switched copied every element, then dropped the
    // copy of element handle e, which it removed or replaced without handing
    // it out: a clone of e (a copy, for an eager e) that e's lineage counts,
    // read back at the next check (it must not go down). A map's write
    // leaves such a value out of its copy (cow.h): never for maps.
    void dropped_copy(const void *e) {
        if (!e) return;
        if (lineage_model *l = lin(rep(e))) {
            l->clones_unknown = true;
            if (copies_at_clone(rep(e))) l->counts_unknown = true;
        }
    }

    // The result of an edit of a slot that held `old` and now holds
    // `now`: `apply` changes the value as the edit should. `effective`: the
    // edit changes something (a no-op edit must not copy). `bytes_copied`:
    // what a copy of the old value carries over.
    // Trees: `cost` says what the write may copy; the copy counts once in
    // copies when the root was shared, its bytes and nodes are bounded.
    // ADAPTIVE values: a unique value is written in place and keeps its
    // representation; a shared one's copy is read back (library_tree),
    // checked against the rule (`rule`, check_adaptive_copy), and a copy in
    // the other representation is a switch (switched).
    write_kind edited(void *old, void *now, bool effective, std::uint64_t bytes_copied,
                      const std::function<void(rep_model &)> &apply, tree_cost cost = {},
                      adaptive_rule rule = adaptive_rule::applies) {
        last_switched = nullptr;
        if (!effective) {
            FUZZ_CHECK(now == old);
            return write_kind::none;
        }
        rep_model &o = rep(old);
        bool tree = o.is_tree(), was_shared = shared(old);
        if (!was_shared) {
            // Unique: written in place, no copy.
            if (tree) tree_written(o, cost, false);
            FUZZ_CHECK(now == old);
            apply(o);
            return write_kind::in_place;
        }
        FUZZ_CHECK(now != old);
        if (o.adaptive()) {
            bool to_tree = library_tree(now);
            check_adaptive_copy(o, to_tree, rule);
            if (to_tree != tree) {
                switched(now, old, apply, to_tree);
                last_switched = now;
                released(old);
                return write_kind::switched;
            }
        }
        if (tree) {
            tree_written(o, cost, true);
            bytes_copied = 0;
        }
        copied(now, old, apply, bytes_copied, false);
        released(old);
        return tree ? write_kind::path_copy : write_kind::copy;
    }
    void edited(void *old, void *now, std::string after, bool effective,
                std::uint64_t bytes_copied) {
        edited(old, now, effective, bytes_copied, [&](rep_model &r) { r.bytes = after; }, {},
               adaptive_rule::never);
    }

    // Compares everything the model knows with what the library reports.
    //
    // References held inside containers count exactly, except in trees
    // whose family has several members: versions share leaves, and a shared
    // leaf holds one reference for all of them. For those the count lies
    // between the most occurrences in one member and the sum over the
    // members (and so for tracked element copies); the model reads such
    // counts back within those bounds.
    void check() {
        reconcile();
        std::map<const void *, std::uint64_t> held, lo, hi;
        for (void *h : slot)
            if (h) held[h] += 1;
        for (void *h : pinned)
            if (h) held[h] += 1;
        std::map<int, std::size_t> members;
        for (auto &[h, r] : reps)
            if (r.is_tree()) members[r.family] += 1;
        std::size_t tracked = 0, tracked_lo = 0, tracked_hi = 0;
        std::map<int, std::map<const void *, std::pair<std::uint64_t, std::uint64_t>>> family_refs;
        std::map<int, std::pair<std::size_t, std::size_t>> family_tracked;
        for (auto &[h, r] : reps) {
            if (!r.is_tree() || (members[r.family] < 2 && !r.self_shared)) {
                for (const void *e : inner_handles(r)) held[e] += 1;
                tracked += tracked_elements(r);
                continue;
            }
            // A self-shared tree holds each of its elements at least once.
            std::map<const void *, std::uint64_t> occ;
            for (const void *e : inner_handles(r)) occ[e] += 1;
            for (auto &[e, n] : occ) {
                auto &[most, sum] = family_refs[r.family][e];
                most = std::max(most, r.self_shared ? std::uint64_t{1} : n);
                sum += n;
            }
            auto &[most, sum] = family_tracked[r.family];
            std::size_t own = tracked_elements(r);
            most = std::max(most, r.self_shared ? std::min<std::size_t>(own, 1) : own);
            sum += own;
        }
        for (auto &[f, refs] : family_refs)
            for (auto &[e, b] : refs) {
                lo[e] += b.first;
                hi[e] += b.second;
            }
        for (auto &[f, b] : family_tracked) {
            tracked_lo += b.first;
            tracked_hi += b.second;
        }
        for (auto &[h, r] : reps) {
            // Every handle the model counts is held by a slot or a container.
            std::uint64_t exact = held.count(h) ? held[h] : 0;
            if (hi.count(h) || unsynced.count(h)) {
                std::uint64_t n = cow_strong_count(h);
                std::uint64_t least = exact + (lo.count(h) ? lo[h] : 0);
                FUZZ_CHECK(n >= least && n <= exact + (hi.count(h) ? hi[h] : 0));
                FUZZ_CHECK(least > 0 || has_slices(h));  // something holds it: it is alive
                r.handles = n;
                if (lineage_model *l = lin(r)) l->clones_unknown = true;
            } else {
                FUZZ_CHECK(r.handles == exact);
            }
        }
        unsynced.clear();
        for (auto &[h, n] : held) FUZZ_CHECK(known(h));
        for (auto &[h, n] : hi) FUZZ_CHECK(known(h));
        sync_lineages();
        lineage_totals.assign(lineages.size(), {0, 0});
        for (auto &[h, r] : reps)
            if (r.lineage >= 0) {
                lineage_totals[static_cast<std::size_t>(r.lineage)].first += r.handles;
                lineage_totals[static_cast<std::size_t>(r.lineage)].second += 1;
            }
        for (auto &[h, r] : reps)
            if (r.handles) check_rep(h, r);
        for (int i = 0; i < slots; ++i)
            for (int j = 0; j < slots; ++j)
                FUZZ_CHECK(cow_ptr_eq(slot[i], slot[j]) == (slot[i] && slot[i] == slot[j]));
        cow_global_stats_info g = global_stats();
        FUZZ_CHECK(g.live_values == reps.size());
        // Every tracked value alive is one held by a live representation
        // (a leaf shared between versions holds one copy for all of them).
        FUZZ_CHECK(tracker.live.size() >= tracked + tracked_lo);
        FUZZ_CHECK(tracker.live.size() <= tracked + tracked_hi);
    }

    // Reads back what the model could only bound: the node and byte
    // counters of tree lineages (checked against the bounds their writes
    // added) and the clones of lineages whose element handles trees cloned
    // leaf by leaf (they must not go down).
    void sync_lineages() {
        std::vector<const void *> member(lineages.size(), nullptr);
        for (auto &[h, r] : reps)
            if (r.lineage >= 0 && r.handles) member[static_cast<std::size_t>(r.lineage)] = h;
        for (std::size_t i = 0; i < lineages.size(); ++i) {
            lineage_model &l = lineages[i];
            if (member[i] && (l.tree || l.clones_unknown || l.counts_unknown)) {
                cow_stats_info s COW_STATS_INFO_INIT;
                FUZZ_CHECK(cow_stats(member[i], &s) == COW_OK);
                if (l.clones_unknown || l.counts_unknown) {
                    FUZZ_CHECK(s.clones >= l.clones);
                    l.clones = s.clones;
                }
                if (l.counts_unknown) {
                    // An eager value's lineage: never a tree's.
                    FUZZ_CHECK(!l.tree && s.copies >= l.copies && s.bytes_copied >= l.bytes_copied);
                    l.copies = s.copies;
                    l.bytes_copied = s.bytes_copied;
                }
                if (l.tree) {
                    FUZZ_CHECK(s.nodes_copied >= l.nodes_copied && s.bytes_copied >= l.bytes_copied);
                    std::uint64_t nodes = s.nodes_copied - l.nodes_copied;
                    std::uint64_t bytes = s.bytes_copied - l.bytes_copied;
                    if (tracing() && (nodes || l.pending_nodes_max))
                        std::fprintf(stderr, "  (tree lineage %zu: %llu nodes copied in [%llu, %llu], %llu bytes, %llu element bytes)\n", i,
                                     (unsigned long long)nodes, (unsigned long long)l.pending_nodes_min,
                                     (unsigned long long)l.pending_nodes_max, (unsigned long long)bytes,
                                     (unsigned long long)l.pending_elem_bytes);
                    FUZZ_CHECK(nodes >= l.pending_nodes_min && nodes <= l.pending_nodes_max);
                    // Elements carried over, plus what the inner nodes among
                    // the copies count; and no node counts more than a full one.
                    FUZZ_CHECK(bytes <= l.pending_elem_bytes + nodes * tree_inner_bytes_max);
                    FUZZ_CHECK(bytes <= nodes * l.pending_node_bytes_max);
                    l.nodes_copied = s.nodes_copied;
                    l.bytes_copied = s.bytes_copied;
                }
            }
            l.clones_unknown = l.counts_unknown = false;
            l.pending_elem_bytes = l.pending_nodes_max = l.pending_nodes_min = l.pending_node_bytes_max = 0;
        }
    }

    static std::size_t tracked_elements(const rep_model &r) {
        std::size_t n = 0;
        if (r.kind == COW_KIND_VEC && r.ek == elem_kind::tracked) n += r.elems.size();
        if (r.kind == COW_KIND_BOX && r.ek == elem_kind::tracked) n += 1;
        if (r.kind == COW_KIND_MAP) {
            if (r.ek == elem_kind::tracked) n += r.entries.size();
            if (!r.var_keys && r.kk == elem_kind::tracked) n += r.entries.size();
        }
        return n;
    }

    void check_rep(const void *h, rep_model &r) {
        FUZZ_CHECK(cow_kind(h) == r.kind);
        FUZZ_CHECK(cow_strong_count(h) == r.handles);
        FUZZ_CHECK(cow_is_shared(h) == shared(h));
        check_value(h, r);
        check_stats(h, r);
    }

    // The bytes to pass as the key (key_len bytes) for a model key.
    static std::string key_arg(const rep_model &r, const key_model &k) {
        if (r.var_keys) return k;
        std::string b(size_of(r.kk), '\0');
        encode(r.kk, fixed_key_value(k), b.data());
        return b;
    }

    static void check_value(const void *h, const rep_model &r) {
        switch (r.kind) {
        case COW_KIND_BUF: {
            auto *b = static_cast<const cow_buf *>(h);
            FUZZ_CHECK(cow_buf_len(b) == r.bytes.size());
            const uint8_t *d = cow_buf_data(b);
            FUZZ_CHECK(d != nullptr);
            FUZZ_CHECK(r.bytes.empty() || std::memcmp(d, r.bytes.data(), r.bytes.size()) == 0);
            break;
        }
        case COW_KIND_STR: {
            auto *s = static_cast<const cow_str *>(h);
            FUZZ_CHECK(cow_str_len(s) == r.bytes.size());
            const char *d = cow_str_data(s);
            FUZZ_CHECK(d != nullptr);
            FUZZ_CHECK(r.bytes.empty() || std::memcmp(d, r.bytes.data(), r.bytes.size()) == 0);
            FUZZ_CHECK(utf8_ok(r.bytes));
            FUZZ_CHECK(cow_str_char_count(s) == utf8_chars(r.bytes));
            break;
        }
        case COW_KIND_VEC: check_vec(static_cast<const cow_vec *>(h), r); break;
        case COW_KIND_MAP: check_map(static_cast<const cow_map *>(h), r); break;
        case COW_KIND_BOX: {
            auto *b = static_cast<const cow_box *>(h);
            FUZZ_CHECK(cow_box_type(b) == type_of(r.ek));
            const void *v = cow_box_get(b);
            FUZZ_CHECK(v != nullptr);
            FUZZ_CHECK(reinterpret_cast<std::uintptr_t>(v) % type_of(r.ek)->elem_align == 0);
            FUZZ_CHECK(decode(r.ek, v) == r.boxed);
            break;
        }
        default: FUZZ_CHECK(false);
        }
    }

    // Elements by index and by spans. A flat vector is one contiguous block;
    // a tree has no contiguous elements (cow_vec_data refuses it, empty or
    // not) and hands out one span per leaf.
    static void check_vec(const cow_vec *v, const rep_model &r) {
        FUZZ_CHECK(cow_vec_len(v) == r.elems.size());
        FUZZ_CHECK(cow_vec_type(v) == type_of(r.ek));
        const void *data = &r;
        if (r.is_tree()) {
            FUZZ_CHECK(cow_vec_data(v, &data) == COW_ENOTCONTIGUOUS && data == &r);
            data = nullptr;
        } else {
            FUZZ_CHECK(cow_vec_data(v, &data) == COW_OK && data != nullptr);
        }
        std::size_t es = size_of(r.ek);
        for (std::size_t i = 0; i < r.elems.size(); ++i) {
            const void *e = cow_vec_get(v, i);
            FUZZ_CHECK(e != nullptr);
            if (data) FUZZ_CHECK(e == static_cast<const unsigned char *>(data) + i * es);
            FUZZ_CHECK(decode(r.ek, e) == r.elems[i]);
        }
        FUZZ_CHECK(cow_vec_get(v, r.elems.size()) == nullptr);
        // The spans of a cursor cover exactly the elements, in order, and
        // are where cow_vec_get finds them.
        cow_vec_cursor c;
        FUZZ_CHECK(cow_vec_cursor_init(&c, v) == COW_OK);
        std::size_t seen = 0, count = 0, spans = 0;
        const void *span = nullptr;
        while (cow_vec_next_span(&c, &span, &count)) {
            FUZZ_CHECK(count >= 1 && seen + count <= r.elems.size());
            for (std::size_t k = 0; k < count; ++k) {
                const unsigned char *e = static_cast<const unsigned char *>(span) + k * es;
                FUZZ_CHECK(e == cow_vec_get(v, seen + k));
                FUZZ_CHECK(decode(r.ek, e) == r.elems[seen + k]);
            }
            seen += count;
            spans += 1;
            // A tree's span is one leaf: at most a leaf's elements.
            if (r.is_tree()) FUZZ_CHECK(count * es <= tree_leaf_bytes_max(es));
        }
        FUZZ_CHECK(seen == r.elems.size());
        if (!r.is_tree()) FUZZ_CHECK(spans == (r.elems.empty() ? 0u : 1u));
        FUZZ_CHECK(!cow_vec_next_span(&c, &span, &count));  // the end stays the end
    }

    static void check_map(const cow_map *m, const rep_model &r) {
        FUZZ_CHECK(cow_map_len(m) == r.entries.size());
        FUZZ_CHECK(cow_map_key_type(m) == type_of_key(r));
        FUZZ_CHECK(cow_map_value_type(m) == type_of(r.ek));
        for (auto &[k, v] : r.entries) {
            std::string key = key_arg(r, k);
            const void *got = cow_map_get(m, key.data(), key.size());
            FUZZ_CHECK(got != nullptr && decode(r.ek, got) == v);
            FUZZ_CHECK(cow_map_contains(m, key.data(), key.size()));
        }
        // Iteration gives every entry exactly once.
        cow_map_cursor c;
        FUZZ_CHECK(cow_map_cursor_init(&c, m) == COW_OK);
        std::map<key_model, std::uint64_t> seen;
        const void *key = nullptr, *value = nullptr;
        std::size_t key_len = 0;
        while (cow_map_next(&c, &key, &key_len, &value)) {
            key_model k;
            if (r.var_keys) {
                k = key_model(static_cast<const char *>(key), key_len);
            } else {
                FUZZ_CHECK(key_len == size_of(r.kk));
                k = fixed_key(r.kk, decode(r.kk, key));
            }
            FUZZ_CHECK(seen.emplace(k, decode(r.ek, value)).second);
        }
        FUZZ_CHECK(seen == r.entries);
        // A cursor shorter than the struct: a tree's needs all of it (its
        // path) and gives nothing; a flat table's needs only what precedes
        // the path.
        for (std::uint32_t size : {std::uint32_t{0}, std::uint32_t(offsetof(cow_map_cursor, path) - 1),
                                   std::uint32_t(offsetof(cow_map_cursor, path)), std::uint32_t(sizeof c - 1)}) {
            FUZZ_CHECK(cow_map_cursor_init(&c, m) == COW_OK && c.size == sizeof c);
            c.size = size;
            bool works = !r.is_tree() && size >= offsetof(cow_map_cursor, path);
            FUZZ_CHECK(cow_map_next(&c, &key, &key_len, &value) == (works && !r.entries.empty()));
        }
    }

    void check_stats(const void *h, rep_model &r) {
        // Filled with a marker, so that a field the call leaves out fails.
        cow_stats_info s;
        std::memset(&s, 0xab, sizeof s);
        s.size = sizeof s;
        FUZZ_CHECK(cow_stats(h, &s) == COW_OK);
        FUZZ_CHECK(s.size == sizeof s);
        FUZZ_CHECK(s.value_bytes == value_bytes(r));
        // STRUCTURAL vectors and maps are trees; ADAPTIVE ones are what the
        // model saw their last copy become (world::edited); every other
        // value is flat. Only ADAPTIVE lineages switch.
        FUZZ_CHECK(s.representation == (r.is_tree() ? COW_REPRESENTATION_TREE : COW_REPRESENTATION_FLAT));
        FUZZ_CHECK(s.reserved == 0);
        lineage_model *l = lin(r);
        FUZZ_CHECK(s.switches == (l ? l->switches : 0));
        FUZZ_CHECK(r.adaptive() || s.switches == 0);
        if (!l) {
            FUZZ_CHECK(s.enabled == 0);
            FUZZ_CHECK(s.clones == 0 && s.copies == 0 && s.bytes_copied == 0 && s.nodes_copied == 0);
            FUZZ_CHECK(s.live_handles == 0 && s.live_values == 0 && s.memory_saved == 0);
            return;
        }
        // Flat lineages copy no nodes (their nodes_copied is never adopted).
        FUZZ_CHECK(l->tree || l->nodes_copied == 0);
        FUZZ_CHECK(s.nodes_copied == l->nodes_copied);
        // Live handles and representations of the lineage (summed in check()).
        auto [handles, values] = lineage_totals[static_cast<std::size_t>(r.lineage)];
        FUZZ_CHECK(s.enabled == 1);
        FUZZ_CHECK(s.clones == l->clones);
        FUZZ_CHECK(s.copies == l->copies);
        FUZZ_CHECK(s.bytes_copied == l->bytes_copied);
        FUZZ_CHECK(s.live_handles == handles);
        FUZZ_CHECK(s.live_values == values);
        // What the clones would have copied, less what was copied (every
        // representation), saturating.
        std::uint64_t would_copy;
        if (__builtin_mul_overflow(l->clones, value_bytes(r), &would_copy)) would_copy = UINT64_MAX;
        std::uint64_t saved = would_copy > l->bytes_copied ? would_copy - l->bytes_copied : 0;
        FUZZ_CHECK(s.memory_saved == saved);
        FUZZ_CHECK(s.copy_rate == (l->clones ? double(l->copies) / double(l->clones) : 0.0));
    }

    // A failed call that had already cloned element handles (a container of
    // handles, copied element by element) rolls the clones back but not the
    // lineage counters, which only grow (cow.h): those clones and copies stay
    // counted. Targets that store handles in containers resync after a
    // failure, requiring only that no counter went down.
    bool failed_calls_may_count = false;
    void resync_after_failure() {
        for (auto &[h, r] : reps) {
            lineage_model *l = lin(r);
            if (!l || r.handles == 0) continue;
            cow_stats_info s COW_STATS_INFO_INIT;
            FUZZ_CHECK(cow_stats(h, &s) == COW_OK);
            FUZZ_CHECK(s.clones >= l->clones && s.copies >= l->copies && s.bytes_copied >= l->bytes_copied);
            l->clones = s.clones;
            l->copies = s.copies;
            l->bytes_copied = s.bytes_copied;
        }
    }

    // Drops every slot; the model must end empty.
    void release_all() {
        for (void *&h : slot) drop(h);
        for (void *&h : pinned) drop(h);
        reconcile();  // values whose count was unknown die when nothing holds them
        FUZZ_CHECK(reps.empty());
    }
    // Releases the handle in a slot (if any) and empties the slot.
    void drop(void *&h) {
        if (!h) return;
        cow_release(h);
        released(h);
        h = nullptr;
    }
};

}  // namespace fuzz
