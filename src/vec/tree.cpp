#include "tree_nodes.hpp"

#include <cstring>
#include <new>
#include <utility>

#include "../alloc.hpp"
#include "../scratch.hpp"
#include "../type.hpp"

namespace cow::detail {
using namespace tree;

namespace {


// ---- paths -------------------------------------------------------------------

// The nodes from the root to the leaf holding element i (< tree_len), and
// which of them this value alone holds (every node above them too).
struct path {
    tree_node *node[max_levels + 1];   // node[0]: the root, node[depth]: the leaf
    std::uint32_t index[max_levels];   // node[d + 1] is child index[d] of node[d]
    bool owned[max_levels + 1];
    std::uint32_t depth;
    std::size_t offset;                // of element i inside the leaf
};

void find_path(const tree_vec *v, std::size_t i, path &p) noexcept {
    tree_node *n = v->root;
    p.depth = v->height;
    bool owned = true;  // writes start from a private header (begin_write)
    for (std::uint32_t d = 0; d < v->height; ++d) {
        owned = owned && is_unique(n);
        p.node[d] = n;
        p.owned[d] = owned;
        std::uint32_t k = child_for(v, as_inner(n), v->height - d, i);
        p.index[d] = k;
        n = as_inner(n)->child[k];
    }
    p.node[v->height] = n;
    p.owned[v->height] = owned && is_unique(n);
    p.offset = i;
}

// ---- the element edits -------------------------------------------------------

enum class leaf_edit { replace, insert, erase, touch };

// What a write needs before it may change anything: every node it will
// allocate, and the new leaf contents (element copies can fail).
struct prepared {
    inner *inners[2 * max_levels + 1];
    std::uint32_t inner_count = 0, inner_used = 0;
    tree_node *leaves[2] = {nullptr, nullptr};  // the new leaf, and its split half
    std::uint32_t leaf_count = 0;
    bool leaves_hold_copies = false;  // true: drop the leaves' elements when undoing
    std::uint64_t nodes_copied = 0, bytes_copied = 0;

    inner *take() noexcept { return inners[inner_used++]; }
};

void undo(const tree_vec *v, prepared &pr) noexcept {
    for (std::uint32_t k = 0; k < pr.inner_count; ++k) inner_free(pr.inners[k]);
    for (tree_node *l : pr.leaves) {
        if (!l) continue;
        if (pr.leaves_hold_copies) type_drop_n(v->type, elems_of(v, l), l->count);
        leaf_free(v, l);
    }
}

// The children a node at some level has after the edit below it: its own
// count plus this delta (-1: a child emptied, +1: a child split).
int outputs_of(std::uint32_t new_count, std::uint32_t limit) noexcept {
    return new_count == 0 ? 0 : new_count > limit ? 2 : 1;
}

constexpr std::uint32_t no_child = ~std::uint32_t{0};

// Fills w with a copy of inner node n: the same children, each with one more
// holder except child `skip` (the caller puts its replacement there; or
// no_child). Counted as one node copy of the write.
void copy_inner(tree_vec *v, const inner *n, inner *w, std::uint32_t skip) noexcept {
    w->count = n->count;
    w->info = n->info;
    for (std::uint32_t j = 0; j < n->count; ++j) {
        w->child[j] = n->child[j];
        w->sizes[j] = n->sizes[j];
        if (j != skip) retain(n->child[j]);
    }
    note_copies(v, 1, n->count * (sizeof(tree_node *) + sizeof(std::size_t)));
}

// The replacement of a child slot: the nodes now in its place.
struct replacement {
    tree_node *node[2];
    std::uint32_t n;
};

// The contents of an edited leaf that is being copied: element j goes to
// left[j] below `keep`, else to right[j - keep] (a leaf that overflowed).
struct leaf_writer {
    const tree_vec *v;
    tree_node *left, *right;
    std::size_t keep;

    unsigned char *at(std::size_t j) const noexcept {
        return j < keep ? elem_in(v, left, j) : elem_in(v, right, j - keep);
    }
    // Copies n elements from src to positions j, j + 1, ...: all or nothing.
    cow_status copy(std::size_t j, const unsigned char *src, std::size_t n) const noexcept {
        std::size_t first = j < keep ? (n < keep - j ? n : keep - j) : 0;
        cow_status s = first ? type_copy_n(v->type, at(j), src, first) : COW_OK;
        if (s != COW_OK || first == n) return s;
        s = type_copy_n(v->type, at(j + first), src + first * v->elem_size, n - first);
        if (s != COW_OK) type_drop_n(v->type, at(j), first);
        return s;
    }
    void drop(std::size_t j, std::size_t n) const noexcept {
        std::size_t first = j < keep ? (n < keep - j ? n : keep - j) : 0;
        if (first) type_drop_n(v->type, at(j), first);
        if (first < n) type_drop_n(v->type, at(j + first), n - first);
    }
};

// Inserts value at off into a full leaf this value alone holds, splitting
// it: the first `keep` elements of the result stay, the rest move to right.
void insert_splitting(const tree_vec *v, tree_node *leaf, tree_node *right, std::size_t off,
                      const void *value, std::size_t keep) noexcept {
    std::size_t es = v->elem_size;
    std::size_t count = leaf->count;  // full
    unsigned char *e = elems_of(v, leaf);
    unsigned char *r = elems_of(v, right);
    if (off < keep) {
        std::memcpy(r, e + (keep - 1) * es, (count - keep + 1) * es);
        std::memmove(e + (off + 1) * es, e + off * es, (keep - 1 - off) * es);
        std::memcpy(e + off * es, value, es);
    } else {
        std::memcpy(r, e + keep * es, (off - keep) * es);
        std::memcpy(r + (off - keep) * es, value, es);
        std::memcpy(r + (off - keep + 1) * es, e + off * es, (count - off) * es);
    }
    leaf->count = static_cast<std::uint32_t>(keep);
    right->count = static_cast<std::uint32_t>(count + 1 - keep);
}

// Splits an inner node that has grown to tree_branches + 1 children.
void split_inner(tree_vec *v, inner *left, inner *right, std::uint32_t height) noexcept {
    std::uint32_t total = left->count;
    std::uint32_t keep = (total + 1) / 2;
    right->count = total - keep;
    for (std::uint32_t k = 0; k < right->count; ++k) right->child[k] = left->child[keep + k];
    left->count = keep;
    resize_from(right, height, 0);
    update_regular(v, left, height);
    update_regular(v, right, height);
}

// Writes replacement r into child slot k of an inner node that the edit
// may change in place (it has room for one more child: tree_branches + 1).
void put_child(inner *n, std::uint32_t height, std::uint32_t k, const replacement &r) noexcept {
    if (r.n == 0) {
        for (std::uint32_t j = k; j + 1 < n->count; ++j) n->child[j] = n->child[j + 1];
        n->count -= 1;
    } else {
        if (r.n == 2) {
            for (std::uint32_t j = n->count; j > k + 1; --j) n->child[j] = n->child[j - 1];
            n->count += 1;
            n->child[k + 1] = r.node[1];
        }
        n->child[k] = r.node[0];
    }
    resize_from(n, height, k);
}

}  // namespace

// The write engine for one element of the tree part: replace (set), insert
// before it, erase it, or touch it (get_mut). Nodes this value alone holds
// change in place; the others are copied, once, with the edit applied.
// Everything that can fail (allocation, element copies) happens before the
// first change. `value` holds the element to store (moved in: a copy the
// caller made), `out` receives the replaced or erased element (moved, or a
// copy when the leaf is shared), `out_ptr` the touched element's address.
static cow_status edit_tree(tree_vec *v, std::size_t i, leaf_edit edit,
                            const void *value, void *out, void **out_ptr) noexcept {
    const cow_type *t = v->type;
    std::size_t es = v->elem_size;
    path p;
    find_path(v, i, p);
    std::uint32_t depth = p.depth;
    tree_node *leaf = p.node[depth];
    bool leaf_owned = p.owned[depth];

    // How many nodes each level produces, bottom-up, and what to allocate.
    prepared pr;
    std::uint32_t leaf_new = leaf->count + (edit == leaf_edit::insert) - (edit == leaf_edit::erase);
    int outs[max_levels + 1];
    outs[depth] = outputs_of(leaf_new, static_cast<std::uint32_t>(leaf_cap(v)));
    std::uint32_t leaves_needed = leaf_owned ? (outs[depth] == 2) : outs[depth];
    std::uint32_t inners_needed = 0;
    int delta = outs[depth] - 1;
    for (std::uint32_t d = depth; d-- > 0;) {
        std::uint32_t c = static_cast<std::uint32_t>(static_cast<int>(p.node[d]->count) + delta);
        outs[d] = outputs_of(c, tree_branches);
        inners_needed += p.owned[d] ? (outs[d] == 2) : static_cast<std::uint32_t>(outs[d]);
        delta = outs[d] - 1;
    }
    if (outs[0] == 2) inners_needed += 1;  // a new root above the split
    for (; pr.inner_count < inners_needed; ++pr.inner_count) {
        pr.inners[pr.inner_count] = inner_alloc(v);
        if (!pr.inners[pr.inner_count]) {
            undo(v, pr);
            return COW_ENOMEM;
        }
    }
    for (; pr.leaf_count < leaves_needed; ++pr.leaf_count) {
        pr.leaves[pr.leaf_count] = leaf_alloc(v);
        if (!pr.leaves[pr.leaf_count]) {
            undo(v, pr);
            return COW_ENOMEM;
        }
    }

    std::size_t off = p.offset;
    bool hands_out = out && (edit == leaf_edit::replace || edit == leaf_edit::erase);
    // Where element j of the edited leaf goes: the first `keep` stay in the
    // first leaf, the rest go to the split half.
    std::size_t keep = outs[depth] == 2 ? (leaf_new + 1) / 2 : leaf_new;
    // A shared leaf: copies of the kept elements into the new leaf (or
    // two), the new value's slot left for later.
    if (!leaf_owned && leaf_new == 0 && hands_out) {
        cow_status s = type_copy(t, out, elem_in(v, leaf, off));
        if (s != COW_OK) {
            undo(v, pr);
            return s;
        }
    }
    if (!leaf_owned && leaf_new > 0) {
        leaf_writer wr{v, pr.leaves[0], pr.leaves[1], keep};
        std::size_t gap = edit == leaf_edit::touch ? leaf->count : off;  // elements before the slot
        std::size_t resume = edit == leaf_edit::insert ? off : off + 1;  // first old element after it
        std::size_t dst_after = edit == leaf_edit::erase ? off : off + 1;
        cow_status s = wr.copy(0, elems_of(v, leaf), gap);
        if (s == COW_OK && edit != leaf_edit::touch) {
            s = wr.copy(dst_after, elem_in(v, leaf, resume), leaf->count - resume);
            if (s != COW_OK) wr.drop(0, gap);
        }
        // The element handed out of a shared leaf is a copy (it stays
        // there), made last so that out changes only on success.
        if (s == COW_OK && hands_out) {
            s = type_copy(t, out, elem_in(v, leaf, off));
            if (s != COW_OK) {
                wr.drop(0, gap);
                if (edit != leaf_edit::touch) wr.drop(dst_after, leaf->count - resume);
            }
        }
        if (s != COW_OK) {
            undo(v, pr);
            return s;
        }
        pr.leaves[0]->count = static_cast<std::uint32_t>(keep);
        if (pr.leaves[1]) pr.leaves[1]->count = static_cast<std::uint32_t>(leaf_new - keep);
        std::size_t copied = leaf_new - (edit == leaf_edit::replace || edit == leaf_edit::insert);
        pr.nodes_copied += 1;
        pr.bytes_copied += copied * es;
    }

    // From here on nothing fails.
    replacement r{};
    if (leaf_owned) {
        unsigned char *at = elem_in(v, leaf, off);
        if (hands_out)
            std::memcpy(out, at, es);
        else if (edit == leaf_edit::replace || edit == leaf_edit::erase)
            type_drop(t, at);
        switch (edit) {
        case leaf_edit::replace: std::memcpy(at, value, es); break;
        case leaf_edit::erase:
            std::memmove(at, at + es, (leaf->count - off - 1) * es);
            leaf->count -= 1;
            break;
        case leaf_edit::insert:
            if (outs[depth] == 2)
                insert_splitting(v, leaf, pr.leaves[0], off, value, keep);
            else {
                std::memmove(at + es, at, (leaf->count - off) * es);
                std::memcpy(at, value, es);
                leaf->count += 1;
            }
            break;
        case leaf_edit::touch: break;
        }
        if (out_ptr) *out_ptr = at;
        if (leaf->count == 0) {
            leaf_free(v, leaf);
            r.n = 0;
        } else if (outs[depth] == 2) {
            r = replacement{{leaf, pr.leaves[0]}, 2};
        } else {
            r = replacement{{leaf, nullptr}, 1};
        }
    } else {
        if (leaf_new == 0) {
            r.n = 0;
        } else {
            leaf_writer wr{v, pr.leaves[0], pr.leaves[1], keep};
            if (edit == leaf_edit::replace || edit == leaf_edit::insert)
                std::memcpy(wr.at(off), value, es);
            if (out_ptr) *out_ptr = wr.at(off);
            r = outs[depth] == 2 ? replacement{{pr.leaves[0], pr.leaves[1]}, 2}
                                 : replacement{{pr.leaves[0], nullptr}, 1};
        }
        // Our reference to the shared leaf goes with the slot it leaves.
        if (depth == 0 || p.owned[depth - 1]) release(v, leaf, 0);
    }
    pr.leaves[0] = pr.leaves[1] = nullptr;  // placed

    // Up the path: each level takes the replacement of its child slot.
    for (std::uint32_t d = depth; d-- > 0;) {
        inner *n = as_inner(p.node[d]);
        std::uint32_t height = depth - d;
        std::uint32_t k = p.index[d];
        inner *w;
        if (r.n == 0 && n->count == 1) {
            // Its only child went: the node goes too (no copy is made).
            if (p.owned[d])
                inner_free(n);
            else if (d == 0 || p.owned[d - 1])
                release(v, n, depth - d);
            continue;
        }
        if (p.owned[d]) {
            w = n;
            // A child replaced by a copy leaves its old self to its other holders.
        } else {
            w = pr.take();
            copy_inner(v, n, w, k);
            if (d == 0 || p.owned[d - 1]) release(v, n, depth - d);
        }
        put_child(w, height, k, r);
        update_regular(v, w, height);
        r = replacement{{w, nullptr}, 1};
        if (w->count > tree_branches) {
            inner *right = pr.take();
            split_inner(v, w, right, height);
            r = replacement{{w, right}, 2};
        }
    }

    // The root slot.
    std::uint32_t height = depth;
    if (r.n == 0) {
        v->root = nullptr;
        v->regular = true;
        v->height = 0;
    } else if (r.n == 1) {
        v->root = r.node[0];
    } else {
        inner *root = pr.take();
        root->count = 2;
        root->child[0] = r.node[0];
        root->child[1] = r.node[1];
        resize_from(root, height + 1, 0);
        update_regular(v, root, height + 1);
        v->root = root;
        height += 1;
    }
    v->height = v->root ? height : 0;
    // A root left with one child gives way to it (the tree gets shallower).
    while (v->root && v->height > 0 && v->root->count == 1 && is_unique(v->root)) {
        inner *old = as_inner(v->root);
        v->root = old->child[0];
        v->height -= 1;
        inner_free(old);
    }
    v->len += static_cast<std::size_t>(edit == leaf_edit::insert);
    v->len -= static_cast<std::size_t>(edit == leaf_edit::erase);
    note_copies(v, pr.nodes_copied, pr.bytes_copied);
    return COW_OK;
}

namespace {

// ---- the tail and the right edge ---------------------------------------------

// Appends a leaf (its reference goes to the tree) at the right end of the
// tree part. Nodes on the right edge that this value alone holds change in
// place; the others are copied.
cow_status push_leaf(tree_vec *v, tree_node *leaf) noexcept {
    if (!v->root) {
        v->root = leaf;
        v->height = 0;
        return COW_OK;
    }
    std::uint32_t h = v->height;
    tree_node *spine[max_levels + 1];
    bool owned[max_levels + 1];
    tree_node *n = v->root;
    bool o = true;  // from the private header down
    std::int64_t room = -1;  // the deepest spine node with room for a child
    for (std::uint32_t d = 0; d < h; ++d) {
        o = o && is_unique(n);
        spine[d] = n;
        owned[d] = o;
        if (n->count < tree_branches) room = d;
        n = as_inner(n)->child[n->count - 1];
    }
    // New nodes: a chain above the leaf down from the node with room (or a
    // new root), and copies of the shared spine nodes above it.
    std::uint32_t top = room < 0 ? 0 : static_cast<std::uint32_t>(room);
    std::uint32_t chain = room < 0 ? h : h - top - 1;
    std::uint32_t copies = 0;
    if (room >= 0)
        for (std::uint32_t d = 0; d <= top; ++d) copies += !owned[d];
    prepared pr;
    std::uint32_t needed = chain + copies + (room < 0);
    for (; pr.inner_count < needed; ++pr.inner_count) {
        pr.inners[pr.inner_count] = inner_alloc(v);
        if (!pr.inners[pr.inner_count]) {
            undo(v, pr);
            return COW_ENOMEM;
        }
    }
    // The chain: single-child nodes from height 1 up to the top's child.
    tree_node *sub = leaf;
    for (std::uint32_t c = 0; c < chain; ++c) {
        inner *w = pr.take();
        w->count = 1;
        w->child[0] = sub;
        w->sizes[0] = leaf->count;
        w->info = 1;
        sub = w;
    }
    std::size_t added = leaf->count;
    if (room < 0) {
        inner *root = pr.take();
        root->count = 2;
        root->child[0] = v->root;  // our reference moves into the new root
        root->child[1] = sub;
        resize_from(root, h + 1, 0);
        update_regular(v, root, h + 1);
        v->root = root;
        v->height = h + 1;
        return COW_OK;
    }
    // Down the spine to the node with room: grow each one's last size.
    inner *parent = nullptr;
    for (std::uint32_t d = 0; d <= top; ++d) {
        inner *s = as_inner(spine[d]);
        inner *w = s;
        std::uint32_t height = h - d;
        if (!owned[d]) {
            w = pr.take();
            // Below the top, the last child is replaced by its own copy.
            copy_inner(v, s, w, d == top ? no_child : s->count - 1);
            if (d == 0 || owned[d - 1]) release(v, s, h - d);
        }
        if (parent)
            parent->child[parent->count - 1] = w;
        else
            v->root = w;
        if (d < top) {
            w->sizes[w->count - 1] += added;
        } else {
            w->child[w->count] = sub;
            w->sizes[w->count] = w->sizes[w->count - 1] + added;
            w->count += 1;
            update_regular(v, w, height);
        }
        parent = w;
    }
    return COW_OK;
}


constexpr std::size_t no_slot = ~std::size_t{0};

// Makes the tail writable, as own_tail, except that a copy leaves slot
// `skip` empty (its element is about to be replaced or removed, and is not
// copied for nothing); *emptied says whether it did. Where the tail is this
// value's alone, slot `skip` still holds its element.
cow_status own_tail_but(tree_vec *w, std::size_t skip, bool *emptied) noexcept {
    tree_node *t = w->tail;
    if (emptied) *emptied = false;
    if (is_unique(t)) return COW_OK;
    tree_node *c = leaf_alloc(w);
    if (!c) return COW_ENOMEM;
    std::size_t before = skip < t->count ? skip : t->count;
    std::size_t after = skip < t->count ? t->count - skip - 1 : 0;
    cow_status s = type_copy_n(w->type, elems_of(w, c), elems_of(w, t), before);
    if (s == COW_OK && after) {
        s = type_copy_n(w->type, elem_in(w, c, skip + 1), elem_in(w, t, skip + 1), after);
        if (s != COW_OK) type_drop_n(w->type, elems_of(w, c), before);
    }
    if (s != COW_OK) {
        leaf_free(w, c);
        return s;
    }
    c->count = t->count;
    if (emptied) *emptied = skip < t->count;
    note_copies(w, 1, (before + after) * w->elem_size);
    release(w, t, 0);  // shared: another holder keeps it
    w->tail = c;
    return COW_OK;
}

// Makes the tail writable: this value's alone (in place) or a copy with
// room for one more element. Fails only on allocation or element copy.
cow_status own_tail(tree_vec *w) noexcept {
    return own_tail_but(w, no_slot, nullptr);
}

// The copy a write stores, made before the sharing test (see flat.cpp's
// insert: a vector of handles stored into itself stores a snapshot).
class element_copy {
public:
    element_copy(const cow_type *t, const void *elem) noexcept : t_(t), buf_(t->elem_size, t->elem_align) {
        if (!buf_.get()) {
            status_ = COW_ENOMEM;
            return;
        }
        status_ = type_copy(t, buf_.get(), elem);
        held_ = status_ == COW_OK;
    }
    ~element_copy() {
        if (held_) type_drop(t_, buf_.get());
    }
    cow_status status() const noexcept { return status_; }
    const void *get() const noexcept { return buf_.get(); }
    void moved() noexcept { held_ = false; }  // the structure owns it now

private:
    const cow_type *t_;
    scratch buf_;
    cow_status status_ = COW_OK;
    bool held_ = false;
};

// Room for one element copied out of a shared leaf before a write that may
// still fail; dropped unless handed over.
class element_holder {
public:
    // Room only when it will be used: a write that hands nothing out must not
    // allocate (nor fail) for it.
    element_holder(const cow_type *t, bool needed) noexcept
        : t_(t), buf_(needed ? t->elem_size : 0, t->elem_align) {}
    ~element_holder() {
        if (held_) type_drop(t_, buf_.get());
    }
    cow_status copy_from(const void *elem) noexcept {
        if (!buf_.get()) return COW_ENOMEM;
        cow_status s = type_copy(t_, buf_.get(), elem);
        held_ = s == COW_OK;
        return s;
    }
    void move_to(void *out) noexcept {
        std::memcpy(out, buf_.get(), t_->elem_size);
        held_ = false;
    }

private:
    const cow_type *t_;
    scratch buf_;
    bool held_ = false;
};

// ---- vec_impl ----------------------------------------------------------------

const void *get(const vec_rep *vr, std::size_t i) noexcept {
    const tree_vec *v = as_tree(vr);
    std::size_t in_tree = tree_len(v);
    if (i >= in_tree) return elem_in(v, v->tail, i - in_tree);
    const tree_node *n = v->root;
    if (v->regular) {  // every node full but the last ones: shifts alone find the leaf
        unsigned shift = v->leaf_bits + v->height * tree_branch_bits;
        for (std::uint32_t h = v->height; h > 0; --h) {
            shift -= tree_branch_bits;
            n = as_inner(n)->child[(i >> shift) & (tree_branches - 1)];
        }
        return elem_in(v, n, i & ((std::size_t{1} << v->leaf_bits) - 1));
    }
    for (std::uint32_t h = v->height; h > 0; --h) {
        const inner *in = as_inner(n);
        n = in->child[child_for(v, in, h, i)];
    }
    return elem_in(v, n, i);
}

// Makes the tail writable and takes its element `off` out: into out
// (moved, or a copy when another version holds the tail) or dropped. The
// slot is then free for the caller. A failure comes before any change.
cow_status take_from_tail(tree_vec *w, std::size_t off, void *out) noexcept {
    // From a shared tail the element goes out as a copy, made first and
    // handed over only once nothing can fail.
    bool copy_out = out && !is_unique(w->tail);
    element_holder old_copy(w->type, copy_out);
    if (copy_out) {
        cow_status s = old_copy.copy_from(elem_in(w, w->tail, off));
        if (s != COW_OK) return s;
    }
    bool emptied;
    cow_status s = own_tail_but(w, off, &emptied);
    if (s != COW_OK) return s;
    unsigned char *at = elem_in(w, w->tail, off);
    if (emptied) {
        if (out) old_copy.move_to(out);
    } else if (out) {
        std::memcpy(out, at, w->elem_size);
    } else {
        type_drop(w->type, at);
    }
    return COW_OK;
}

cow_status set_in(tree_vec *w, std::size_t index, element_copy &value,
                  void *out_old) noexcept {
    std::size_t in_tree = tree_len(w);
    if (index < in_tree) {
        cow_status s = edit_tree(w, index, leaf_edit::replace, value.get(), out_old, nullptr);
        if (s == COW_OK) value.moved();
        return s;
    }
    std::size_t off = index - in_tree;
    cow_status s = take_from_tail(w, off, out_old);
    if (s != COW_OK) return s;
    std::memcpy(elem_in(w, w->tail, off), value.get(), w->elem_size);
    value.moved();
    return COW_OK;
}

cow_status set(vec_rep **slot, std::size_t index, const void *elem, void *out_old) noexcept {
    tree_vec *v = as_tree(*slot);
    element_copy value(v->type, elem);
    if (value.status() != COW_OK) return value.status();
    tree_vec *w;
    cow_status s = begin_write(v, &w);
    if (s != COW_OK) return s;
    s = set_in(w, index, value, out_old);
    return finish_write(slot, w, s);
}

cow_status get_mut(vec_rep **slot, std::size_t index, void **out_elem) noexcept {
    tree_vec *v = as_tree(*slot);
    tree_vec *w;
    cow_status s = begin_write(v, &w);
    if (s != COW_OK) return s;
    std::size_t in_tree = tree_len(w);
    if (index < in_tree) {
        s = edit_tree(w, index, leaf_edit::touch, nullptr, nullptr, out_elem);
    } else {
        s = own_tail(w);
        if (s == COW_OK) *out_elem = elem_in(w, w->tail, index - in_tree);
    }
    return finish_write(slot, w, s);
}

// Appends elements at the end: count values at src, moved in (copies the
// caller made, or plain values), filling the tail and moving each full
// tail into the tree. On failure part-way the elements appended so far
// stay (the caller takes them out again).
cow_status append_moved(tree_vec *w, const unsigned char *src, std::size_t count) noexcept {
    std::size_t cap = leaf_cap(w);
    std::size_t es = w->elem_size;
    while (count > 0) {
        if (w->tail && w->tail->count < cap) {
            cow_status s = own_tail(w);
            if (s != COW_OK) return s;
        } else {
            tree_node *fresh = leaf_alloc(w);
            if (!fresh) return COW_ENOMEM;
            if (w->tail) {
                cow_status s = push_leaf(w, w->tail);
                if (s != COW_OK) {
                    leaf_free(w, fresh);
                    return s;
                }
            }
            w->tail = fresh;
        }
        tree_node *t = w->tail;
        std::size_t n = cap - t->count < count ? cap - t->count : count;
        std::memcpy(elem_in(w, t, t->count), src, n * es);
        t->count += static_cast<std::uint32_t>(n);
        w->len += n;
        src += n * es;
        count -= n;
    }
    return COW_OK;
}


// Allocates ahead the nodes a write of several steps may take (it then
// changes nothing before it has them all), or fails having changed nothing.
cow_status reserve_nodes(tree_vec *w, tree_node_pool &pl, std::size_t leaves,
                         std::size_t inners) noexcept {
    w->pool = &pl;  // end_reservation frees whatever was allocated
    pl.leaves = static_cast<tree_node **>(mem_alloc(leaves * sizeof(tree_node *)));
    pl.inners = static_cast<tree_node **>(mem_alloc(inners * sizeof(tree_node *)));
    if (!pl.leaves || !pl.inners) return COW_ENOMEM;
    while (pl.leaf_count < leaves) {
        tree_node *n = leaf_alloc_new(w);
        if (!n) return COW_ENOMEM;
        pl.leaves[pl.leaf_count++] = n;
    }
    while (pl.inner_count < inners) {
        tree_node *n = inner_alloc_new();
        if (!n) return COW_ENOMEM;
        pl.inners[pl.inner_count++] = n;
    }
    return COW_OK;
}

// Frees the reserved nodes the write did not take, and ends the reservation.
void end_reservation(tree_vec *w, tree_node_pool &pl, std::size_t leaves, std::size_t inners) noexcept {
    for (std::size_t k = pl.leaf_used; k < pl.leaf_count; ++k) leaf_free(w, pl.leaves[k]);
    for (std::size_t k = pl.inner_used; k < pl.inner_count; ++k) inner_free(as_inner(pl.inners[k]));
    if (pl.leaves) mem_free(pl.leaves, leaves * sizeof(tree_node *));
    if (pl.inners) mem_free(pl.inners, inners * sizeof(tree_node *));
    w->pool = nullptr;
}

// Inserts the moved-in value before `at`.
cow_status insert_one(tree_vec *w, std::size_t at, const void *value) noexcept {
    if (at == w->len) return append_moved(w, static_cast<const unsigned char *>(value), 1);
    std::size_t in_tree = tree_len(w);
    if (at < in_tree) return edit_tree(w, at, leaf_edit::insert, value, nullptr, nullptr);
    // Inside the tail: a full tail first moves into the tree, made this
    // value's alone first (the copy is the step that can fail; the nodes the
    // rest takes are reserved by the caller).
    if (w->tail->count == leaf_cap(w)) {
        cow_status s = own_tail(w);
        if (s != COW_OK) return s;
        s = push_leaf(w, w->tail);
        if (s != COW_OK) return s;
        w->tail = nullptr;
        return insert_one(w, at, value);
    }
    cow_status s = own_tail(w);
    if (s != COW_OK) return s;
    std::size_t off = at - in_tree;
    unsigned char *p = elem_in(w, w->tail, off);
    std::memmove(p + w->elem_size, p, (w->tail->count - off) * w->elem_size);
    std::memcpy(p, value, w->elem_size);
    w->tail->count += 1;
    w->len += 1;
    return COW_OK;
}

// Removes element `index` into out (moved, or a copy of a shared one) or
// drops it. On nodes this value alone holds it allocates nothing and
// cannot fail.
cow_status erase_one(tree_vec *w, std::size_t index, void *out) noexcept {
    std::size_t in_tree = tree_len(w);
    if (index < in_tree) return edit_tree(w, index, leaf_edit::erase, nullptr, out, nullptr);
    std::size_t off = index - in_tree;
    cow_status s = take_from_tail(w, off, out);
    if (s != COW_OK) return s;
    tree_node *t = w->tail;
    unsigned char *p = elem_in(w, t, off);
    std::memmove(p, p + w->elem_size, (t->count - off - 1) * w->elem_size);
    t->count -= 1;
    w->len -= 1;
    if (t->count == 0) {
        leaf_free(w, t);
        w->tail = nullptr;
    }
    return COW_OK;
}

cow_status insert(vec_rep **slot, std::size_t at, const void *elems, std::size_t count) noexcept {
    tree_vec *v = as_tree(*slot);
    const cow_type *t = v->type;
    std::size_t es = v->elem_size;
    std::size_t new_len;
    if (!add_size(v->len, count, new_len) || new_len > max_alloc / es) return COW_EOVERFLOW;
    if (count == 0) return COW_OK;
    // The copies are made first, before the sharing test (a vector of
    // handles inserted into itself stores a snapshot: see flat.cpp), then
    // moved in. Plain values are staged too when they go into the middle,
    // where the elements they may point at are about to move; appended,
    // they are moved in from elems directly.
    bool stage = t->copy || at != v->len;
    scratch staged(stage ? count * es : 0, t->elem_align);
    if (stage) {
        if (!staged.get()) return COW_ENOMEM;
        cow_status s = type_copy_n(t, staged.get(), elems, count);
        if (s != COW_OK) return s;
    }
    auto *src = stage ? staged.get() : static_cast<const unsigned char *>(elems);
    tree_vec *w = nullptr;
    cow_status s = begin_write(v, &w);
    if (s != COW_OK) {
        if (stage && t->copy) type_drop_n(t, staged.get(), count);
        return s;
    }
    // A write of several steps (a run appended leaf by leaf; an insert into
    // a full tail, which first moves into the tree) reserves every node it
    // may take, so that nothing can fail once it has changed something: a
    // failed call leaves even the allocations as they were.
    std::size_t cap = leaf_cap(w);
    bool steps = count > 1 || (at != w->len && at >= tree_len(w) && w->tail->count == cap);
    tree_node_pool pool;
    std::size_t res_leaves = 0, res_inners = 0;
    if (steps) {
        // Leaves: a copy of a shared tail, and the new ones. Inner nodes:
        // copies of the right edge (once), one per branches - 1 leaves moved
        // into the tree, and the chain and new roots of levels added.
        std::size_t room = w->tail ? cap - w->tail->count : 0;
        std::size_t fresh = count > room ? (count - room + cap - 1) / cap : 0;
        std::size_t levels_added = 1;
        for (std::size_t reach = full_size(w, w->height); reach < w->len + count;
             reach <<= tree_branch_bits)
            ++levels_added;
        res_leaves = fresh + 2;
        res_inners = 2 * (w->height + levels_added + 1) + (fresh + 1) / (tree_branches - 1) + 1;
        s = reserve_nodes(w, pool, res_leaves, res_inners);
    }
    std::size_t done = 0;
    if (s != COW_OK) {
        // nothing inserted
    } else if (at == v->len) {
        std::size_t before = w->len;
        s = append_moved(w, src, count);
        done = w->len - before;
    } else if (s == COW_OK) {
        for (; done < count; ++done) {
            s = insert_one(w, at + done, src + done * es);
            if (s != COW_OK) break;
        }
    }
    if (steps) end_reservation(w, pool, res_leaves, res_inners);
    if (s == COW_OK) return finish_write(slot, w, s);
    // Only the first step can fail: nothing was moved in. (A shared value's
    // write went to a new header, which goes.) Should a reservation ever
    // fall short, what was inserted is taken out again: on nodes this value
    // alone holds by now, erasing cannot fail.
    if (w == v)
        for (std::size_t k = 0; k < done; ++k) erase_one(w, at, nullptr);
    if (stage && t->copy) type_drop_n(t, staged.get() + done * es, count - done);
    return finish_write(slot, w, s);
}

// Drops every element: a value with nothing in it.
void clear_all(tree_vec *w) noexcept {
    if (w->root) release(w, w->root, w->height);
    if (w->tail) release(w, w->tail, 0);
    w->root = w->tail = nullptr;
    w->height = 0;
    w->len = 0;
    w->regular = true;
}

// Whether this value alone holds the nodes holding elements [lo, hi) of
// the subtree under n, and n itself.
bool subtree_owned(const tree_node *n, std::uint32_t height, std::size_t lo, std::size_t hi) noexcept {
    if (!is_unique(n)) return false;
    if (height == 0) return true;
    const inner *in = as_inner(n);
    std::size_t start = 0;
    for (std::uint32_t k = 0; k < in->count && start < hi; ++k) {
        std::size_t end = in->sizes[k];
        if (end > lo &&
            !subtree_owned(in->child[k], height - 1, lo > start ? lo - start : 0,
                           (hi < end ? hi : end) - start))
            return false;
        start = end;
    }
    return true;
}

// Whether a unique value alone holds every node holding elements [lo, hi).
bool range_owned(const tree_vec *v, std::size_t lo, std::size_t hi) noexcept {
    std::size_t in_tree = tree_len(v);
    if (lo < in_tree && !subtree_owned(v->root, v->height, lo, hi < in_tree ? hi : in_tree))
        return false;
    return hi <= in_tree || is_unique(v->tail);
}

cow_status remove(vec_rep **slot, std::size_t at, std::size_t count, void *out) noexcept {
    tree_vec *v = as_tree(*slot);
    if (count == 0) return COW_OK;
    tree_vec *w;
    cow_status s = begin_write(v, &w);
    if (s != COW_OK) return s;
    if (count == 1) return finish_write(slot, w, erase_one(w, at, out));
    if (at == 0 && count == w->len && !out) {
        clear_all(w);
        return finish_write(slot, w, COW_OK);
    }
    // Several elements, one at a time. Where this value alone holds every
    // node they are in (and every node above), erasing allocates nothing and
    // cannot fail: in place. Otherwise a failure part-way (copying a node
    // another version holds) must leave the value as it was, so a unique
    // value's removals go to a new header sharing its nodes.
    bool successor = w == v && !range_owned(v, at, at + count);
    if (successor) {
        s = header_sharing_nodes(v, &w);
        if (s != COW_OK) return s;
    }
    std::size_t es = w->elem_size;
    std::size_t done = 0;
    for (; done < count; ++done) {
        s = erase_one(w, at, out ? static_cast<unsigned char *>(out) + done * es : nullptr);
        if (s != COW_OK) break;
    }
    if (s != COW_OK && out) type_drop_n(w->type, out, done);  // copies: the originals stay
    return successor ? finish_on_header(v, w, s) : finish_write(slot, w, s);
}

cow_status make_mut(vec_rep **slot, void **out_data) noexcept {
    // A tree has no contiguous elements, and is never flattened.
    if (out_data) return COW_ENOTCONTIGUOUS;
    tree_vec *w;
    cow_status s = begin_write(as_tree(*slot), &w);
    if (s != COW_OK) return s;
    return finish_write(slot, w, COW_OK);
}

cow_status reserve(vec_rep **slot, std::size_t additional) noexcept {
    std::size_t need;
    if (!add_size((*slot)->len, additional, need) || need > max_alloc / (*slot)->elem_size)
        return COW_EOVERFLOW;
    return make_mut(slot, nullptr);  // a tree reserves nothing else
}


// The cursor's path[] caches where the last span came from: the inner node
// above its leaf, so that the next span is that node's next child, found
// without going down from the root. It holds while the cursor walks on
// (next where the last span ended) over the same tree; cow_vec_cursor_init
// clears path[0], and anything else (a caller's own next, the tail, the
// last child of a node) goes down from the root: O(log n) per
// tree_branches leaves.
enum cursor_slot : unsigned {
    cached_root,    // the root the cache was made for (0: none)
    cached_parent,  // the inner node above the last leaf
    cached_start,   // index of that node's first element
    cached_child,   // which of its children the last leaf is
    cached_end,     // where the last span ended
};

// The leaf holding element i (< tree_len) with the inner node above it, its
// first element's index and the leaf's place in it (height >= 1).
const tree_node *leaf_and_parent(const tree_vec *v, std::size_t i, const inner *&parent,
                                 std::size_t &parent_start, std::uint32_t &child) noexcept {
    const tree_node *n = v->root;
    std::size_t start = 0;
    for (std::uint32_t h = v->height; h > 0; --h) {
        const inner *in = as_inner(n);
        std::size_t before = i;
        std::uint32_t k = child_for(v, in, h, i);
        if (h == 1) {
            parent = in;
            parent_start = start;
            child = k;
        }
        start += before - i;
        n = in->child[k];
    }
    return n;
}

bool next_span(const vec_rep *vr, cow_vec_cursor *cursor, const void **out_data,
               std::size_t *out_count) noexcept {
    const tree_vec *v = as_tree(vr);
    std::size_t i = cursor->next;
    std::uint64_t *c = cursor->path;
    auto root_tag = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(v->root));
    if (i < tree_len(v) && v->height > 0) {
        const inner *parent = nullptr;
        std::size_t start = 0;
        std::uint32_t k = 0;
        const tree_node *leaf;
        if (c[cached_root] == root_tag && c[cached_end] == i &&
            c[cached_child] + 1 < reinterpret_cast<const inner *>(c[cached_parent])->count) {
            parent = reinterpret_cast<const inner *>(c[cached_parent]);
            start = c[cached_start];
            k = static_cast<std::uint32_t>(c[cached_child]) + 1;
            leaf = parent->child[k];
        } else {
            leaf = leaf_and_parent(v, i, parent, start, k);
        }
        std::size_t leaf_start = start + (k ? parent->sizes[k - 1] : 0);
        *out_data = elem_in(v, leaf, i - leaf_start);
        *out_count = leaf->count - (i - leaf_start);
        cursor->next = leaf_start + leaf->count;
        c[cached_root] = root_tag;
        c[cached_parent] = reinterpret_cast<std::uintptr_t>(parent);
        c[cached_start] = start;
        c[cached_child] = k;
        c[cached_end] = cursor->next;
        return true;
    }
    const tree_node *leaf = leaf_at(v, i);
    *out_data = elem_in(v, leaf, i);
    *out_count = leaf->count - i;
    cursor->next += leaf->count - i;
    return true;
}

// cow_vec_into on a tree walks the value three times over the same
// decisions. Walk 1 pins each subtree another version holds too (one
// reference more, so that it stays shared whatever other threads release)
// and copies its elements; the rest is this value's alone and stays so.
// Walk 2 moves the value's own leaves; walk 3 frees its own nodes without
// their moved elements, and each pinned subtree loses the pin and the
// value's reference.

// A leaf this value alone holds (and every node above it) or not, decided
// once: walk 1 pins the shared subtrees, so the answer cannot change.
template <class Leaf, class Shared>
void visit(const tree_vec *v, tree_node *n, std::uint32_t height, bool owned, std::size_t &at,
           Leaf &&leaf, Shared &&shared) noexcept {
    owned = owned && is_unique(n);
    std::size_t size = size_of(n, height);
    if (!owned) {
        shared(n, height, at);
        at += size;
        return;
    }
    if (height == 0) {
        leaf(n, at);
        at += size;
        return;
    }
    inner *in = as_inner(n);
    for (std::uint32_t k = 0; k < in->count; ++k) visit(v, in->child[k], height - 1, true, at, leaf, shared);
}

// Copies every element of a subtree into data from position at on.
cow_status copy_subtree(const tree_vec *v, tree_node *n, std::uint32_t height, unsigned char *data,
                        std::size_t &at) noexcept {
    if (height == 0) {
        cow_status s = type_copy_n(v->type, data + at * v->elem_size, elems_of(v, n), n->count);
        if (s == COW_OK) at += n->count;
        return s;
    }
    inner *in = as_inner(n);
    for (std::uint32_t k = 0; k < in->count; ++k) {
        cow_status s = copy_subtree(v, in->child[k], height - 1, data, at);
        if (s != COW_OK) return s;
    }
    return COW_OK;
}

// Frees the nodes of a value this value alone holds without dropping leaf
// elements (they were moved out); pinned subtrees lose pin and reference.
void free_moved(const tree_vec *v, tree_node *n, std::uint32_t height, bool owned) noexcept {
    owned = owned && is_unique(n);
    if (!owned) {
        release(v, n, height);  // the pin
        release(v, n, height);  // the value's reference
        return;
    }
    if (height == 0) {
        leaf_free(v, n);
        return;
    }
    inner *in = as_inner(n);
    for (std::uint32_t k = 0; k < in->count; ++k) free_moved(v, in->child[k], height - 1, true);
    inner_free(in);
}

cow_status into(vec_rep **slot, cow_owned *out) noexcept {
    tree_vec *v = as_tree(*slot);
    const cow_type *t = v->type;
    std::size_t es = v->elem_size;
    bool unique = !rep_is_shared(v);
    // One aligned block of at least one element (data is never NULL).
    std::size_t n = v->len ? v->len : 1;
    std::size_t pad = t->elem_align > alignof(std::max_align_t) ? t->elem_align - 1 : 0;
    std::size_t size = n * es + pad;
    void *block = mem_alloc(size);
    if (!block) return COW_ENOMEM;
    auto addr = reinterpret_cast<std::uintptr_t>(block);
    std::size_t offset = static_cast<std::size_t>(-addr & (t->elem_align - 1));
    unsigned char *data = static_cast<unsigned char *>(block) + offset;

    // The parts: the tree, then the tail (a leaf of its own).
    struct part {
        tree_node *node;
        std::uint32_t height;
    } parts[2] = {{v->root, v->height}, {v->tail, 0}};

    // Walk 1: pin and copy what others hold too. Copies can fail.
    cow_status s = COW_OK;
    std::size_t at = 0, copied_until = 0;
    std::size_t pinned = 0;  // pins made, in order
    for (auto &p : parts) {
        if (!p.node || s != COW_OK) continue;
        visit(v, p.node, p.height, unique, at, [](tree_node *, std::size_t) {},
              [&](tree_node *sn, std::uint32_t h, std::size_t start) {
                  if (s != COW_OK) return;
                  retain(sn);
                  ++pinned;
                  std::size_t pos = start;
                  s = copy_subtree(v, sn, h, data, pos);
                  copied_until = pos;  // copies of [start, pos) exist
                  if (s == COW_OK) return;
                  copied_until = start;
                  // The leaves copied before the failing one go now.
                  if (pos > start) type_drop_n(t, data + start * es, pos - start);
              });
    }
    if (s != COW_OK) {
        // Take back the pins and the copies of the subtrees before the failure.
        std::size_t undone = 0;
        at = 0;
        for (auto &p : parts) {
            if (!p.node || undone == pinned) continue;
            visit(v, p.node, p.height, unique, at, [](tree_node *, std::size_t) {},
                  [&](tree_node *sn, std::uint32_t h, std::size_t start) {
                      if (undone == pinned) return;
                      ++undone;
                      if (start < copied_until) type_drop_n(t, data + start * es, size_of(sn, h));
                      release(v, sn, h);  // the pin
                  });
        }
        mem_free(block, size);
        return s;
    }
    // Walk 2: move the value's own leaves. Nothing fails from here on.
    at = 0;
    for (auto &p : parts) {
        if (!p.node) continue;
        visit(v, p.node, p.height, unique, at,
              [&](tree_node *leaf, std::size_t start) {
                  std::memcpy(data + start * es, elems_of(v, leaf), leaf->count * es);
              },
              [](tree_node *, std::uint32_t, std::size_t) {});
    }
    *out = cow_owned{data, v->len, size, offset};
    // Walk 3: free what the value alone held; pinned subtrees lose the pin
    // and the value's reference (or, for a shared value, nothing was moved
    // or pinned and the handle is simply released below).
    if (unique) {
        for (auto &p : parts)
            if (p.node) free_moved(v, p.node, p.height, true);
        v->root = v->tail = nullptr;
        v->len = 0;
    } else {
        for (auto &p : parts)
            if (p.node) release(v, p.node, p.height);  // the pins: the whole tree was pinned
        // (walk 1 pinned each part's root: nothing of a shared value is its own)
    }
    *slot = nullptr;
    rep_release(v);
    return COW_OK;
}

cow_status copy(const rep *r, rep **out) noexcept {
    tree_vec *w;
    cow_status s = header_sharing_nodes(static_cast<const tree_vec *>(r), &w);
    if (s == COW_OK) *out = w;
    return s;
}

std::size_t value_bytes(const rep *r) noexcept {
    auto *v = static_cast<const vec_rep *>(r);
    return v->len * v->elem_size;
}

std::size_t no_bytes(const rep *) noexcept { return 0; }

void last_handle_released(rep *r) noexcept {
    tree_vec *v = static_cast<tree_vec *>(r);
    rep_retire(v);
    drop_header(v);
}

// A push into a tail with room that this value alone holds, of a type
// without a copy callback, is one store; anything else is an insert.
cow_status push(vec_rep **slot, const void *elem) noexcept {
    tree_vec *v = as_tree(*slot);
    tree_node *t = v->tail;
    if (t && t->count < leaf_cap(v) && !v->type->copy && !rep_is_shared(v) && is_unique(t)) {
        std::memcpy(elem_in(v, t, t->count), elem, v->elem_size);
        t->count += 1;
        v->len += 1;
        return COW_OK;
    }
    return insert(slot, v->len, elem, 1);
}

const vec_impl tree_impl = {
    {last_handle_released, copy, value_bytes, nullptr, no_bytes, COW_REPRESENTATION_TREE},
    get, get_mut, insert, push, remove, set, reserve, make_mut, next_span, into,
};

}  // namespace

const vec_impl &tree_vec_ops() noexcept { return tree_impl; }

cow_status tree_vec_new(vec_rep **out, const cow_type *t, const void *elems, std::size_t count,
                        rep_seed &seed) noexcept {
    void *m = mem_alloc(sizeof(tree_vec));
    if (!m) return COW_ENOMEM;
    auto *v = new (m) tree_vec();
    v->flat = nullptr;
    v->flat_len = v->flat_cap = 0;
    v->type = t;
    v->elem_size = t->elem_size;
    v->len = 0;
    v->root = v->tail = nullptr;
    v->height = 0;
    v->regular = true;
    std::uint32_t bits = 0;
    while ((std::size_t{2} << bits) * t->elem_size <= tree_leaf_bytes) ++bits;
    v->leaf_bits = bits;
    std::size_t align = node_align(t);
    v->leaf_offset = (sizeof(tree_node) + align - 1) & ~(align - 1);
    v->leaf_block = v->leaf_offset + (std::size_t{1} << bits) * t->elem_size +
                    (align - alignof(std::max_align_t));
    if (count) {
        cow_status s;
        if (t->copy) {
            // Copies first, moved in leaf by leaf; on failure the tree drops
            // what it took and the rest is dropped here.
            scratch staged(count * t->elem_size, t->elem_align);
            s = staged.get() ? type_copy_n(t, staged.get(), elems, count) : COW_ENOMEM;
            if (s == COW_OK) {
                s = append_moved(v, staged.get(), count);
                if (s != COW_OK) type_drop_n(t, staged.get() + v->len * t->elem_size, count - v->len);
            }
        } else {
            s = append_moved(v, static_cast<const unsigned char *>(elems), count);
        }
        if (s != COW_OK) {
            drop_header(v);
            return s;
        }
    }
    rep_init_new(v, COW_KIND_VEC, &tree_impl, seed);
    *out = v;
    return COW_OK;
}

}  // namespace cow::detail
