// Element types for the container fuzz targets. The model keeps every
// element as a 64-bit "logical" value; each kind says how that value is laid
// out in libcow's memory and read back. One kind, `tracked`, is the
// test-support library's stamped type (copy, drop, equal and hash
// callbacks): every copy gets a serial number that must be dropped exactly
// once, and its copy can be told to fail.
#pragma once
#include <cmath>
#include <cstring>

#include "harness.hpp"

namespace fuzz {

enum class elem_kind { u8, u32, u64, f64, aligned, big, tracked, handle };
constexpr int elem_kind_count = 8;

using tracked_value = test::stamped_value;

// Arms the tracked copy to fail at its k-th call from now.
inline void arm_copy_failure(long k, cow_status with) { tracker.counts.arm(k, with); }

inline const cow_type *tracked_type() { return tracker.type(); }

// A 64-byte value aligned to 64 (COW_MAX_ALIGN), and a big one (more than
// the library's 256-byte scratch buffers).
constexpr std::size_t aligned_size = 64, big_size = 320;
inline const cow_type *aligned_type() {
    static const cow_type t = {sizeof(cow_type), 0, aligned_size, 64, nullptr, nullptr, nullptr,
                               nullptr, nullptr, "fuzz.aligned"};
    return &t;
}
inline const cow_type *big_type() {
    static const cow_type t = {sizeof(cow_type), 0, big_size, 8, nullptr, nullptr, nullptr,
                               nullptr, nullptr, "fuzz.big"};
    return &t;
}

inline const cow_type *type_of(elem_kind k) {
    switch (k) {
    case elem_kind::u8: return cow_type_u8();
    case elem_kind::u32: return cow_type_u32();
    case elem_kind::u64: return cow_type_u64();
    case elem_kind::f64: return cow_type_f64();
    case elem_kind::aligned: return aligned_type();
    case elem_kind::big: return big_type();
    case elem_kind::tracked: return tracked_type();
    case elem_kind::handle: return cow_type_handle();
    }
    return nullptr;
}
inline std::size_t size_of(elem_kind k) { return type_of(k)->elem_size; }

// Logical values are kept in the element's own width.
inline std::uint64_t normalise(elem_kind k, std::uint64_t v) {
    switch (k) {
    case elem_kind::u8: return v & 0xff;
    case elem_kind::u32: return v & 0xffffffffu;
    default: return v;
    }
}

// Writes logical value v as an element (a caller's template for tracked).
inline void encode(elem_kind k, std::uint64_t v, void *dst) {
    auto *d = static_cast<unsigned char *>(dst);
    switch (k) {
    case elem_kind::u8: *d = static_cast<unsigned char>(v); break;
    case elem_kind::u32: {
        auto x = static_cast<std::uint32_t>(v);
        std::memcpy(d, &x, 4);
        break;
    }
    case elem_kind::u64:
    case elem_kind::f64:
    case elem_kind::handle: std::memcpy(d, &v, 8); break;
    case elem_kind::aligned:
    case elem_kind::big: {
        // A pattern derived from v fills the rest: a torn copy shows.
        std::memcpy(d, &v, 8);
        std::size_t n = size_of(k);
        for (std::size_t i = 8; i < n; ++i) d[i] = static_cast<unsigned char>(v * 31 + i);
        break;
    }
    case elem_kind::tracked: {
        tracked_value t{v, 0};
        std::memcpy(d, &t, sizeof t);
        break;
    }
    }
}

// Reads an element back as its logical value, checking its integrity.
inline std::uint64_t decode(elem_kind k, const void *src) {
    auto *s = static_cast<const unsigned char *>(src);
    std::uint64_t v = 0;
    switch (k) {
    case elem_kind::u8: return *s;
    case elem_kind::u32: {
        std::uint32_t x;
        std::memcpy(&x, s, 4);
        return x;
    }
    case elem_kind::u64:
    case elem_kind::f64:
    case elem_kind::handle: std::memcpy(&v, s, 8); return v;
    case elem_kind::aligned:
    case elem_kind::big: {
        std::memcpy(&v, s, 8);
        std::size_t n = size_of(k);
        for (std::size_t i = 8; i < n; ++i) FUZZ_CHECK(s[i] == static_cast<unsigned char>(v * 31 + i));
        if (k == elem_kind::aligned) FUZZ_CHECK(reinterpret_cast<std::uintptr_t>(src) % 64 == 0);
        return v;
    }
    case elem_kind::tracked: {
        tracked_value t;
        std::memcpy(&t, s, sizeof t);
        // Stored values are live copies, never the caller's template.
        FUZZ_CHECK(tracker.is_live_copy(t));
        return t.value;
    }
    }
    return v;
}

// Drops a value handed to the caller (pop, erase, set's old value, into).
inline void drop_owned(elem_kind k, void *value) {
    if (k == elem_kind::tracked) tracker.drop(value);
    if (k == elem_kind::handle) {
        void *h;
        std::memcpy(&h, value, sizeof h);
        cow_release(h);
    }
}

// A logical value for element kind k; floats include the awkward ones.
inline std::uint64_t draw_value(provider &in, elem_kind k) {
    if (k == elem_kind::f64) {
        static const double specials[] = {0.0, -0.0, NAN, -NAN, INFINITY, -INFINITY, 1.0, -1.5, 1e300, 5e-324};
        double d = in.ConsumeBool() ? specials[in.ConsumeIntegralInRange<int>(0, 9)]
                                    : static_cast<double>(in.ConsumeIntegralInRange<int>(-3, 3));
        std::uint64_t bits;
        std::memcpy(&bits, &d, 8);
        if (std::isnan(d) && in.ConsumeBool()) bits ^= in.ConsumeIntegralInRange<std::uint64_t>(1, 0xffff);
        return bits;
    }
    // Small values repeat, so keys collide and equal values meet.
    std::uint64_t v = in.ConsumeBool() ? in.ConsumeIntegralInRange<std::uint64_t>(0, 15)
                                       : in.ConsumeIntegral<std::uint64_t>();
    return normalise(k, v);
}

// The identity of a fixed-size map key under the type's equality: floats
// with every NaN equal and -0.0 == +0.0, tracked values by value.
inline std::uint64_t key_identity(elem_kind k, std::uint64_t v) {
    if (k == elem_kind::f64) {
        double d;
        std::memcpy(&d, &v, 8);
        if (std::isnan(d)) return 0x7ff8000000000000u;
        if (d == 0.0) return 0;
    }
    return v;
}

}  // namespace fuzz
