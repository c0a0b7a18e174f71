// Generic handle operations, statistics, options and memory.
#include <cstddef>
#include <cstring>

#include "../src/alloc.hpp"
#include "../src/global_stats.hpp"
#include "../src/report.hpp"
#include "api.hpp"

using namespace cow::detail;
using cow::capi::handle_status;

namespace {
// Reads a versioned output struct's size; false when it is too small.
template <class T>
bool out_size_ok(const T *out) {
    return out && out->size >= 2 * sizeof(std::uint32_t);
}
// Copies `full` into the caller's struct, at most caller->size bytes.
template <class T>
void write_versioned(T *out, const T &full) {
    std::uint32_t caller = out->size;
    std::size_t n = caller < sizeof(T) ? caller : sizeof(T);
    std::memcpy(out, &full, n);
    out->size = caller;
}
}  // namespace

extern "C" {

COW_API cow_kind_t cow_kind(const void *handle) noexcept {
    rep *r = rep_of(handle);
    return r ? rep_kind(r) : COW_KIND_INVALID;
}

COW_API void *cow_clone(const void *handle) noexcept {
    rep *r = rep_of(handle);
    return r ? rep_clone_or_null(r) : nullptr;
}

COW_API void cow_release(void *handle) noexcept {
    if (rep *r = rep_of(handle)) rep_release(r);
}

COW_API cow_status cow_make_mut(void *slot) noexcept {
    if (!slot) return COW_EINVAL;
    void *h;
    std::memcpy(&h, slot, sizeof h);  // slot is the address of some `cow_x *` variable
    cow_status s = handle_status(h, 0);
    if (s != COW_OK) return s;
    rep *r = rep_of(h);
    s = rep_make_unique(&r);
    if (s == COW_OK) std::memcpy(slot, &r, sizeof r);
    return s;
}

COW_API bool cow_is_shared(const void *handle) noexcept {
    rep *r = rep_of(handle);
    return r && rep_is_shared(r);
}

COW_API uint64_t cow_strong_count(const void *handle) noexcept {
    rep *r = rep_of(handle);
    return r ? rep_handles(r) : 0;
}

COW_API bool cow_ptr_eq(const void *a, const void *b) noexcept {
    return a && a == b && rep_of(a);
}

COW_API void cow_options_init(cow_options *options) noexcept {
    if (options) *options = cow_options COW_OPTIONS_INIT;
}

// The 0.1 layout ends where representation begins. A 0.1 caller's struct is
// that small, so this init must write no further (cow.h: STABILITY).
COW_API void cow_stats_info_init(cow_stats_info *info) noexcept {
    if (!info) return;
    constexpr std::uint32_t v1_size = offsetof(cow_stats_info, representation);
    cow_stats_info full COW_STATS_INFO_INIT;
    full.size = v1_size;
    std::memcpy(info, &full, v1_size);
}

COW_API void cow_stats_info_init_v2(cow_stats_info *info) noexcept {
    if (info) *info = cow_stats_info COW_STATS_INFO_INIT;
}

COW_API cow_status cow_stats(const void *handle, cow_stats_info *out) noexcept {
    cow_status s = handle_status(handle, 0);
    if (s != COW_OK) return s;
    if (!out_size_ok(out)) return COW_EINVAL;
    cow_stats_info full COW_STATS_INFO_INIT;
    rep_stats(rep_of(handle), full);
    write_versioned(out, full);
    return COW_OK;
}

COW_API cow_status cow_stats_report(const void *handle, uint32_t format, cow_str **out) noexcept {
    cow_status s = handle_status(handle, 0);
    if (s != COW_OK) return s;
    if (!out || (format != COW_REPORT_TEXT && format != COW_REPORT_JSON)) return COW_EINVAL;
    const rep *r = rep_of(handle);
    cow_stats_info info COW_STATS_INFO_INIT;
    rep_stats(r, info);
    char text[1024];
    std::size_t n = format_report(info, format, r->strategy == COW_STRATEGY_ADAPTIVE, text, sizeof text);
    bytes_rep *b;
    s = bytes_new(&b, COW_KIND_STR, text, n, 0, nullptr);
    if (s == COW_OK) *out = handle_of<cow_str>(b);
    return s;
}

COW_API cow_status cow_global_stats(cow_global_stats_info *out) noexcept {
    if (!out_size_ok(out)) return COW_EINVAL;
    cow_global_stats_info full COW_GLOBAL_STATS_INFO_INIT;
    global_stats(full);
    write_versioned(out, full);
    return COW_OK;
}

COW_API cow_status cow_set_allocator(const cow_allocator *allocator) noexcept {
    return set_allocator(allocator);
}

COW_API void cow_owned_free(cow_owned *owned) noexcept {
    if (!owned) return;
    if (owned->data) mem_free(static_cast<char *>(owned->data) - owned->offset, owned->alloc_size);
    *owned = cow_owned{nullptr, 0, 0, 0};
}

}  // extern "C"
