#include "flat.hpp"

#include <cstdint>
#include <cstring>
#include <new>

#include "../alloc.hpp"
#include "../scratch.hpp"
#include "../type.hpp"

namespace cow::detail {
namespace {

// What an empty vector points at: never written (its capacity is 0).
alignas(COW_MAX_ALIGN) unsigned char empty_area[COW_MAX_ALIGN];

// A block of element storage, on its own (before it belongs to a vector).
struct storage {
    unsigned char *data;  // the first element, aligned to the element type
    std::size_t cap;
    void *block;
    std::size_t block_size;
};

storage no_storage() noexcept { return storage{empty_area, 0, nullptr, 0}; }

storage storage_of(const flat_vec *v) noexcept {
    return storage{v->flat, v->flat_cap, v->block, v->block_size};
}

void adopt(flat_vec *v, const storage &s) noexcept {
    v->flat = s.data;
    v->flat_cap = s.cap;
    v->block = s.block;
    v->block_size = s.block_size;
}

flat_vec *as_flat(vec_rep *v) noexcept { return static_cast<flat_vec *>(v); }

// A flat vector's length is in both len and flat_len (see vec_rep).
void set_len(vec_rep *v, std::size_t n) noexcept {
    v->len = n;
    v->flat_len = n;
}

unsigned char *at(const vec_rep *v, std::size_t index) noexcept {
    return v->flat + index * v->elem_size;
}

// Extra bytes to reach elem_align inside a block: mem_alloc gives malloc
// alignment, enough for anything up to max_align_t.
std::size_t align_pad(const cow_type *t) noexcept {
    return t->elem_align > alignof(std::max_align_t) ? t->elem_align - 1 : 0;
}

// The most elements a block can hold.
std::size_t max_elems(const cow_type *t) noexcept {
    return (max_alloc - align_pad(t)) / t->elem_size;
}

unsigned char *align_up(void *p, std::size_t align) noexcept {
    auto bits = reinterpret_cast<std::uintptr_t>(p);
    bits = (bits + align - 1) & ~static_cast<std::uintptr_t>(align - 1);
    return reinterpret_cast<unsigned char *>(bits);
}

bool inside(const void *p, const void *lo, const void *hi) noexcept {
    auto x = reinterpret_cast<std::uintptr_t>(p);
    return x >= reinterpret_cast<std::uintptr_t>(lo) && x < reinterpret_cast<std::uintptr_t>(hi);
}

cow_status storage_alloc(const cow_type *t, std::size_t cap, storage &out) noexcept {
    if (cap == 0) {
        out = no_storage();
        return COW_OK;
    }
    if (cap > max_elems(t)) return COW_EOVERFLOW;
    std::size_t size = cap * t->elem_size + align_pad(t);
    void *block = mem_alloc(size);
    if (!block) return COW_ENOMEM;
    out = storage{align_up(block, t->elem_align), cap, block, size};
    return COW_OK;
}

void storage_free(const storage &s) noexcept {
    if (s.block) mem_free(s.block, s.block_size);
}

// Geometric growth: at least doubles, at least 4 elements, never beyond
// what a block can hold (need <= limit is checked by the caller).
std::size_t grown(std::size_t cap, std::size_t need, std::size_t limit) noexcept {
    std::size_t c = cap > limit / 2 ? limit : cap * 2;
    if (c < 4) c = 4 < limit ? 4 : limit;
    return need > c ? need : c;
}

// Storage shares the header's block while both fit in this many bytes:
// glibc serves blocks up to 1,032 bytes from its per-thread cache, so a
// small vector, and each copy of it, is one fast allocation. Larger storage
// gets a block of its own, which growth replaces (the header's room then
// stays unused).
constexpr std::size_t one_block_limit = 1032;

// Bytes the header's block holds for `cap` elements (0: a block of their own).
std::size_t header_room_for(const cow_type *t, std::size_t cap) noexcept {
    constexpr std::size_t most = one_block_limit - sizeof(flat_vec);
    if (cap == 0 || cap > most / t->elem_size) return 0;
    std::size_t room = cap * t->elem_size + t->elem_align - 1;
    return room <= most ? room : 0;
}

// A header with storage for `cap` elements, not yet initialised as a rep.
cow_status alloc_vec(const cow_type *t, std::size_t cap, flat_vec **out) noexcept {
    std::size_t room = header_room_for(t, cap);
    storage store = no_storage();
    if (!room) {
        cow_status s = storage_alloc(t, cap, store);
        if (s != COW_OK) return s;
    }
    void *mem = mem_alloc(sizeof(flat_vec) + room);
    if (!mem) {
        storage_free(store);
        return COW_ENOMEM;
    }
    auto *v = new (mem) flat_vec;  // every field is set below or by rep_init_*: no zeroing pass
    v->header_room = room;
    if (room) store = storage{align_up(v + 1, t->elem_align), cap, nullptr, 0};
    v->type = t;
    v->elem_size = t->elem_size;
    set_len(v, 0);
    adopt(v, store);
    *out = v;
    return COW_OK;
}

// Frees a vector's memory after its elements were dropped or moved out.
void free_vec(flat_vec *v) noexcept {
    storage_free(storage_of(v));
    std::size_t size = sizeof(flat_vec) + v->header_room;
    v->~flat_vec();
    mem_free(v, size);
}

// Drops the elements, then frees (for a copy that was never published).
void discard_vec(flat_vec *v) noexcept {
    type_drop_n(v->type, v->flat, v->len);
    free_vec(v);
}

void last_handle_released(rep *r) noexcept {
    flat_vec *v = static_cast<flat_vec *>(r);
    type_drop_n(v->type, v->flat, v->len);
    rep_retire(v);
    free_vec(v);
}

// A private copy laid out as src[0..at) ++ fill[0..count) ++
// src[at + skip..len), with room for `cap` (>= its length) elements. The
// fill is moved in byte for byte: it holds copies the caller made, or plain
// values of a type without a copy callback (see insert). Not yet
// initialised as a rep; src and fill are untouched when this fails.
cow_status copy_edited(const vec_rep *src, std::size_t at_index, std::size_t skip,
                       const void *fill, std::size_t count, std::size_t cap,
                       flat_vec **out) noexcept {
    const cow_type *t = src->type;
    std::size_t es = t->elem_size;
    std::size_t tail = src->len - at_index - skip;
    flat_vec *c;
    cow_status s = alloc_vec(t, cap, &c);
    if (s != COW_OK) return s;
    unsigned char *d = c->flat;
    s = type_copy_n(t, d, src->flat, at_index);
    if (s == COW_OK) {
        set_len(c, at_index);
        s = type_copy_n(t, d + (at_index + count) * es, at(src, at_index + skip), tail);
    }
    if (s != COW_OK) {
        discard_vec(c);  // drops exactly the c->len elements copied so far
        return s;
    }
    // Nothing can fail from here on, so the fill is moved in last.
    if (count) std::memcpy(d + at_index * es, fill, count * es);
    set_len(c, at_index + count + tail);
    *out = c;
    return COW_OK;
}

cow_status copy(const rep *r, rep **out) noexcept {
    auto *v = static_cast<const vec_rep *>(r);
    flat_vec *c;
    cow_status s = copy_edited(v, v->len, 0, nullptr, 0, v->len, &c);
    if (s == COW_OK) *out = c;
    return s;
}

std::size_t value_bytes(const rep *r) noexcept {
    auto *v = static_cast<const vec_rep *>(r);
    return v->len * v->elem_size;
}

// Publishes copy c in place of the shared *slot: one copy of the elements
// taken from the original, then the slot's old reference is dropped.
void replace_shared(vec_rep **slot, flat_vec *c, std::size_t copied_elems) noexcept {
    vec_rep *old = *slot;
    rep_init_copy(c, old, copied_elems * old->elem_size, false);
    *slot = c;
    rep_release(old);
}

// Unique vector, room available, at_index < len: shift the tail up, then
// move the new elements (as in copy_edited) into the gap, element by element
// because a source may lie in the shifted tail.
void insert_in_place(vec_rep *v, std::size_t at_index, const void *elems,
                     std::size_t count) noexcept {
    std::size_t es = v->elem_size;
    unsigned char *gap = at(v, at_index);
    unsigned char *tail_end = at(v, v->len);
    std::memmove(gap + count * es, gap, tail_end - gap);
    auto *src = static_cast<const unsigned char *>(elems);
    for (std::size_t i = 0; i < count; ++i) {
        const unsigned char *from = src + i * es;
        if (inside(from, gap, tail_end)) from += count * es;  // it moved
        std::memcpy(gap + i * es, from, es);
    }
    set_len(v, v->len + count);
}

// Unique vector that must grow to hold `need` elements: the new elements
// are moved (as in copy_edited) into the new block first (while a source
// inside the old block is still valid), then the old elements.
cow_status insert_growing(flat_vec *v, std::size_t at_index, const void *elems,
                          std::size_t count, std::size_t need) noexcept {
    const cow_type *t = v->type;
    std::size_t es = t->elem_size;
    storage fresh;
    cow_status s = storage_alloc(t, grown(v->flat_cap, need, max_elems(t)), fresh);
    if (s != COW_OK) return s;
    if (count) std::memcpy(fresh.data + at_index * es, elems, count * es);
    if (at_index) std::memcpy(fresh.data, v->flat, at_index * es);
    if (v->len > at_index)
        std::memcpy(fresh.data + (at_index + count) * es, at(v, at_index), (v->len - at_index) * es);
    storage_free(storage_of(v));
    adopt(v, fresh);
    set_len(v, v->len + count);
    return COW_OK;
}

// insert once the new elements are ready to be moved in (copies made by
// insert, or plain values of a type without a copy callback).
cow_status insert_moved(vec_rep **slot, std::size_t at_index, const void *elems,
                        std::size_t count, std::size_t new_len) noexcept {
    flat_vec *v = as_flat(*slot);
    if (rep_is_shared(v)) {
        // One allocation of the final size; elems stay valid (we hold v).
        flat_vec *c;
        cow_status s = copy_edited(v, at_index, 0, elems, count, new_len, &c);
        if (s != COW_OK) return s;
        replace_shared(slot, c, v->len);
        return COW_OK;
    }
    if (new_len > v->flat_cap) return insert_growing(v, at_index, elems, count, new_len);
    if (at_index == v->len) {
        // Appending: the free room cannot overlap a valid source.
        std::memcpy(at(v, at_index), elems, count * v->elem_size);
        set_len(v, new_len);
        return COW_OK;
    }
    insert_in_place(v, at_index, elems, count);
    return COW_OK;
}

cow_status insert(vec_rep **slot, std::size_t at_index, const void *elems,
                  std::size_t count) noexcept {
    flat_vec *v = as_flat(*slot);
    const cow_type *t = v->type;
    std::size_t new_len;
    if (!add_size(v->len, count, new_len)) return COW_EOVERFLOW;
    // What fits the current block cannot overflow (the division is skipped
    // on the hot path of pushes within capacity).
    if (new_len > v->flat_cap && new_len > max_elems(t)) return COW_EOVERFLOW;
    if (count == 0) return COW_OK;
    if (!t->copy) return insert_moved(slot, at_index, elems, count, new_len);
    // A copy callback runs before the sharing test: copying may add a
    // reference to this very vector (a vector of handles pushed into
    // itself), and the test must count it, so that the stored element is a
    // snapshot of the vector before the push, not the vector itself.
    scratch fresh(count * t->elem_size, t->elem_align);  // fits max_alloc: checked above
    if (!fresh.get()) return COW_ENOMEM;
    cow_status s = type_copy_n(t, fresh.get(), elems, count);
    if (s != COW_OK) return s;
    s = insert_moved(slot, at_index, fresh.get(), count, new_len);
    if (s != COW_OK) type_drop_n(t, fresh.get(), count);
    return s;
}

cow_status remove(vec_rep **slot, std::size_t at_index, std::size_t count, void *out) noexcept {
    vec_rep *v = *slot;
    if (count == 0) return COW_OK;
    const cow_type *t = v->type;
    std::size_t es = t->elem_size;
    if (rep_is_shared(v)) {
        std::size_t new_len = v->len - count;
        flat_vec *c;
        cow_status s = copy_edited(v, at_index, count, nullptr, 0, new_len, &c);
        if (s != COW_OK) return s;
        // The removed values stay in the shared original: hand out copies.
        if (out) {
            s = type_copy_n(t, out, at(v, at_index), count);
            if (s != COW_OK) {
                discard_vec(c);
                return s;
            }
        }
        replace_shared(slot, c, new_len);
        return COW_OK;
    }
    unsigned char *first = at(v, at_index);
    if (out)
        std::memcpy(out, first, count * es);
    else
        type_drop_n(t, first, count);
    std::size_t tail = v->len - at_index - count;
    if (tail) std::memmove(first, first + count * es, tail * es);
    set_len(v, v->len - count);
    return COW_OK;
}

cow_status set(vec_rep **slot, std::size_t index, const void *elem, void *out_old) noexcept {
    vec_rep *v = *slot;
    const cow_type *t = v->type;
    // The new value is copied first: the copy may fail; elem may be the
    // very element being replaced; and a copy may add a reference to this
    // vector (a vector of handles set into itself), which the sharing test
    // below must count, so that the stored element is a snapshot.
    scratch tmp(t->elem_size, t->elem_align);
    if (!tmp.get()) return COW_ENOMEM;
    cow_status s = type_copy(t, tmp.get(), elem);
    if (s != COW_OK) return s;
    if (rep_is_shared(v)) {
        flat_vec *c;
        s = copy_edited(v, index, 1, tmp.get(), 1, v->len, &c);
        if (s != COW_OK) {
            type_drop(t, tmp.get());
            return s;
        }
        // c owns the new value from here on.
        if (out_old) {
            s = type_copy(t, out_old, at(v, index));
            if (s != COW_OK) {
                discard_vec(c);  // the new value goes with it
                return s;
            }
        }
        replace_shared(slot, c, v->len - 1);
        return COW_OK;
    }
    unsigned char *elem_at = at(v, index);
    if (out_old)
        std::memcpy(out_old, elem_at, t->elem_size);
    else
        type_drop(t, elem_at);
    std::memcpy(elem_at, tmp.get(), t->elem_size);
    return COW_OK;
}

cow_status reserve(vec_rep **slot, std::size_t additional) noexcept {
    flat_vec *v = as_flat(*slot);
    std::size_t need;
    if (!add_size(v->len, additional, need) || need > max_elems(v->type)) return COW_EOVERFLOW;
    if (rep_is_shared(v)) {
        flat_vec *c;
        cow_status s = copy_edited(v, v->len, 0, nullptr, 0, need, &c);
        if (s != COW_OK) return s;
        replace_shared(slot, c, v->len);
        return COW_OK;
    }
    if (need <= v->flat_cap) return COW_OK;
    return insert_growing(v, v->len, nullptr, 0, need);
}

// Makes *slot private (a copy of the whole value when it is shared).
cow_status make_private(vec_rep **slot) noexcept {
    rep *base = *slot;
    cow_status s = rep_make_unique(&base);
    if (s == COW_OK) *slot = static_cast<vec_rep *>(base);
    return s;
}

cow_status get_mut(vec_rep **slot, std::size_t index, void **out_elem) noexcept {
    cow_status s = make_private(slot);
    if (s == COW_OK) *out_elem = at(*slot, index);
    return s;
}

cow_status make_mut(vec_rep **slot, void **out_data) noexcept {
    cow_status s = make_private(slot);
    if (s == COW_OK && out_data) *out_data = (*slot)->flat;
    return s;
}

const void *get(const vec_rep *v, std::size_t index) noexcept { return at(v, index); }

// A flat vector is one span: the rest of it.
bool next_span(const vec_rep *v, cow_vec_cursor *cursor, const void **out_data,
               std::size_t *out_count) noexcept {
    *out_data = at(v, cursor->next);
    *out_count = v->len - cursor->next;
    cursor->next = v->len;
    return true;
}

cow_status into(vec_rep **slot, cow_owned *out) noexcept {
    flat_vec *v = as_flat(*slot);
    const cow_type *t = v->type;
    bool unique = !rep_is_shared(v);
    auto handed_over = [](const storage &st, std::size_t len) {
        auto offset = static_cast<std::size_t>(st.data - static_cast<unsigned char *>(st.block));
        return cow_owned{st.data, len, st.block_size, offset};
    };
    if (unique && v->block) {
        // Hand over the block itself: no copy, no allocation.
        *out = handed_over(storage_of(v), v->len);
        adopt(v, no_storage());
        set_len(v, 0);
        *slot = nullptr;
        rep_release(v);
        return COW_OK;
    }
    // A new aligned block (at least one element, so data is never NULL);
    // cow_owned.offset lets cow_owned_free find the block's start.
    storage fresh;
    cow_status s = storage_alloc(t, v->len ? v->len : 1, fresh);
    if (s != COW_OK) return s;
    if (unique) {
        if (v->len) std::memcpy(fresh.data, v->flat, v->len * t->elem_size);  // moved
    } else {
        s = type_copy_n(t, fresh.data, v->flat, v->len);
        if (s != COW_OK) {
            storage_free(fresh);
            return s;
        }
    }
    *out = handed_over(fresh, v->len);
    if (unique) set_len(v, 0);  // the elements now belong to the caller
    *slot = nullptr;
    rep_release(v);
    return COW_OK;
}

cow_status push(vec_rep **slot, const void *elem) noexcept {
    return insert(slot, (*slot)->len, elem, 1);
}

const vec_impl flat_impl = {
    {last_handle_released, copy, value_bytes, nullptr, nullptr, COW_REPRESENTATION_FLAT},
    get, get_mut, insert, push, remove, set, reserve, make_mut, next_span, into,
};

}  // namespace

const vec_impl &flat_vec_ops() noexcept { return flat_impl; }

std::size_t flat_vec_max_len(const cow_type *t) noexcept { return max_elems(t); }

cow_status flat_vec_new(vec_rep **out, const cow_type *t, const void *elems, std::size_t count,
                        std::size_t capacity, rep_seed &seed) noexcept {
    std::size_t cap = capacity > count ? capacity : count;
    if (cap > max_elems(t)) return COW_EOVERFLOW;
    flat_vec *v;
    cow_status s = alloc_vec(t, cap, &v);
    if (s != COW_OK) return s;
    s = type_copy_n(t, v->flat, elems, count);
    if (s != COW_OK) {
        free_vec(v);
        return s;
    }
    set_len(v, count);
    rep_init_new(v, COW_KIND_VEC, &flat_impl, seed);
    *out = v;
    return COW_OK;
}

}  // namespace cow::detail
