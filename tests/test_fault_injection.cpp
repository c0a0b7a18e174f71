// Allocation failure, every point of it (as SQLite tests out-of-memory): a
// scripted sequence of operations on every type and strategy runs once to
// count its allocations, then once per allocation with exactly that one
// failing. The step that meets the failure must report COW_ENOMEM (a clone:
// NULL) and leave every value, count, statistic and live counter as it
// was; retried, it succeeds; every other step succeeds; nothing may leak.
// Also: sizes near PTRDIFF_MAX are refused with COW_EOVERFLOW before any
// allocation; vector slices and concatenations (flat and tree, with and
// without element copy callbacks) meet a failure at every allocation and
// every element copy and change nothing; equal, hash, diff and cursors from
// an index work with every allocation refused.
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "positional_diff.hpp"
#include "support.hpp"

namespace {

// Everything observable about a handle, to compare before and after.
struct observed {
    cow_kind_t kind = 0;
    std::string contents;
    std::uint64_t count = 0;
    cow_stats_info stats = COW_STATS_INFO_INIT;
    // `relaxed`: the lineage counters may have grown (see element_clones).
    bool same_as(const observed &o, bool relaxed) const {
        bool counters = relaxed ? stats.clones >= o.stats.clones && stats.copies >= o.stats.copies &&
                                      stats.bytes_copied >= o.stats.bytes_copied
                                : stats.clones == o.stats.clones && stats.copies == o.stats.copies &&
                                      stats.bytes_copied == o.stats.bytes_copied;
        return kind == o.kind && contents == o.contents && count == o.count && counters &&
               stats.live_handles == o.stats.live_handles && stats.live_values == o.stats.live_values;
    }
};

std::string contents(const void *h);

std::string vec_contents(const cow_vec *v) {
    std::string out;
    for (std::size_t i = 0; i < cow_vec_len(v); ++i) {
        const void *e = cow_vec_get(v, i);
        if (cow_vec_type(v) == cow_type_handle()) {
            const void *inner;
            std::memcpy(&inner, e, sizeof inner);
            out += '[';
            out += contents(inner);
            out += ']';
        } else {
            std::uint64_t x;
            std::memcpy(&x, e, sizeof x);
            out += std::to_string(x) + ",";
        }
    }
    return out;
}

std::string contents(const void *h) {
    switch (cow_kind(h)) {
    case COW_KIND_STR:
        return std::string(cow_str_data(static_cast<const cow_str *>(h)), cow_str_len(static_cast<const cow_str *>(h)));
    case COW_KIND_BUF:
        return std::string(reinterpret_cast<const char *>(cow_buf_data(static_cast<const cow_buf *>(h))),
                           cow_buf_len(static_cast<const cow_buf *>(h)));
    case COW_KIND_VEC: return vec_contents(static_cast<const cow_vec *>(h));
    case COW_KIND_MAP: {
        auto *m = static_cast<const cow_map *>(h);
        std::string out = std::to_string(cow_map_len(m)) + ":";
        for (const char *k : {"a", "b", "c", "d", "long key that is not short"})
            if (const void *v = cow_map_get(m, k, std::strlen(k))) {
                std::uint64_t x;
                std::memcpy(&x, v, sizeof x);
                out += std::string(k) + "=" + std::to_string(x) + ",";
            }
        return out;
    }
    case COW_KIND_BOX: {
        std::uint64_t x;
        std::memcpy(&x, cow_box_get(static_cast<const cow_box *>(h)), sizeof x);
        return std::to_string(x);
    }
    default: return "";
    }
}

observed observe(const void *h) {
    observed o;
    if (!h) return o;
    o.kind = cow_kind(h);
    o.contents = contents(h);
    o.count = cow_strong_count(h);
    REQUIRE(cow_stats(h, &o.stats) == COW_OK);
    return o;
}

// A script works on a few handle slots; each step is one API call.
constexpr int slots = 4;
struct script_state {
    void *h[slots] = {};
};
struct step {
    const char *what;
    std::function<cow_status(script_state &)> run;
    // The call clones element handles before it can fail: a container of
    // handles copied element by element, or a handle being stored (cloned
    // before the vector grows). When it fails, the clones (and eager copies)
    // made so far are released again, but the lineage counters, which only
    // grow, keep counting them: counters may then be higher, never lower.
    bool element_clones = false;
    // Allocation calls the step makes at least under the lazy strategy with
    // statistics: the failure points it is there to test.
    long lazy_allocations = 0;
};
using script = std::vector<step>;

// Runs the script; with fail_at > 0 the allocator fails that one call.
// Returns the number of allocation calls the script made.
long run_script(const script &sc, long fail_at, bool &failure_seen, bool lazy_with_stats) {
    test::allocator_scope alloc(fail_at);
    script_state st;
    failure_seen = false;
    for (const step &s : sc) {
        INFO("step: " << std::string(s.what) << ", failing allocation " << fail_at);
        std::vector<observed> before;
        for (void *h : st.h) before.push_back(observe(h));
        auto global_before = test::global();
        void *slots_before[slots];
        std::memcpy(slots_before, st.h, sizeof slots_before);
        long calls_before = alloc.allocator.calls;
        cow_status status = s.run(st);
        bool hit = fail_at > calls_before && fail_at <= alloc.allocator.calls;
        if (fail_at == 0 && lazy_with_stats)
            CHECK(alloc.allocator.calls - calls_before >= s.lazy_allocations);
        if (!hit) {
            CHECK(status == COW_OK);
            continue;
        }
        failure_seen = true;
        CHECK(status == COW_ENOMEM);
        // Exactly as it was: slots, values, counts, statistics, live memory.
        CHECK(std::memcmp(slots_before, st.h, sizeof slots_before) == 0);
        for (int i = 0; i < slots; ++i)
            CHECK(observe(st.h[i]).same_as(before[static_cast<std::size_t>(i)], s.element_clones));
        auto global_after = test::global();
        CHECK(global_after.live_values == global_before.live_values);
        CHECK(global_after.live_bytes == global_before.live_bytes);
        CHECK(global_after.live_allocations == global_before.live_allocations);
        // Nothing is left half-done: the same call now succeeds, and the
        // rest of the script runs on.
        CHECK(s.run(st) == COW_OK);
    }
    for (void *&h : st.h) {
        cow_release(h);
        h = nullptr;
    }
    auto g = test::global();
    CHECK(g.live_values == 0);
    CHECK(g.live_bytes == 0);
    CHECK(g.live_allocations == 0);
    return alloc.allocator.calls;
}

// Once to count, then once per allocation point.
void every_allocation_fails_once(const script &sc, bool lazy_with_stats) {
    bool seen = false;
    long total = run_script(sc, 0, seen, lazy_with_stats);
    REQUIRE(total > 0);
    for (long k = 1; k <= total; ++k) {
        run_script(sc, k, seen, lazy_with_stats);
        CHECK(seen);  // the k-th allocation happened inside some step
    }
}

// A clone as a step: NULL is COW_ENOMEM (the only reason it can fail here).
cow_status clone_into(script_state &st, int from, int to) {
    void *c = cow_clone(st.h[from]);
    if (!c) return COW_ENOMEM;
    cow_release(st.h[to]);
    st.h[to] = c;
    return COW_OK;
}

cow_options strategy(std::uint32_t s, bool stats) {
    cow_options o = COW_OPTIONS_INIT;
    o.strategy = s;
    o.threshold_bytes = 16;
    if (!stats) o.flags = COW_OPT_NO_STATS;
    return o;
}

// Steps are single calls, so that the one meeting the failure can be held
// to "nothing changed".
step clone_step(int from, int to, bool element_clones = false) {
    return {"clone", [from, to](script_state &st) { return clone_into(st, from, to); }, element_clones};
}
step release_step(int i) {
    return {"release", [i](script_state &st) {
                cow_release(st.h[i]);
                st.h[i] = nullptr;
                return COW_OK;
            }};
}
template <class H>
H **at(script_state &st, int i) {
    return reinterpret_cast<H **>(&st.h[i]);
}

script bytes_script(cow_options o) {
    return {
        {"str_new", [o](script_state &st) { return cow_str_new(at<cow_str>(st, 0), "hello, world", 12, &o); }},
        clone_step(0, 1),
        {"append (copies if shared)", [](script_state &st) { return cow_str_append(at<cow_str>(st, 1), " and more text", 14); }},
        {"append (in place, grows)", [](script_state &st) { return cow_str_append(at<cow_str>(st, 1), "0123456789abcdef0123456789", 26); }},
        {"substr", [](script_state &st) { return cow_str_substr(at<cow_str>(st, 2), static_cast<cow_str *>(st.h[1]), 7, 5); }},
        {"cstr of a substring", [](script_state &st) {
             const char *p;
             return cow_str_cstr(at<cow_str>(st, 2), &p);
         }},
        clone_step(0, 3),
        {"insert into a shared value", [](script_state &st) { return cow_str_insert(at<cow_str>(st, 3), 5, "!!", 2); }},
        {"erase", [](script_state &st) { return cow_str_erase(at<cow_str>(st, 1), 0, 3); }},
        clone_step(1, 3),
        {"make_mut", [](script_state &st) { return cow_make_mut(&st.h[3]); }},
        release_step(3),
        {"buf_new", [o](script_state &st) { return cow_buf_new(at<cow_buf>(st, 3), "abcdef", 6, &o); }},
        {"buf self-append", [](script_state &st) {
             auto **b = at<cow_buf>(st, 3);
             return cow_buf_append(b, cow_buf_data(*b), cow_buf_len(*b));
         }},
        {"buf resize", [](script_state &st) { return cow_buf_resize(at<cow_buf>(st, 3), 100, 'x'); }},
        {"stats report", [](script_state &st) {
             cow_str *r = nullptr;
             cow_status s = cow_stats_report(st.h[0], COW_REPORT_JSON, &r);
             cow_release(r);
             return s;
         }},
        {"into", [](script_state &st) {
             cow_owned o{};
             cow_status s = cow_str_into(at<cow_str>(st, 2), &o);
             cow_owned_free(&o);
             return s;
         }},
    };
}

// Buffer writes that copy (a shared value, a slice, a slice's parent) or
// grow, slicing, into, a string appending itself, a text report.
script buffer_script(cow_options o) {
    auto append = [](int i, const char *bytes) {
        return [i, bytes](script_state &st) { return cow_buf_append(at<cow_buf>(st, i), bytes, std::strlen(bytes)); };
    };
    // Into an empty slot, so that the step stays one call.
    auto slice = [](int to, int from, std::size_t off, std::size_t len) {
        return [=](script_state &st) {
            return cow_buf_slice(at<cow_buf>(st, to), static_cast<cow_buf *>(st.h[from]), off, len);
        };
    };
    return {
        {"buf_new", [o](script_state &st) { return cow_buf_new(at<cow_buf>(st, 0), "unique bytes", 12, &o); }, false, 2},
        {"slice", slice(1, 0, 0, 6), false, 1},
        {"write to a slice", append(1, "?"), false, 1},
        {"slice again", slice(2, 0, 1, 2), false, 1},
        {"write to a slice's parent", append(0, "?"), false, 1},
        {"append grows a unique value", append(0, "0123456789abcdef0123456789"), false, 1},
        release_step(1),
        release_step(2),
        {"buf_new", [o](script_state &st) { return cow_buf_new(at<cow_buf>(st, 1), "shared bytes", 12, &o); }},
        clone_step(1, 2),
        {"append to a shared value", append(2, "!"), false, 1},
        clone_step(1, 2),
        {"insert into a shared value", [](script_state &st) { return cow_buf_insert(at<cow_buf>(st, 2), 1, "!", 1); }, false, 1},
        clone_step(1, 2),
        {"erase from a shared value", [](script_state &st) { return cow_buf_erase(at<cow_buf>(st, 2), 1, 2); }, false, 1},
        clone_step(1, 2),
        {"truncate a shared value", [](script_state &st) { return cow_buf_truncate(at<cow_buf>(st, 2), 3); }, false, 1},
        clone_step(1, 2),
        {"resize a shared value", [](script_state &st) { return cow_buf_resize(at<cow_buf>(st, 2), 40, '-'); }, false, 1},
        clone_step(1, 2),
        {"buf_make_mut of a shared value", [](script_state &st) { return cow_buf_make_mut(at<cow_buf>(st, 2), nullptr); }, false, 1},
        clone_step(1, 2),
        {"into a shared value", [](script_state &st) {
             cow_owned out{};
             cow_status s = cow_buf_into(at<cow_buf>(st, 2), &out);
             cow_owned_free(&out);
             return s;
         }, false, 1},
        {"str_new", [o](script_state &st) { return cow_str_new(at<cow_str>(st, 3), "d\xc3\xa9j\xc3\xa0 vu", 9, &o); }},
        {"str appends itself", [](script_state &st) {
             auto **s = at<cow_str>(st, 3);
             return cow_str_append(s, cow_str_data(*s), cow_str_len(*s));
         }, false, 2},
        // Storage too large for the header's block has one of its own.
        release_step(0),
        {"buf_new, large", [o](script_state &st) {
             return cow_buf_new(at<cow_buf>(st, 2), std::string(2000, 'x').data(), 2000, &o);
         }, false, 3},
        clone_step(2, 0),
        {"buf_make_mut of a shared large value", [](script_state &st) { return cow_buf_make_mut(at<cow_buf>(st, 0), nullptr); }, false, 2},
        {"text report", [](script_state &st) {
             cow_str *r = nullptr;
             cow_status s = cow_stats_report(st.h[1], COW_REPORT_TEXT, &r);
             cow_release(r);
             return s;
         }, false, 2},
    };
}

script vec_script(cow_options o) {
    static const std::uint64_t xs[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    return {
        {"vec_new", [o](script_state &st) { return cow_vec_new(at<cow_vec>(st, 0), cow_type_u64(), &o); }},
        {"push", [](script_state &st) { return cow_vec_push(at<cow_vec>(st, 0), &xs[0]); }},
        {"push", [](script_state &st) { return cow_vec_push(at<cow_vec>(st, 0), &xs[1]); }},
        clone_step(0, 1),
        {"push to shared", [](script_state &st) { return cow_vec_push(at<cow_vec>(st, 1), &xs[2]); }},
        {"extend (grows)", [](script_state &st) { return cow_vec_extend(at<cow_vec>(st, 1), xs, 9); }},
        clone_step(1, 2),
        {"set on shared", [](script_state &st) { return cow_vec_set(at<cow_vec>(st, 2), 0, &xs[8], nullptr); }},
        clone_step(1, 3),
        {"erase from shared", [](script_state &st) { return cow_vec_erase(at<cow_vec>(st, 3), 1, nullptr); }},
        {"reserve", [](script_state &st) { return cow_vec_reserve(at<cow_vec>(st, 2), 100); }},
        release_step(3),
        {"vec of handles", [o](script_state &st) { return cow_vec_new(at<cow_vec>(st, 3), cow_type_handle(), &o); }},
        {"push a string", [](script_state &st) { return cow_vec_push(at<cow_vec>(st, 3), &st.h[0]); }, true},
        {"push a vector", [](script_state &st) { return cow_vec_push(at<cow_vec>(st, 3), &st.h[1]); }, true},
        clone_step(3, 2, true),
        {"get_mut of a shared vector of handles", [](script_state &st) {
             void *elem = nullptr;
             return cow_vec_get_mut(at<cow_vec>(st, 2), 1, &elem);
         }, true},
        clone_step(0, 1),
        {"into (shared: copies)", [](script_state &st) {
             cow_owned out{};
             cow_status s = cow_vec_into(at<cow_vec>(st, 1), &out);
             cow_owned_free(&out);
             return s;
         }},
        clone_step(3, 1, true),
        {"into a vector of handles (shared: clones them)", [](script_state &st) {
             cow_owned out{};
             cow_status s = cow_vec_into(at<cow_vec>(st, 3), &out);
             for (std::size_t i = 0; s == COW_OK && i < out.len; ++i) cow_release(static_cast<void **>(out.data)[i]);
             cow_owned_free(&out);
             return s;
         }, true},
    };
}

script map_script(cow_options o) {
    static const std::uint64_t xs[5] = {0, 1, 2, 3, 99};
    return {
        {"map_new", [o](script_state &st) { return cow_map_new(at<cow_map>(st, 0), cow_type_string(), cow_type_u64(), &o); }},
        {"insert a", [](script_state &st) { return cow_map_insert(at<cow_map>(st, 0), "a", 1, &xs[0], nullptr, nullptr); }},
        {"insert b", [](script_state &st) { return cow_map_insert(at<cow_map>(st, 0), "b", 1, &xs[1], nullptr, nullptr); }},
        {"insert long", [](script_state &st) {
             const char *k = "long key that is not short";
             return cow_map_insert(at<cow_map>(st, 0), k, std::strlen(k), &xs[2], nullptr, nullptr);
         }},
        clone_step(0, 1),
        {"insert into shared", [](script_state &st) { return cow_map_insert(at<cow_map>(st, 1), "d", 1, &xs[4], nullptr, nullptr); }},
        clone_step(1, 2),
        {"replace in shared", [](script_state &st) { return cow_map_insert(at<cow_map>(st, 2), "a", 1, &xs[3], nullptr, nullptr); }},
        clone_step(1, 3),
        {"remove from shared", [](script_state &st) { return cow_map_remove(at<cow_map>(st, 3), "b", 1, nullptr); }},
        clone_step(0, 3),
        {"get_mut in shared", [](script_state &st) {
             void *p = nullptr;
             return cow_map_get_mut(at<cow_map>(st, 3), "a", 1, &p);
         }},
        clone_step(0, 2),
        {"clear shared", [](script_state &st) { return cow_map_clear(at<cow_map>(st, 2)); }},
    };
}

script box_script(cow_options o) {
    static const std::uint64_t one = 1;
    return {
        {"box_new", [o](script_state &st) { return cow_box_new(at<cow_box>(st, 0), cow_type_u64(), &one, &o); }},
        clone_step(0, 1),
        {"make_mut on shared", [](script_state &st) {
             void *p = nullptr;
             cow_status s = cow_box_make_mut(at<cow_box>(st, 1), &p);
             if (s == COW_OK) std::memset(p, 2, 8);
             return s;
         }},
        clone_step(0, 2),
        {"update on shared", [](script_state &st) {
             auto fn = [](void *, void *v) -> cow_status {
                 std::memset(v, 3, 8);
                 return COW_OK;
             };
             return cow_box_update(at<cow_box>(st, 2), fn, nullptr);
         }},
    };
}

// Each script with every strategy, statistics on and off.
void for_every_strategy(script (*make)(cow_options)) {
    for (std::uint32_t s : {COW_STRATEGY_LAZY, COW_STRATEGY_EAGER, COW_STRATEGY_THRESHOLD})
        for (bool stats : {true, false}) {
            INFO("strategy " << s << ", stats " << stats);
            every_allocation_fails_once(make(strategy(s, stats)), s == COW_STRATEGY_LAZY && stats);
        }
}

}  // namespace

TEST_CASE("every allocation of a string and buffer script fails once, cleanly") {
    for_every_strategy(bytes_script);
}

TEST_CASE("every allocation of a buffer script fails once, cleanly") {
    for_every_strategy(buffer_script);
}

TEST_CASE("every allocation of a vector script fails once, cleanly") {
    for_every_strategy(vec_script);
}

TEST_CASE("every allocation of a map script fails once, cleanly") {
    for_every_strategy(map_script);
}

TEST_CASE("every allocation of a box script fails once, cleanly") {
    for_every_strategy(box_script);
}

TEST_CASE("sizes near PTRDIFF_MAX are refused with COW_EOVERFLOW before allocating") {
    test::leak_check leaks;
    cow_buf *b = nullptr;
    cow_str *s = nullptr;
    cow_vec *v = nullptr;
    cow_map *m = nullptr;
    const std::size_t max = static_cast<std::size_t>(PTRDIFF_MAX);
    {
        test::allocator_scope alloc;
        REQUIRE(cow_buf_new(&b, "abc", 3, nullptr) == COW_OK);
        REQUIRE(cow_str_new(&s, "abc", 3, nullptr) == COW_OK);
        REQUIRE(cow_vec_new(&v, cow_type_u64(), nullptr) == COW_OK);
        REQUIRE(cow_map_new(&m, cow_type_bytes(), cow_type_u64(), nullptr) == COW_OK);
        // From here any allocation fails, and the count shows it was tried.
        long calls = alloc.allocator.calls;
        alloc.allocator.fail_all_after = true;
        alloc.allocator.fail_at = calls + 1;
        cow_buf *nb = nullptr;
        cow_str *ns = nullptr;
        cow_vec *nv = nullptr;
        for (std::size_t n : {max, max + 1, SIZE_MAX}) {
            CHECK(cow_buf_new(&nb, "x", n, nullptr) == COW_EOVERFLOW);
            CHECK(cow_buf_with_capacity(&nb, n, nullptr) == COW_EOVERFLOW);
            CHECK(cow_str_new(&ns, "x", n, nullptr) == COW_EOVERFLOW);
            CHECK(cow_buf_append(&b, "x", n) == COW_EOVERFLOW);
            CHECK(cow_buf_insert(&b, 1, "x", n) == COW_EOVERFLOW);
            CHECK(cow_buf_resize(&b, n, 0) == COW_EOVERFLOW);
            CHECK(cow_str_append(&s, "x", n) == COW_EOVERFLOW);
            CHECK(cow_vec_reserve(&v, n) == COW_EOVERFLOW);
            CHECK(cow_vec_with_capacity(&nv, cow_type_u64(), n, nullptr) == COW_EOVERFLOW);
            CHECK(cow_vec_extend(&v, "not read", n) == COW_EOVERFLOW);
            std::uint64_t x = 1;
            CHECK(cow_map_insert(&m, "k", n, &x, nullptr, nullptr) == COW_EOVERFLOW);
        }
        // len + n overflows although n alone does not.
        CHECK(cow_buf_append(&b, "x", max - 2) == COW_EOVERFLOW);
        CHECK(cow_vec_with_capacity(&nv, cow_type_u64(), max / 8 + 1, nullptr) == COW_EOVERFLOW);
        CHECK(alloc.allocator.calls == calls);
        CHECK(nb == nullptr);
        CHECK(ns == nullptr);
        CHECK(nv == nullptr);
        CHECK(std::string(reinterpret_cast<const char *>(cow_buf_data(b)), cow_buf_len(b)) == "abc");
        CHECK(std::string(cow_str_data(s), cow_str_len(s)) == "abc");
        CHECK(cow_vec_len(v) == 0);
        CHECK(cow_map_len(m) == 0);
        cow_release(b);
        cow_release(s);
        cow_release(v);
        cow_release(m);
    }
}

// ---- slice and concat: every allocation and every element copy fails once ------
//
// Each case builds its operands without failures, then runs the one call
// under test with its k-th allocation refused (k = 1, 2, ... until a call
// meets no failure), and again with its k-th element copy failing. A call
// that met a failure returns the injected status and leaves every operand as
// it was: the same handle in the slot, the same handle counts, the same
// elements, as many element copies alive and as many allocations live. The
// call that meets no failure gives the model's elements, and once its
// operands and result are released nothing is left.

namespace {

// An element type of the cases, with how to write and read its values.
struct element_kind {
    const char *name;
    const cow_type *type;
    test::copy_tracker *counts;  // nullptr: the type has no copy callback
    const test::stamped_tracker *stamps = nullptr;
    // Several elements to a leaf in every build (16-byte leaves included),
    // so that a cut inside a leaf is sure to copy some.
    bool several_to_a_leaf = false;

    std::size_t size() const { return type->elem_size; }
    void put(void *dst, std::uint64_t x) const {
        if (size() == 4) {
            auto v = static_cast<std::uint32_t>(x);
            std::memcpy(dst, &v, sizeof v);
        } else if (size() == 8) {
            std::memcpy(dst, &x, sizeof x);
        } else {
            test::stamped_value v{x, 0};
            std::memcpy(dst, &v, sizeof v);
        }
    }
    std::uint64_t read(const void *src) const {
        if (size() == 4) {
            std::uint32_t v;
            std::memcpy(&v, src, sizeof v);
            return v;
        }
        if (size() == 8) {
            std::uint64_t v;
            std::memcpy(&v, src, sizeof v);
            return v;
        }
        test::stamped_value v;
        std::memcpy(&v, src, sizeof v);
        // A stored value is a copy libcow made and has not dropped.
        return stamps->is_live_copy(v) ? v.value : ~std::uint64_t(0);
    }
    long live() const { return counts ? counts->live() : 0; }
};

// The element types: plain 8-byte values (no callbacks), tracked 4-byte
// values (copy and drop counted; several to a leaf even in 16-byte leaves)
// and stamped 16-byte values (every copy alive exactly once).
struct element_kinds {
    test::copy_tracker tracked_counts;
    cow_type tracked = test::tracked_type(tracked_counts, 4, 4, "tracked u32");
    test::stamped_tracker stamped{"stamped"};
    std::vector<element_kind> all() {
        return {{"plain u64", cow_type_u64(), nullptr},
                {"tracked u32", &tracked, &tracked_counts, nullptr, true},
                {"stamped", stamped.type(), &stamped.counts, &stamped}};
    }
};

using model = std::vector<std::uint64_t>;

model iota_model(std::size_t n, std::uint64_t from = 0) {
    model m(n);
    for (std::size_t i = 0; i < n; ++i) m[i] = from + i;
    return m;
}

model cat(const model &a, const model &b) {
    model m = a;
    m.insert(m.end(), b.begin(), b.end());
    return m;
}

model sub(const model &m, std::size_t at, std::size_t n) {
    return {m.begin() + static_cast<std::ptrdiff_t>(at), m.begin() + static_cast<std::ptrdiff_t>(at + n)};
}

cow_vec *vec_of_model(const element_kind &k, std::uint32_t strategy, const model &m) {
    std::vector<unsigned char> raw(m.size() * k.size() + 1);
    for (std::size_t i = 0; i < m.size(); ++i) k.put(raw.data() + i * k.size(), m[i]);
    cow_options o = COW_OPTIONS_INIT;
    o.strategy = strategy;
    o.threshold_bytes = 64;
    cow_vec *v = nullptr;
    REQUIRE(cow_vec_from_array(&v, k.type, raw.data(), m.size(), &o) == COW_OK);
    return v;
}

// The elements, read span by span.
model values_of(const element_kind &k, const cow_vec *v) {
    model m;
    cow_vec_cursor c;
    REQUIRE(cow_vec_cursor_init(&c, v) == COW_OK);
    const void *data;
    std::size_t n;
    while (cow_vec_next_span(&c, &data, &n))
        for (std::size_t i = 0; i < n; ++i) m.push_back(k.read(static_cast<const unsigned char *>(data) + i * k.size()));
    CHECK(m.size() == cow_vec_len(v));
    return m;
}

// Everything a failed call must leave as it was.
struct before_call {
    std::vector<const cow_vec *> handles;
    std::vector<std::uint64_t> counts;
    std::vector<model> values;
    std::vector<cow_stats_info> stats;
    long live_elements = 0;
    cow_global_stats_info global = COW_GLOBAL_STATS_INFO_INIT;

    before_call(const element_kind &k, const std::vector<const cow_vec *> &watched) : handles(watched) {
        for (const cow_vec *h : watched) {
            counts.push_back(cow_strong_count(h));
            values.push_back(values_of(k, h));
            stats.push_back(test::stats(h));
        }
        live_elements = k.live();
        global = test::global();
    }
    // `now`: the same operands read after the call (the slots' contents).
    void check_unchanged(const element_kind &k, const std::vector<const cow_vec *> &now) const {
        REQUIRE(now.size() == handles.size());
        for (std::size_t i = 0; i < now.size(); ++i) {
            INFO("operand " << i);
            CHECK(now[i] == handles[i]);
            CHECK(cow_strong_count(now[i]) == counts[i]);
            CHECK(values_of(k, now[i]) == values[i]);
            auto st = test::stats(now[i]);
            CHECK(st.clones == stats[i].clones);
            CHECK(st.copies == stats[i].copies);
            CHECK(st.bytes_copied == stats[i].bytes_copied);
            CHECK(st.nodes_copied == stats[i].nodes_copied);
            CHECK(st.memory_saved == stats[i].memory_saved);
            CHECK(st.live_handles == stats[i].live_handles);
            CHECK(st.live_values == stats[i].live_values);
            CHECK(st.value_bytes == stats[i].value_bytes);
        }
        CHECK(k.live() == live_elements);
        auto g = test::global();
        CHECK(g.live_values == global.live_values);
        CHECK(g.live_bytes == global.live_bytes);
        CHECK(g.live_allocations == global.live_allocations);
    }
};

enum class failure { allocation, copy };

// How many failure points of a kind a call must have: `some` (at least
// one), `none`, `some_in_leaves` (at least one where leaves hold several
// elements: cuts and merges of leaves copy), `any` (it depends on the tree
// shape of the build).
enum class expect { some, some_in_leaves, none, any };

void check_points(const element_kind &k, failure f, expect e, long points) {
    if (f == failure::allocation) {
        CHECK(points > 0);  // the calls here all allocate
        return;
    }
    if (e == expect::some || (e == expect::some_in_leaves && k.several_to_a_leaf)) CHECK(points > 0);
    if (e == expect::none) CHECK(points == 0);
}

// Arms the k-th failure point of the kind, runs the call, and tells what was
// injected: the status the call must return, or COW_OK when nothing was.
template <class Call>
cow_status run_injected(test::failing_allocator &alloc, const element_kind &k, failure f, long nth,
                        Call call, cow_status &status) {
    // Copy failures: alternately a status of the user's (reported as
    // COW_ECALLBACK) and one of libcow's, which is passed through.
    cow_status with = nth % 2 ? test::copy_tracker::user_failure : COW_ENOMEM;
    alloc.take_refusal();
    if (f == failure::allocation)
        alloc.fail_nth_from_now(nth);
    else
        k.counts->arm(nth, with);
    status = call();
    alloc.stop_failing();
    if (f == failure::allocation) return alloc.take_refusal() ? COW_ENOMEM : COW_OK;
    k.counts->disarm();
    cow_status injected = k.counts->take_failure();
    if (injected == COW_OK) return COW_OK;
    return injected == test::copy_tracker::user_failure ? COW_ECALLBACK : injected;
}

// Failure kinds a case runs under for this element kind.
std::vector<failure> failures_for(const element_kind &k) {
    if (k.counts) return {failure::allocation, failure::copy};
    return {failure::allocation};
}

constexpr long max_points = 100000;  // a call that never succeeds stops here

// cow_vec_slice(src, offset, len) with every failure point; src is not changed.
void slice_fails_cleanly(test::failing_allocator &alloc, const element_kind &k, const cow_vec *src,
                         const model &m, std::size_t offset, std::size_t len, expect copies) {
    INFO("slice [" << offset << ", " << offset + len << ") of " << m.size());
    REQUIRE(offset + len <= m.size());
    for (failure f : failures_for(k)) {
        INFO(std::string(f == failure::allocation ? "failing allocation" : "failing copy") << " of the call");
        long points = 0;
        for (long nth = 1;; ++nth) {
            INFO("failure point " << nth);
            REQUIRE(nth < max_points);
            before_call before(k, {src});
            cow_vec *out = nullptr;
            cow_status status;
            cow_status injected = run_injected(alloc, k, f, nth, [&] { return cow_vec_slice(&out, src, offset, len); }, status);
            if (injected != COW_OK) {
                ++points;
                CHECK(status == injected);
                CHECK(out == nullptr);
                before.check_unchanged(k, {src});
                if (out) cow_vec_release(out);
                continue;
            }
            REQUIRE(status == COW_OK);
            REQUIRE(out != nullptr);
            CHECK(values_of(k, out) == sub(m, offset, len));
            CHECK(values_of(k, src) == m);
            cow_vec_release(out);
            before.check_unchanged(k, {src});  // the result held everything it made
            break;
        }
        check_points(k, f, copies, points);
    }
}

// The operands of a concat: *slot gets other appended; other may be the
// slot's own handle, and `base` (may be null) is another holder the case
// keeps (the value the slot was cloned from, say).
struct concat_operands {
    cow_vec *slot = nullptr;
    const cow_vec *other = nullptr;  // borrowed: slot, base or one of `held`
    cow_vec *base = nullptr;
    std::vector<cow_vec *> held;     // other operands the case owns
    model slot_model, other_model, base_model;

    std::vector<const cow_vec *> watched() const {
        std::vector<const cow_vec *> w{slot};
        if (other != slot) w.push_back(other);
        if (base && base != other) w.push_back(base);
        return w;
    }
    void release() {
        cow_vec_release(slot);
        cow_vec_release(base);
        for (cow_vec *h : held) cow_vec_release(h);
        slot = base = nullptr;
        other = nullptr;
        held.clear();
    }
};

// cow_vec_concat(&slot, other) with every failure point; the operands are
// built afresh for each kind of failure (a successful call changes the slot).
template <class Build>
void concat_fails_cleanly(test::failing_allocator &alloc, const element_kind &k, const char *what,
                          Build build, expect copies) {
    INFO("concat: " << std::string(what));
    for (failure f : failures_for(k)) {
        INFO(std::string(f == failure::allocation ? "failing allocation" : "failing copy") << " of the call");
        long live_before = k.live();
        auto global_before = test::global();
        concat_operands ops = build();
        long points = 0;
        for (long nth = 1;; ++nth) {
            INFO("failure point " << nth);
            REQUIRE(nth < max_points);
            auto watched = ops.watched();
            before_call before(k, watched);
            cow_status status;
            cow_status injected = run_injected(alloc, k, f, nth, [&] { return cow_vec_concat(&ops.slot, ops.other); }, status);
            if (injected != COW_OK) {
                ++points;
                CHECK(status == injected);
                before.check_unchanged(k, ops.watched());
                continue;
            }
            REQUIRE(status == COW_OK);
            CHECK(values_of(k, ops.slot) == cat(ops.slot_model, ops.other_model));
            if (ops.other != ops.slot) CHECK(values_of(k, ops.other) == ops.other_model);
            if (ops.base) CHECK(values_of(k, ops.base) == ops.base_model);
            break;
        }
        ops.release();
        check_points(k, f, copies, points);
        // Everything the call made went with the operands.
        CHECK(k.live() == live_before);
        auto g = test::global();
        CHECK(g.live_values == global_before.live_values);
        CHECK(g.live_bytes == global_before.live_bytes);
        CHECK(g.live_allocations == global_before.live_allocations);
    }
}

// Trees deep in both builds: 5,000 elements make a tree of height 2 with
// 512-byte leaves and 32-way nodes (128 4-byte elements to a leaf), and of
// height 5 or more with 16-byte leaves and 4-way nodes.
constexpr std::size_t deep = 5000;

cow_vec *tree_of_model(const element_kind &k, const model &m) {
    return vec_of_model(k, COW_STRATEGY_STRUCTURAL, m);
}

cow_vec *slice_of_vec(const cow_vec *v, std::size_t at, std::size_t n) {
    cow_vec *s = nullptr;
    REQUIRE(cow_vec_slice(&s, v, at, n) == COW_OK);
    return s;
}

cow_vec *concat_of(const cow_vec *a, const cow_vec *b) {
    cow_vec *c = cow_vec_clone(a);
    REQUIRE(c != nullptr);
    REQUIRE(cow_vec_concat(&c, b) == COW_OK);
    return c;
}

}  // namespace

TEST_CASE("tree slices: every allocation and element copy fails once, cleanly") {
    test::leak_check leaks;
    element_kinds kinds;
    test::allocator_scope alloc;
    for (const element_kind &k : kinds.all()) {
        INFO("elements: " << std::string(k.name));
        model m = iota_model(deep);
        cow_vec *big = tree_of_model(k, m);
        // A relaxed tree: two slices joined where leaves are cut.
        model rm = cat(sub(m, 1001, 1777), sub(m, 13, 2222));
        cow_vec *left = slice_of_vec(big, 1001, 1777), *right = slice_of_vec(big, 13, 2222);
        cow_vec *relaxed = concat_of(left, right);
        cow_vec_release(left);
        cow_vec_release(right);
        REQUIRE(values_of(k, relaxed) == rm);
        // A version sharing all but one path with big.
        cow_vec *version = cow_vec_clone(big);
        model vm = m;
        {
            std::vector<unsigned char> x(k.size());
            k.put(x.data(), 777777);
            vm[2500] = 777777;
            REQUIRE(cow_vec_set(&version, 2500, x.data(), nullptr) == COW_OK);
        }
        // Whole: shares everything, copies nothing.
        slice_fails_cleanly(alloc.allocator, k, big, m, 0, deep, expect::none);
        // Cutting the first and last leaves in the middle.
        slice_fails_cleanly(alloc.allocator, k, big, m, 3, deep - 7, expect::some_in_leaves);
        slice_fails_cleanly(alloc.allocator, k, big, m, 1001, 2003, expect::some_in_leaves);
        // Inside one leaf, inside one subtree, empty.
        slice_fails_cleanly(alloc.allocator, k, big, m, 1, 1, expect::some_in_leaves);
        slice_fails_cleanly(alloc.allocator, k, big, m, 2049, 30, expect::any);
        slice_fails_cleanly(alloc.allocator, k, big, m, 2500, 0, expect::none);
        // Reaching into the tail.
        slice_fails_cleanly(alloc.allocator, k, big, m, deep - 1, 1, expect::any);
        slice_fails_cleanly(alloc.allocator, k, big, m, 1, deep - 1, expect::some_in_leaves);
        slice_fails_cleanly(alloc.allocator, k, big, m, deep, 0, expect::none);
        // Of a relaxed tree.
        slice_fails_cleanly(alloc.allocator, k, relaxed, rm, 5, rm.size() - 9, expect::some_in_leaves);
        slice_fails_cleanly(alloc.allocator, k, relaxed, rm, 1700, 200, expect::some_in_leaves);
        // Of a version sharing all but one path with another.
        slice_fails_cleanly(alloc.allocator, k, version, vm, 2401, 301, expect::some_in_leaves);
        CHECK(values_of(k, big) == m);
        cow_vec_release(version);
        cow_vec_release(relaxed);
        cow_vec_release(big);
        CHECK(k.live() == 0);
    }
}

TEST_CASE("tree concatenations: every allocation and element copy fails once, cleanly") {
    test::leak_check leaks;
    element_kinds kinds;
    test::allocator_scope alloc;
    for (const element_kind &k : kinds.all()) {
        INFO("elements: " << std::string(k.name));
        model m = iota_model(deep);
        cow_vec *big = tree_of_model(k, m);
        auto &fa = alloc.allocator;
        // A new slice of big, as a slot of its own.
        auto piece = [&](std::size_t at, std::size_t n) { return slice_of_vec(big, at, n); };
        // Slot and other, each a fresh piece of big (the slot unique).
        auto pieces = [&](std::size_t a, std::size_t na, std::size_t b, std::size_t nb) {
            concat_operands ops;
            ops.slot = piece(a, na);
            ops.held.push_back(piece(b, nb));
            ops.other = ops.held.back();
            ops.slot_model = sub(m, a, na);
            ops.other_model = sub(m, b, nb);
            return ops;
        };
        // The slot a clone of base (so shared), other a piece of big.
        auto shared_pieces = [&](std::size_t a, std::size_t na, std::size_t b, std::size_t nb) {
            concat_operands ops = pieces(a, na, b, nb);
            ops.base = ops.slot;
            ops.base_model = ops.slot_model;
            ops.slot = cow_vec_clone(ops.base);
            return ops;
        };

        // The slot's last leaf and other's first are both cut: they merge.
        concat_fails_cleanly(fa, k, "leaves merge at the seam, unique slot", [&] { return pieces(0, 2001, 1003, 2500); },
                             expect::some_in_leaves);
        concat_fails_cleanly(fa, k, "leaves merge at the seam, shared slot (path copies)",
                             [&] { return shared_pieces(0, 2001, 1003, 2500); }, expect::some_in_leaves);
        // The tail (3003 = 59 past a boundary of 128, 3 past one of 4)
        // merges with other's first leaf (cut 63 = 63 and 3 past one).
        concat_fails_cleanly(fa, k, "a slot with a tail, which goes between the trees", [&] {
            concat_operands ops;
            ops.slot_model = iota_model(3003, 90000);
            ops.slot = tree_of_model(k, ops.slot_model);
            ops.held.push_back(piece(63, 3000));
            ops.other = ops.held.back();
            ops.other_model = sub(m, 63, 3000);
            return ops;
        }, expect::some_in_leaves);
        concat_fails_cleanly(fa, k, "a shared slot with a tail", [&] {
            concat_operands ops;
            ops.base_model = ops.slot_model = iota_model(3003, 90000);
            ops.base = tree_of_model(k, ops.slot_model);
            ops.slot = cow_vec_clone(ops.base);
            ops.other = big;
            ops.other_model = m;
            return ops;
        }, expect::any);
        concat_fails_cleanly(fa, k, "other is the slot, unique", [&] {
            concat_operands ops = pieces(5, 2999, 0, 1);
            ops.other = ops.slot;
            ops.other_model = ops.slot_model;
            return ops;
        }, expect::any);
        concat_fails_cleanly(fa, k, "other is the slot, shared", [&] {
            concat_operands ops = shared_pieces(5, 2999, 0, 1);
            ops.other = ops.slot;
            ops.other_model = ops.slot_model;
            return ops;
        }, expect::any);
        concat_fails_cleanly(fa, k, "other is the value the slot is a clone of", [&] {
            concat_operands ops = shared_pieces(1, 3001, 0, 1);
            ops.other = ops.base;
            ops.other_model = ops.base_model;
            return ops;
        }, expect::any);
        // The heights differ. The leaves still merge: 4481 and 101 fall at
        // the same distance past a leaf boundary (1 with 128 elements to a
        // leaf and with 4), 311 and 827 at 55 and 59 (3 and 3).
        concat_fails_cleanly(fa, k, "a deep slot, a shallow other", [&] { return pieces(0, 4481, 101, 300); },
                             expect::some_in_leaves);
        concat_fails_cleanly(fa, k, "a shallow slot, a deep other", [&] { return shared_pieces(10, 301, 827, 4100); },
                             expect::some_in_leaves);
        concat_fails_cleanly(fa, k, "a short other (a tail alone) appended element by element", [&] {
            concat_operands ops = shared_pieces(0, 2001, 0, 1);
            ops.other_model = {70001, 70002, 70003};
            ops.held.back() = tree_of_model(k, ops.other_model);
            cow_vec_release(const_cast<cow_vec *>(ops.other));
            ops.other = ops.held.back();
            return ops;
        }, expect::some_in_leaves);
        concat_fails_cleanly(fa, k, "a flat other copied into leaves", [&] {
            concat_operands ops = shared_pieces(0, 2001, 0, 1);
            ops.other_model = iota_model(300, 50000);
            ops.held.back() = vec_of_model(k, COW_STRATEGY_LAZY, ops.other_model);
            cow_vec_release(const_cast<cow_vec *>(ops.other));
            ops.other = ops.held.back();
            return ops;
        }, expect::some);
        concat_fails_cleanly(fa, k, "an empty shared slot takes other's tree", [&] {
            concat_operands ops = shared_pieces(0, 0, 0, 1);
            ops.other = big;
            ops.other_model = m;
            return ops;
        }, expect::none);
        concat_fails_cleanly(fa, k, "a slot of a tail alone, a deep other", [&] {
            concat_operands ops;
            ops.slot_model = {60001, 60002, 60003};
            ops.slot = tree_of_model(k, ops.slot_model);
            ops.other = big;
            ops.other_model = m;
            return ops;
        }, expect::any);
        concat_fails_cleanly(fa, k, "short slot, short other", [&] {
            concat_operands ops;
            ops.base_model = ops.slot_model = {60001, 60002, 60003};
            ops.other_model = {70001};
            ops.base = tree_of_model(k, ops.slot_model);
            ops.slot = cow_vec_clone(ops.base);
            ops.held.push_back(tree_of_model(k, ops.other_model));
            ops.other = ops.held.back();
            return ops;
        }, expect::some);
        CHECK(values_of(k, big) == m);
        cow_vec_release(big);
        CHECK(k.live() == 0);
    }
}

TEST_CASE("flat slices and concatenations: every allocation and element copy fails once, cleanly") {
    test::leak_check leaks;
    element_kinds kinds;
    test::allocator_scope alloc;
    auto &fa = alloc.allocator;
    for (std::uint32_t strategy : {COW_STRATEGY_LAZY, COW_STRATEGY_EAGER, COW_STRATEGY_THRESHOLD}) {
        for (const element_kind &k : kinds.all()) {
            INFO("elements: " << std::string(k.name) << ", strategy " << strategy);
            model m = iota_model(300);
            cow_vec *src = vec_of_model(k, strategy, m);
            slice_fails_cleanly(fa, k, src, m, 0, 300, expect::some);
            slice_fails_cleanly(fa, k, src, m, 17, 150, expect::some);
            slice_fails_cleanly(fa, k, src, m, 299, 1, expect::some);
            slice_fails_cleanly(fa, k, src, m, 150, 0, expect::none);
            // Several leaves in every build (128 4-byte elements to the
            // largest), each copied element by element onto the slot.
            cow_vec *tree = tree_of_model(k, iota_model(600, 10000));
            // Slot and other flat, the slot a clone of base when `shared`.
            auto flat_pair = [&](bool shared) {
                concat_operands ops;
                ops.slot_model = iota_model(300, 20000);
                ops.other_model = iota_model(200, 30000);
                ops.slot = vec_of_model(k, strategy, ops.slot_model);
                ops.held.push_back(vec_of_model(k, strategy, ops.other_model));
                ops.other = ops.held.back();
                if (shared) {
                    ops.base = ops.slot;
                    ops.base_model = ops.slot_model;
                    ops.slot = cow_vec_clone(ops.base);
                }
                return ops;
            };
            concat_fails_cleanly(fa, k, "unique slot", [&] { return flat_pair(false); }, expect::some);
            concat_fails_cleanly(fa, k, "shared slot", [&] { return flat_pair(true); }, expect::some);
            concat_fails_cleanly(fa, k, "other is the slot, unique", [&] {
                concat_operands ops = flat_pair(false);
                ops.other = ops.slot;
                ops.other_model = ops.slot_model;
                return ops;
            }, expect::some);
            concat_fails_cleanly(fa, k, "other is the slot, shared", [&] {
                concat_operands ops = flat_pair(true);
                ops.other = ops.slot;
                ops.other_model = ops.slot_model;
                return ops;
            }, expect::some);
            concat_fails_cleanly(fa, k, "other is the value the slot is a clone of", [&] {
                concat_operands ops = flat_pair(true);
                ops.other = ops.base;
                ops.other_model = ops.base_model;
                return ops;
            }, expect::some);
            concat_fails_cleanly(fa, k, "a tree other onto a flat slot", [&] {
                concat_operands ops = flat_pair(true);
                ops.other = tree;
                ops.other_model = iota_model(600, 10000);
                return ops;
            }, expect::some);
            cow_vec_release(tree);
            cow_vec_release(src);
            CHECK(k.live() == 0);
        }
    }
}

namespace {

using ranges = std::vector<std::pair<std::size_t, std::size_t>>;

ranges model_diff(const model &a, const model &b) { return test::positional_diff(a, b); }

struct diff_walk {
    ranges seen;
    std::size_t stop_after = SIZE_MAX;
    static int take(void *ctx, size_t offset, size_t count) {
        auto *w = static_cast<diff_walk *>(ctx);
        w->seen.push_back({offset, count});
        return w->seen.size() >= w->stop_after ? 1 : 0;
    }
};

ranges diff_ranges(const cow_vec *a, const cow_vec *b) {
    diff_walk w;
    bool stopped = true;
    CHECK(cow_vec_diff(a, b, diff_walk::take, &w, &stopped) == COW_OK);
    CHECK_FALSE(stopped);
    return w.seen;
}

// The elements from `index` on, through a cursor that starts there.
model values_from(const element_kind &k, const cow_vec *v, std::size_t index) {
    model m;
    cow_vec_cursor c;
    REQUIRE(cow_vec_cursor_init_at(&c, v, index) == COW_OK);
    const void *data;
    std::size_t n;
    while (cow_vec_next_span(&c, &data, &n))
        for (std::size_t i = 0; i < n; ++i) m.push_back(k.read(static_cast<const unsigned char *>(data) + i * k.size()));
    return m;
}

}  // namespace

TEST_CASE("equal, hash, diff and cursors from an index work while every allocation fails") {
    test::leak_check leaks;
    element_kinds kinds;
    test::allocator_scope alloc;
    for (const element_kind &k : kinds.all()) {
        INFO("elements: " << std::string(k.name));
        model m = iota_model(deep);
        cow_vec *tree = tree_of_model(k, m);
        cow_vec *same = cow_vec_clone(tree);
        cow_vec *flat = vec_of_model(k, COW_STRATEGY_LAZY, m);
        // The same elements in other leaves: cut where leaves are cut.
        cow_vec *relaxed = slice_of_vec(tree, 0, 2001);
        {
            cow_vec *rest = slice_of_vec(tree, 2001, deep - 2001);
            REQUIRE(cow_vec_concat(&relaxed, rest) == COW_OK);
            cow_vec_release(rest);
        }
        // A version sharing all but two paths, and a longer one.
        std::vector<unsigned char> x(k.size());
        k.put(x.data(), 999999);
        model vm = m;
        cow_vec *version = cow_vec_clone(tree);
        for (std::size_t at : {std::size_t(17), std::size_t(2500), std::size_t(2501)}) {
            vm[at] = 999999;
            REQUIRE(cow_vec_set(&version, at, x.data(), nullptr) == COW_OK);
        }
        model lm = m;
        cow_vec *longer = cow_vec_clone(tree);
        for (int i = 0; i < 3; ++i) {
            lm.push_back(999999);
            REQUIRE(cow_vec_push(&longer, x.data()) == COW_OK);
        }
        cow_vec *empty = tree_of_model(k, {});
        const cow_vec *equal_to_tree[] = {tree, same, flat, relaxed};

        // From here on every allocation is refused.
        long calls = alloc.allocator.calls;
        alloc.allocator.fail_at = calls + 1;
        alloc.allocator.fail_all_after = true;

        for (const cow_vec *a : equal_to_tree)
            for (const cow_vec *b : equal_to_tree) {
                CHECK(cow_vec_equal(a, b));
                CHECK(cow_vec_hash(a) == cow_vec_hash(b));
                CHECK(diff_ranges(a, b).empty());
            }
        for (const cow_vec *a : equal_to_tree) {
            CHECK_FALSE(cow_vec_equal(a, version));
            CHECK_FALSE(cow_vec_equal(longer, a));
            CHECK_FALSE(cow_vec_equal(a, nullptr));
            CHECK(cow_vec_hash(a) != cow_vec_hash(version));
            CHECK(diff_ranges(a, version) == model_diff(m, vm));
            CHECK(diff_ranges(version, a) == model_diff(vm, m));
            CHECK(diff_ranges(a, longer) == model_diff(m, lm));
            CHECK(diff_ranges(a, empty) == ranges{{0, deep}});
        }
        CHECK(cow_vec_equal(empty, nullptr));
        CHECK(cow_vec_hash(empty) == cow_vec_hash(nullptr));
        {
            diff_walk w;
            w.stop_after = 2;
            bool stopped = false;
            CHECK(cow_vec_diff(relaxed, version, diff_walk::take, &w, &stopped) == COW_OK);
            CHECK(stopped);
            CHECK(w.seen == ranges{{17, 1}, {2500, 2}});
        }
        for (std::size_t index : {std::size_t(0), std::size_t(1), std::size_t(2000), std::size_t(2001),
                                  std::size_t(2049), deep - 1, deep}) {
            INFO("cursor from " << index);
            for (const cow_vec *v : equal_to_tree) CHECK(values_from(k, v, index) == sub(m, index, deep - index));
            CHECK(values_from(k, version, index) == sub(vm, index, deep - index));
            CHECK(values_from(k, longer, index) == sub(lm, index, lm.size() - index));
        }
        cow_vec_cursor c;
        CHECK(cow_vec_cursor_init_at(&c, tree, deep + 1) == COW_ERANGE);
        CHECK(cow_vec_cursor_init_at(&c, flat, deep + 1) == COW_ERANGE);
        CHECK(values_from(k, empty, 0).empty());

        CHECK(alloc.allocator.calls == calls);  // not one was asked for
        CHECK_FALSE(alloc.allocator.take_refusal());
        alloc.allocator.stop_failing();
        for (cow_vec *v : {tree, same, flat, relaxed, version, longer, empty}) cow_vec_release(v);
        CHECK(k.live() == 0);
    }
}
