#include "bytes.hpp"

#include <cstring>
#include <new>

#include "alloc.hpp"

namespace cow::detail {
namespace {

char empty_storage[1] = {0};

// Storage shares the header's block while both fit in this many bytes:
// glibc serves blocks up to 1,032 bytes from its per-thread cache, so a
// small value costs one fast allocation, not two. Larger storage gets a
// block of its own (a 1 KiB value: two fast allocations beat one slow one).
constexpr std::size_t one_block_limit = 1032;

bool is_slice(const bytes_rep *b) noexcept { return b->owner != nullptr; }

char *inline_storage(bytes_rep *b) noexcept { return reinterpret_cast<char *>(b + 1); }
bool storage_is_inline(bytes_rep *b) noexcept { return b->inline_cap && b->data == inline_storage(b); }

void free_header(bytes_rep *b) noexcept {
    std::size_t block = sizeof(bytes_rep) + b->inline_cap;
    b->~bytes_rep();
    mem_free(b, block);
}

void free_owner(bytes_rep *b) noexcept {
    rep_retire(b);
    if (b->cap && !storage_is_inline(b)) mem_free(b->data, b->cap);
    free_header(b);
}

void drop_keep(bytes_rep *owner) noexcept {
    // keep == 1 means we hold the last unit: no handle or slice is left that
    // could add one, so the read-modify-write can be skipped.
    if (owner->keep.load(std::memory_order_acquire) == 1 ||
        owner->keep.fetch_sub(1, std::memory_order_acq_rel) == 1)
        free_owner(owner);
}

void last_handle_released(rep *r) noexcept {
    bytes_rep *b = as_bytes(r);
    if (is_slice(b)) {
        bytes_rep *owner = b->owner;
        rep_retire(b);
        free_header(b);
        drop_keep(owner);
    } else {
        drop_keep(b);
    }
}

bool storage_shared(const rep *r) noexcept {
    auto *b = static_cast<const bytes_rep *>(r);
    return is_slice(b) || b->keep.load(std::memory_order_acquire) != 1;
}

std::size_t value_bytes(const rep *r) noexcept { return static_cast<const bytes_rep *>(r)->len; }

// A new owner rep (not yet initialised as a rep) holding src[0..n) with
// room for `room` bytes plus the NUL.
bytes_rep *alloc_owner(const char *src, std::size_t n, std::size_t room) noexcept {
    std::size_t cap = 0;
    if (room > 0 && !add_size(room, 1, cap)) return nullptr;
    std::size_t inline_cap = cap && cap <= one_block_limit - sizeof(bytes_rep) ? cap : 0;
    void *mem = mem_alloc(sizeof(bytes_rep) + inline_cap);
    if (!mem) return nullptr;
    auto *b = new (mem) bytes_rep;  // every field is set below or by rep_init_*: no zeroing pass
    b->inline_cap = inline_cap;
    char *data = empty_storage;
    if (cap) {
        data = inline_cap ? inline_storage(b) : static_cast<char *>(mem_alloc(cap));
        if (!data) {
            free_header(b);
            return nullptr;
        }
        if (n) std::memcpy(data, src, n);
        data[n] = 0;
    }
    b->data = data;
    b->len = n;
    b->cap = cap;
    b->owner = nullptr;
    b->keep.store(1, std::memory_order_relaxed);
    return b;
}

cow_status copy(const rep *r, rep **out) noexcept {
    auto *b = static_cast<const bytes_rep *>(r);
    bytes_rep *c = alloc_owner(b->data, b->len, b->len);
    if (!c) return COW_ENOMEM;
    *out = c;
    return COW_OK;
}

// Geometric growth for appends; exact size for the first allocation.
std::size_t grown(std::size_t cap, std::size_t need) noexcept {
    std::size_t twice = cap > max_alloc / 2 ? max_alloc : cap * 2;
    return need > twice ? need : twice;
}

}  // namespace

const rep_ops bytes_ops = {last_handle_released, copy, value_bytes, storage_shared, nullptr,
                           COW_REPRESENTATION_FLAT};

cow_status bytes_new(bytes_rep **out, cow_kind_t kind, const char *src, std::size_t len,
                     std::size_t capacity, const cow_options *options) noexcept {
    if (len >= max_alloc || capacity >= max_alloc) return COW_EOVERFLOW;
    rep_seed seed;
    cow_status s = seed_from_options(options, seed);
    if (s != COW_OK) return s;
    bytes_rep *b = alloc_owner(src, len, capacity > len ? capacity : len);
    if (!b) {
        seed_discard(seed);
        return COW_ENOMEM;
    }
    rep_init_new(b, kind, &bytes_ops, seed);
    *out = b;
    return COW_OK;
}

cow_status bytes_reserve_unique(bytes_rep **slot, std::size_t keep_len,
                                std::size_t min_len) noexcept {
    bytes_rep *b = *slot;
    std::size_t need;
    if (!add_size(min_len, 1, need)) return COW_EOVERFLOW;
    if (!bytes_shared(b)) {
        if (need <= b->cap) return COW_OK;
        std::size_t cap = grown(b->cap, need);
        char *data;
        if (b->cap && !storage_is_inline(b)) {
            data = static_cast<char *>(mem_realloc(b->data, b->cap, cap));
        } else {
            // Out of the header's block (its room stays unused) or the first storage.
            data = static_cast<char *>(mem_alloc(cap));
            if (data) std::memcpy(data, b->data, b->len + 1);
        }
        if (!data) return COW_ENOMEM;
        b->data = data;
        b->cap = cap;
        return COW_OK;
    }
    bytes_rep *c = alloc_owner(b->data, keep_len, min_len > keep_len ? min_len : keep_len);
    if (!c) return COW_ENOMEM;
    rep_init_copy(c, b, keep_len, false);
    *slot = c;
    rep_release(b);
    return COW_OK;
}

cow_status bytes_insert(bytes_rep **slot, std::size_t at, const char *src, std::size_t n) noexcept {
    bytes_rep *b = *slot;
    std::size_t new_len;
    if (!add_size(b->len, n, new_len) || new_len >= max_alloc) return COW_EOVERFLOW;
    if (n == 0) return COW_OK;
    // The source may lie inside this value (s.append(s)); growing could move
    // or free it, so take a private copy first.
    char *tmp = nullptr;
    auto addr = [](const char *p) { return reinterpret_cast<std::uintptr_t>(p); };
    if (addr(src) < addr(b->data + b->len) && addr(b->data) < addr(src) + n) {
        tmp = static_cast<char *>(mem_alloc(n));
        if (!tmp) return COW_ENOMEM;
        std::memcpy(tmp, src, n);
        src = tmp;
    }
    cow_status s = bytes_reserve_unique(slot, b->len, new_len);
    if (s == COW_OK) {
        b = *slot;
        std::memmove(b->data + at + n, b->data + at, b->len - at);
        std::memcpy(b->data + at, src, n);
        b->len = new_len;
        b->data[new_len] = 0;
    }
    if (tmp) mem_free(tmp, n);
    return s;
}

cow_status bytes_erase(bytes_rep **slot, std::size_t at, std::size_t n) noexcept {
    bytes_rep *b = *slot;
    if (n == 0) return COW_OK;
    if (bytes_shared(b)) {
        // Copy only what survives: prefix, then suffix.
        std::size_t new_len = b->len - n;
        bytes_rep *c = alloc_owner(b->data, at, new_len);
        if (!c) return COW_ENOMEM;
        std::memcpy(c->data + at, b->data + at + n, new_len - at);
        c->len = new_len;
        if (c->cap) c->data[new_len] = 0;  // never into the shared static ""
        rep_init_copy(c, b, new_len, false);
        *slot = c;
        rep_release(b);
        return COW_OK;
    }
    std::memmove(b->data + at, b->data + at + n, b->len - at - n);
    b->len -= n;
    b->data[b->len] = 0;
    return COW_OK;
}

cow_status bytes_truncate(bytes_rep **slot, std::size_t new_len) noexcept {
    bytes_rep *b = *slot;
    if (new_len == b->len) return COW_OK;
    cow_status s = bytes_reserve_unique(slot, new_len, new_len);
    if (s != COW_OK) return s;
    b = *slot;
    b->len = new_len;
    if (b->cap) b->data[new_len] = 0;
    return COW_OK;
}

cow_status bytes_resize(bytes_rep **slot, std::size_t new_len, unsigned char fill) noexcept {
    bytes_rep *b = *slot;
    if (new_len <= b->len) return bytes_truncate(slot, new_len);
    if (new_len >= max_alloc) return COW_EOVERFLOW;
    cow_status s = bytes_reserve_unique(slot, b->len, new_len);
    if (s != COW_OK) return s;
    b = *slot;
    std::memset(b->data + b->len, fill, new_len - b->len);
    b->len = new_len;
    b->data[new_len] = 0;
    return COW_OK;
}

cow_status bytes_slice(bytes_rep **out, const bytes_rep *src, std::size_t off,
                       std::size_t n) noexcept {
    void *mem = mem_alloc(sizeof(bytes_rep));
    if (!mem) return COW_ENOMEM;
    auto *s = new (mem) bytes_rep;  // every field is set below
    s->inline_cap = 0;
    bytes_rep *owner = src->owner ? src->owner : const_cast<bytes_rep *>(src);
    // The caller's handle keeps src (and so owner) alive while we add a unit.
    owner->keep.fetch_add(1, std::memory_order_relaxed);
    s->data = src->data + off;
    s->len = n;
    s->cap = 0;
    s->owner = owner;
    s->keep.store(0, std::memory_order_relaxed);
    rep_init_view(s, src);
    *out = s;
    return COW_OK;
}

cow_status bytes_cstr(bytes_rep **slot, const char **out) noexcept {
    bytes_rep *b = *slot;
    if (is_slice(b)) {
        // The owner's storage is frozen while a slice exists, so its NUL
        // stays put; a slice ending elsewhere needs its own copy.
        bytes_rep *o = b->owner;
        if (b->data + b->len != o->data + o->len) {
            cow_status s = bytes_reserve_unique(slot, b->len, b->len);
            if (s != COW_OK) return s;
            b = *slot;
        }
    }
    *out = b->data;
    return COW_OK;
}

cow_status bytes_into(bytes_rep **slot, cow_owned *out) noexcept {
    bytes_rep *b = *slot;
    if (!bytes_shared(b) && b->cap && !storage_is_inline(b)) {
        // Unique owner with a storage block: hand over the block itself.
        out->data = b->data;
        out->len = b->len;
        out->alloc_size = b->cap;
        out->offset = 0;
        b->cap = 0;
        b->data = empty_storage;
        *slot = nullptr;
        rep_release(b);
        return COW_OK;
    }
    std::size_t size = b->len + 1;
    char *data = static_cast<char *>(mem_alloc(size));
    if (!data) return COW_ENOMEM;
    if (b->len) std::memcpy(data, b->data, b->len);
    data[b->len] = 0;
    out->data = data;
    out->len = b->len;
    out->alloc_size = size;
    out->offset = 0;
    *slot = nullptr;
    rep_release(b);
    return COW_OK;
}

int bytes_compare(const char *a, std::size_t an, const char *b, std::size_t bn) noexcept {
    std::size_t n = an < bn ? an : bn;
    int c = n ? std::memcmp(a, b, n) : 0;
    if (c != 0) return c < 0 ? -1 : 1;
    return an < bn ? -1 : (an > bn ? 1 : 0);
}

}  // namespace cow::detail
