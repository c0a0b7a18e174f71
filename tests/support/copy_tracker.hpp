// Copy-tracking element types: cow_type callbacks that count every copy and
// drop libcow makes of a user value and fail a chosen copy on command.
//  - tracked_type: plain values of any size, copied with memcpy and counted
//    (what the doctest suites use to check exact callback counts).
//  - stamped_tracker: 16-byte {value, serial} values whose every copy gets a
//    new serial that must be dropped exactly once; copying or dropping
//    anything else aborts (what the fuzz targets use to catch leaks, double
//    drops and garbage).
#pragma once
#include <cstddef>
#include <cstdint>
#include <set>

#include "cow.h"

namespace test {

class copy_tracker {
public:
    // Not a libcow code: a copy failing with it is reported as COW_ECALLBACK.
    static constexpr cow_status user_failure = 1000;

    long copies = 0;           // successful copies
    long drops = 0;
    std::size_t elem_size = 8; // bytes a plain tracked copy moves (set by tracked_type)

    long live() const { return copies - drops; }
    // Fails the nth copy call from now (1-based) with `with`; 0: none.
    void arm(long nth, cow_status with = user_failure);
    void disarm() { arm(0); }
    // The status an injected failure returned since this was last asked; COW_OK: none.
    cow_status take_failure();

    // For copy callbacks: counts one call; COW_OK, or the failure to return.
    cow_status count_copy();
    void count_drop() { ++drops; }

private:
    long calls = 0;    // copy calls since arm()
    long fail_at = 0;
    cow_status fail_with = user_failure;
    cow_status injected = COW_OK;
};

// A type of plain `size`-byte values whose copies and drops `t` counts.
cow_type tracked_type(copy_tracker &t, std::size_t size = sizeof(std::uint64_t),
                      std::size_t align = alignof(std::uint64_t), const char *name = "tracked");
cow_status tracked_copy(void *ctx, void *dst, const void *src);
void tracked_drop(void *ctx, void *value);

struct stamped_value {
    std::uint64_t value;
    std::uint64_t serial;  // 0: a caller's template, never made or dropped by libcow
};

// Values equal and hash by `value`; `serial` tells the copies apart.
class stamped_tracker {
public:
    copy_tracker counts;             // counts, and fails a copy on command
    std::set<std::uint64_t> live;    // serials of copies made and not yet dropped

    explicit stamped_tracker(const char *name);
    stamped_tracker(const stamped_tracker &) = delete;
    stamped_tracker &operator=(const stamped_tracker &) = delete;

    const cow_type *type() const { return &type_; }
    // A stored value is a live copy, never a template.
    bool is_live_copy(const stamped_value &v) const;
    // Drops a value libcow handed to the caller (popped, removed, replaced).
    void drop(void *value) { stamped_drop(this, value); }

private:
    std::uint64_t next_serial = 1;
    cow_type type_;
    static cow_status stamped_copy(void *ctx, void *dst, const void *src);
    static void stamped_drop(void *ctx, void *value);
    static bool stamped_equal(void *ctx, const void *a, const void *b);
    static std::uint64_t stamped_hash(void *ctx, const void *value, std::uint64_t seed);
};

}  // namespace test
