#include "box.hpp"

#include <cstdint>
#include <cstring>
#include <new>

#include "alloc.hpp"
#include "type.hpp"

namespace cow::detail {
namespace {

// Where the value starts in a block at `block`: after the header, aligned.
std::size_t value_offset(const cow_type *t, const void *block) noexcept {
    auto start = reinterpret_cast<std::uintptr_t>(block) + sizeof(box_rep);
    std::uintptr_t align = t->elem_align;
    return ((start + align - 1) & ~(align - 1)) - reinterpret_cast<std::uintptr_t>(block);
}
// Room for the header, the value and the padding to align it wherever the
// allocator puts the block (no assumption about its alignment).
std::size_t block_size(const cow_type *t) noexcept {
    return sizeof(box_rep) + (t->elem_align - 1) + t->elem_size;
}

// A box with an uninitialised value, not yet initialised as a rep.
box_rep *alloc_box(const cow_type *t) noexcept {
    std::size_t size = block_size(t);
    void *mem = mem_alloc(size);
    if (!mem) return nullptr;
    auto *b = new (mem) box_rep();
    b->type = t;
    b->value = static_cast<unsigned char *>(mem) + value_offset(t, mem);
    b->block_size = size;
    return b;
}

// Frees a box whose value was dropped or moved out.
void free_box(box_rep *b) noexcept {
    std::size_t size = b->block_size;
    b->~box_rep();
    mem_free(b, size);
}

void last_handle_released(rep *r) noexcept {
    box_rep *b = as_box(r);
    type_drop(b->type, b->value);
    rep_retire(b);
    free_box(b);
}

cow_status copy_box(const box_rep *src, box_rep **out) noexcept {
    box_rep *c = alloc_box(src->type);
    if (!c) return COW_ENOMEM;
    cow_status s = type_copy(src->type, c->value, src->value);
    if (s != COW_OK) {
        free_box(c);
        return s;
    }
    *out = c;
    return COW_OK;
}

cow_status copy(const rep *r, rep **out) noexcept {
    box_rep *c;
    cow_status s = copy_box(static_cast<const box_rep *>(r), &c);
    if (s == COW_OK) *out = c;
    return s;
}

std::size_t value_bytes(const rep *r) noexcept {
    return static_cast<const box_rep *>(r)->type->elem_size;
}


}  // namespace

const rep_ops box_ops = {last_handle_released, copy, value_bytes, nullptr, nullptr,
                         COW_REPRESENTATION_FLAT};

cow_status box_new(box_rep **out, const cow_type *t, const void *value,
                   const cow_options *options) noexcept {
    if (block_size(t) > max_alloc) return COW_EOVERFLOW;
    rep_seed seed;
    cow_status s = seed_from_options(options, seed);
    if (s != COW_OK) return s;
    box_rep *b = alloc_box(t);
    s = b ? type_copy(t, b->value, value) : COW_ENOMEM;
    if (s != COW_OK) {
        if (b) free_box(b);
        seed_discard(seed);
        return s;
    }
    rep_init_new(b, COW_KIND_BOX, &box_ops, seed);
    *out = b;
    return COW_OK;
}

cow_status box_update(box_rep **slot, cow_update_fn fn, void *ctx) noexcept {
    box_rep *b = *slot;
    if (!rep_is_shared(b)) return fn(ctx, b->value);
    box_rep *c;
    cow_status s = copy_box(b, &c);
    if (s != COW_OK) return s;
    s = fn(ctx, c->value);
    if (s != COW_OK) {
        // Never published: the copy leaves no trace, not even in statistics.
        type_drop(c->type, c->value);
        free_box(c);
        return s;
    }
    rep_init_copy(c, b, b->type->elem_size, false);
    *slot = c;
    rep_release(b);
    return COW_OK;
}

cow_status box_into(box_rep **slot, void *out) noexcept {
    box_rep *b = *slot;
    if (rep_is_shared(b)) {
        cow_status s = type_copy(b->type, out, b->value);
        if (s != COW_OK) return s;
        *slot = nullptr;
        rep_release(b);
        return COW_OK;
    }
    // The only handle: move the value out and free the box without dropping it.
    std::memcpy(out, b->value, b->type->elem_size);
    *slot = nullptr;
    rep_retire(b);
    free_box(b);
    return COW_OK;
}

}  // namespace cow::detail
