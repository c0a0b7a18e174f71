// cow_map: argument checking and translation to the map core.
#include <cstddef>

#include "../src/alloc.hpp"
#include "../src/map/map.hpp"
#include "../src/type.hpp"
#include "../src/utf8.hpp"
#include "api.hpp"

using namespace cow::detail;
using cow::capi::handle_status;

namespace {
constexpr cow_kind_t K = COW_KIND_MAP;

map_rep *map_of(const void *h) noexcept { return cow::capi::rep_as<map_rep>(h, K); }

// A key argument: (bytes, length) for variable-length keys (bytes may be
// NULL when empty), else one key of exactly elem_size bytes.
cow_status check_key(const map_rep *m, const void *key, std::size_t key_len) noexcept {
    if (m->varlen_keys) {
        if (!key && key_len) return COW_EINVAL;
        return key_len < max_alloc ? COW_OK : COW_EOVERFLOW;
    }
    return key && key_len == m->key_type->elem_size ? COW_OK : COW_EINVAL;
}

// Runs edit(map_rep **) on a private copy of the slot's pointer after the
// slot and key checks; the slot is written back only on success.
template <class Edit>
cow_status edit_map(cow_map **slot, const void *key, std::size_t key_len, Edit edit) noexcept {
    return cow::capi::edit_slot<map_rep>(slot, K, [&](map_rep **m) {
        cow_status s = check_key(*m, key, key_len);
        return s != COW_OK ? s : edit(m);
    });
}

// The value for a lookup, or nullptr (absent, or not a valid key).
const void *lookup(const map_rep *m, const void *key, std::size_t key_len) noexcept {
    if (!m || check_key(m, key, key_len) != COW_OK) return nullptr;
    return map_get(m, key, key_len);
}
}  // namespace

extern "C" {

COW_API cow_status cow_map_new(cow_map **out, const cow_type *key_type, const cow_type *value_type,
                               const cow_options *options) noexcept {
    if (!out) return COW_EINVAL;
    if (type_check(key_type) != COW_OK || value_type_check(value_type) != COW_OK) return COW_EINVAL;
    map_rep *m;
    cow_status s = map_new(&m, key_type, value_type, options);
    if (s == COW_OK) *out = handle_of<cow_map>(m);
    return s;
}

COW_API cow_map *cow_map_clone(const cow_map *map) noexcept {
    return cow::capi::clone_of_kind(map, K);
}

COW_API void cow_map_release(cow_map *map) noexcept { cow::capi::release_of_kind(map, K); }

COW_API size_t cow_map_len(const cow_map *map) noexcept {
    map_rep *m = map_of(map);
    return m ? m->len : 0;
}

COW_API const cow_type *cow_map_key_type(const cow_map *map) noexcept {
    map_rep *m = map_of(map);
    return m ? m->key_type : nullptr;
}

COW_API const cow_type *cow_map_value_type(const cow_map *map) noexcept {
    map_rep *m = map_of(map);
    return m ? m->value_type : nullptr;
}

COW_API const void *cow_map_get(const cow_map *map, const void *key, size_t key_len) noexcept {
    return lookup(map_of(map), key, key_len);
}

COW_API bool cow_map_contains(const cow_map *map, const void *key, size_t key_len) noexcept {
    return lookup(map_of(map), key, key_len) != nullptr;
}

COW_API cow_status cow_map_insert(cow_map **slot, const void *key, size_t key_len,
                                  const void *value, void *out_old, bool *out_replaced) noexcept {
    return edit_map(slot, key, key_len, [&](map_rep **m) {
        if (!value) return COW_EINVAL;
        if (type_is_string((*m)->key_type) && !utf8_valid(static_cast<const char *>(key), key_len))
            return COW_EUTF8;
        return map_insert(m, key, key_len, value, out_old, out_replaced);
    });
}

COW_API cow_status cow_map_remove(cow_map **slot, const void *key, size_t key_len,
                                  void *out_value) noexcept {
    // Invalid UTF-8 needs no check: no stored string key can equal it.
    return edit_map(slot, key, key_len,
                    [&](map_rep **m) { return map_remove(m, key, key_len, out_value); });
}

COW_API cow_status cow_map_get_mut(cow_map **slot, const void *key, size_t key_len,
                                   void **out_value) noexcept {
    if (!out_value) return COW_EINVAL;
    void *v = nullptr;
    cow_status s = edit_map(slot, key, key_len,
                            [&](map_rep **m) { return map_get_mut(m, key, key_len, &v); });
    if (s == COW_OK) *out_value = v;
    return s;
}

COW_API cow_status cow_map_clear(cow_map **slot) noexcept {
    if (!slot) return COW_EINVAL;
    cow_status s = handle_status(*slot, K);
    if (s != COW_OK) return s;
    map_rep *m = map_of(*slot);
    s = map_clear(&m);
    if (s == COW_OK) *slot = handle_of<cow_map>(m);
    return s;
}

COW_API cow_status cow_map_cursor_init(cow_map_cursor *cursor, const cow_map *map) noexcept {
    if (!cursor) return COW_EINVAL;
    cow_status s = handle_status(map, K);
    if (s != COW_OK) return s;
    *cursor = cow_map_cursor{};
    cursor->size = sizeof(cow_map_cursor);
    cursor->map = map;
    return COW_OK;
}

COW_API bool cow_map_next(cow_map_cursor *cursor, const void **out_key, size_t *out_key_len,
                          const void **out_value) noexcept {
    if (!cursor || cursor->size < offsetof(cow_map_cursor, path)) return false;
    map_rep *m = map_of(cursor->map);
    return m && map_next(m, cursor, out_key, out_key_len, out_value);
}

COW_API cow_status cow_map_make_mut(cow_map **slot) noexcept {
    return cow::capi::edit_slot<map_rep>(slot, K, cow::capi::make_unique<map_rep>);
}

COW_API cow_status cow_map_entry(cow_map **slot, const void *key, size_t key_len,
                                 const void *init_value, void **out_value, bool *out_inserted) noexcept {
    if (!out_value || !init_value) return COW_EINVAL;
    void *v = nullptr;
    bool inserted = false;
    cow_status s = edit_map(slot, key, key_len, [&](map_rep **m) {
        if (type_is_string((*m)->key_type) && !utf8_valid(static_cast<const char *>(key), key_len))
            return COW_EUTF8;
        return map_entry(m, key, key_len, init_value, &v, &inserted);
    });
    if (s != COW_OK) return s;
    *out_value = v;
    if (out_inserted) *out_inserted = inserted;
    return COW_OK;
}

// NULL is an empty map; another kind of handle is not a map at all.
static bool map_or_empty(const cow_map *h, map_rep **out) noexcept {
    *out = map_of(h);
    return !h || *out;
}

COW_API bool cow_map_equal(const cow_map *a, const cow_map *b) noexcept {
    map_rep *ma, *mb;
    if (!map_or_empty(a, &ma) || !map_or_empty(b, &mb)) return false;
    return map_equal(ma, mb);
}

COW_API uint64_t cow_map_hash(const cow_map *map) noexcept {
    map_rep *m;
    map_or_empty(map, &m);  // another kind hashes as empty
    return map_hash(m);
}

COW_API cow_status cow_map_diff(const cow_map *a, const cow_map *b, cow_map_diff_fn callback,
                                void *ctx, bool *out_stopped) noexcept {
    map_rep *ma, *mb;
    if (!map_or_empty(a, &ma) || !map_or_empty(b, &mb)) return COW_ETYPE;
    if (!callback) return COW_EINVAL;
    return map_diff(ma, mb, callback, ctx, out_stopped);
}

}  // extern "C"
