// A tree map built in one pass from the entries of another map (the copy an
// ADAPTIVE map makes when it becomes a tree). Inserting the entries one by
// one would walk the growing tree and reallocate each node as it grows;
// here the entries are sorted by their hash slots level by level (a
// counting sort per node, ping-ponging between two arrays), and every node
// is allocated once, at its final size. The shape is the one inserts give:
// a CHAMP's shape depends only on its keys.
#include "../scratch.hpp"
#include "champ_nodes.hpp"

namespace cow::detail {
namespace {

struct item {
    std::uint64_t hash;
    const unsigned char *entry;
};

class builder {
public:
    explicit builder(champ_map *m) noexcept : m_(m) {}

    // The node holding items[0..n) (n >= 1) at `depth`; `spare` is room
    // for n items the sort may use. nullptr when out of memory (or a copy
    // failed: status() says which), with nothing left allocated.
    champ_node *node(item *items, item *spare, std::size_t n, unsigned depth) noexcept {
        if (depth == champ_levels) return collision_node(items, n);
        item *sorted = n <= few ? sort_few(items, n, depth) : sort_many(items, spare, n, depth);
        item *other = sorted == items ? spare : items;
        // Runs of one slot: a run of one is an entry, a longer one a child.
        std::uint32_t entries = 0, kids = 0;
        for (std::size_t i = 0, j; i < n; i = j) {
            j = run_end(sorted, i, n, depth);
            (j - i == 1 ? entries : kids) += 1;
            // The entries come from anywhere in the source (they are in hash
            // order now): ask for them all at once, so that their cache
            // misses overlap instead of following one another.
            if (j - i == 1) __builtin_prefetch(sorted[i].entry);
        }
        champ_node *nd = node_alloc(m_, entries, kids);
        if (!nd) return fail(COW_ENOMEM);
        // Entries and children are packed in slot order; each bit is set
        // once its item is in place, so a failure releases a valid node.
        std::uint32_t e = 0, k = 0;
        for (std::size_t i = 0, j; i < n; i = j) {
            j = run_end(sorted, i, n, depth);
            std::uint32_t bit = 1u << slot_of(sorted[i].hash, depth);
            if (j - i == 1) {
                if (!copy_in(sorted[i].entry, entry_at(m_, nd, e))) return undo(nd);
                nd->datamap |= bit;
                ++e;
            } else {
                champ_node *child = node(sorted + i, other + i, j - i, depth + 1);
                if (!child) return undo(nd);
                children(m_, nd)[k++] = child;
                nd->nodemap |= bit;
            }
        }
        return nd;
    }

    cow_status status() const noexcept { return status_; }

private:
    // Up to this many items are sorted in place (most nodes of a large map
    // hold a few, below a level where nearly every item has its own slot).
    static constexpr std::size_t few = 16;

    static std::uint32_t slot_of(std::uint64_t h, unsigned depth) noexcept {
        return static_cast<std::uint32_t>(h >> (depth * champ_bits)) & slot_mask;
    }
    static std::size_t run_end(const item *sorted, std::size_t i, std::size_t n, unsigned depth) noexcept {
        std::uint32_t slot = slot_of(sorted[i].hash, depth);
        std::size_t j = i + 1;
        while (j < n && slot_of(sorted[j].hash, depth) == slot) ++j;
        return j;
    }
    // Insertion sort by slot, in place.
    static item *sort_few(item *items, std::size_t n, unsigned depth) noexcept {
        for (std::size_t i = 1; i < n; ++i) {
            item x = items[i];
            std::uint32_t slot = slot_of(x.hash, depth);
            std::size_t j = i;
            for (; j > 0 && slot_of(items[j - 1].hash, depth) > slot; --j) items[j] = items[j - 1];
            items[j] = x;
        }
        return items;
    }
    // Counting sort by slot, into spare.
    static item *sort_many(const item *items, item *spare, std::size_t n, unsigned depth) noexcept {
        std::size_t start[champ_slots] = {};
        for (std::size_t i = 0; i < n; ++i) ++start[slot_of(items[i].hash, depth)];
        for (std::size_t s = 0, at = 0; s < champ_slots; ++s) {
            std::size_t c = start[s];
            start[s] = at;
            at += c;
        }
        for (std::size_t i = 0; i < n; ++i) spare[start[slot_of(items[i].hash, depth)]++] = items[i];
        return spare;
    }

    // Keys whose hashes are equal in full, below the last level.
    champ_node *collision_node(const item *items, std::size_t n) noexcept {
        champ_node *nd = node_alloc(m_, static_cast<std::uint32_t>(n), 0);
        if (!nd) return fail(COW_ENOMEM);
        nd->collision = 1;
        for (std::size_t i = 0; i < n; ++i) {
            if (!copy_in(items[i].entry, entry_at(m_, nd, static_cast<std::uint32_t>(i)))) return undo(nd);
            nd->datamap += 1;
        }
        return nd;
    }

    bool copy_in(const unsigned char *from, unsigned char *to) noexcept {
        if (m_->plain_copy) {
            std::memcpy(to, from, m_->entry_size);
            return true;
        }
        cow_status s = copy_entry(m_, from, to);
        if (s != COW_OK) fail(s);
        return s == COW_OK;
    }

    champ_node *fail(cow_status s) noexcept {
        status_ = s;
        return nullptr;
    }
    champ_node *undo(champ_node *nd) noexcept {
        release(m_, nd);
        return nullptr;
    }

    champ_map *m_;
    cow_status status_ = COW_OK;
};

}  // namespace

cow_status champ_map_build(map_rep **out, const champ_build_source &from, rep_seed &seed) noexcept {
    std::size_t count = from.count;
    scratch room(2 * count * sizeof(item), alignof(item));
    if (!room.get()) return COW_ENOMEM;
    map_rep *made;
    cow_status s = champ_map_new(&made, from.src->key_type, from.src->value_type, seed);
    if (s != COW_OK) return s;
    champ_map *m = as_champ(made);
    auto *items = reinterpret_cast<item *>(room.get());
    for (std::size_t i = 0; i < count; ++i)
        items[i] = item{entry_hash(m, from.entries[i]), from.entries[i]};
    s = key_store_share(*from.keys, m->keys, 0);
    if (s == COW_OK && count) {
        builder b(m);
        m->root = b.node(items, items + count, count, 0);
        s = m->root ? COW_OK : b.status();
    }
    if (s != COW_OK) {
        rep_release(m);  // frees the header, its key store and no node
        return s;
    }
    m->len = count;
    m->varkey_bytes = from.varkey_bytes;
    m->keys.live_bytes = from.long_key_bytes;
    *out = m;
    return COW_OK;
}

}  // namespace cow::detail
