// Multithreaded stress: 4+ threads share values of every kind (a tree map
// among them), clone them, pass them to each other through queues, read
// them, write to them (which copies shared values, or a tree's path) and
// release them, for a bounded number of steps.
// Every handle carries the value its producer saw; a reader must always see
// exactly that (no write through another handle is ever visible). At the
// end the strong counts and the clone counters are exact and every live
// counter is back to zero. Run under ThreadSanitizer by tools/dev test.
#include <barrier>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

namespace {

constexpr int threads = 4;
constexpr int steps = 60000;

// The canonical contents of a value, to compare snapshots.
std::string contents(const void *h) {
    switch (cow_kind(h)) {
    case COW_KIND_STR: {
        auto *s = static_cast<const cow_str *>(h);
        return std::string(cow_str_data(s), cow_str_len(s));
    }
    case COW_KIND_BUF: {
        auto *b = static_cast<const cow_buf *>(h);
        return std::string(reinterpret_cast<const char *>(cow_buf_data(b)), cow_buf_len(b));
    }
    case COW_KIND_VEC: {
        auto *v = static_cast<const cow_vec *>(h);
        std::string out;
        if (cow_vec_type(v) == cow_type_handle()) {
            // A vector of strings: their contents, in order.
            for (std::size_t i = 0; i < cow_vec_len(v); ++i) {
                const void *inner;
                std::memcpy(&inner, cow_vec_get(v, i), sizeof inner);
                out += contents(inner) + "|";
            }
            return out;
        }
        const void *data = nullptr;
        if (cow_vec_data(v, &data) == COW_OK) out.assign(static_cast<const char *>(data), cow_vec_len(v) * 8);
        return out;
    }
    case COW_KIND_MAP: {
        // Keys 0..63: the present ones with their values, in key order.
        auto *m = static_cast<const cow_map *>(h);
        std::string out = std::to_string(cow_map_len(m)) + ":";
        for (std::uint64_t k = 0; k < 64; ++k)
            if (const void *v = cow_map_get(m, &k, sizeof k)) {
                std::uint64_t x;
                std::memcpy(&x, v, sizeof x);
                out += std::to_string(k) + "=" + std::to_string(x) + ",";
            }
        return out;
    }
    case COW_KIND_BOX: {
        std::uint64_t x;
        std::memcpy(&x, cow_box_get(static_cast<const cow_box *>(h)), sizeof x);
        return std::to_string(x);
    }
    default: return "invalid";
    }
}

// A handle with the contents its holder must see, and its lineage number.
struct item {
    void *h;
    std::string expected;
    int lineage;
};

struct inbox {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<item> items;
    void push(item it) {
        {
            std::lock_guard<std::mutex> lock(mu);
            items.push_back(std::move(it));
        }
        cv.notify_one();
    }
    bool pop(item &out, bool wait) {
        std::unique_lock<std::mutex> lock(mu);
        if (wait) cv.wait_for(lock, std::chrono::milliseconds(1), [&] { return !items.empty(); });
        if (items.empty()) return false;
        out = std::move(items.front());
        items.pop_front();
        return true;
    }
};

// One write through the slot: copies when shared, never visible elsewhere.
cow_status write(void **slot, int tid, int n) {
    std::string tag = "t";
    tag += std::to_string(tid);
    tag += '.';
    tag += std::to_string(n);
    tag += ';';
    switch (cow_kind(*slot)) {
    case COW_KIND_STR: return cow_str_append(reinterpret_cast<cow_str **>(slot), tag.data(), tag.size());
    case COW_KIND_BUF: return cow_buf_append(reinterpret_cast<cow_buf **>(slot), tag.data(), tag.size());
    case COW_KIND_VEC: {
        auto **v = reinterpret_cast<cow_vec **>(slot);
        if (cow_vec_type(*v) == cow_type_handle()) {
            // A nested edit: the first string of the vector, through its slot.
            void *elem = nullptr;
            cow_status s = cow_vec_get_mut(v, 0, &elem);
            if (s != COW_OK) return s;
            return cow_str_append(static_cast<cow_str **>(elem), tag.data(), tag.size());
        }
        std::uint64_t x = static_cast<std::uint64_t>(tid * 100000 + n);
        return cow_vec_push(v, &x);
    }
    case COW_KIND_MAP: {
        // Keys 0..63: inserted or replaced, and every fourth write a remove
        // (of a key that may be absent: that changes nothing).
        auto **m = reinterpret_cast<cow_map **>(slot);
        std::uint64_t k = static_cast<std::uint64_t>(n % 64), x = static_cast<std::uint64_t>(tid * 100000 + n);
        if (n % 4 == 3) {
            cow_status s = cow_map_remove(m, &k, sizeof k, nullptr);
            return s == COW_ENOTFOUND ? COW_OK : s;
        }
        return cow_map_insert(m, &k, sizeof k, &x, nullptr, nullptr);
    }
    case COW_KIND_BOX: {
        void *p = nullptr;
        cow_status s = cow_box_make_mut(reinterpret_cast<cow_box **>(slot), &p);
        if (s != COW_OK) return s;
        std::uint64_t x = static_cast<std::uint64_t>(tid * 100000 + n);
        std::memcpy(p, &x, sizeof x);
        return COW_OK;
    }
    default: return COW_EINVAL;
    }
}

}  // namespace

TEST_CASE("threads share, pass, write and release values; everything adds up") {
    test::leak_check leaks;
    // The base values: one lineage each, every kind and strategy.
    std::vector<item> base;
    auto add = [&](void *h) { base.push_back({h, contents(h), static_cast<int>(base.size())}); };
    cow_options eager COW_OPTIONS_INIT, threshold COW_OPTIONS_INIT;
    eager.strategy = COW_STRATEGY_EAGER;
    threshold.strategy = COW_STRATEGY_THRESHOLD;
    threshold.threshold_bytes = 64;
    cow_str *s = nullptr;
    REQUIRE(cow_str_new(&s, "shared text", 11, nullptr) == COW_OK);
    add(s);
    cow_buf *b = nullptr;
    REQUIRE(cow_buf_new(&b, "eager bytes", 11, &eager) == COW_OK);
    add(b);
    cow_vec *v = nullptr;
    REQUIRE(cow_vec_new(&v, cow_type_u64(), &threshold) == COW_OK);
    for (std::uint64_t i = 0; i < 4; ++i) REQUIRE(cow_vec_push(&v, &i) == COW_OK);
    add(v);
    cow_map *m = nullptr;
    REQUIRE(cow_map_new(&m, cow_type_u64(), cow_type_u64(), nullptr) == COW_OK);
    for (std::uint64_t k = 0; k < 8; ++k) REQUIRE(cow_map_insert(&m, &k, sizeof k, &k, nullptr, nullptr) == COW_OK);
    add(m);
    // A tree map (STRUCTURAL) of 2,000 entries: its versions share every
    // node their writes did not copy, and threads release them in any order.
    cow_options structural COW_OPTIONS_INIT;
    structural.strategy = COW_STRATEGY_STRUCTURAL;
    cow_map *tm = nullptr;
    REQUIRE(cow_map_new(&tm, cow_type_u64(), cow_type_u64(), &structural) == COW_OK);
    for (std::uint64_t k = 0; k < 2000; ++k) REQUIRE(cow_map_insert(&tm, &k, sizeof k, &k, nullptr, nullptr) == COW_OK);
    add(tm);
    cow_box *x = nullptr;
    std::uint64_t seven = 7;
    REQUIRE(cow_box_new(&x, cow_type_u64(), &seven, nullptr) == COW_OK);
    add(x);
    cow_vec *nested = nullptr;
    REQUIRE(cow_vec_new(&nested, cow_type_handle(), nullptr) == COW_OK);
    for (int i = 0; i < 3; ++i) REQUIRE(cow_vec_push(&nested, &s) == COW_OK);  // clones s
    add(nested);
    const std::size_t lineages = base.size();
    std::vector<cow_stats_info> before;
    for (auto &it : base) before.push_back(test::stats(it.h));

    std::vector<inbox> boxes(threads);
    // clones[t][lineage]: cow_clone calls that thread t made on that lineage.
    std::vector<std::vector<std::uint64_t>> clones(threads, std::vector<std::uint64_t>(lineages, 0));
    std::vector<int> failures(threads, 0);
    std::barrier sync(threads);

    auto worker = [&](int tid) {
        std::mt19937 rng(static_cast<unsigned>(tid * 7919 + 1));
        std::vector<item> held;
        auto verify = [&](const item &it) {
            if (contents(it.h) != it.expected) ++failures[static_cast<std::size_t>(tid)];
        };
        auto clone_of = [&](const item &it) {
            void *c = cow_clone(it.h);
            if (!c) {
                ++failures[static_cast<std::size_t>(tid)];
                return item{nullptr, {}, it.lineage};
            }
            ++clones[static_cast<std::size_t>(tid)][static_cast<std::size_t>(it.lineage)];
            return item{c, it.expected, it.lineage};
        };
        // Everyone starts with a clone of every base value.
        for (auto &it : base) held.push_back(clone_of(it));
        for (int n = 0; n < steps; ++n) {
            unsigned action = rng() % 8;
            if (held.empty()) action = 1;
            std::size_t pick = held.empty() ? 0 : rng() % held.size();
            item received;
            switch (action) {
            case 0: {  // hand a clone to another thread
                item c = clone_of(held[pick]);
                if (c.h) boxes[(static_cast<std::size_t>(tid) + 1 + rng() % (threads - 1)) % threads].push(std::move(c));
                break;
            }
            case 1:
                if (boxes[static_cast<std::size_t>(tid)].pop(received, n % 16 == 0)) {
                    verify(received);
                    held.push_back(std::move(received));
                }
                break;
            case 2: case 3: verify(held[pick]); break;
            case 4: case 5:  // write: the holder's own new value
                if (write(&held[pick].h, tid, n) == COW_OK)
                    held[pick].expected = contents(held[pick].h);
                else
                    ++failures[static_cast<std::size_t>(tid)];
                break;
            case 6: {  // keep a second handle
                item c = clone_of(held[pick]);
                if (c.h && held.size() < 40) held.push_back(std::move(c));
                else if (c.h) cow_release(c.h);
                break;
            }
            default:
                verify(held[pick]);
                cow_release(held[pick].h);
                held.erase(held.begin() + static_cast<std::ptrdiff_t>(pick));
            }
        }
        sync.arrive_and_wait();  // nobody sends any more
        item last;
        while (boxes[static_cast<std::size_t>(tid)].pop(last, false)) held.push_back(std::move(last));
        for (auto &it : held) {
            verify(it);
            cow_release(it.h);
        }
    };
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) pool.emplace_back(worker, t);
    for (auto &t : pool) t.join();

    for (int t = 0; t < threads; ++t) CHECK(failures[static_cast<std::size_t>(t)] == 0);
    for (std::size_t l = 0; l < lineages; ++l) {
        const item &it = base[l];
        INFO("lineage " << l);
        // Nobody's write reached the base values; only main holds them now.
        CHECK(contents(it.h) == it.expected);
        CHECK(cow_strong_count(it.h) == (l == 0 ? 4u : 1u));  // s is also in nested (3x)
        std::uint64_t made = 0;
        for (int t = 0; t < threads; ++t) made += clones[static_cast<std::size_t>(t)][l];
        auto after = test::stats(it.h);
        if (l != 0) CHECK(after.clones == before[l].clones + made);  // s is also cloned by nested copies
        else CHECK(after.clones >= before[l].clones + made);
        // Every private copy a writer made is gone: one value per lineage,
        // and the handles main and the nested containers hold.
        CHECK(after.live_values == 1);
        CHECK(after.live_handles == cow_strong_count(it.h));
        if (l == 1) CHECK(after.copies == after.clones);  // eager: every clone copies, no write does
    }
    for (auto &it : base) cow_release(it.h);
}
