// The thread-safety contract: any number of threads read, clone and release
// handles to the same value at once; each writer works on its own slot and
// gets a private copy; nobody else observes the change.
#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

namespace {
std::string contents(const cow_str *s) { return std::string(cow_str_data(s), cow_str_len(s)); }
}  // namespace

TEST_CASE("concurrent clone and release keep the count exact") {
    test::leak_check lc;
    cow_buf *b = nullptr;
    REQUIRE(cow_buf_new(&b, "shared", 6, nullptr) == COW_OK);
    constexpr int threads = 8, rounds = 20000;
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([b] {
            cow_buf *held[16];
            for (int i = 0; i < rounds; ++i) {
                held[i % 16] = cow_buf_clone(b);
                if (i % 16 == 15)
                    for (auto h : held) cow_release(h);
            }
        });
    for (auto &th : pool) th.join();
    CHECK(cow_strong_count(b) == 1);
    CHECK(test::stats(b).clones == uint64_t(threads) * rounds);
    cow_release(b);
}

TEST_CASE("writers each get a private copy; readers see the original") {
    test::leak_check lc;
    cow_str *orig = nullptr;
    REQUIRE(cow_str_new(&orig, "base", 4, nullptr) == COW_OK);
    constexpr int writers = 10, readers = 20;
    std::vector<cow_str *> slots(writers);
    for (auto &s : slots) s = cow_str_clone(orig);  // each thread gets its own slot
    std::atomic<int> bad_reads{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < writers; ++t)
        pool.emplace_back([&, t] {
            std::string suffix = "-";
            suffix += std::to_string(t);
            for (int i = 0; i < 100; ++i)
                if (cow_str_append(&slots[t], suffix.data(), suffix.size()) != COW_OK) bad_reads++;
        });
    for (int t = 0; t < readers; ++t)
        pool.emplace_back([&] {
            for (int i = 0; i < 2000; ++i) {
                cow_str *mine = cow_str_clone(orig);
                if (contents(mine) != "base") bad_reads++;
                cow_release(mine);
            }
        });
    for (auto &th : pool) th.join();
    CHECK(bad_reads == 0);
    CHECK(contents(orig) == "base");
    for (int t = 0; t < writers; ++t) {
        std::string expect = "base";
        for (int i = 0; i < 100; ++i) {
            expect += '-';
            expect += std::to_string(t);
        }
        CHECK(contents(slots[t]) == expect);
        CHECK_FALSE(cow_ptr_eq(slots[t], orig));
    }
    auto st = test::stats(orig);
    CHECK(st.copies == writers);  // one copy per writer, then in place
    CHECK(st.clones == writers + uint64_t(readers) * 2000);
    for (auto s : slots) cow_release(s);
    cow_release(orig);
}

TEST_CASE("the last two holders racing to write: each ends with exactly its own edit") {
    test::leak_check lc;
    for (int round = 0; round < 500; ++round) {
        cow_buf *a = nullptr;
        REQUIRE(cow_buf_new(&a, "x", 1, nullptr) == COW_OK);
        cow_buf *b = cow_buf_clone(a);
        // doctest's assertions are not for worker threads: keep the statuses.
        cow_status sa = COW_EINVAL, sb = COW_EINVAL;
        std::thread ta([&] { sa = cow_buf_append(&a, "a", 1); });
        std::thread tb([&] { sb = cow_buf_append(&b, "b", 1); });
        ta.join();
        tb.join();
        REQUIRE(sa == COW_OK);
        REQUIRE(sb == COW_OK);
        CHECK(std::string(reinterpret_cast<const char *>(cow_buf_data(a)), cow_buf_len(a)) == "xa");
        CHECK(std::string(reinterpret_cast<const char *>(cow_buf_data(b)), cow_buf_len(b)) == "xb");
        // At most one of them had to copy: the other may find itself unique.
        auto st = test::stats(a);
        CHECK(st.copies >= 1);
        CHECK(st.copies <= 2);
        cow_release(a);
        cow_release(b);
    }
}

TEST_CASE("slices released from several threads free the storage exactly once") {
    test::leak_check lc;
    for (int round = 0; round < 200; ++round) {
        cow_buf *parent = nullptr;
        REQUIRE(cow_buf_new(&parent, "0123456789", 10, nullptr) == COW_OK);
        std::vector<cow_buf *> views(4);
        for (int i = 0; i < 4; ++i) REQUIRE(cow_buf_slice(&views[i], parent, size_t(i), 3) == COW_OK);
        std::vector<std::thread> pool;
        for (int i = 0; i < 4; ++i) pool.emplace_back([&, i] { cow_release(views[i]); });
        pool.emplace_back([&] { cow_release(parent); });
        for (auto &th : pool) th.join();
    }
}

// Every empty string without storage shares one static "" byte. Erasing all
// of a shared string once wrote its NUL there, racing with readers of other
// empty strings (TSan reported it); now nothing writes that byte.
TEST_CASE("emptying shared strings while other threads read empty strings") {
    test::leak_check lc;
    cow_str *text = nullptr;
    REQUIRE(cow_str_new(&text, "abc", 3, nullptr) == COW_OK);
    std::atomic<int> failures{0};
    std::thread eraser([&] {
        for (int i = 0; i < 2000; ++i) {
            cow_str *c = cow_str_clone(text);  // shared: the erase copies
            if (cow_str_erase(&c, 0, 3) != COW_OK || cow_str_len(c) != 0) ++failures;
            cow_release(c);
        }
    });
    std::thread reader([&] {
        for (int i = 0; i < 2000; ++i) {
            cow_str *e = nullptr;
            const char *p = nullptr;
            if (cow_str_new(&e, "", 0, nullptr) != COW_OK || cow_str_cstr(&e, &p) != COW_OK ||
                p[0] != 0)
                ++failures;
            cow_release(e);
        }
    });
    eraser.join();
    reader.join();
    CHECK(failures == 0);
    CHECK(contents(text) == "abc");
    cow_release(text);
}

namespace {

cow_vec *tree_of(std::uint64_t n) {
    cow_options o = COW_OPTIONS_INIT;
    o.strategy = COW_STRATEGY_STRUCTURAL;
    cow_vec *v = nullptr;
    REQUIRE(cow_vec_new(&v, cow_type_u64(), &o) == COW_OK);
    for (std::uint64_t i = 0; i < n; ++i) REQUIRE(cow_vec_push(&v, &i) == COW_OK);
    return v;
}

std::uint64_t u64_at(const cow_vec *v, std::size_t i) {
    return *static_cast<const std::uint64_t *>(cow_vec_get(v, i));
}

}  // namespace

TEST_CASE("tree versions written by their own threads share nodes safely; readers see the original") {
    test::leak_check lc;
    constexpr std::uint64_t n = 20000;
    cow_vec *orig = tree_of(n);
    constexpr int writers = 6, readers = 4;
    std::vector<cow_vec *> slots(writers);
    for (auto &s : slots) s = cow_vec_clone(orig);
    std::atomic<int> bad{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < writers; ++t)
        pool.emplace_back([&, t] {
            // Each writes all over its version: paths are copied from nodes
            // that the other versions hold, then written in place.
            for (std::uint64_t i = 0; i < 2000; ++i) {
                std::uint64_t x = 1000000 * (t + 1) + i;
                if (cow_vec_set(&slots[t], (i * 97 + t) % n, &x, nullptr) != COW_OK) bad++;
                if (i % 100 == 0 && cow_vec_push(&slots[t], &x) != COW_OK) bad++;
            }
        });
    for (int t = 0; t < readers; ++t)
        pool.emplace_back([&] {
            for (int r = 0; r < 200; ++r) {
                cow_vec *mine = cow_vec_clone(orig);
                for (std::uint64_t i = 0; i < n; i += 61)
                    if (u64_at(mine, i) != i) bad++;
                cow_vec_release(mine);
            }
        });
    for (auto &th : pool) th.join();
    CHECK(bad == 0);
    for (std::uint64_t i = 0; i < n; ++i) REQUIRE(u64_at(orig, i) == i);
    for (int t = 0; t < writers; ++t) {
        CHECK(cow_vec_len(slots[t]) == n + 20);
        std::uint64_t last = 1999;
        CHECK(u64_at(slots[t], (last * 97 + t) % n) == 1000000 * (t + 1) + last);
    }
    for (auto s : slots) cow_vec_release(s);
    cow_vec_release(orig);
}

TEST_CASE("the last two versions sharing a subtree released at once free every node exactly once") {
    test::leak_check lc;
    for (int round = 0; round < 300; ++round) {
        cow_vec *a = tree_of(3000);
        cow_vec *b = cow_vec_clone(a);
        std::uint64_t x = 1;
        REQUIRE(cow_vec_set(&b, 7, &x, nullptr) == COW_OK);  // b: its own path, the rest shared
        std::thread ta([&] { cow_vec_release(a); });
        std::thread tb([&] { cow_vec_release(b); });
        ta.join();
        tb.join();
    }
}

namespace {

// An element type whose copy can hold a write still, half-way, while
// another thread releases the only other version: the interleaving the
// reference counts of shared nodes must survive.
struct paused_copy {
    static inline std::atomic<long> live{0};
    static inline std::atomic<int> pause_at{-1};  // copies to let through before pausing
    static inline std::atomic<bool> paused{false}, resumed{false};

    static cow_status copy(void *, void *dst, const void *src) noexcept {
        std::memcpy(dst, src, 8);
        live++;
        if (pause_at.fetch_sub(1) == 0) {
            paused = true;
            while (!resumed) std::this_thread::yield();
        }
        return COW_OK;
    }
    static void drop(void *, void *) noexcept { live--; }
};

// Runs `write` on version a while another thread releases b, the only other
// holder of a's nodes, once the write is inside its `skip + 1`-th copy.
template <class Write>
void release_other_version_during(int skip, Write write) {
    cow_type t;
    cow_type_init(&t, 8, 8);
    t.copy = paused_copy::copy;
    t.drop = paused_copy::drop;
    cow_options o = COW_OPTIONS_INIT;
    o.strategy = COW_STRATEGY_STRUCTURAL;
    long live_before = paused_copy::live;
    std::vector<std::uint64_t> xs(1000);
    for (std::size_t i = 0; i < xs.size(); ++i) xs[i] = i;
    cow_vec *a = nullptr;
    REQUIRE(cow_vec_from_array(&a, &t, xs.data(), xs.size(), &o) == COW_OK);
    cow_vec *b = cow_vec_clone(a);
    REQUIRE(cow_vec_make_mut(&b, nullptr) == COW_OK);  // its own root; every node shared with a
    paused_copy::paused = false;
    paused_copy::resumed = false;
    paused_copy::pause_at = skip;
    std::thread releaser([&] {
        while (!paused_copy::paused) std::this_thread::yield();
        cow_vec_release(b);
        paused_copy::resumed = true;
    });
    write(&a);
    releaser.join();
    paused_copy::pause_at = -1;
    if (a) cow_vec_release(a);
    CHECK(paused_copy::live == live_before);  // every element dropped exactly once
}

}  // namespace

TEST_CASE("a tree version released while a write to another is copying its nodes leaks nothing") {
    test::leak_check lc;
    SUBCASE("set: the shared path is copied, then the other version goes") {
        release_other_version_during(1, [](cow_vec **a) {  // copy 1 is set's copy of the value
            std::uint64_t x = 12345;
            CHECK(cow_vec_set(a, 3, &x, nullptr) == COW_OK);
        });
    }
    SUBCASE("into: shared leaves are copied, then the other version goes") {
        release_other_version_during(0, [](cow_vec **a) {
            cow_owned out;
            REQUIRE(cow_vec_into(a, &out) == COW_OK);
            CHECK(out.len == 1000);
            for (std::size_t k = 0; k < out.len; ++k) paused_copy::drop(nullptr, nullptr);
            cow_owned_free(&out);
            *a = nullptr;
        });
    }
}
