// The tree map's complexity (COW_STRATEGY_STRUCTURAL: the CHAMP tree of
// src/map/champ.hpp), checked with the library's internal counters (a build
// with -Dtree_counters=true): node allocations and reference count
// operations, per thread and deterministic, never clocks. The program links
// the library's objects statically (the counters are internal, never
// exported), calls the C API as users do, and reads the nodes of a map
// through champ.hpp to know its real shape: depth, the nodes on a key's path,
// their children and sizes. Bounds are written in that shape, so they hold
// in the default build (32-way nodes), in the tiny one (-Dtree_bits=2:
// 4-way) and in a build whose keys collide in full (-Dhash_bits=6: chains of
// one-child nodes down to collision nodes), whatever the hash seed.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <optional>
#include <vector>

#include <doctest/doctest.h>

#include "cow.h"
#include "map/champ.hpp"
#include "rep.hpp"
#include "tree_counters.hpp"

#ifndef COW_HASH_BITS
#define COW_HASH_BITS 64
#endif

namespace {

using u64 = std::uint64_t;
using cow::detail::champ_bits;
using cow::detail::champ_levels;
using cow::detail::champ_map;
using cow::detail::champ_node;
using cow::detail::champ_slots;
using cow::detail::tree_counters;
using cow::detail::tree_counters_of_thread;

// Keys collide in full in this build (a few hash values for many keys).
constexpr bool hashes_cut = COW_HASH_BITS < 32;

// What one call did to the counters.
struct measured {
    tree_counters before = tree_counters_of_thread();
    tree_counters done() const {
        tree_counters now = tree_counters_of_thread(), d;
        d.retains = now.retains - before.retains;
        d.releases = now.releases - before.releases;
        d.allocations = now.allocations - before.allocations;
        d.visits = now.visits - before.visits;
        return d;
    }
};

// ---- the nodes of a map, read through champ.hpp ---------------------------------

const champ_map *tree_of(const cow_map *m) {
    auto *r = cow::detail::rep_of(m, COW_KIND_MAP);
    REQUIRE(r != nullptr);
    REQUIRE(r->ops->representation == COW_REPRESENTATION_TREE);
    return static_cast<const champ_map *>(r);
}

std::uint32_t entries_in(const champ_node *n) {
    return n->collision ? n->datamap : static_cast<std::uint32_t>(std::popcount(n->datamap));
}
std::uint32_t children_in(const champ_node *n) { return static_cast<std::uint32_t>(std::popcount(n->nodemap)); }

// A node keeps its children's addresses right after its header and its
// entries at its own entries_at.
std::size_t entries_offset(const champ_map *, const champ_node *n) { return n->entries_at; }
std::size_t children_offset(const champ_map *, const champ_node *) { return sizeof(champ_node); }
// The bytes the library allocated for the node (champ_nodes.hpp's node_bytes).
std::size_t node_bytes(const champ_map *t, const champ_node *n) {
    return n->entries_at + n->entry_cap * t->entry_size + t->node_slack;
}

const champ_node *child(const champ_map *t, const champ_node *n, std::uint32_t k) {
    const champ_node *c;
    std::memcpy(&c, reinterpret_cast<const unsigned char *>(n) + children_offset(t, n) + k * sizeof c,
                sizeof c);
    return c;
}
u64 key_at(const champ_map *t, const champ_node *n, std::uint32_t i) {
    u64 k;
    std::memcpy(&k, reinterpret_cast<const unsigned char *>(n) + entries_offset(t, n) + i * t->entry_size,
                sizeof k);
    return k;
}
u64 refs(const champ_node *n) { return n->refs.load(std::memory_order_relaxed); }

template <class Visit>
void walk(const champ_map *t, const champ_node *n, std::uint32_t depth, Visit &visit) {
    visit(n, depth);
    for (std::uint32_t k = 0; k < children_in(n); ++k) walk(t, child(t, n, k), depth + 1, visit);
}

// One node as the shape comparison sees it: where it is and what it holds.
struct node_shape {
    std::uint32_t depth, datamap, nodemap, entries;
    bool collision;
    bool operator==(const node_shape &) const = default;
};

// Everything a walk of a map's nodes finds.
struct tree_facts {
    std::vector<node_shape> shape;  // every node, depth first in slot order
    std::vector<const champ_node *> nodes;  // sorted
    u64 entries = 0, bytes = 0;
    std::uint32_t depth = 0;     // of the deepest node (the root: 0)
    u64 chain_nodes = 0;         // no entry, one child
    u64 collision_nodes = 0;
    u64 collision_entries = 0;
    u64 shared_nodes = 0;        // held by more than one holder
    u64 misplaced = 0;           // breaks the canonical shape or the node rules
};

tree_facts facts_of(const cow_map *m) {
    const champ_map *t = tree_of(m);
    tree_facts f;
    if (!t->root) return f;
    auto visit = [&](const champ_node *n, std::uint32_t depth) {
        std::uint32_t e = entries_in(n), c = children_in(n);
        f.shape.push_back({depth, n->datamap, n->nodemap, e, n->collision != 0});
        f.nodes.push_back(n);
        f.entries += e;
        f.bytes += node_bytes(t, n);
        f.depth = std::max(f.depth, depth);
        if (e == 0 && c == 1) f.chain_nodes += 1;
        if (refs(n) != 1) f.shared_nodes += 1;
        if (n->collision) {
            f.collision_nodes += 1;
            f.collision_entries += e;
            // Only at the bottom, with two entries or more and no child.
            if (depth != champ_levels || e < 2 || c != 0) f.misplaced += 1;
        } else {
            if (n->datamap & n->nodemap) f.misplaced += 1;
            if (depth == champ_levels) f.misplaced += 1;
            // Canonical: below the root, never empty, never one entry alone.
            if (depth > 0 && (e + c == 0 || (e == 1 && c == 0))) f.misplaced += 1;
        }
        if (e > n->entry_cap || c > n->child_cap) f.misplaced += 1;
    };
    walk(t, t->root, 0, visit);
    std::sort(f.nodes.begin(), f.nodes.end());
    return f;
}

// The nodes from the root to the one holding key k, or none.
std::vector<const champ_node *> path_to(const cow_map *m, u64 k) {
    const champ_map *t = tree_of(m);
    std::vector<const champ_node *> path;
    struct finder {
        const champ_map *t;
        u64 k;
        std::vector<const champ_node *> &path;
        bool find(const champ_node *n) {
            path.push_back(n);
            for (std::uint32_t i = 0; i < entries_in(n); ++i)
                if (key_at(t, n, i) == k) return true;
            for (std::uint32_t c = 0; c < children_in(n); ++c)
                if (find(child(t, n, c))) return true;
            path.pop_back();
            return false;
        }
    };
    if (t->root) finder{t, k, path}.find(t->root);
    return path;
}

u64 children_on(const std::vector<const champ_node *> &path) {
    u64 c = 0;
    for (const champ_node *n : path) c += children_in(n);
    return c;
}

// ---- maps through the C API --------------------------------------------------

cow_map *tree_map(std::uint32_t flags = 0) {
    cow_options o = COW_OPTIONS_INIT;
    o.strategy = COW_STRATEGY_STRUCTURAL;
    o.flags = flags;
    cow_map *m = nullptr;
    REQUIRE(cow_map_new(&m, cow_type_u64(), cow_type_u64(), &o) == COW_OK);
    return m;
}

u64 value_of(u64 k) { return k * 3 + 1; }

// The keys of a map of n entries: spread, not consecutive.
u64 key_number(u64 i) { return i * 0x9e3779b1u + 17; }

void put(cow_map **m, u64 k, u64 v) {
    REQUIRE(cow_map_insert(m, &k, sizeof k, &v, nullptr, nullptr) == COW_OK);
}

cow_map *filled(u64 n, std::uint32_t flags = 0) {
    cow_map *m = tree_map(flags);
    bool all = true;
    for (u64 i = 0; i < n; ++i) {
        u64 k = key_number(i), v = value_of(k);
        all = all && cow_map_insert(&m, &k, sizeof k, &v, nullptr, nullptr) == COW_OK;
    }
    REQUIRE(all);
    REQUIRE(cow_map_len(m) == n);
    return m;
}

std::optional<u64> get(const cow_map *m, u64 k) {
    const void *p = cow_map_get(m, &k, sizeof k);
    if (!p) return std::nullopt;
    u64 v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

cow_stats_info stats(const void *h) {
    cow_stats_info s = COW_STATS_INFO_INIT;
    REQUIRE(cow_stats(h, &s) == COW_OK);
    return s;
}

cow_global_stats_info global() {
    cow_global_stats_info g COW_GLOBAL_STATS_INFO_INIT;
    REQUIRE(cow_global_stats(&g) == COW_OK);
    return g;
}

// Every value allocated in a test is gone by its end.
struct leak_check {
    cow_global_stats_info start = global();
    ~leak_check() {
        cow_global_stats_info now = global();
        CHECK(now.live_values == start.live_values);
        CHECK(now.live_bytes == start.live_bytes);
        CHECK(now.live_allocations == start.live_allocations);
    }
};

// Spot checks of a map of filled(n) (k -> value_of(k)), with `changed`
// holding the keys that differ: (key, value or absent).
void check_filled(const cow_map *m, u64 n, const std::vector<std::pair<u64, std::optional<u64>>> &changed) {
    bool right = true;
    for (u64 i = 0; i < n; i += 1 + n / 1000) {
        u64 k = key_number(i);
        bool is_changed = std::any_of(changed.begin(), changed.end(), [&](auto &c) { return c.first == k; });
        if (!is_changed) right = right && get(m, k) == value_of(k);
    }
    for (auto &[k, v] : changed) right = right && get(m, k) == v;
    CHECK(right);
}

// The large map: 100,000 entries, or 20,000 in a build whose keys collide
// in full, where every insert scans a collision node of big / 64 entries.
constexpr u64 big = hashes_cut ? 20000 : 100000;

}  // namespace

TEST_CASE("tree counters, map: building by insert into an unshared map copies no node and bumps no reference count") {
    leak_check leaks;
    measured m;
    cow_map *map = filled(big);
    tree_counters d = m.done();
    tree_facts f = facts_of(map);
    CHECK(f.entries == big);
    CHECK(f.misplaced == 0);
    CHECK(f.shared_nodes == 0);
    CHECK(d.retains == 0);
    CHECK(d.releases == 0);
    // Every node in the tree was allocated once; a node outgrown was
    // allocated again, bigger: at most one per insert, plus the nodes a key
    // pushed down.
    CHECK(d.allocations >= f.nodes.size());
    CHECK(d.allocations <= big + f.nodes.size());
    cow_stats_info st = stats(map);
    CHECK(st.nodes_copied == 0);
    CHECK(st.bytes_copied == 0);
    CHECK(st.copies == 0);
    MESSAGE("map of " << big << " u64 -> u64: " << f.nodes.size() << " nodes, depth " << f.depth << ", "
                      << d.allocations << " node allocations to build, " << f.chain_nodes
                      << " chain nodes, " << f.collision_nodes << " collision nodes");
    cow_map_release(map);
}

TEST_CASE("tree counters, map: a clone bumps the handle count only") {
    leak_check leaks;
    cow_map *map = filled(big / 10);
    cow_global_stats_info g = global();
    measured m;
    cow_map *c = cow_map_clone(map);
    tree_counters d = m.done();
    REQUIRE(c != nullptr);
    CHECK(d.retains == 0);
    CHECK(d.releases == 0);
    CHECK(d.allocations == 0);
    CHECK(global().live_allocations == g.live_allocations);
    CHECK(cow_strong_count(map) == 2);
    CHECK(cow_ptr_eq(map, c));
    measured gone;
    cow_map_release(c);
    CHECK(gone.done().releases == 0);
    CHECK(cow_strong_count(map) == 1);
    cow_map_release(map);
}

TEST_CASE("tree counters, map: a write to a large shared map copies one path and bumps only the children of its copies") {
    leak_check leaks;
    cow_map *map = filled(big);
    const tree_facts base = facts_of(map);
    REQUIRE(base.misplaced == 0);
    const std::uint32_t depth = base.depth;
    // Without collisions the depth is about log_{slots}(n): check it is a tree
    // of that order, not a list (100,000 entries need 4 levels of 32-way
    // nodes, 9 of 4-way).
    if (!hashes_cut) {
        std::uint32_t levels = 0;
        for (u64 reach = 1; reach < big; reach *= champ_slots) levels += 1;
        CHECK(depth + 1 >= levels);
        CHECK(depth <= 2 * levels + 2);
    }
    // Existing keys: the first, the middle, the last, and one of the deepest.
    std::vector<u64> present = {key_number(0), key_number(big / 2), key_number(big - 1)};
    {
        const champ_map *t = tree_of(map);
        const champ_node *deepest = nullptr;
        auto visit = [&](const champ_node *n, std::uint32_t d) {
            if (d == depth && entries_in(n) > 0 && !deepest) deepest = n;
        };
        walk(t, t->root, 0, visit);
        REQUIRE(deepest != nullptr);
        present.push_back(key_at(t, deepest, 0));
    }
    const std::vector<u64> absent = {key_number(big), key_number(big + 1), key_number(3 * big + 5), 7};

    enum op { insert_new, replace, remove, get_mut };
    const char *names[] = {"insert a new key", "replace a value", "remove", "get_mut"};
    u64 most_alloc[4] = {}, most_retains[4] = {};
    for (op what : {insert_new, replace, remove, get_mut}) {
        for (u64 k : what == insert_new ? absent : present) {
            CAPTURE(names[what]);
            CAPTURE(k);
            cow_map *c = cow_map_clone(map);
            std::vector<const champ_node *> before_path = path_to(map, k);
            REQUIRE(before_path.empty() == (what == insert_new));
            const u64 copied_before = stats(c).nodes_copied;
            u64 x = 0xabcdef;
            std::optional<u64> expect;
            measured m;
            switch (what) {
            case insert_new:
            case replace: {
                bool replaced = false;
                u64 old = 0;
                REQUIRE(cow_map_insert(&c, &k, sizeof k, &x, &old, &replaced) == COW_OK);
                CHECK(replaced == (what == replace));
                if (what == replace) CHECK(old == value_of(k));
                expect = x;
                break;
            }
            case remove: {
                u64 out = 0;
                REQUIRE(cow_map_remove(&c, &k, sizeof k, &out) == COW_OK);
                CHECK(out == value_of(k));
                break;
            }
            case get_mut: {
                void *p = nullptr;
                REQUIRE(cow_map_get_mut(&c, &k, sizeof k, &p) == COW_OK);
                REQUIRE(p != nullptr);
                std::memcpy(p, &x, sizeof x);
                expect = x;
                break;
            }
            }
            tree_counters d = m.done();
            tree_facts after = facts_of(c);
            CHECK(after.misplaced == 0);
            // The nodes on the key's path in the version that holds it: the
            // copied ones, and below them the ones a new key pushed down.
            std::vector<const champ_node *> path = what == remove ? before_path : path_to(c, k);
            REQUIRE(!path.empty());
            CHECK(d.allocations >= 1);
            CHECK(d.allocations <= path.size());
            CHECK(d.allocations <= std::max(depth, after.depth) + 1);
            CHECK(d.allocations <= depth + 2);
            // Each copy takes a reference to the children it keeps; the new
            // header one to the root.
            CHECK(d.retains <= children_on(path) + 1);
            CHECK(d.retains <= u64(depth + 1) * champ_slots + 1);
            // The new header lets go of the old root; nothing else goes.
            CHECK(d.releases <= 1);
            // Every node of the new version not on the path is shared.
            const u64 copied = stats(c).nodes_copied - copied_before;
            CHECK(copied >= 1);
            CHECK(copied <= d.allocations);
            std::vector<const champ_node *> common;
            std::set_intersection(base.nodes.begin(), base.nodes.end(), after.nodes.begin(), after.nodes.end(),
                                  std::back_inserter(common));
            CHECK(after.nodes.size() - common.size() <= d.allocations);
            most_alloc[what] = std::max(most_alloc[what], d.allocations);
            most_retains[what] = std::max(most_retains[what], d.retains);

            // Right: the new version has the write, the original has not.
            CHECK(cow_map_len(c) == big + (what == insert_new) - (what == remove));
            check_filled(c, big, {{k, expect}});
            check_filled(map, big, {{k, what == insert_new ? std::nullopt : std::optional<u64>(value_of(k))}});
            CHECK(cow_map_len(map) == big);

            // The path is now this version's own: a second write copies nothing.
            if (what != remove) {
                measured again;
                u64 y = 99;
                REQUIRE(cow_map_insert(&c, &k, sizeof k, &y, nullptr, nullptr) == COW_OK);
                CHECK(again.done().allocations == 0);
                CHECK(again.done().retains == 0);
                CHECK(again.done().releases == 0);
                CHECK(get(c, k) == 99u);
            }
            cow_map_release(c);
            // The original holds every one of its nodes alone again.
            tree_facts now = facts_of(map);
            CHECK(now.shared_nodes == 0);
            CHECK(now.shape == base.shape);
        }
    }
    MESSAGE("shared writes at " << big << " entries (depth " << depth << ", " << champ_slots
                                << "-way): most node allocations / retains: insert " << most_alloc[0] << " / "
                                << most_retains[0] << ", replace " << most_alloc[1] << " / " << most_retains[1]
                                << ", remove " << most_alloc[2] << " / " << most_retains[2] << ", get_mut "
                                << most_alloc[3] << " / " << most_retains[3]);
    cow_map_release(map);
}

TEST_CASE("tree counters, map: removing a key gives back the exact shape the map had before it was inserted") {
    leak_check leaks;
    u64 chains_made = 0, collision_inserts = 0, lone_removals = 0, checked = 0;
    for (u64 n : {u64(0), u64(1), u64(2), u64(3), u64(10), u64(40), u64(300), u64(2000)}) {
        CAPTURE(n);
        cow_map *map = filled(n);
        const tree_facts base = facts_of(map);
        REQUIRE(base.misplaced == 0);
        // The same keys inserted in the opposite order: the same shape.
        {
            cow_map *rev = tree_map();
            for (u64 i = n; i-- > 0;) put(&rev, key_number(i), value_of(key_number(i)));
            CHECK(facts_of(rev).shape == base.shape);
            cow_map_release(rev);
        }
        // New keys, inserted then removed, in the map itself.
        const u64 tries = n < 300 ? 300 : 600;
        bool all_same = true, all_canonical = true, all_grew = true;
        for (u64 i = 0; i < tries; ++i) {
            u64 k = key_number(big + 1000 * n + i);
            put(&map, k, 1);
            tree_facts in = facts_of(map);
            all_canonical = all_canonical && in.misplaced == 0;
            all_grew = all_grew && in.entries == n + 1 && in.shape != base.shape;
            if (in.nodes.size() >= base.nodes.size() + 2) chains_made += 1;
            if (in.collision_entries > base.collision_entries) collision_inserts += 1;
            REQUIRE(cow_map_remove(&map, &k, sizeof k, nullptr) == COW_OK);
            tree_facts out = facts_of(map);
            all_same = all_same && out.shape == base.shape;
            checked += 1;
        }
        CHECK(all_canonical);
        CHECK(all_grew);
        CHECK(all_same);
        // Keys of the map, removed then inserted again; and removed from a
        // clone, whose copy of the path must take the same shape while the
        // original keeps its own.
        bool back_same = true, clone_same = true, original_kept = true;
        for (u64 i = 0; i < n; i += 1 + n / 200) {
            u64 k = key_number(i);
            REQUIRE(cow_map_remove(&map, &k, sizeof k, nullptr) == COW_OK);
            tree_facts gone = facts_of(map);
            all_canonical = all_canonical && gone.misplaced == 0;
            if (gone.nodes.size() + 2 <= base.nodes.size()) lone_removals += 1;
            put(&map, k, value_of(k));
            back_same = back_same && facts_of(map).shape == base.shape;

            cow_map *c = cow_map_clone(map);
            REQUIRE(cow_map_remove(&c, &k, sizeof k, nullptr) == COW_OK);
            clone_same = clone_same && facts_of(c).shape == gone.shape;
            put(&c, k, value_of(k));
            clone_same = clone_same && facts_of(c).shape == base.shape;
            cow_map_release(c);
            original_kept = original_kept && facts_of(map).shape == base.shape;
        }
        CHECK(all_canonical);
        CHECK(back_same);
        CHECK(clone_same);
        CHECK(original_kept);
        check_filled(map, n, {});
        cow_map_release(map);
    }
    // The keys went through the cases that move entries down and back up.
    CHECK(chains_made > 0);
    CHECK(lone_removals > 0);
    if (hashes_cut) CHECK(collision_inserts > 0);
    MESSAGE(checked << " inserts undone by removes: " << chains_made << " pushed keys down two levels or more, "
                    << collision_inserts << " went into collision nodes; " << lone_removals
                    << " removes of present keys lifted an entry up two levels or more");
}

TEST_CASE("tree counters, map: releasing the last version frees every node, shared or not") {
    leak_check leaks;
    const cow_global_stats_info start = global();
    // Without statistics, a map is its header and its nodes: nothing else
    // is allocated for it.
    const u64 n = 10000;
    cow_map *map = filled(n, COW_OPT_NO_STATS);
    tree_facts f = facts_of(map);
    cow_global_stats_info g = global();
    CHECK(g.live_allocations - start.live_allocations == f.nodes.size() + 1);
    CHECK(g.live_bytes - start.live_bytes == f.bytes + sizeof(champ_map));

    // A second version written here and there (keys i * 37 < n are in the
    // map): the two hold the union of their nodes, each once.
    cow_map *c = cow_map_clone(map);
    for (u64 i = 0; i < 200; ++i) {
        u64 k = key_number(i * 37);
        if (i % 3 == 0) REQUIRE(cow_map_remove(&c, &k, sizeof k, nullptr) == COW_OK);
        else put(&c, i % 3 == 1 ? k : key_number(n + i), i);
    }
    tree_facts fc = facts_of(c);
    CHECK(fc.misplaced == 0);
    std::vector<const champ_node *> all;
    std::set_union(f.nodes.begin(), f.nodes.end(), fc.nodes.begin(), fc.nodes.end(), std::back_inserter(all));
    CHECK(all.size() < f.nodes.size() + fc.nodes.size());  // they share nodes
    u64 all_bytes = 0;
    for (const champ_node *n : all) all_bytes += node_bytes(tree_of(map), n);
    g = global();
    CHECK(g.live_allocations - start.live_allocations == all.size() + 2);
    CHECK(g.live_bytes - start.live_bytes == all_bytes + 2 * sizeof(champ_map));

    // The original goes: what only it held is freed, the rest is c's alone.
    cow_map_release(map);
    g = global();
    CHECK(g.live_allocations - start.live_allocations == fc.nodes.size() + 1);
    CHECK(g.live_bytes - start.live_bytes == fc.bytes + sizeof(champ_map));
    CHECK(facts_of(c).shared_nodes == 0);
    CHECK(cow_map_len(c) == n - 1);  // 67 removed, 66 added
    cow_map_release(c);
    g = global();
    CHECK(g.live_allocations == start.live_allocations);
    CHECK(g.live_bytes == start.live_bytes);

    // With statistics, and many versions one write apart released in
    // another order than they were made.
    cow_map *first = filled(5000);
    std::vector<cow_map *> versions = {first};
    for (u64 i = 0; i < 50; ++i) {
        cow_map *v = cow_map_clone(versions.back());
        put(&v, key_number(i * 101), i);
        versions.push_back(v);
    }
    for (std::size_t i = 0; i < versions.size(); i += 2) cow_map_release(versions[i]);
    for (std::size_t i = 1; i < versions.size(); i += 2) {
        CHECK(get(versions[i], key_number((i - 1) * 101)) == i - 1);
        cow_map_release(versions[i]);
    }
    g = global();
    CHECK(g.live_values == start.live_values);
    CHECK(g.live_allocations == start.live_allocations);
    CHECK(g.live_bytes == start.live_bytes);
}

namespace {
int count_change(void *ctx, cow_map_change_t, const void *, size_t, const void *, const void *) {
    ++*static_cast<u64 *>(ctx);
    return 0;
}
}  // namespace

TEST_CASE("tree counters, map: diff and equal of versions that share structure visit nodes in proportion to the changes") {
    leak_check leaks;
    cow_map *base = filled(big);
    const std::uint32_t depth = facts_of(base).depth;
    for (u64 changes : {u64{1}, u64{10}, u64{100}}) {
        CAPTURE(changes);
        cow_map *next = cow_map_clone(base);
        for (u64 i = 0; i < changes; ++i) put(&next, key_number((i * 7919) % big), big + i);
        measured walk;
        u64 reported = 0;
        REQUIRE(cow_map_diff(base, next, count_change, &reported, nullptr) == COW_OK);
        tree_counters d = walk.done();
        CHECK(reported == changes);
        CHECK(d.retains == 0);
        measured compare;
        CHECK_FALSE(cow_map_equal(base, next));
        tree_counters e = compare.done();
        // Each change is on one path of at most depth + 1 nodes, entered
        // once in each version; everything else is shared and skipped. (Where
        // keys collide in full, a changed list node is searched key by key.)
        if (!hashes_cut) {
            CHECK(d.visits <= changes * (depth + 1) * 2);
            CHECK(e.visits <= (depth + 1) * 2);
        }
        MESSAGE(changes << " changes in " << big << " entries: the diff visited " << d.visits << " nodes");
        cow_map_release(next);
    }
    cow_map_release(base);
}
