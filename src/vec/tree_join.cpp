// Slicing and joining trees without copying what they share. Both build
// their result from new nodes along the boundaries (at most two leaves and
// the inner nodes above them per boundary) and take one more reference to
// every subtree they keep whole, so they cost O(log n) nodes, and the
// operands are never changed: a failure releases what was built, and
// nothing else happened.
#include "tree_nodes.hpp"

namespace cow::detail {
using namespace tree;

namespace {

// A new leaf holding copies of elements [lo, hi) of leaf n.
cow_status copy_leaf_range(tree_vec *r, const tree_node *n, std::size_t lo, std::size_t hi,
                           tree_node **out) noexcept {
    tree_node *leaf = leaf_alloc(r);
    if (!leaf) return COW_ENOMEM;
    cow_status s = type_copy_n(r->type, elems_of(r, leaf), elem_in(r, n, lo), hi - lo);
    if (s != COW_OK) {
        leaf_free(r, leaf);
        return s;
    }
    leaf->count = static_cast<std::uint32_t>(hi - lo);
    note_copies(r, 1, (hi - lo) * r->elem_size);
    *out = leaf;
    return COW_OK;
}

// A new inner node of the given height holding kids[0..count): one
// reference each, which the node takes over. nullptr when out of memory
// (the references are then released).
inner *inner_of(tree_vec *r, tree_node *const *kids, std::uint32_t count,
                std::uint32_t height) noexcept {
    inner *n = inner_alloc(r);
    if (!n) {
        for (std::uint32_t k = 0; k < count; ++k) release(r, kids[k], height - 1);
        return nullptr;
    }
    n->count = count;
    for (std::uint32_t k = 0; k < count; ++k) n->child[k] = kids[k];
    resize_from(n, height, 0);
    update_regular(r, n, height);
    note_copies(r, 1, count * (sizeof(tree_node *) + sizeof(std::size_t)));
    return n;
}

// ---- slicing -------------------------------------------------------------------

enum class side { left, right };

// The subtree under n (of this height) without its first `cut` elements
// (side::left) or cut down to its first `cut` elements (side::right), same
// height, in *out with one reference. The whole of n is n itself.
cow_status trim(tree_vec *r, const tree_node *n, std::uint32_t height, side which,
                std::size_t cut, tree_node **out) noexcept {
    std::size_t size = size_of(n, height);
    if ((which == side::left && cut == 0) || (which == side::right && cut == size)) {
        auto *whole = const_cast<tree_node *>(n);
        retain(whole);
        *out = whole;
        return COW_OK;
    }
    if (height == 0)
        return which == side::left ? copy_leaf_range(r, n, cut, size, out)
                                   : copy_leaf_range(r, n, 0, cut, out);
    const inner *in = as_inner(n);
    // The child the cut falls in: the first one kept (left) or the last (right).
    std::size_t i = which == side::left ? cut : cut - 1;
    std::uint32_t k = child_for(r, in, height, i);
    std::size_t before = k ? in->sizes[k - 1] : 0;
    tree_node *kids[tree_branches];
    std::uint32_t count = 0;
    tree_node *edge;
    cow_status s = trim(r, in->child[k], height - 1, which, cut - before, &edge);
    if (s != COW_OK) return s;
    std::uint32_t first = which == side::left ? k : 0;
    std::uint32_t last = which == side::left ? in->count - 1 : k;
    for (std::uint32_t j = first; j <= last; ++j) {
        if (j == k) {
            kids[count++] = edge;
        } else {
            retain(in->child[j]);
            kids[count++] = in->child[j];
        }
    }
    inner *w = inner_of(r, kids, count, height);
    if (!w) return COW_ENOMEM;
    *out = w;
    return COW_OK;
}

// Elements [lo, hi) of the subtree under n (0 <= lo < hi <= its size), in
// *out with one reference, at the lowest height that holds them: a range
// inside one child is that child's slice.
cow_status slice_subtree(tree_vec *r, const tree_node *n, std::uint32_t height, std::size_t lo,
                         std::size_t hi, tree_node **out, std::uint32_t *out_height) noexcept {
    for (;;) {
        if (height == 0) {
            *out_height = 0;
            if (lo == 0 && hi == n->count) {
                auto *whole = const_cast<tree_node *>(n);
                retain(whole);
                *out = whole;
                return COW_OK;
            }
            return copy_leaf_range(r, n, lo, hi, out);
        }
        const inner *in = as_inner(n);
        std::size_t a = lo, b = hi - 1;
        std::uint32_t ka = child_for(r, in, height, a);
        std::uint32_t kb = child_for(r, in, height, b);
        if (ka == kb) {
            // One child holds the range: go down (the result is shallower).
            n = in->child[ka];
            lo = a;
            hi = b + 1;
            height -= 1;
            continue;
        }
        *out_height = height;
        if (lo == 0 && hi == size_of(n, height)) {
            auto *whole = const_cast<tree_node *>(n);
            retain(whole);
            *out = whole;
            return COW_OK;
        }
        tree_node *left, *right;
        cow_status s = trim(r, in->child[ka], height - 1, side::left, a, &left);
        if (s != COW_OK) return s;
        s = trim(r, in->child[kb], height - 1, side::right, b + 1, &right);
        if (s != COW_OK) {
            release(r, left, height - 1);
            return s;
        }
        tree_node *kids[tree_branches];
        std::uint32_t count = 0;
        kids[count++] = left;
        for (std::uint32_t j = ka + 1; j < kb; ++j) {
            retain(in->child[j]);
            kids[count++] = in->child[j];
        }
        kids[count++] = right;
        inner *w = inner_of(r, kids, count, height);
        if (!w) return COW_ENOMEM;
        *out = w;
        return COW_OK;
    }
}

// ---- joining -------------------------------------------------------------------

// Up to three nodes of one height, each with one reference held here.
struct node_run {
    tree_node *node[3];
    std::uint32_t count = 0;
};

void release_run(const tree_vec *r, node_run &run, std::uint32_t height) noexcept {
    for (std::uint32_t k = 0; k < run.count; ++k) release(r, run.node[k], height);
    run.count = 0;
}

// The leaves a, b, c (any may be nullptr) in order, neighbours merged into
// one new leaf where they fit together, the others kept as they are.
cow_status join_leaves(tree_vec *r, tree_node *const (&in)[3], node_run &out) noexcept {
    std::size_t cap = leaf_cap(r);
    // Groups of consecutive leaves, each to become one leaf.
    tree_node *group[3][3];
    std::uint32_t members[3] = {0, 0, 0}, groups = 0;
    std::size_t filled = 0;
    for (tree_node *leaf : in) {
        if (!leaf) continue;
        if (groups == 0 || filled + leaf->count > cap) {
            groups += 1;
            filled = 0;
        }
        group[groups - 1][members[groups - 1]++] = leaf;
        filled += leaf->count;
    }
    for (std::uint32_t g = 0; g < groups; ++g) {
        if (members[g] == 1) {
            retain(group[g][0]);
            out.node[out.count++] = group[g][0];
            continue;
        }
        tree_node *merged = leaf_alloc(r);
        cow_status s = merged ? COW_OK : COW_ENOMEM;
        std::size_t at = 0;
        for (std::uint32_t m = 0; m < members[g] && s == COW_OK; ++m) {
            tree_node *from = group[g][m];
            s = type_copy_n(r->type, elem_in(r, merged, at), elems_of(r, from), from->count);
            if (s == COW_OK) at += from->count;
        }
        if (s != COW_OK) {
            if (merged) {
                type_drop_n(r->type, elems_of(r, merged), at);
                leaf_free(r, merged);
            }
            release_run(r, out, 0);
            return s;
        }
        merged->count = static_cast<std::uint32_t>(at);
        note_copies(r, 1, at * r->elem_size);
        out.node[out.count++] = merged;
    }
    return COW_OK;
}

// Whether kids[0..count) are exactly the children of n.
bool same_children(const tree_node *n, tree_node *const *kids, std::uint32_t count) noexcept {
    if (!n || n->count != count) return false;
    const inner *in = as_inner(n);
    for (std::uint32_t k = 0; k < count; ++k)
        if (in->child[k] != kids[k]) return false;
    return true;
}

// The children of a level being rebuilt: references the join made (owned),
// and children of l or rt it has not taken a reference to yet.
struct kid_list {
    tree_node *node[3 * tree_branches];
    bool owned[3 * tree_branches];
    std::uint32_t count = 0;

    void add(tree_node *n, bool made) noexcept {
        node[count] = n;
        owned[count++] = made;
    }
    // Drops the references this list holds in [from, to).
    void release_owned(const tree_vec *r, std::uint32_t from, std::uint32_t to,
                       std::uint32_t height) noexcept {
        for (std::uint32_t k = from; k < to; ++k)
            if (owned[k]) release(r, node[k], height);
    }
};

// Nodes of this height holding the kids in order, filling each node before
// the next. A node whose children would be exactly those of l or of rt is l
// or rt itself, shared (one reference to it, none to its children); a new
// node takes a reference to each child the list does not own yet.
cow_status pack(tree_vec *r, kid_list &kids, std::uint32_t height, const tree_node *l,
                const tree_node *rt, node_run &out) noexcept {
    std::uint32_t done = 0;
    while (done < kids.count) {
        std::uint32_t n = kids.count - done < tree_branches ? kids.count - done : tree_branches;
        tree_node **part = kids.node + done;
        const tree_node *same = same_children(l, part, n) ? l : same_children(rt, part, n) ? rt : nullptr;
        if (same) {
            auto *whole = const_cast<tree_node *>(same);
            retain(whole);
            kids.release_owned(r, done, done + n, height - 1);
            out.node[out.count++] = whole;
        } else {
            for (std::uint32_t k = done; k < done + n; ++k)
                if (!kids.owned[k]) retain(kids.node[k]);
            inner *w = inner_of(r, part, n, height);  // releases them on failure
            if (!w) {
                kids.release_owned(r, done + n, kids.count, height - 1);
                release_run(r, out, height);
                return COW_ENOMEM;
            }
            out.node[out.count++] = w;
        }
        done += n;
    }
    return COW_OK;
}

// The subtrees l (height hl) and rt (height hr) joined, with the leaf mid
// (or nullptr) between them: nodes of height max(hl, hr) in out. Only the
// nodes along l's right edge and rt's left edge are rebuilt; the leaves that
// meet at the seam merge where they fit in one.
cow_status join(tree_vec *r, const tree_node *l, std::uint32_t hl, tree_node *mid,
                const tree_node *rt, std::uint32_t hr, node_run &out) noexcept {
    if (hl == 0 && hr == 0) {
        tree_node *const leaves[3] = {const_cast<tree_node *>(l), mid, const_cast<tree_node *>(rt)};
        return join_leaves(r, leaves, out);
    }
    std::uint32_t h = hl > hr ? hl : hr;
    const inner *li = hl == h ? as_inner(l) : nullptr;  // descended into
    const inner *ri = hr == h ? as_inner(rt) : nullptr;
    node_run below;
    cow_status s = join(r, li ? li->child[li->count - 1] : l, li ? hl - 1 : hl, mid,
                        ri ? ri->child[0] : rt, ri ? hr - 1 : hr, below);
    if (s != COW_OK) return s;
    // The children: l's but its last, what the join below made, rt's but its first.
    kid_list kids;
    for (std::uint32_t k = 0; li && k + 1 < li->count; ++k) kids.add(li->child[k], false);
    for (std::uint32_t k = 0; k < below.count; ++k) kids.add(below.node[k], true);
    for (std::uint32_t k = 1; ri && k < ri->count; ++k) kids.add(ri->child[k], false);
    return pack(r, kids, h, li, ri, out);
}

// Gives header w the parts built for it (their references move in), and
// drops the ones it held.
void adopt_parts(tree_vec *w, tree_node *root, std::uint32_t height, tree_node *tail,
                 std::size_t len, bool regular) noexcept {
    if (w->root) release(w, w->root, w->height);
    if (w->tail) release(w, w->tail, 0);
    w->root = root;
    w->height = root ? height : 0;
    w->tail = tail;
    w->len = len;
    w->regular = regular;
}

// A root of several nodes gets a new node above them; a new root with one
// child gives way to it.
cow_status finish_root(tree_vec *r, node_run &run, std::uint32_t &height, tree_node **out) noexcept {
    if (run.count > 1) {
        inner *top = inner_of(r, run.node, run.count, height + 1);
        run.count = 0;  // taken over, or released by inner_of
        if (!top) return COW_ENOMEM;
        *out = top;
        height += 1;
    } else {
        *out = run.node[0];
    }
    while (height > 0 && (*out)->count == 1 && is_unique(*out)) {
        inner *old = as_inner(*out);
        *out = old->child[0];
        height -= 1;
        inner_free(old);  // its reference to the child goes to the caller
    }
    return COW_OK;
}

}  // namespace

cow_status tree_vec_slice(vec_rep **out, const tree_vec *v, std::size_t offset, std::size_t len,
                          rep_seed &seed) noexcept {
    vec_rep *made;
    cow_status s = tree_vec_new(&made, v->type, nullptr, 0, seed);
    if (s != COW_OK) return s;
    auto *r = static_cast<tree_vec *>(made);
    r->regular = v->regular;
    std::size_t end = offset + len, in_tree = tree_len(v);
    tree_node *root = nullptr, *tail = nullptr;
    std::uint32_t height = 0;
    if (offset < in_tree && len > 0)
        s = slice_subtree(r, v->root, v->height, offset, end < in_tree ? end : in_tree, &root, &height);
    if (s == COW_OK && end > in_tree && len > 0) {
        std::size_t lo = offset > in_tree ? offset - in_tree : 0, hi = end - in_tree;
        if (lo == 0 && hi == v->tail->count) {
            tail = v->tail;
            retain(tail);
        } else {
            s = copy_leaf_range(r, v->tail, lo, hi, &tail);
        }
    }
    if (s != COW_OK) {
        if (root) release(r, root, height);
        r->write_nodes = r->write_bytes = 0;
        rep_release(r);
        return s;
    }
    adopt_parts(r, root, height, tail, len, r->regular);
    r->write_nodes = r->write_bytes = 0;  // a new value: nothing was copied in its lineage
    *out = r;
    return COW_OK;
}

cow_status tree_vec_concat(vec_rep **slot, const tree_vec *other) noexcept {
    auto *v = static_cast<tree_vec *>(*slot);
    tree_vec *w;
    cow_status s = begin_write(v, &w);
    if (s != COW_OK) return s;
    // Built aside from w's fields (which other may be): w's tail goes
    // between the two trees as the seam's middle leaf.
    node_run run;
    std::uint32_t height = 0;
    tree_node *root = nullptr;
    bool regular = w->regular && other->regular;
    bool was_regular = w->regular;
    w->regular = true;  // update_regular clears it for a relaxed new node
    if (!w->root && !w->tail) {
        retain(other->root);
        run.node[run.count++] = other->root;
        height = other->height;
    } else {
        std::uint32_t hl = w->root ? w->height : 0;
        const tree_node *l = w->root ? w->root : w->tail;
        tree_node *mid = w->root ? w->tail : nullptr;
        s = join(w, l, hl, mid, other->root, other->height, run);
        height = hl > other->height ? hl : other->height;
    }
    if (s == COW_OK) s = finish_root(w, run, height, &root);
    if (s != COW_OK) {
        release_run(w, run, height);
        w->regular = was_regular;
        return finish_write(slot, w, s);
    }
    regular = regular && w->regular;
    if (other->tail) retain(other->tail);
    adopt_parts(w, root, height, other->tail, w->len + other->len, regular);
    return finish_write(slot, w, COW_OK);
}

}  // namespace cow::detail
