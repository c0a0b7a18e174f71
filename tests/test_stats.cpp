// Lineage statistics, reports, global counters and sharing strategies.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

namespace {
std::string text(cow_str *s) {
    std::string r(cow_str_data(s), cow_str_len(s));
    cow_release(s);
    return r;
}
std::string report(const void *h, uint32_t format = COW_REPORT_TEXT) {
    cow_str *r = nullptr;
    REQUIRE(cow_stats_report(h, format, &r) == COW_OK);
    return text(r);
}
cow_options strategy(cow_strategy_t s, uint64_t threshold = 0, uint32_t flags = 0) {
    cow_options o;
    cow_options_init(&o);
    o.strategy = s;
    o.threshold_bytes = threshold;
    o.flags = flags;
    return o;
}
}  // namespace

TEST_CASE("three clones, one copy: counts, rate, memory saved, report lines") {
    test::leak_check lc;
    cow_str *s = nullptr;
    REQUIRE(cow_str_new(&s, "0123456789", 10, nullptr) == COW_OK);
    cow_str *c[3];
    for (auto &x : c) x = cow_str_clone(s);
    REQUIRE(cow_str_append(&c[0], "!", 1) == COW_OK);
    auto st = test::stats(s);
    CHECK(st.enabled == 1);
    CHECK(st.clones == 3);
    CHECK(st.copies == 1);
    CHECK(st.bytes_copied == 10);
    CHECK(st.copy_rate == doctest::Approx(1.0 / 3.0));
    CHECK(st.memory_saved == 2 * 10);  // (clones - copies) x value size
    CHECK(st.live_handles == 4);
    CHECK(st.live_values == 2);
    CHECK(st.value_bytes == 10);
    // Every member of the lineage reports the same lineage counters.
    auto st2 = test::stats(c[0]);
    CHECK(st2.clones == 3);
    CHECK(st2.copies == 1);
    CHECK(st2.value_bytes == 11);

    std::string r = report(s);
    CHECK(r.find("Clones: 3\n") != std::string::npos);
    CHECK(r.find("Copies: 1\n") != std::string::npos);
    CHECK(r.find("Copy rate: 33.3%\n") != std::string::npos);
    CHECK(r.find("Memory saved: 20 bytes (0.00 MB)\n") != std::string::npos);
    std::string j = report(s, COW_REPORT_JSON);
    CHECK(j.find("\"clones\":3") != std::string::npos);
    CHECK(j.find("\"copies\":1") != std::string::npos);
    CHECK(j.front() == '{');
    CHECK(j.back() == '}');
    for (auto x : c) cow_release(x);
    // Counters only grow: the clones of released handles still count.
    st = test::stats(s);
    CHECK(st.clones == 3);
    CHECK(st.live_handles == 1);
    CHECK(st.live_values == 1);
    cow_release(s);
}

TEST_CASE("no clones: copy rate 0, memory saved 0") {
    test::leak_check lc;
    cow_buf *b = nullptr;
    REQUIRE(cow_buf_new(&b, "x", 1, nullptr) == COW_OK);
    auto st = test::stats(b);
    CHECK(st.clones == 0);
    CHECK(st.copy_rate == 0.0);
    CHECK(st.memory_saved == 0);
    CHECK(report(b).find("Copy rate: 0.0%") != std::string::npos);
    cow_release(b);
}

TEST_CASE("statistics from several threads are exact") {
    test::leak_check lc;
    cow_buf *b = nullptr;
    std::vector<char> payload(1000, 'p');
    REQUIRE(cow_buf_new(&b, payload.data(), payload.size(), nullptr) == COW_OK);
    constexpr int threads = 8, rounds = 2000;
    std::atomic<int> failures{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([b, t, &failures] {
            for (int i = 0; i < rounds; ++i) {
                cow_buf *c = cow_buf_clone(b);
                // copies (checked after the join: doctest is not for worker threads)
                if (i % 10 == 0 && cow_buf_append(&c, &t, 1) != COW_OK) ++failures;
                cow_release(c);
            }
        });
    }
    for (auto &th : pool) th.join();
    CHECK(failures == 0);
    auto st = test::stats(b);
    CHECK(st.clones == uint64_t(threads) * rounds);
    CHECK(st.copies == uint64_t(threads) * rounds / 10);
    CHECK(st.bytes_copied == uint64_t(threads) * rounds / 10 * 1000);
    CHECK(st.live_handles == 1);
    CHECK(st.copy_rate == doctest::Approx(0.1));
    CHECK(st.memory_saved == (st.clones - st.copies) * 1000);
    cow_release(b);
}

TEST_CASE("statistics off: counters stay zero, sharing still works") {
    test::leak_check lc;
    cow_options o = strategy(COW_STRATEGY_LAZY, 0, COW_OPT_NO_STATS);
    cow_buf *b = nullptr;
    REQUIRE(cow_buf_new(&b, "abc", 3, &o) == COW_OK);
    cow_buf *c = cow_buf_clone(b);
    CHECK(cow_ptr_eq(b, c));
    REQUIRE(cow_buf_append(&c, "d", 1) == COW_OK);
    auto st = test::stats(b);
    CHECK(st.enabled == 0);
    CHECK(st.clones == 0);
    CHECK(st.copies == 0);
    CHECK(st.value_bytes == 3);
    CHECK(report(b).find("statistics are off") != std::string::npos);
    cow_release(b);
    cow_release(c);
}

TEST_CASE("eager strategy: clone copies at once, writes never copy") {
    test::leak_check lc;
    cow_options o = strategy(COW_STRATEGY_EAGER);
    cow_str *s = nullptr;
    REQUIRE(cow_str_new(&s, "eager", 5, &o) == COW_OK);
    cow_str *c = cow_str_clone(s);
    REQUIRE(c != nullptr);
    CHECK_FALSE(cow_ptr_eq(s, c));
    CHECK(cow_strong_count(s) == 1);
    CHECK_FALSE(cow_is_shared(c));
    const char *data = cow_str_data(c);
    REQUIRE(cow_str_truncate(&c, 2) == COW_OK);
    CHECK(cow_str_data(c) == data);
    auto st = test::stats(s);
    CHECK(st.clones == 1);
    CHECK(st.copies == 1);
    CHECK(st.bytes_copied == 5);
    // The copy inherits the strategy.
    cow_str *cc = cow_str_clone(c);
    CHECK_FALSE(cow_ptr_eq(c, cc));
    cow_release(cc);
    cow_release(c);
    cow_release(s);
}

TEST_CASE("threshold strategy: eager below the limit, lazy above") {
    test::leak_check lc;
    cow_options o = strategy(COW_STRATEGY_THRESHOLD, 8);
    cow_buf *small = nullptr, *big = nullptr;
    REQUIRE(cow_buf_new(&small, "1234567", 7, &o) == COW_OK);
    REQUIRE(cow_buf_new(&big, "12345678", 8, &o) == COW_OK);
    cow_buf *cs = cow_buf_clone(small), *cb = cow_buf_clone(big);
    CHECK_FALSE(cow_ptr_eq(small, cs));
    CHECK(cow_ptr_eq(big, cb));
    CHECK(test::stats(small).copies == 1);
    CHECK(test::stats(big).copies == 0);
    cow_release(cs);
    cow_release(cb);
    cow_release(small);
    cow_release(big);
}

TEST_CASE("reserved and invalid options are refused") {
    test::leak_check lc;
    cow_buf *b = nullptr;
    cow_options o = strategy(COW_STRATEGY_STRUCTURAL);
    CHECK(cow_buf_new(&b, "x", 1, &o) == COW_EUNSUPPORTED);
    o = strategy(COW_STRATEGY_ADAPTIVE);
    CHECK(cow_buf_new(&b, "x", 1, &o) == COW_EUNSUPPORTED);
    o = strategy(99);
    CHECK(cow_buf_new(&b, "x", 1, &o) == COW_EINVAL);
    o = strategy(COW_STRATEGY_LAZY, 0, 0x80);
    CHECK(cow_buf_new(&b, "x", 1, &o) == COW_EINVAL);
    o = strategy(COW_STRATEGY_LAZY);
    o.size = 4;
    CHECK(cow_buf_new(&b, "x", 1, &o) == COW_EINVAL);
    CHECK(b == nullptr);
    // An older, shorter options struct: the missing fields read as zero.
    o = strategy(COW_STRATEGY_EAGER, 0, COW_OPT_NO_STATS);
    o.size = offsetof(cow_options, threshold_bytes);
    REQUIRE(cow_buf_new(&b, "x", 1, &o) == COW_OK);
    CHECK(test::stats(b).enabled == 1);  // flags were beyond the caller's size
    cow_buf *c = cow_buf_clone(b);
    CHECK_FALSE(cow_ptr_eq(b, c));  // but the strategy was read
    cow_release(c);
    cow_release(b);
}

TEST_CASE("global counters follow allocations and return to zero") {
    auto g0 = test::global();
    cow_buf *b = nullptr;
    REQUIRE(cow_buf_new(&b, "abcdef", 6, nullptr) == COW_OK);
    auto g1 = test::global();
    CHECK(g1.live_values == g0.live_values + 1);
    CHECK(g1.live_bytes > g0.live_bytes);
    cow_buf *c = cow_buf_clone(b);
    auto g2 = test::global();
    CHECK(g2.live_values == g1.live_values);  // a clone allocates nothing
    CHECK(g2.live_bytes == g1.live_bytes);
    cow_release(c);
    cow_release(b);
    auto g3 = test::global();
    CHECK(g3.live_values == g0.live_values);
    CHECK(g3.live_bytes == g0.live_bytes);
    CHECK(g3.live_allocations == g0.live_allocations);
}

TEST_CASE("versioned output structs: a short caller struct gets only its fields") {
    test::leak_check lc;
    cow_buf *b = nullptr;
    REQUIRE(cow_buf_new(&b, "x", 1, nullptr) == COW_OK);
    cow_buf *c = cow_buf_clone(b);
    struct old_stats {
        uint32_t size, enabled;
        uint64_t clones;
        uint64_t canary;
    } old{};
    old.size = offsetof(old_stats, canary);
    old.canary = 0xdeadbeef;
    REQUIRE(cow_stats(b, reinterpret_cast<cow_stats_info *>(&old)) == COW_OK);
    CHECK(old.clones == 1);
    CHECK(old.canary == 0xdeadbeef);
    CHECK(old.size == offsetof(old_stats, canary));
    cow_release(c);
    cow_release(b);
}

// -- the 0.2 layout of cow_stats_info ----------------------------------------

namespace {
constexpr unsigned char marker = 0xab;
constexpr std::size_t v1_size = offsetof(cow_stats_info, representation);

// A struct whose every byte is the marker, with the caller's size set.
cow_stats_info marked(std::uint32_t size) {
    cow_stats_info info;
    std::memset(&info, marker, sizeof info);
    info.size = size;
    return info;
}
// True when no byte from `from` to the end of the struct was written.
bool untouched_from(const cow_stats_info &info, std::size_t from) {
    const auto *raw = reinterpret_cast<const unsigned char *>(&info);
    for (std::size_t k = from; k < sizeof info; ++k)
        if (raw[k] != marker) return false;
    return true;
}
void check_flat_v2_fields(const cow_stats_info &info) {
    CHECK(info.representation == COW_REPRESENTATION_FLAT);
    CHECK(info.reserved == 0);
    CHECK(info.nodes_copied == 0);
    CHECK(info.switches == 0);
}
}  // namespace

TEST_CASE("cow_stats_info_init writes the 0.1 layout and no byte past it") {
    cow_stats_info info = marked(0);
    cow_stats_info_init(&info);
    CHECK(info.size == v1_size);
    CHECK(info.enabled == 0);
    CHECK(info.clones == 0);
    CHECK(info.live_values == 0);
    CHECK(info.copy_rate == 0.0);
    CHECK(info.value_bytes == 0);
    CHECK(untouched_from(info, v1_size));
}

TEST_CASE("cow_stats_info_init_v2 writes the whole struct: flat, new fields 0") {
    cow_stats_info info = marked(0);
    cow_stats_info_init_v2(&info);
    CHECK(info.size == sizeof(cow_stats_info));
    CHECK(info.enabled == 0);
    CHECK(info.clones == 0);
    CHECK(info.value_bytes == 0);
    check_flat_v2_fields(info);
    cow_stats_info_init_v2(nullptr);  // does nothing
}

TEST_CASE("COW_STATS_INFO_INIT is the full size and the same bytes as cow_stats_info_init_v2") {
    cow_stats_info from_macro COW_STATS_INFO_INIT;
    CHECK(from_macro.size == sizeof(cow_stats_info));
    check_flat_v2_fields(from_macro);
    cow_stats_info from_call = marked(0);
    cow_stats_info_init_v2(&from_call);
    CHECK(std::memcmp(&from_macro, &from_call, sizeof from_call) == 0);
}

TEST_CASE("cow_stats with the 0.1 size fills the 0.1 fields and leaves the 0.2 fields untouched") {
    test::leak_check lc;
    cow_buf *b = nullptr;
    REQUIRE(cow_buf_new(&b, "abcd", 4, nullptr) == COW_OK);
    cow_buf *c = cow_buf_clone(b);
    REQUIRE(cow_buf_append(&c, "e", 1) == COW_OK);

    cow_stats_info info = marked(v1_size);
    REQUIRE(cow_stats(b, &info) == COW_OK);
    CHECK(info.size == v1_size);
    CHECK(info.enabled == 1);
    CHECK(info.clones == 1);
    CHECK(info.copies == 1);
    CHECK(info.value_bytes == 4);
    CHECK(untouched_from(info, v1_size));

    // A 0.1 caller's own init, then the call: the same.
    info = marked(0);
    cow_stats_info_init(&info);
    REQUIRE(cow_stats(c, &info) == COW_OK);
    CHECK(info.clones == 1);
    CHECK(info.value_bytes == 5);
    CHECK(untouched_from(info, v1_size));
    cow_release(c);
    cow_release(b);
}

TEST_CASE("cow_stats with the full struct: every kind of flat value reports FLAT, reserved 0, "
          "no nodes copied, no switches, with or without statistics") {
    test::leak_check lc;
    for (std::uint32_t flags : {0u, COW_OPT_NO_STATS}) {
        CAPTURE(flags);
        cow_options o = strategy(COW_STRATEGY_LAZY, 0, flags);
        cow_buf *b = nullptr;
        cow_str *s = nullptr;
        cow_vec *v = nullptr;
        cow_map *m = nullptr;
        cow_box *x = nullptr;
        std::uint32_t one = 1;
        REQUIRE(cow_buf_new(&b, "bytes", 5, &o) == COW_OK);
        REQUIRE(cow_str_new(&s, "text", 4, &o) == COW_OK);
        REQUIRE(cow_vec_new(&v, cow_type_u32(), &o) == COW_OK);
        REQUIRE(cow_vec_push(&v, &one) == COW_OK);
        REQUIRE(cow_map_new(&m, cow_type_u32(), cow_type_u32(), &o) == COW_OK);
        REQUIRE(cow_map_insert(&m, &one, sizeof one, &one, nullptr, nullptr) == COW_OK);
        REQUIRE(cow_box_new(&x, cow_type_u32(), &one, &o) == COW_OK);
        void *values[] = {b, s, v, m, x};
        for (void *&h : values) {
            // A shared write copies: still no nodes, the copy is flat too.
            void *copy = cow_clone(h);
            REQUIRE(cow_make_mut(&copy) == COW_OK);
            REQUIRE(copy != h);
            for (void *member : {h, copy}) {
                cow_stats_info info = marked(sizeof(cow_stats_info));
                REQUIRE(cow_stats(member, &info) == COW_OK);
                CHECK(info.size == sizeof(cow_stats_info));
                CHECK(info.enabled == (flags ? 0u : 1u));
                CHECK(info.copies == (flags ? 0u : 1u));
                check_flat_v2_fields(info);
            }
            cow_release(copy);
            cow_release(h);
        }
    }
}

TEST_CASE("the JSON report names the representation and the 0.2 counters, and ends the object") {
    test::leak_check lc;
    for (std::uint32_t flags : {0u, COW_OPT_NO_STATS}) {
        CAPTURE(flags);
        cow_options o = strategy(COW_STRATEGY_LAZY, 0, flags);
        cow_str *s = nullptr;
        REQUIRE(cow_str_new(&s, "json", 4, &o) == COW_OK);
        cow_str *c = cow_str_clone(s);
        REQUIRE(cow_str_append(&c, "!", 1) == COW_OK);
        std::string j = report(c, COW_REPORT_JSON);
        CAPTURE(j);
        CHECK(j.find("\"representation\":\"flat\"") != std::string::npos);
        CHECK(j.find("\"nodes_copied\":0") != std::string::npos);
        CHECK(j.find("\"switches\":0") != std::string::npos);
        CHECK(j.front() == '{');
        CHECK(j.back() == '}');
        cow_release(c);
        cow_release(s);
    }
}

TEST_CASE("the text report of a flat value has no representation or switches line") {
    test::leak_check lc;
    cow_buf *b = nullptr;
    REQUIRE(cow_buf_new(&b, "text", 4, nullptr) == COW_OK);
    cow_buf *c = cow_buf_clone(b);
    REQUIRE(cow_buf_append(&c, "!", 1) == COW_OK);
    std::string r = report(c);
    CAPTURE(r);
    CHECK(r.find("Copies: 1\n") != std::string::npos);  // the report is there
    CHECK(r.find("Representation:") == std::string::npos);
    CHECK(r.find("Switches:") == std::string::npos);
    cow_release(c);
    cow_release(b);
}
