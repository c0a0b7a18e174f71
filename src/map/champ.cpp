#include "champ.hpp"

#include "../scratch.hpp"
#include "champ_nodes.hpp"

namespace cow::detail {
namespace {

// ---- lookups -------------------------------------------------------------------

// The entry for key, or nullptr. `Popcnt`: the CPU counts bits in one
// instruction (the lookup is compiled for it too, chosen at run time).
template <key_mode M, bool Popcnt = false>
[[gnu::always_inline]] inline const unsigned char *find_entry(const champ_map *m, std::uint64_t h,
                                                              const void *key,
                                                              std::size_t key_len) noexcept {
    auto below = [](std::uint32_t map, std::uint32_t bit) noexcept {
        if constexpr (Popcnt) return static_cast<std::uint32_t>(__builtin_popcount(map & (bit - 1)));
        else return index_below(map, bit);
    };
    const champ_node *n = m->root;
    if (!n) return nullptr;
    std::uint64_t rest = h;  // the hash bits below this level
    for (unsigned d = 0; d < champ_levels; ++d, rest >>= champ_bits) {
        std::uint32_t bit = 1u << (rest & slot_mask);
        if (n->nodemap & bit) {
            n = children(m, n)[below(n->nodemap, bit)];
            continue;
        }
        if (!(n->datamap & bit)) return nullptr;
        const unsigned char *e = entry_at(m, n, below(n->datamap, bit));
        return entry_has_key<M>(m, e, key, key_len) ? e : nullptr;
    }
    for (std::uint32_t i = 0; i < n->datamap; ++i) {  // a collision node
        const unsigned char *e = entry_at(m, n, i);
        if (entry_has_key<M>(m, e, key, key_len)) return e;
    }
    return nullptr;
}

template <key_mode M, bool Popcnt>
[[gnu::always_inline]] inline const void *lookup(const map_rep *r, const void *key,
                                                 std::size_t key_len) noexcept {
    auto *m = as_champ(r);
    const unsigned char *e = find_entry<M, Popcnt>(m, probe_hash<M>(m, key, key_len), key, key_len);
    return e ? e + m->value_offset : nullptr;
}
template <key_mode M>
const void *get_as(const map_rep *r, const void *key, std::size_t key_len) noexcept {
    return lookup<M, false>(r, key, key_len);
}
template <key_mode M>
[[gnu::target("popcnt")]] const void *get_popcnt_as(const map_rep *r, const void *key,
                                                     std::size_t key_len) noexcept {
    return lookup<M, true>(r, key, key_len);
}

template <key_mode M>
map_get_fn get_for_cpu() noexcept {
    __builtin_cpu_init();
    return __builtin_cpu_supports("popcnt") ? get_popcnt_as<M> : get_as<M>;
}

map_get_fn get_for(key_mode mode) noexcept {
    switch (mode) {
    case key_mode::varlen: return get_for_cpu<key_mode::varlen>();
    case key_mode::word8: return get_for_cpu<key_mode::word8>();
    case key_mode::word4: return get_for_cpu<key_mode::word4>();
    case key_mode::bytes: return get_for_cpu<key_mode::bytes>();
    case key_mode::custom: break;
    }
    return get_for_cpu<key_mode::custom>();
}

// ---- paths ---------------------------------------------------------------------

// The nodes from the root to where key is or would be, and what is there.
struct path {
    champ_node *node[max_path];
    std::uint32_t slot[max_path];   // the key's slot bit in node[d] (0 in a collision node)
    std::uint32_t child[max_path];  // the index of node[d + 1] among node[d]'s children
    std::uint32_t depth;  // of the last node
    std::uint32_t owned;  // nodes [0, owned) this value alone holds (each and all above it)
    std::uint32_t index;  // the entry there (the key's, or another), or where it would go
    bool has_entry;       // the last node holds an entry in the key's slot
    bool found;           // ... and it is the key's
};

// Walks from the root (not nullptr) towards the key with hash h.
void find_path(const champ_map *m, std::uint64_t h, const void *key, std::size_t key_len,
               path &p) noexcept {
    champ_node *n = m->root;
    p.owned = 0;
    for (std::uint32_t d = 0;; ++d) {
        p.node[d] = n;
        p.depth = d;
        if (n->collision) {
            p.slot[d] = 0;
            p.has_entry = p.found = false;
            for (std::uint32_t i = 0; i < n->datamap; ++i) {
                if (has_key(m, entry_at(m, n, i), key, key_len)) {
                    p.index = i;
                    p.has_entry = p.found = true;
                    return;
                }
            }
            p.index = n->datamap;  // appended at the end
            return;
        }
        std::uint32_t bit = slot_bit(h, d);
        p.slot[d] = bit;
        if (n->nodemap & bit) {
            p.child[d] = index_below(n->nodemap, bit);
            n = children(m, n)[p.child[d]];
            continue;
        }
        p.index = index_below(n->datamap, bit);
        p.has_entry = (n->datamap & bit) != 0;
        p.found = p.has_entry && has_key(m, entry_at(m, n, p.index), key, key_len);
        return;
    }
}

// Which nodes of a path found in v the write on w may change in place: those
// that w alone holds, each with every node above it. Decided once the
// write has its header (a new one holds none of them alone) and has made
// its copies (which may run user code).
void mark_owned(const champ_map *w, const champ_map *v, path &p) noexcept {
    p.owned = 0;
    if (w != v) return;
    while (p.owned <= p.depth && is_unique(p.node[p.owned])) ++p.owned;
}

// ---- node edits ----------------------------------------------------------------

// One node's change in a write: its new maps, at most one entry left out
// and one added, at most one child left out and one added. An added entry
// or child moves in (the node takes its bytes or its reference).
struct node_edit {
    std::uint32_t datamap = 0, nodemap = 0;  // after the edit
    int drop_entry = -1;                     // index in the old node
    int add_entry = -1;                      // index in the new node
    const unsigned char *entry = nullptr;
    int drop_child = -1;
    int add_child = -1;
    champ_node *child = nullptr;
};

inline std::uint32_t entries_after(const champ_node *n, const node_edit &e) noexcept {
    return entry_count(n) - (e.drop_entry >= 0) + (e.add_entry >= 0);
}
inline std::uint32_t children_after(const champ_node *n, const node_edit &e) noexcept {
    return child_count(n) - (e.drop_child >= 0) + (e.add_child >= 0);
}
inline void set_maps(champ_node *n, const node_edit &e, std::uint32_t entries) noexcept {
    n->datamap = n->collision ? entries : e.datamap;
    n->nodemap = e.nodemap;
}

// The same node with a child replaced.
inline node_edit replace_child(const champ_node *n, std::uint32_t k, champ_node *child) noexcept {
    node_edit e;
    e.datamap = n->datamap;
    e.nodemap = n->nodemap;
    e.drop_child = e.add_child = static_cast<int>(k);
    e.child = child;
    return e;
}

// Fills `out` (new, with room) with src's entries and children, the edit
// applied: moved bit for bit when this value alone holds src (`owned`),
// else copied (entries through the types' copy, children with one more
// holder). On failure (a copy callback) out holds nothing and src is as it
// was; the added entry and child stay the caller's.
cow_status fill(champ_map *m, const champ_node *src, bool owned, const node_edit &e,
                champ_node *out) noexcept {
    out->collision = src->collision;
    std::uint32_t n_old = entry_count(src), n_new = entries_after(src, e);
    std::uint32_t t = 0;
    for (std::uint32_t i = 0; i <= n_old; ++i) {
        if (static_cast<int>(t) == e.add_entry) {
            std::memcpy(entry_at(m, out, t), e.entry, m->entry_size);
            ++t;
        }
        if (i == n_old) break;
        if (static_cast<int>(i) == e.drop_entry) continue;
        const unsigned char *from = entry_at(m, src, i);
        unsigned char *to = entry_at(m, out, t);
        if (owned || m->plain_copy) {
            std::memcpy(to, from, m->entry_size);
        } else {
            cow_status s = copy_entry(m, from, to);
            if (s != COW_OK) {
                for (std::uint32_t j = 0; j < t; ++j)
                    if (static_cast<int>(j) != e.add_entry) drop_entry(m, entry_at(m, out, j));
                return s;
            }
        }
        ++t;
    }
    champ_node *const *from = children(m, src);
    champ_node **to = children(m, out);
    std::uint32_t c_old = child_count(src);
    // The children's counts are on as many cache lines: fetch them all
    // before the first increment, so that their misses overlap.
    if (!owned)
        for (std::uint32_t k = 0; k < c_old; ++k) __builtin_prefetch(from[k], 1);
    t = 0;
    for (std::uint32_t k = 0; k <= c_old; ++k) {
        if (static_cast<int>(t) == e.add_child) to[t++] = e.child;
        if (k == c_old) break;
        if (static_cast<int>(k) == e.drop_child) continue;
        to[t] = from[k];
        if (!owned) retain(from[k]);
        ++t;
    }
    set_maps(out, e, n_new);
    if (!owned) {
        m->write_nodes += 1;
        m->write_bytes += n_old * m->entry_size + c_old * sizeof(champ_node *);
    }
    return COW_OK;
}

// Undoes fill: drops what a copy took, or nothing for moved contents;
// then frees the node.
void unfill(champ_map *m, champ_node *out, bool owned, const node_edit &e) noexcept {
    if (!owned) {
        for (std::uint32_t i = 0, n = entry_count(out); i < n; ++i)
            if (static_cast<int>(i) != e.add_entry) drop_entry(m, entry_at(m, out, i));
        champ_node **kids = children(m, out);
        for (std::uint32_t k = 0, c = child_count(out); k < c; ++k)
            if (static_cast<int>(k) != e.add_child) release(m, kids[k]);
    }
    node_free(m, out);
}

inline bool fits(const champ_node *n, const node_edit &e) noexcept {
    return entries_after(n, e) <= n->entry_cap && children_after(n, e) <= n->child_cap;
}

// Applies the edit to a node this value alone holds, with room for it.
void edit_in_place(champ_map *m, champ_node *n, const node_edit &e) noexcept {
    std::uint32_t count = entry_count(n);
    if (e.drop_entry >= 0) {
        auto i = static_cast<std::uint32_t>(e.drop_entry);
        std::memmove(entry_at(m, n, i), entry_at(m, n, i + 1), (count - i - 1) * m->entry_size);
        --count;
    }
    if (e.add_entry >= 0) {
        auto i = static_cast<std::uint32_t>(e.add_entry);
        std::memmove(entry_at(m, n, i + 1), entry_at(m, n, i), (count - i) * m->entry_size);
        std::memcpy(entry_at(m, n, i), e.entry, m->entry_size);
        ++count;
    }
    champ_node **kids = children(m, n);
    std::uint32_t c = child_count(n);
    if (e.drop_child >= 0 && e.drop_child == e.add_child) {
        kids[e.add_child] = e.child;
    } else {
        if (e.drop_child >= 0) {
            auto k = static_cast<std::uint32_t>(e.drop_child);
            std::memmove(kids + k, kids + k + 1, (c - k - 1) * sizeof *kids);
            --c;
        }
        if (e.add_child >= 0) {
            auto k = static_cast<std::uint32_t>(e.add_child);
            std::memmove(kids + k + 1, kids + k, (c - k) * sizeof *kids);
            kids[k] = e.child;
        }
    }
    set_maps(n, e, count);
}

// ---- the write engine ------------------------------------------------------------
// A write changes one node of the path (level `at`) with one edit; every
// node above it then changes the child it holds there. A node that this
// value alone holds and has room changes in place, and the nodes above it
// stay as they are; any other node is replaced by a new one (a copy of a
// shared node, or a bigger node for one of its own). Everything that can
// fail happens in prepare(), before any change; commit() cannot fail.

struct write {
    champ_map *m;
    const path &p;
    std::uint32_t at;                  // the level the write edits
    node_edit edit[max_path];
    champ_node *fresh[max_path] = {};  // the new node of each level, or nullptr
    std::uint32_t top = 0;             // the highest level changed (in place when fresh[top] is null)

    write(champ_map *map, const path &path_, std::uint32_t level) noexcept
        : m(map), p(path_), at(level) {}

    bool owned(std::uint32_t d) const noexcept { return d < p.owned; }

    // Builds the new nodes, from level `at` up to the first that changes in
    // place (or the root). On failure nothing is left of them.
    cow_status prepare(const node_edit &first) noexcept {
        edit[at] = first;
        for (std::uint32_t d = at;; --d) {
            champ_node *n = p.node[d];
            top = d;
            if (owned(d) && fits(n, edit[d])) return COW_OK;  // in place at commit
            std::uint32_t entries = entries_after(n, edit[d]), kids = children_after(n, edit[d]);
            // A node of this value's own grows with room to spare; a copy is exact.
            if (owned(d)) {
                entries = entries > n->entry_cap ? room_for(entries, n->collision) : n->entry_cap;
                kids = kids > n->child_cap ? room_for(kids, false) : n->child_cap;
            }
            champ_node *f = node_alloc(m, entries, kids);
            cow_status s = f ? fill(m, n, owned(d), edit[d], f) : COW_ENOMEM;
            if (s != COW_OK) {
                if (f) node_free(m, f);
                discard();
                return s;
            }
            fresh[d] = f;
            if (d == 0) return COW_OK;
            edit[d - 1] = replace_child(p.node[d - 1], p.child[d - 1], f);
        }
    }

    // Frees the new nodes prepare() made (when a later step of the write fails).
    void discard() noexcept {
        for (std::uint32_t d = 0; d <= at; ++d)
            if (fresh[d]) unfill(m, fresh[d], owned(d), edit[d]);
    }

    // Puts the new nodes in place. Each old node of levels [from, last] that
    // loses its holder's reference (the header, or a node of this value's
    // own) goes: freed as memory when this value alone held it (what it held
    // moved into the new nodes, or is the caller's to handle), else
    // released. Levels below `at` up to `last` are the ones an edit took out.
    void commit(std::uint32_t last) noexcept {
        std::uint32_t from;
        if (fresh[top]) {
            m->root = fresh[0];
            from = 0;
        } else {
            edit_in_place(m, p.node[top], edit[top]);
            from = top + 1;
        }
        for (std::uint32_t d = from; d <= last; ++d) {
            bool holder_owned = d == 0 || owned(d - 1);
            if (!holder_owned) break;  // a shared node above still holds the rest
            if (owned(d)) node_free(m, p.node[d]);
            else release(m, p.node[d]);
        }
    }
};

// ---- headers ---------------------------------------------------------------------

champ_map *alloc_like(const champ_map *like) noexcept {
    void *mem = mem_alloc(sizeof(champ_map));
    if (!mem) return nullptr;
    auto *m = new (mem) champ_map();
    same_layout(*m, *like);
    m->root = nullptr;
    m->len = m->varkey_bytes = 0;
    m->keys = key_store{};
    m->node_slack = like->node_slack;
    m->write_nodes = m->write_bytes = 0;
    return m;
}

void free_header(champ_map *m) noexcept {
    m->~champ_map();
    mem_free(m, sizeof(champ_map));
}

// Releases what a header holds and frees it.
void drop_header(champ_map *m) noexcept {
    if (m->root) release(m, m->root);
    key_store_release(m->keys);
    free_header(m);
}

// A new header sharing every node and key block of v (not yet a rep), with
// room in its block list for one more block.
cow_status header_sharing_nodes(const champ_map *v, champ_map **out) noexcept {
    champ_map *w = alloc_like(v);
    if (!w) return COW_ENOMEM;
    cow_status s = key_store_share(v->keys, w->keys, 1);
    if (s != COW_OK) {
        free_header(w);
        return s;
    }
    w->root = v->root;
    if (w->root) retain(w->root);
    w->len = v->len;
    w->varkey_bytes = v->varkey_bytes;
    *out = w;
    return COW_OK;
}

// A private header for a write: the value itself when this handle is its
// only one, else a new header sharing its nodes.
cow_status begin_write(champ_map *v, champ_map **out) noexcept {
    if (!rep_is_shared(v)) {
        *out = v;
        return COW_OK;
    }
    return header_sharing_nodes(v, out);
}

// Ends a write begun by begin_write: on success a new header replaces the
// shared value in the slot (one copy in its lineage); on failure it goes.
cow_status finish_write(map_rep **slot, champ_map *w, cow_status s) noexcept {
    auto *old = as_champ(*slot);
    if (s != COW_OK) {
        w->write_nodes = w->write_bytes = 0;
        if (w != old) drop_header(w);
        return s;
    }
    if (w != old) {
        rep_init_copy(w, old, 0, false);
        *slot = w;
        rep_release(old);
    }
    rep_count_node_copies(w, w->write_nodes, w->write_bytes);
    w->write_nodes = w->write_bytes = 0;
    return COW_OK;
}

// ---- the edits -------------------------------------------------------------------

// The entry a new key goes in: its key (a variable-length key as stored:
// its far bytes are placed when the insert commits) and its value, copied
// before anything changes.
class new_entry {
public:
    explicit new_entry(const champ_map *m) noexcept : m_(m), bytes_(m->entry_size, entry_align(m)) {}
    ~new_entry() {
        if (key_made_) drop_key(m_, bytes_.get());
        if (value_made_) type_drop(m_->value_type, bytes_.get() + m_->value_offset);
    }
    new_entry(const new_entry &) = delete;
    new_entry &operator=(const new_entry &) = delete;

    unsigned char *get() const noexcept { return bytes_.get(); }

    cow_status make_key(const void *key, std::size_t key_len) noexcept {
        if (!bytes_.get()) return COW_ENOMEM;
        if (m_->mode == key_mode::varlen) {
            stored_key k{};
            k.len = key_len;
            if (key_len <= inline_key_bytes) {
                if (key_len) std::memcpy(k.bytes, key, key_len);
            } else {
                k.far = nullptr;  // set by set_far before the insert commits
            }
            std::memcpy(bytes_.get(), &k, sizeof k);
        } else {
            cow_status s = type_copy_key(m_->key_type, bytes_.get(), key);
            if (s != COW_OK) return s;
        }
        key_made_ = true;
        return COW_OK;
    }
    cow_status copy_key_of(const unsigned char *entry) noexcept {
        if (!bytes_.get()) return COW_ENOMEM;
        cow_status s = copy_key(m_, entry, bytes_.get());
        key_made_ = s == COW_OK;
        return s;
    }
    cow_status make_value(const void *value) noexcept {
        if (!bytes_.get()) return COW_ENOMEM;
        cow_status s = type_copy(m_->value_type, bytes_.get() + m_->value_offset, value);
        value_made_ = s == COW_OK;
        return s;
    }
    void set_far(const char *at) noexcept {
        std::memcpy(bytes_.get() + offsetof(stored_key, far), &at, sizeof at);
    }
    // The map took the entry's bytes.
    void moved() noexcept { key_made_ = value_made_ = false; }

private:
    const champ_map *m_;
    scratch bytes_;
    bool key_made_ = false, value_made_ = false;
};

// Nodes made for a write before it commits, freed as memory if it fails.
class node_list {
public:
    explicit node_list(champ_map *m) noexcept : m_(m) {}
    ~node_list() {
        for (std::uint32_t i = 0; i < count_; ++i) node_free(m_, nodes_[i]);
    }
    champ_node *add(std::uint32_t entry_cap, std::uint32_t child_cap) noexcept {
        champ_node *n = node_alloc(m_, entry_cap, child_cap);
        if (n) nodes_[count_++] = n;
        return n;
    }
    void keep() noexcept { count_ = 0; }

private:
    champ_map *m_;
    champ_node *nodes_[max_path + 1];
    std::uint32_t count_ = 0;
};

// Replaces the value of the entry the path found.
cow_status replace_value(champ_map *w, const path &p, new_entry &fresh, void *out_old) noexcept {
    champ_node *n = p.node[p.depth];
    unsigned char *e = entry_at(w, n, p.index);
    const cow_type *vt = w->value_type;
    unsigned char *value = e + w->value_offset;
    if (p.depth < p.owned) {
        if (out_old) std::memcpy(out_old, value, vt->elem_size);
        else type_drop(vt, value);
        std::memcpy(value, fresh.get() + w->value_offset, vt->elem_size);
        fresh.moved();
        return COW_OK;
    }
    // A shared node: its copy takes the key (copied) with the new value;
    // the old value stays with the versions that hold it, so out_old gets a
    // copy of it (and without out_old it is not copied at all).
    cow_status s = fresh.copy_key_of(e);
    if (s != COW_OK) return s;
    // The caller's out_old is written only once nothing can fail.
    scratch old_copy(out_old ? vt->elem_size : 0, vt->elem_align);
    if (out_old) {
        s = old_copy.get() ? type_copy(vt, old_copy.get(), value) : COW_ENOMEM;
        if (s != COW_OK) return s;
    }
    node_edit edit;
    edit.datamap = n->datamap;
    edit.nodemap = n->nodemap;
    edit.drop_entry = edit.add_entry = static_cast<int>(p.index);
    edit.entry = fresh.get();
    write wr(w, p, p.depth);
    s = wr.prepare(edit);
    if (s != COW_OK) {
        if (out_old) type_drop(vt, old_copy.get());
        return s;
    }
    wr.commit(p.depth);
    fresh.moved();
    if (out_old) std::memcpy(out_old, old_copy.get(), vt->elem_size);
    return COW_OK;
}

// Builds the nodes below level `depth` that hold entry x (hash hx, at
// `x_bytes`) and the new entry (hash h): single-child nodes while their
// slots agree, then a node with both, or a collision node when the hashes
// are equal in full. The new entry's bytes are copied in; x is copied with
// the types' copy unless `move_x` (then *x_copy gives where, to undo it).
// Gives the top node.
cow_status push_down(champ_map *w, std::uint32_t depth, std::uint64_t h, const unsigned char *entry,
                     std::uint64_t hx, const unsigned char *x_bytes, bool move_x, node_list &made,
                     champ_node **out, unsigned char **x_copy) noexcept {
    champ_node *top = nullptr, *above = nullptr;
    for (std::uint32_t d = depth + 1;; ++d) {
        bool collision = d == champ_levels;
        std::uint32_t a = collision ? 0 : slot_bit(h, d), b = collision ? 0 : slot_bit(hx, d);
        bool apart = collision || a != b;
        champ_node *n = made.add(apart ? 2 : 0, apart ? 0 : 1);
        if (!n) return COW_ENOMEM;
        if (above) children(w, above)[0] = n;
        else top = n;
        if (!apart) {
            n->nodemap = a;
            above = n;
            continue;
        }
        n->collision = collision;
        n->datamap = collision ? 2 : a | b;
        // Slot order; a collision node keeps x first, the new entry last.
        std::uint32_t xi = collision || b < a ? 0 : 1;
        unsigned char *to = entry_at(w, n, xi);
        if (move_x || w->plain_copy) {
            std::memcpy(to, x_bytes, w->entry_size);
        } else {
            cow_status s = copy_entry(w, x_bytes, to);
            if (s != COW_OK) return s;
            *x_copy = to;
        }
        std::memcpy(entry_at(w, n, 1 - xi), entry, w->entry_size);
        *out = top;
        return COW_OK;
    }
}

// Inserts a key that is not in the map.
cow_status insert_key(champ_map *w, std::uint64_t h, const void *key, std::size_t key_len,
                      new_entry &fresh, const path &p) noexcept {
    bool far = w->mode == key_mode::varlen && key_len > inline_key_bytes;
    key_room room;
    if (far) {
        cow_status s = key_room_prepare(w->keys, &w->keys, key_len,
                                        !key_store_has_room(w->keys, key_len), room);
        if (s != COW_OK) return s;
        fresh.set_far(key_room_address(w->keys, room));
    }
    cow_status s = COW_OK;
    if (!w->root) {
        champ_node *n = node_alloc(w, 1, 0);
        if (!n) {
            key_room_discard(room);
            return COW_ENOMEM;
        }
        std::memcpy(entry_at(w, n, 0), fresh.get(), w->entry_size);
        n->datamap = slot_bit(h, 0);
        w->root = n;
    } else {
        champ_node *n = p.node[p.depth];
        node_edit edit;
        edit.datamap = n->datamap;
        edit.nodemap = n->nodemap;
        node_list made(w);
        unsigned char *x_copy = nullptr;  // a copy of the entry pushed down, to undo
        if (n->collision || !p.has_entry) {
            edit.datamap |= p.slot[p.depth];  // (a collision node counts its entries instead)
            edit.add_entry = static_cast<int>(p.index);
            edit.entry = fresh.get();
        } else {
            // Another key holds the slot: both go one level down.
            const unsigned char *x = entry_at(w, n, p.index);
            bool move_x = p.depth < p.owned;
            champ_node *below = nullptr;
            s = push_down(w, p.depth, h, fresh.get(), entry_hash(w, x), x, move_x, made, &below,
                          &x_copy);
            edit.datamap &= ~p.slot[p.depth];
            edit.nodemap |= p.slot[p.depth];
            edit.drop_entry = static_cast<int>(p.index);
            edit.add_child = static_cast<int>(index_below(n->nodemap, p.slot[p.depth]));
            edit.child = below;
        }
        write wr(w, p, p.depth);
        if (s == COW_OK) s = wr.prepare(edit);
        if (s != COW_OK) {
            key_room_discard(room);
            if (x_copy) drop_entry(w, x_copy);
            return s;
        }
        made.keep();
        wr.commit(p.depth);
    }
    if (far) key_store_place(w->keys, room, key, key_len);
    fresh.moved();
    w->len += 1;
    if (w->mode == key_mode::varlen) w->varkey_bytes += key_len;
    return COW_OK;
}

template <class Edit>
cow_status on_champ(map_rep **slot, Edit edit) noexcept {
    champ_map *w;
    cow_status s = begin_write(as_champ(*slot), &w);
    if (s != COW_OK) return s;
    return finish_write(slot, w, edit(w));
}

cow_status insert(map_rep **slot, const void *key, std::size_t key_len, const void *value,
                  void *out_old, bool *out_replaced) noexcept {
    champ_map *v = as_champ(*slot);
    std::uint64_t h = hash_of_key(v, key, key_len);
    path p;
    bool replacing = false;
    if (v->root) {
        find_path(v, h, key, key_len, p);
        replacing = p.found;
    }
    new_entry fresh(v);
    cow_status s = replacing ? COW_OK : fresh.make_key(key, key_len);
    if (s == COW_OK) s = fresh.make_value(value);
    if (s != COW_OK) return s;
    // Tested after the copies (begin_write): copying the value may have
    // added a reference to this very map.
    s = on_champ(slot, [&](champ_map *w) {
        if (w->root) mark_owned(w, v, p);
        return replacing ? replace_value(w, p, fresh, out_old) : insert_key(w, h, key, key_len, fresh, p);
    });
    if (s == COW_OK && out_replaced) *out_replaced = replacing;
    return s;
}

// Takes the removed entry's value out (into out_value, or dropped) and
// drops its key, when this value alone held its node (the node is about to
// lose the entry's bytes).
void take_out(champ_map *w, unsigned char *e, void *out_value) noexcept {
    unsigned char *value = e + w->value_offset;
    if (out_value) std::memcpy(out_value, value, w->value_type->elem_size);
    else type_drop(w->value_type, value);
    drop_key(w, e);
}

// Removes the entry the path found. A node below the root left with one
// entry and nothing else goes, and its entry moves up into the first node
// above that keeps something else (the canonical shape).
cow_status remove_found(champ_map *w, const path &p, void *out_value) noexcept {
    champ_node *n = p.node[p.depth];
    unsigned char *e = entry_at(w, n, p.index);
    bool own = p.depth < p.owned;
    const cow_type *vt = w->value_type;
    std::size_t key_len = w->mode == key_mode::varlen ? reinterpret_cast<const stored_key *>(e)->len : 0;
    // The version that shares the node keeps the value: out_value gets a
    // copy, written once nothing can fail.
    bool copy_out = !own && out_value;
    scratch out_copy(copy_out ? vt->elem_size : 0, vt->elem_align);
    if (copy_out) {
        cow_status s = out_copy.get() ? type_copy(vt, out_copy.get(), e + w->value_offset) : COW_ENOMEM;
        if (s != COW_OK) return s;
    }
    if (w->len == 1) {  // the last entry: no node is left
        if (own) {
            take_out(w, e, out_value);
            node_free(w, n);
        } else {
            release(w, n);
        }
        w->root = nullptr;
    } else {
        std::uint32_t at = p.depth;
        node_edit edit;
        bool lone = p.depth > 0 && entry_count(n) == 2 && child_count(n) == 0;
        // Room for a copy of the entry that moves up, only where one is made.
        scratch survivor(lone && !own ? w->entry_size : 0, entry_align(w));
        if (!lone) {
            edit.datamap = n->datamap & ~p.slot[p.depth];
            edit.nodemap = n->nodemap;
            edit.drop_entry = static_cast<int>(p.index);
        } else {
            // The other entry moves up, past nodes left with nothing else.
            const unsigned char *other = entry_at(w, n, 1 - p.index);
            if (!own) {
                cow_status s = survivor.get() ? copy_entry(w, other, survivor.get()) : COW_ENOMEM;
                if (s != COW_OK) {
                    if (copy_out) type_drop(vt, out_copy.get());
                    return s;
                }
                other = survivor.get();
            }
            at = p.depth - 1;
            while (at > 0 && entry_count(p.node[at]) == 0 && child_count(p.node[at]) == 1) --at;
            champ_node *keep = p.node[at];
            std::uint32_t bit = p.slot[at];
            edit.datamap = keep->datamap | bit;
            edit.nodemap = keep->nodemap & ~bit;
            edit.drop_child = static_cast<int>(p.child[at]);
            edit.add_entry = static_cast<int>(index_below(keep->datamap, bit));
            edit.entry = other;
        }
        write wr(w, p, at);
        cow_status s = wr.prepare(edit);
        if (s != COW_OK) {
            if (!own && lone) drop_entry(w, survivor.get());
            if (copy_out) type_drop(vt, out_copy.get());
            return s;
        }
        if (own) take_out(w, e, out_value);
        wr.commit(p.depth);
    }
    if (copy_out) std::memcpy(out_value, out_copy.get(), vt->elem_size);
    w->len -= 1;
    if (w->mode == key_mode::varlen) {
        w->varkey_bytes -= key_len;
        if (key_len > inline_key_bytes) w->keys.live_bytes -= key_len;  // its bytes stay behind
    }
    return COW_OK;
}

// The path to key, if the map holds it.
bool find_key(const champ_map *v, const void *key, std::size_t key_len, path &p) noexcept {
    if (!v->root) return false;
    find_path(v, hash_of_key(v, key, key_len), key, key_len, p);
    return p.found;
}

cow_status remove(map_rep **slot, const void *key, std::size_t key_len, void *out_value) noexcept {
    champ_map *v = as_champ(*slot);
    path p;
    if (!find_key(v, key, key_len, p)) return COW_ENOTFOUND;  // nothing copied, even when shared
    return on_champ(slot, [&](champ_map *w) {
        mark_owned(w, v, p);
        return remove_found(w, p, out_value);
    });
}

cow_status get_mut(map_rep **slot, const void *key, std::size_t key_len, void **out_value) noexcept {
    champ_map *v = as_champ(*slot);
    path p;
    if (!find_key(v, key, key_len, p)) return COW_ENOTFOUND;
    return on_champ(slot, [&](champ_map *w) {
        mark_owned(w, v, p);
        champ_node *n = p.node[p.depth];
        if (p.depth >= p.owned) {  // copies of the path's shared nodes, unchanged
            node_edit same;
            same.datamap = n->datamap;
            same.nodemap = n->nodemap;
            write wr(w, p, p.depth);
            cow_status s = wr.prepare(same);
            if (s != COW_OK) return s;
            wr.commit(p.depth);
            n = wr.fresh[p.depth];
        }
        *out_value = entry_at(w, n, p.index) + w->value_offset;
        return COW_OK;
    });
}

cow_status clear(map_rep **slot) noexcept {
    champ_map *v = as_champ(*slot);
    if (v->len == 0) return COW_OK;
    if (rep_is_shared(v)) {
        champ_map *c = alloc_like(v);
        if (!c) return COW_ENOMEM;
        rep_init_copy(c, v, 0, false);
        *slot = c;
        rep_release(v);
        return COW_OK;
    }
    release(v, v->root);
    v->root = nullptr;
    v->len = v->varkey_bytes = 0;
    key_store_release(v->keys);
    return COW_OK;
}

// ---- cursors -------------------------------------------------------------------
// A cursor walks the tree in slot order. path[] keeps where it is: whether
// it started (and ended), the node it is in, that node's depth, the slots
// taken from the root to it (champ_bits bits per level: at most 64 bits,
// the hash's), and the next slot (or collision entry) to look at. Going
// back up finds the parent again from the root: once per node.

enum cursor_word { state, node_word, depth_word, slots_word, next_word };
enum cursor_state : std::uint64_t { fresh_cursor = 0, walking = 1, ended = 2 };

bool next(const map_rep *r, cow_map_cursor *cursor, const void **out_key, std::size_t *out_key_len,
          const void **out_value) noexcept {
    const champ_map *m = as_champ(r);
    std::uint64_t *w = cursor->path;
    if (cursor->size < sizeof(cow_map_cursor) || w[state] == ended) return false;
    if (w[state] == fresh_cursor) {
        if (!m->root) {
            w[state] = ended;
            return false;
        }
        w[state] = walking;
        w[node_word] = reinterpret_cast<std::uintptr_t>(m->root);
        w[depth_word] = w[slots_word] = w[next_word] = 0;
    }
    auto *n = reinterpret_cast<const champ_node *>(static_cast<std::uintptr_t>(w[node_word]));
    auto depth = static_cast<unsigned>(w[depth_word]);
    std::uint64_t slots = w[slots_word], pos = w[next_word];
    for (;;) {
        const unsigned char *e = nullptr;
        if (n->collision) {
            if (pos < n->datamap) e = entry_at(m, n, static_cast<std::uint32_t>(pos++));
        } else {
            bool down = false;
            for (; pos < champ_slots; ++pos) {
                std::uint32_t bit = 1u << pos;
                if (n->datamap & bit) {
                    e = entry_at(m, n, index_below(n->datamap, bit));
                    ++pos;
                    break;
                }
                if (n->nodemap & bit) {
                    slots |= pos << (depth * champ_bits);
                    n = children(m, n)[index_below(n->nodemap, bit)];
                    ++depth;
                    pos = 0;
                    down = true;
                    break;
                }
            }
            if (down) continue;
        }
        if (e) {
            w[node_word] = reinterpret_cast<std::uintptr_t>(n);
            w[depth_word] = depth;
            w[slots_word] = slots;
            w[next_word] = pos;
            const void *key;
            std::size_t key_len;
            key_of_entry(m, e, &key, &key_len);
            if (out_key) *out_key = key;
            if (out_key_len) *out_key_len = key_len;
            if (out_value) *out_value = e + m->value_offset;
            return true;
        }
        if (depth == 0) {
            w[state] = ended;
            return false;
        }
        // Back up: the parent, found from the root, and the slot after ours.
        --depth;
        unsigned shift = depth * champ_bits;
        pos = ((slots >> shift) & slot_mask) + 1;
        slots &= ~(std::uint64_t{slot_mask} << shift);
        n = m->root;
        for (unsigned d = 0; d < depth; ++d) {
            std::uint32_t bit = 1u << ((slots >> (d * champ_bits)) & slot_mask);
            n = children(m, n)[index_below(n->nodemap, bit)];
        }
    }
}

// ---- rep_ops ---------------------------------------------------------------------

cow_status copy(const rep *r, rep **out) noexcept {
    champ_map *w;
    cow_status s = header_sharing_nodes(as_champ(r), &w);
    if (s == COW_OK) *out = w;
    return s;
}

std::size_t value_bytes(const rep *r) noexcept {
    auto *m = as_champ(r);
    return m->len * (m->key_type->elem_size + m->value_type->elem_size) + m->varkey_bytes;
}

std::size_t no_bytes(const rep *) noexcept { return 0; }

void last_handle_released(rep *r) noexcept {
    champ_map *m = as_champ(r);
    rep_retire(m);
    drop_header(m);
}

const map_impl champ_impl = {
    {last_handle_released, copy, value_bytes, nullptr, no_bytes, COW_REPRESENTATION_TREE},
    insert, remove, get_mut, clear, next,
};

}  // namespace

const map_impl &champ_map_ops() noexcept { return champ_impl; }

cow_status champ_map_new(map_rep **out, const cow_type *key_type, const cow_type *value_type,
                         rep_seed &seed) noexcept {
    champ_map shape{};
    cow_status s = entry_layout(shape, key_type, value_type);
    if (s != COW_OK) return s;
    shape.get = get_for(shape.mode);
    std::size_t align = entry_align(&shape);
    shape.node_slack = align > alignof(std::max_align_t) ? align - alignof(std::max_align_t) : 0;
    champ_map *m = alloc_like(&shape);
    if (!m) return COW_ENOMEM;
    rep_init_new(m, COW_KIND_MAP, &champ_impl, seed);
    *out = m;
    return COW_OK;
}

}  // namespace cow::detail
