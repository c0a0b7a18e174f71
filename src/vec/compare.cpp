// Comparing vectors, whatever their representations: equality, hash and
// the positional diff. Two walkers go through the vectors side by side, a
// subtree at a time; where both stand at the start of the same node (a
// subtree two versions share) they step over it unread, so versions related
// by set, push and pop compare in time proportional to what changed.
#include "../hash.hpp"
#include "tree_nodes.hpp"
#include "vec.hpp"

namespace cow::detail {
using namespace tree;

namespace {

constexpr std::size_t no_range = ~std::size_t{0};

// A position in one vector: the current piece (a node of the tree or the
// tail, or the whole block of a flat vector) and the inner nodes above it.
// A piece of height 0 is a run of elements, which may be partly consumed;
// a higher one is always whole, entered from its start.
class walker {
public:
    explicit walker(const vec_rep *v) noexcept : v_(v) {
        if (!v || v->len == 0) return;
        if (vec_is_flat(v)) {
            parts_[0] = {nullptr, 0};
            part_count_ = 1;
            set_run(v->flat, v->flat, v->len);
            done_ = false;
            return;
        }
        const auto *t = static_cast<const tree_vec *>(v);
        tree_ = t;
        if (t->root) parts_[part_count_++] = {t->root, t->height};
        if (t->tail) parts_[part_count_++] = {t->tail, 0};
        enter(parts_[0].node, parts_[0].height);
        done_ = false;
    }

    bool done() const noexcept { return done_; }
    std::uint32_t height() const noexcept { return height_; }
    std::size_t size() const noexcept { return size_; }  // elements left in the piece
    const unsigned char *data() const noexcept { return data_; }  // height 0 only
    // Whether this and the other stand at the whole of the same node.
    bool same_piece(const walker &o) const noexcept {
        return whole_ && o.whole_ && id_ == o.id_ && height_ == o.height_;
    }

    // Enters the first child of the current inner node.
    void descend() noexcept {
        const inner *in = as_inner(node_);
        stack_[depth_] = {in, height_, 0};
        depth_ += 1;
        enter(in->child[0], height_ - 1);
    }
    // Consumes n elements of the current run (height 0).
    void consume(std::size_t n) noexcept {
        data_ += n * v_->elem_size;
        size_ -= n;
        whole_ = false;
        if (size_ == 0) next_piece();
    }
    // Goes past the current piece.
    void next_piece() noexcept {
        while (depth_ > 0) {
            frame &f = stack_[depth_ - 1];
            if (f.index + 1 < f.node->count) {
                f.index += 1;
                enter(f.node->child[f.index], f.height - 1);
                return;
            }
            depth_ -= 1;
        }
        if (++part_ < part_count_) {
            enter(parts_[part_].node, parts_[part_].height);
            return;
        }
        done_ = true;
    }

private:
    struct part {
        const tree_node *node;
        std::uint32_t height;
    };
    struct frame {
        const inner *node;
        std::uint32_t height;
        std::uint32_t index;  // of the child being walked
    };

    void enter(const tree_node *n, std::uint32_t height) noexcept {
        COW_TREE_COUNT(visits);
        node_ = n;
        height_ = height;
        whole_ = true;
        id_ = n;
        size_ = size_of(n, height);
        data_ = height == 0 ? elems_of(tree_, n) : nullptr;
    }
    void set_run(const void *id, const unsigned char *data, std::size_t n) noexcept {
        id_ = id;
        data_ = data;
        size_ = n;
        height_ = 0;
        whole_ = true;
    }

    const vec_rep *v_;
    const tree_vec *tree_ = nullptr;
    part parts_[2] = {};
    std::uint32_t part_count_ = 0, part_ = 0;
    frame stack_[max_levels];
    std::uint32_t depth_ = 0;
    const tree_node *node_ = nullptr;
    const void *id_ = nullptr;
    const unsigned char *data_ = nullptr;
    std::size_t size_ = 0;
    std::uint32_t height_ = 0;
    bool whole_ = false;
    bool done_ = true;
};

// Index of the first element of a run of n where a and b differ, or n.
std::size_t first_difference(const cow_type *t, const unsigned char *a, const unsigned char *b,
                             std::size_t n) noexcept {
    std::size_t es = t->elem_size;
    if (!t->equal && std::memcmp(a, b, n * es) == 0) return n;
    for (std::size_t k = 0; k < n; ++k)
        if (!type_equal(t, a + k * es, b + k * es)) return k;
    return n;
}

// Index of the first element of a run of n where a and b are equal, or n.
std::size_t first_equal(const cow_type *t, const unsigned char *a, const unsigned char *b,
                        std::size_t n) noexcept {
    std::size_t es = t->elem_size;
    for (std::size_t k = 0; k < n; ++k)
        if (type_equal(t, a + k * es, b + k * es)) return k;
    return n;
}

// Walks a and b side by side over their common length, calling
// found(offset, count) for each maximal range of differing elements (the
// last one may end at the common length). found returns false to stop.
// Returns false when stopped.
template <class Found>
bool walk_differences(const vec_rep *a, const vec_rep *b, const cow_type *t, Found &&found) noexcept {
    std::size_t na = a ? a->len : 0, nb = b ? b->len : 0;
    std::size_t common = na < nb ? na : nb;
    if (common == 0 || a == b) return true;
    walker wa(a), wb(b);
    std::size_t pos = 0;
    std::size_t open = no_range;  // start of the range of differences under way
    while (pos < common) {
        if (wa.same_piece(wb)) {
            if (open != no_range) {
                if (!found(open, pos - open)) return false;
                open = no_range;
            }
            pos += wa.size();
            wa.next_piece();
            wb.next_piece();
            continue;
        }
        std::uint32_t ha = wa.height(), hb = wb.height();
        if (ha > 0 || hb > 0) {
            if (ha >= hb) wa.descend();
            if (hb >= ha) wb.descend();
            continue;
        }
        std::size_t n = wa.size() < wb.size() ? wa.size() : wb.size();
        if (n > common - pos) n = common - pos;
        std::size_t k = 0;
        while (k < n) {
            if (open == no_range) {
                k += first_difference(t, wa.data() + k * t->elem_size, wb.data() + k * t->elem_size, n - k);
                if (k < n) open = pos + k;
            } else {
                k += first_equal(t, wa.data() + k * t->elem_size, wb.data() + k * t->elem_size, n - k);
                if (k < n) {
                    if (!found(open, pos + k - open)) return false;
                    open = no_range;
                }
            }
        }
        pos += n;
        if (pos < common) {
            wa.consume(n);
            wb.consume(n);
        }
    }
    if (open != no_range) return found(open, common - open);
    return true;
}

}  // namespace

bool vec_equal(const vec_rep *a, const vec_rep *b) noexcept {
    if (a == b) return true;
    std::size_t na = a ? a->len : 0, nb = b ? b->len : 0;
    if (na != nb) return false;
    if (a && b && a->type != b->type) return false;
    if (na == 0) return true;
    bool differ = false;
    walk_differences(a, b, a->type, [&](std::size_t, std::size_t) {
        differ = true;
        return false;
    });
    return !differ;
}

std::uint64_t vec_hash(const vec_rep *v) noexcept {
    std::uint64_t h = hash_mix(process_seed() ^ (v ? v->len : 0));
    if (!v || v->len == 0) return h;
    const cow_type *t = v->type;
    for (walker w(v); !w.done();) {
        if (w.height() > 0) {
            w.descend();
            continue;
        }
        for (std::size_t k = 0; k < w.size(); ++k)
            h = hash_mix((h ^ type_hash(t, w.data() + k * t->elem_size)) + 0x9e3779b97f4a7c15u);
        w.consume(w.size());
    }
    return h;
}

cow_status vec_diff(const vec_rep *a, const vec_rep *b, cow_vec_diff_fn fn, void *ctx,
                    bool *out_stopped) noexcept {
    if (a && b && a->type != b->type) return COW_ETYPE;
    std::size_t na = a ? a->len : 0, nb = b ? b->len : 0;
    std::size_t common = na < nb ? na : nb, longer = na < nb ? nb : na;
    const cow_type *t = a ? a->type : b ? b->type : nullptr;
    bool stopped = false;
    std::size_t pending_at = no_range;  // a range ending at `common`
    bool going = walk_differences(a, b, t, [&](std::size_t at, std::size_t count) {
        if (at + count == common && longer > common) {
            pending_at = at;  // joins the length tail
            return true;
        }
        return fn(ctx, at, count) == 0;
    });
    if (!going) {
        stopped = true;
    } else if (longer > common) {
        std::size_t at = pending_at != no_range ? pending_at : common;
        stopped = fn(ctx, at, longer - at) != 0;
    }
    if (out_stopped) *out_stopped = stopped;
    return COW_OK;
}

}  // namespace cow::detail
