#include "keys.hpp"

#include <cstring>
#include <new>

#include "../alloc.hpp"

namespace cow::detail {

key_block *key_block_new(std::size_t bytes) noexcept {
    std::size_t total;
    if (!add_size(sizeof(key_block), bytes, total)) return nullptr;
    void *m = mem_alloc(total);
    if (!m) return nullptr;
    auto *b = new (m) key_block;
    b->refs.store(1, std::memory_order_relaxed);
    b->size = bytes;
    b->used = 0;
    return b;
}

void key_block_release(key_block *b) noexcept {
    // acq_rel, as for handles: the last holder sees every other's reads done.
    if (b->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    std::size_t total = sizeof(key_block) + b->size;
    b->~key_block();
    mem_free(b, total);
}

namespace {

key_block **list_alloc(std::uint32_t cap) noexcept {
    return static_cast<key_block **>(mem_alloc(cap * sizeof(key_block *)));
}
void list_free(key_block **list, std::uint32_t cap) noexcept {
    if (list) mem_free(list, cap * sizeof(key_block *));
}

}  // namespace

cow_status key_store_share(const key_store &src, key_store &dst, std::uint32_t spare) noexcept {
    dst = key_store{};
    if (src.count == 0) return COW_OK;  // no list: a key added later makes one
    std::uint32_t cap = src.count + spare;
    key_block **list = list_alloc(cap);
    if (!list) return COW_ENOMEM;
    for (std::uint32_t k = 0; k < src.count; ++k) {
        src.blocks[k]->refs.fetch_add(1, std::memory_order_relaxed);
        list[k] = src.blocks[k];
    }
    dst.blocks = list;
    dst.count = src.count;
    dst.cap = cap;
    dst.live_bytes = src.live_bytes;
    dst.used_bytes = src.used_bytes;
    return COW_OK;
}

void key_store_release(key_store &ks) noexcept {
    for (std::uint32_t k = 0; k < ks.count; ++k) key_block_release(ks.blocks[k]);
    list_free(ks.blocks, ks.cap);
    ks = key_store{};
}

bool key_store_has_room(const key_store &ks, std::size_t len) noexcept {
    if (ks.count == 0) return false;
    key_block *last = ks.blocks[ks.count - 1];
    // Acquire pairs with the release of another map's reference: once it is
    // gone, this map alone holds the block and may write its free room.
    return last->refs.load(std::memory_order_acquire) == 1 && last->size - last->used >= len;
}

cow_status key_room_prepare(const key_store &like, const key_store *target, std::size_t len,
                            bool must_add, key_room &out) noexcept {
    out = key_room{};
    if (!must_add) return COW_OK;
    // Blocks grow with the map (about doubling), so a map holds O(log n) of them.
    constexpr std::size_t smallest = 256, largest = std::size_t{1} << 20;
    std::size_t size = like.used_bytes < smallest ? smallest : like.used_bytes > largest ? largest : like.used_bytes;
    if (size < len) size = len;
    out.fresh = key_block_new(size);
    if (!out.fresh) return COW_ENOMEM;
    if (target && target->count == target->cap) {
        std::uint32_t cap = target->cap ? 2 * target->cap : 4;
        out.fresh_list = list_alloc(cap);
        if (!out.fresh_list) {
            key_room_discard(out);
            return COW_ENOMEM;
        }
        out.fresh_cap = cap;
    }
    return COW_OK;
}

void key_room_discard(key_room &room) noexcept {
    if (room.fresh) key_block_release(room.fresh);
    list_free(room.fresh_list, room.fresh_cap);
    room = key_room{};
}

const char *key_room_address(const key_store &ks, const key_room &room) noexcept {
    if (room.fresh) return room.fresh->room();
    key_block *last = ks.blocks[ks.count - 1];
    return last->room() + last->used;
}

const char *key_store_place(key_store &ks, key_room &room, const void *bytes, std::size_t len) noexcept {
    if (room.fresh) {
        if (ks.count == ks.cap) {
            // key_room_prepare made the bigger list for exactly this.
            if (ks.count) std::memcpy(room.fresh_list, ks.blocks, ks.count * sizeof(key_block *));
            list_free(ks.blocks, ks.cap);
            ks.blocks = room.fresh_list;
            ks.cap = room.fresh_cap;
            room.fresh_list = nullptr;
        }
        ks.blocks[ks.count++] = room.fresh;
        room.fresh = nullptr;
    }
    list_free(room.fresh_list, room.fresh_cap);  // prepared, not needed after all
    room.fresh_list = nullptr;
    key_block *last = ks.blocks[ks.count - 1];
    char *at = last->room() + last->used;
    std::memcpy(at, bytes, len);
    last->used += len;
    ks.live_bytes += len;
    ks.used_bytes += len;
    return at;
}

}  // namespace cow::detail
