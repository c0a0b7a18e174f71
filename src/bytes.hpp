// The byte representation behind both cow_buf and cow_str.
//
// An owner holds its own storage; a slice views an owner's storage and
// keeps it alive through the owner's `keep` count (one unit for all the
// owner's handles together, one per slice). A slice is always "shared": its
// first write copies just its bytes into a new owner. Owners with storage
// keep a NUL after the last byte, so cow_str_cstr is O(1) for them. Small
// storage lives in the header's block: one allocation per value.
#pragma once
#include <atomic>
#include <cstddef>

#include "rep.hpp"

namespace cow::detail {

struct bytes_rep : rep {
    char *data;         // never nullptr (a static "" while there is no storage)
    std::size_t len;
    std::size_t cap;    // bytes allocated at data (len + 1 <= cap), 0 for none/slice
    bytes_rep *owner;   // slices: the owner whose storage is viewed
    std::atomic<std::uint64_t> keep;  // owners: 1 for the handles + 1 per slice
    // Bytes of storage allocated in the header's own block, right after it
    // (0: none). data points there until the storage outgrows it.
    std::size_t inline_cap;
};

extern const rep_ops bytes_ops;

// rep_is_shared for bytes, without the indirect call: other handles, a
// slice, or an owner that slices still view.
inline bool bytes_shared(const bytes_rep *b) noexcept {
    return rep_handles(b) != 1 || b->owner != nullptr ||
           b->keep.load(std::memory_order_acquire) != 1;
}
// A write of up to `len` bytes can go straight to b->data (the hot path of
// make_mut and small appends: no copy, no growth, no slot update).
inline bool bytes_writable_in_place(const bytes_rep *b, std::size_t len) noexcept {
    return len < b->cap && !bytes_shared(b);
}

inline bytes_rep *as_bytes(rep *r) noexcept { return static_cast<bytes_rep *>(r); }

// For code that holds a value of any kind (handle elements): whether it is
// a cow_buf or cow_str, and then its bytes.
inline bool rep_is_bytes(const rep *r) noexcept {
    return rep_kind(r) == COW_KIND_BUF || rep_kind(r) == COW_KIND_STR;
}
struct bytes_span {
    const char *data;
    std::size_t len;
};
inline bytes_span bytes_contents(const rep *r) noexcept {
    auto *b = static_cast<const bytes_rep *>(r);
    return bytes_span{b->data, b->len};
}

cow_status bytes_new(bytes_rep **out, cow_kind_t kind, const char *src, std::size_t len,
                     std::size_t capacity, const cow_options *options) noexcept;

// Makes *slot a unique owner holding its first `keep_len` bytes (keep_len
// <= len) with room for `min_len` bytes plus the NUL. Other bytes of a copy
// are not copied; in place, len is left alone.
cow_status bytes_reserve_unique(bytes_rep **slot, std::size_t keep_len,
                                std::size_t min_len) noexcept;

// The edits (slot must hold a valid handle; ranges checked by the caller).
cow_status bytes_insert(bytes_rep **slot, std::size_t at, const char *src, std::size_t n) noexcept;
cow_status bytes_erase(bytes_rep **slot, std::size_t at, std::size_t n) noexcept;
cow_status bytes_truncate(bytes_rep **slot, std::size_t new_len) noexcept;
cow_status bytes_resize(bytes_rep **slot, std::size_t new_len, unsigned char fill) noexcept;

cow_status bytes_slice(bytes_rep **out, const bytes_rep *src, std::size_t off,
                       std::size_t n) noexcept;
// A NUL-terminated pointer, copying a slice that does not end its storage.
cow_status bytes_cstr(bytes_rep **slot, const char **out) noexcept;
// Hands the bytes (NUL-terminated) to the caller and consumes the slot.
cow_status bytes_into(bytes_rep **slot, cow_owned *out) noexcept;

int bytes_compare(const char *a, std::size_t an, const char *b, std::size_t bn) noexcept;

}  // namespace cow::detail
