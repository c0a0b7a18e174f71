// Allocation failure, every point of it (as SQLite tests out-of-memory): a
// scripted sequence of operations on every type and strategy runs once to
// count its allocations, then once per allocation with exactly that one
// failing. The step that meets the failure must report COW_ENOMEM (a clone:
// NULL) and leave every value, count, statistic and live counter as it
// was; retried, it succeeds; every other step succeeds; nothing may leak.
// Also: sizes near PTRDIFF_MAX are refused with COW_EOVERFLOW before any
// allocation.
#include <cstring>
#include <functional>
#include <string>
#include <vector>

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
        {"buf_new", [o](script_state &st) { return cow_buf_new(at<cow_buf>(st, 0), "unique bytes", 12, &o); }, false, 3},
        {"slice", slice(1, 0, 0, 6), false, 1},
        {"write to a slice", append(1, "?"), false, 2},
        {"slice again", slice(2, 0, 1, 2), false, 1},
        {"write to a slice's parent", append(0, "?"), false, 2},
        {"append grows a unique value", append(0, "0123456789abcdef0123456789"), false, 1},
        release_step(1),
        release_step(2),
        {"buf_new", [o](script_state &st) { return cow_buf_new(at<cow_buf>(st, 1), "shared bytes", 12, &o); }},
        clone_step(1, 2),
        {"append to a shared value", append(2, "!"), false, 2},
        clone_step(1, 2),
        {"insert into a shared value", [](script_state &st) { return cow_buf_insert(at<cow_buf>(st, 2), 1, "!", 1); }, false, 2},
        clone_step(1, 2),
        {"erase from a shared value", [](script_state &st) { return cow_buf_erase(at<cow_buf>(st, 2), 1, 2); }, false, 2},
        clone_step(1, 2),
        {"truncate a shared value", [](script_state &st) { return cow_buf_truncate(at<cow_buf>(st, 2), 3); }, false, 2},
        clone_step(1, 2),
        {"resize a shared value", [](script_state &st) { return cow_buf_resize(at<cow_buf>(st, 2), 40, '-'); }, false, 2},
        clone_step(1, 2),
        {"buf_make_mut of a shared value", [](script_state &st) { return cow_buf_make_mut(at<cow_buf>(st, 2), nullptr); }, false, 2},
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
        {"text report", [](script_state &st) {
             cow_str *r = nullptr;
             cow_status s = cow_stats_report(st.h[1], COW_REPORT_TEXT, &r);
             cow_release(r);
             return s;
         }, false, 3},
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
