// How a map stores variable-length keys (cow_type_bytes, cow_type_string).
//
// A key of up to inline_key_bytes bytes lives inside its entry. A longer
// one lives in a key block: an immutable, reference-counted run of key
// bytes that many keys share. A map holds one reference to each block its
// keys are in (its key_store), so a copy of the map copies the entries as
// plain bytes and takes one more reference per block: no allocation per
// key, whatever the keys. A block is appended to only while one map alone
// holds it; removed keys leave their bytes behind until a copy or a rehash
// of the map compacts its keys into one block.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "cow.h"

namespace cow::detail {

constexpr std::size_t inline_key_bytes = 32;

// The key part of an entry of a map with variable-length keys.
struct stored_key {
    union {
        char bytes[inline_key_bytes];  // len <= inline_key_bytes
        const char *far;               // else: in one of the map's key blocks
    };
    std::size_t len;
};

inline const char *stored_key_bytes(const stored_key &k) noexcept {
    return k.len <= inline_key_bytes ? k.bytes : k.far;
}

struct key_block {
    std::atomic<std::uint64_t> refs;
    std::size_t size;  // bytes of key room after the header
    std::size_t used;  // bytes filled
    char *room() noexcept { return reinterpret_cast<char *>(this + 1); }
};

// The key blocks one map holds a reference to; the last one takes new keys
// while this map alone holds it.
struct key_store {
    key_block **blocks = nullptr;
    std::uint32_t count = 0, cap = 0;
    std::size_t live_bytes = 0;  // bytes of the long keys in the map
    std::size_t used_bytes = 0;  // bytes filled in its blocks (live or left behind)
};

// Room for one long key, prepared before an insert changes anything.
struct key_room {
    key_block *fresh = nullptr;      // a new block to add, or nullptr: the last block has room
    key_block **fresh_list = nullptr;  // a bigger block list to take, or nullptr
    std::uint32_t fresh_cap = 0;
};

// dst holds src's blocks (one more reference each), with room in its list
// for `spare` more (none when src has no block). On failure dst is empty.
cow_status key_store_share(const key_store &src, key_store &dst, std::uint32_t spare) noexcept;
// Drops the store's references (and every block it alone held).
void key_store_release(key_store &ks) noexcept;
// Prepares room for a long key of len bytes: a new block when `must_add`
// (sized from `like`, the store the map has now), and a bigger block list
// when `target` (the store that will take the block; nullptr: a copy made
// with spare room) has no room for one more.
cow_status key_room_prepare(const key_store &like, const key_store *target, std::size_t len,
                            bool must_add, key_room &out) noexcept;
// Frees what key_room_prepare allocated, when the insert fails.
void key_room_discard(key_room &room) noexcept;
// Where key_store_place will put the next key, given the room prepared
// for it: its address is known before anything changes.
const char *key_room_address(const key_store &ks, const key_room &room) noexcept;
// Stores the key's bytes in the room prepared for them (cannot fail), and
// gives their address.
const char *key_store_place(key_store &ks, key_room &room, const void *bytes, std::size_t len) noexcept;
// Whether the last block takes len more bytes without an allocation.
bool key_store_has_room(const key_store &ks, std::size_t len) noexcept;

// Whether enough of the store's bytes were left behind by removed keys
// that a copy or rehash should compact them.
inline bool key_store_wasteful(const key_store &ks) noexcept {
    return ks.used_bytes > 2 * ks.live_bytes + 4096;
}
// A new block able to hold `bytes` bytes of keys (nullptr: out of memory).
key_block *key_block_new(std::size_t bytes) noexcept;
void key_block_release(key_block *b) noexcept;

}  // namespace cow::detail
