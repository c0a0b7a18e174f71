// Shared pieces of the libcow fuzz targets: checks that survive NDEBUG, the
// failures they inject (test-support library), and helpers that draw API arguments
// (valid and invalid) from the fuzzer's input.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <string>

#include <fuzzer/FuzzedDataProvider.h>

#include "copy_tracker.hpp"
#include "cow.h"
#include "failing_allocator.hpp"

namespace fuzz {

// ---------------------------------------------------------------------------
// Checks: abort() with a message, never assert() (NDEBUG would remove it).
// ---------------------------------------------------------------------------
[[noreturn]] inline void fail(const char *file, int line, const char *what) {
    std::fprintf(stderr, "%s:%d: libcow fuzz check failed: %s\n", file, line, what);
    std::abort();
}
#define FUZZ_CHECK(cond) ((cond) ? (void)0 : ::fuzz::fail(__FILE__, __LINE__, #cond))

[[noreturn]] inline void fail_status(const char *file, int line, const char *call, cow_status got) {
    std::fprintf(stderr, "%s:%d: libcow fuzz: %s returned an unexpected status %s\n", file, line,
                 call, cow_strerror(got));
    std::abort();
}

// ---------------------------------------------------------------------------
// Injected failures. The allocator refuses requests above `huge_request` the
// way an exhausted heap would (so a "legal but enormous" size gives
// COW_ENOMEM instead of taking the machine down) and fails the n-th call
// when armed; the tracked element type (types.hpp) fails its n-th copy when
// armed. Both record that they failed, so that judge() knows which status
// the current call may return.
// ---------------------------------------------------------------------------
inline test::failing_allocator allocator;
constexpr std::size_t huge_request = std::size_t{64} << 20;
inline test::stamped_tracker tracker("fuzz.tracked");

// The status a failing copy callback's result turns into (cow_type docs).
inline cow_status callback_status(cow_status s) {
    return s > COW_OK && s <= COW_ECALLBACK ? s : COW_ECALLBACK;
}
// The status the tracked copy failed with since last asked; COW_OK: none.
inline cow_status take_callback_failure() {
    cow_status s = tracker.counts.take_failure();
    return s == COW_OK ? COW_OK : callback_status(s);
}
// Forgets the failures injected so far (before a call, or after one that
// was judged without them).
inline void forget_failures() {
    allocator.take_refusal();
    tracker.counts.take_failure();
}

inline cow_global_stats_info global_stats() {
    cow_global_stats_info g COW_GLOBAL_STATS_INFO_INIT;
    FUZZ_CHECK(cow_global_stats(&g) == COW_OK);
    return g;
}
inline bool same_global(const cow_global_stats_info &a, const cow_global_stats_info &b) {
    return a.live_values == b.live_values && a.live_bytes == b.live_bytes &&
           a.live_allocations == b.live_allocations;
}

// Called at the start of every input: nothing of libcow may be alive.
inline void begin_input() {
    cow_global_stats_info g = global_stats();
    FUZZ_CHECK(g.live_values == 0 && g.live_bytes == 0 && g.live_allocations == 0);
    static bool installed = false;
    if (!installed) {
        allocator.largest_request = huge_request;
        cow_allocator a = allocator.callbacks();
        FUZZ_CHECK(cow_set_allocator(&a) == COW_OK);
        installed = true;
    }
    allocator.stop_failing();
    forget_failures();
}
// Called at the end of every input, after everything was released.
inline void end_input() {
    cow_global_stats_info g = global_stats();
    FUZZ_CHECK(g.live_values == 0);
    FUZZ_CHECK(g.live_bytes == 0);
    FUZZ_CHECK(g.live_allocations == 0);
}

// Arms the allocator to fail the k-th allocation (1-based) of the next call.
inline void arm_failure(long k) { allocator.fail_nth_from_now(k); }
inline void disarm_failure() { allocator.stop_failing(); }

// ---------------------------------------------------------------------------
// Expected status of one call: the defects the model sees in its arguments.
// With no defect the call must succeed, unless the allocator failed it.
// With several defects any of their codes is accepted (precedence is not
// part of the contract).
// ---------------------------------------------------------------------------
struct expectation {
    cow_status codes[8] = {};
    int n = 0;
    // The call may also succeed: what it does depends on a choice the
    // model leaves to the library (an ADAPTIVE copy's representation).
    bool may_succeed = false;
    void add(bool defect, cow_status code) {
        if (defect && n < 8) codes[n++] = code;
    }
    bool ok() const { return n == 0; }
    bool allows(cow_status s) const {
        for (int i = 0; i < n; ++i)
            if (codes[i] == s) return true;
        return false;
    }
};

// COW_FUZZ_TRACE=1 in the environment prints every judged call (to read
// what a minimised finding does).
inline bool tracing() {
    static const bool on = std::getenv("COW_FUZZ_TRACE") != nullptr;
    return on;
}
inline void trace(const char *what, const void *h = nullptr) {
    if (tracing()) std::fprintf(stderr, "  %s %p\n", what, h);
}

// Set by judge() when the call it judged failed (read by the targets).
inline bool last_call_failed = false;

// Checks `got` against the expectation and the injected failures. Returns
// true when the call succeeded.
inline bool judge(const char *file, int line, const char *call, const expectation &e,
                  cow_status got, long calls_before) {
    if (tracing()) {
        std::fprintf(stderr, "  %s -> %s", call, cow_strerror(got));
        for (int i = 0; i < e.n; ++i) std::fprintf(stderr, "%s%d", i ? ", " : " (expected: ", e.codes[i]);
        std::fprintf(stderr, "%s\n", e.n ? ")" : "");
    }
    last_call_failed = got != COW_OK;
    bool alloc_failed = allocator.take_refusal();
    cow_status callback = take_callback_failure();
    disarm_failure();
    if (got == COW_OK) {
        // An injected failure cannot be swallowed: all or nothing.
        if ((!e.ok() && !e.may_succeed) || alloc_failed || callback != COW_OK) fail_status(file, line, call, got);
        return true;
    }
    if (callback != COW_OK && got == callback) return false;
    if (e.allows(got)) {
        // Size overflow must be refused before anything is allocated.
        if (got == COW_EOVERFLOW && allocator.calls != calls_before)
            fail(file, line, "COW_EOVERFLOW after calling the allocator");
        return false;
    }
    if (got == COW_ENOMEM && alloc_failed) return false;
    fail_status(file, line, call, got);
}

// ---------------------------------------------------------------------------
// Drawing arguments.
// ---------------------------------------------------------------------------
using provider = FuzzedDataProvider;

// Sizes that no value can have: the library must refuse them before reading
// or allocating anything.
inline std::size_t draw_huge(provider &in) {
    static const std::size_t values[] = {
        static_cast<std::size_t>(PTRDIFF_MAX),
        static_cast<std::size_t>(PTRDIFF_MAX) + 1,
        static_cast<std::size_t>(PTRDIFF_MAX) + 2,
        SIZE_MAX / 2 + 12345,
        SIZE_MAX - 1,
        SIZE_MAX,
    };
    return values[in.ConsumeIntegralInRange<std::size_t>(0, sizeof values / sizeof *values - 1)];
}

// An index or length for a value of `len` units: mostly in [0, len + 2]
// (so just past the end too), sometimes far beyond.
inline std::size_t draw_index(provider &in, std::size_t len) {
    switch (in.ConsumeIntegralInRange<int>(0, 15)) {
    case 0: return draw_huge(in);
    case 1: return SIZE_MAX - in.ConsumeIntegralInRange<std::size_t>(0, 3);
    default: return in.ConsumeIntegralInRange<std::size_t>(0, len + 2);
    }
}

struct options_draw {
    cow_options opts = COW_OPTIONS_INIT;
    bool pass_null = false;   // pass NULL (defaults)
    expectation defects;      // what is wrong with these options
    // What a value created with them does.
    std::uint32_t strategy = COW_STRATEGY_LAZY;
    std::uint64_t threshold = 0;
    bool stats = true;
    const cow_options *ptr() const { return pass_null ? nullptr : &opts; }
};

// The size floor of an ADAPTIVE value (threshold_bytes): mostly a few
// hundred bytes at most, so that values of a fuzz input's size switch
// representation; now and then 0 (64 KiB) or any value.
inline std::uint64_t draw_adaptive_floor(provider &in) {
    switch (in.ConsumeIntegralInRange<int>(0, 7)) {
    case 0: return 0;
    case 1: return in.ConsumeIntegral<std::uint64_t>();
    default: return in.ConsumeIntegralInRange<std::uint64_t>(0, 200);
    }
}

// Options for a *_new call: every strategy, with or without statistics, and
// now and then something invalid. `trees`: the kind has a tree
// representation (vectors, maps), so STRUCTURAL and ADAPTIVE are accepted
// (ADAPTIVE drawn twice as often: the value changes representation at
// copies); other kinds refuse both (COW_EUNSUPPORTED).
inline options_draw draw_options(provider &in, bool trees = false) {
    options_draw d;
    int choice = in.ConsumeIntegralInRange<int>(0, 15);
    if (choice == 9 && trees) choice = 2;
    switch (choice) {
    case 0: d.pass_null = true; return d;
    case 1: d.opts.strategy = COW_STRATEGY_STRUCTURAL; d.defects.add(!trees, COW_EUNSUPPORTED); break;
    case 2:
        d.opts.strategy = COW_STRATEGY_ADAPTIVE;
        d.opts.threshold_bytes = draw_adaptive_floor(in);
        d.defects.add(!trees, COW_EUNSUPPORTED);
        break;
    case 3: d.opts.strategy = in.ConsumeIntegralInRange<std::uint32_t>(5, UINT32_MAX);
        d.defects.add(true, COW_EINVAL); break;
    case 4: d.opts.flags = 2u << in.ConsumeIntegralInRange<int>(0, 30); d.defects.add(true, COW_EINVAL); break;
    case 5: d.opts.reserved = 1; d.defects.add(true, COW_EINVAL); break;
    case 6: d.opts.size = in.ConsumeIntegralInRange<std::uint32_t>(0, 7); d.defects.add(true, COW_EINVAL); break;
    case 7: case 8: case 9: d.opts.strategy = COW_STRATEGY_LAZY; break;
    case 10: case 11: d.opts.strategy = COW_STRATEGY_EAGER; break;
    default:
        d.opts.strategy = COW_STRATEGY_THRESHOLD;
        d.opts.threshold_bytes = in.ConsumeBool() ? in.ConsumeIntegralInRange<std::uint64_t>(0, 80)
                                                  : in.ConsumeIntegral<std::uint64_t>();
        break;
    }
    if (in.ConsumeIntegralInRange<int>(0, 3) == 0) d.opts.flags |= COW_OPT_NO_STATS;
    // An older caller's struct: only size and strategy; the rest reads as zero.
    if (d.defects.ok() && in.ConsumeIntegralInRange<int>(0, 7) == 0) d.opts.size = 8;
    if (d.opts.size >= sizeof(cow_options)) {
        d.threshold = d.opts.threshold_bytes;
        d.stats = !(d.opts.flags & COW_OPT_NO_STATS);
    } else {
        d.threshold = 0;
        d.stats = true;
    }
    d.strategy = d.opts.strategy;
    return d;
}

// ---------------------------------------------------------------------------
// UTF-8, as a second, independent model of the library's rules.
// ---------------------------------------------------------------------------
inline bool utf8_ok(const std::string &s) {
    std::size_t i = 0, n = s.size();
    while (i < n) {
        unsigned c = static_cast<unsigned char>(s[i]);
        std::size_t len;
        std::uint32_t cp, min;
        if (c < 0x80) { ++i; continue; }
        if ((c & 0xe0) == 0xc0) { len = 2; cp = c & 0x1f; min = 0x80; }
        else if ((c & 0xf0) == 0xe0) { len = 3; cp = c & 0x0f; min = 0x800; }
        else if ((c & 0xf8) == 0xf0) { len = 4; cp = c & 0x07; min = 0x10000; }
        else return false;
        if (n - i < len) return false;
        for (std::size_t k = 1; k < len; ++k) {
            unsigned b = static_cast<unsigned char>(s[i + k]);
            if ((b & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (b & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        i += len;
    }
    return true;
}
inline bool utf8_boundary(const std::string &s, std::size_t at) {
    return at == s.size() || (at < s.size() && (static_cast<unsigned char>(s[at]) & 0xc0) != 0x80);
}
inline std::size_t utf8_chars(const std::string &s) {
    std::size_t n = 0;
    for (char c : s) n += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
    return n;
}
inline void put_code_point(std::string &s, std::uint32_t cp) {
    if (cp < 0x80) {
        s += char(cp);
    } else if (cp < 0x800) {
        s += char(0xc0 | (cp >> 6));
        s += char(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        s += char(0xe0 | (cp >> 12));
        s += char(0x80 | ((cp >> 6) & 0x3f));
        s += char(0x80 | (cp & 0x3f));
    } else {
        s += char(0xf0 | (cp >> 18));
        s += char(0x80 | ((cp >> 12) & 0x3f));
        s += char(0x80 | ((cp >> 6) & 0x3f));
        s += char(0x80 | (cp & 0x3f));
    }
}

// Text for cow_str calls: valid text of 1- to 4-byte characters (edges of
// each range included), raw bytes, or valid text with one classic defect.
inline std::string draw_text(provider &in, std::size_t max_len = 48) {
    static const std::uint32_t edges[] = {0x0,    0x41,   0x7f,   0x80,    0x7ff,    0x800,
                                          0xd7ff, 0xe000, 0xfffd, 0xffff, 0x10000, 0x10ffff};
    static const char *const defects[] = {
        "\xc0\x80",         "\xc1\xbf",         "\xe0\x80\x80",     "\xe0\x9f\xbf",
        "\xf0\x80\x80\x80", "\xf0\x8f\xbf\xbf", "\xed\xa0\x80",     "\xed\xbf\xbf",
        "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff",             "\x80",
        "\xbf",             "\xe2\x82",         "\xf0\x9f\x98",     "\xc3",
    };
    int mode = in.ConsumeIntegralInRange<int>(0, 7);
    if (mode == 0) return in.ConsumeBytesAsString(in.ConsumeIntegralInRange<std::size_t>(0, max_len));
    std::string s;
    std::size_t chars = in.ConsumeIntegralInRange<std::size_t>(0, max_len / 4);
    for (std::size_t i = 0; i < chars; ++i) {
        switch (in.ConsumeIntegralInRange<int>(0, 4)) {
        case 0: put_code_point(s, edges[in.ConsumeIntegralInRange<std::size_t>(0, 11)]); break;
        case 1: put_code_point(s, in.ConsumeIntegralInRange<std::uint32_t>(0x80, 0xd7ff)); break;
        case 2: put_code_point(s, in.ConsumeIntegralInRange<std::uint32_t>(0x10000, 0x10ffff)); break;
        default: s += char(in.ConsumeIntegralInRange<int>(0x20, 0x7e)); break;
        }
    }
    if (mode == 1) {
        const char *d = defects[in.ConsumeIntegralInRange<std::size_t>(0, 15)];
        s.insert(in.ConsumeIntegralInRange<std::size_t>(0, s.size()), d);
    }
    return s;
}

// A pointer that is not a libcow handle and does not carry its tag.
inline void *fake_handle() {
    alignas(64) static unsigned char storage[64] = {};
    return storage;
}

}  // namespace fuzz
