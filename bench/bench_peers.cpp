// libcow beside the libraries its users would pick instead, each written the
// way its own users write it:
//   libcow       the default strategy (LAZY: flat values, copy on write)
//   libcow_tree  COW_STRATEGY_STRUCTURAL (vectors and maps only)
//   qt5          Qt 5's implicitly shared QByteArray, QVector, QHash (QString keys)
//   shared_ptr   std::shared_ptr<const T>: a clone shares, a write copies the
//                value into a new shared_ptr (in place when use_count() is 1)
//   absl         absl::flat_hash_map (a clone is a copy)
//   std          std::string, std::vector, std::unordered_map (a clone is a copy)
// A second thread stays alive for the whole run, so that libstdc++'s
// shared_ptr pays the atomic reference counts it pays in any threaded program.
//
// Every benchmark is named operation/case/implementation; tools/bench_report.py
// prints, per operation, each implementation's time as a ratio to the fastest
// of its row. Copies are warm: freed memory is reused (see main).
#include <benchmark/benchmark.h>

#include <QtCore/QByteArray>
#include <QtCore/QHash>
#include <QtCore/QString>
#include <QtCore/QVector>
#include <absl/container/flat_hash_map.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "support.hpp"

namespace {

using bench::cow_live_bytes;
using bench::heap_in_use;
using bench::must;
using u64 = std::uint64_t;

constexpr std::size_t kib = 1024;
constexpr std::size_t mib = 1024 * 1024;
constexpr std::size_t big = 1000000;
constexpr std::size_t batch = 1000;  // reads or writes per iteration where one is too short to time

// ---------------------------------------------------------------------------
// Data: fixed sequences, the same for every implementation.
// ---------------------------------------------------------------------------

std::string bytes_of(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 31 + 7);
    return s;
}

std::vector<u64> values_of(std::size_t n) {
    bench::rng r(3 * n + 1);
    std::vector<u64> v(n);
    for (auto &x : v) x = r.next() >> 8;
    return v;
}

// `count` positions in [0, n), shuffled (repeating when count > n).
std::vector<std::size_t> positions(std::size_t n, std::size_t count) {
    std::vector<std::size_t> p(count);
    for (std::size_t i = 0; i < count; ++i) p[i] = i % n;
    bench::shuffle(p, 5 * n + count);
    return p;
}

// Out of line so that every implementation runs the very same summing code.
[[gnu::noinline]] u64 sum_of(const u64 *p, std::size_t n) {
    u64 s = 0;
    for (std::size_t i = 0; i < n; ++i) s += p[i];
    return s;
}

cow_options options_for(cow_strategy_t strategy) {
    cow_options o = COW_OPTIONS_INIT;
    o.strategy = strategy;
    return o;
}

// A libcow handle released at the end of its scope.
template <class T, void (*Release)(T *)>
struct owned {
    T *p = nullptr;
    owned() = default;
    explicit owned(T *h) : p(h) {}
    owned(owned &&o) noexcept : p(std::exchange(o.p, nullptr)) {}
    owned &operator=(owned &&o) noexcept {
        std::swap(p, o.p);
        return *this;
    }
    ~owned() { Release(p); }
};

// ---------------------------------------------------------------------------
// Byte strings and vectors of u64. Each side gives: make(source), size,
// clone_release, first_write (clone, write one element, release),
// unique_write, and for vectors get, sum and build_by_push.
// ---------------------------------------------------------------------------

// The std containers, QByteArray and QVector<u64>: a copy is a clone (Qt
// shares the data until a write detaches it; std copies at once).
template <class T>
struct value_side {
    using handle = T;
    using elem = std::remove_cv_t<std::remove_reference_t<decltype(std::declval<const T &>()[0])>>;
    using index = typename T::size_type;

    template <class Source>
    static T make(const Source &src) {
        if constexpr (std::is_same_v<T, QByteArray>) return QByteArray(src.data(), static_cast<int>(src.size()));
        else return T(src.begin(), src.end());
    }
    static std::size_t size(const T &h) { return static_cast<std::size_t>(h.size()); }
    static elem at(const T &h, std::size_t i) { return h[static_cast<index>(i)]; }
    static void clone_release(const T &h) {
        T c(h);
        benchmark::DoNotOptimize(c);
    }
    static void first_write(const T &h, std::size_t i, elem x) {
        T c(h);
        c[static_cast<index>(i)] = x;
        benchmark::DoNotOptimize(c);
    }
    static void unique_write(T &h, std::size_t i, elem x) { h[static_cast<index>(i)] = x; }
    static u64 get(const T &h, std::size_t i) { return h[static_cast<index>(i)]; }
    static u64 sum(const T &h) { return sum_of(h.data(), static_cast<std::size_t>(h.size())); }
    static T build_by_push(const std::vector<u64> &src) {
        T v;
        for (u64 x : src) v.push_back(x);
        return v;
    }
};

// std::shared_ptr<const T>: clone and release are the pointer's; a write makes
// a new T from the old one and publishes it, unless this pointer is the only
// owner (use_count() == 1), when it writes in place: the T was made non-const
// by make_shared<T>, so the const_cast is allowed.
template <class T>
struct shared_side {
    using handle = std::shared_ptr<const T>;
    using elem = typename T::value_type;

    template <class Source>
    static handle make(const Source &src) {
        return std::make_shared<T>(src.begin(), src.end());
    }
    static std::size_t size(const handle &h) { return h->size(); }
    static elem at(const handle &h, std::size_t i) { return (*h)[i]; }
    static void clone_release(const handle &h) {
        handle c(h);
        benchmark::DoNotOptimize(c);
    }
    static void first_write(const handle &h, std::size_t i, elem x) {
        handle c(h);
        auto w = std::make_shared<T>(*c);
        (*w)[i] = x;
        c = std::move(w);
        benchmark::DoNotOptimize(c);
    }
    static void unique_write(handle &h, std::size_t i, elem x) {
        if (h.use_count() != 1) h = std::make_shared<T>(*h);
        const_cast<T &>(*h)[i] = x;
    }
};

struct cow_buf_side {
    using handle = owned<cow_buf, cow_buf_release>;
    using elem = char;

    static handle make(const std::string &src) {
        cow_buf *b = nullptr;
        must(cow_buf_new(&b, src.data(), src.size(), nullptr), "cow_buf_new");
        return handle(b);
    }
    static std::size_t size(const handle &h) { return cow_buf_len(h.p); }
    static elem at(const handle &h, std::size_t i) { return static_cast<char>(cow_buf_data(h.p)[i]); }
    static void clone_release(const handle &h) {
        cow_buf *c = cow_buf_clone(h.p);
        benchmark::DoNotOptimize(c);
        cow_buf_release(c);
    }
    static void first_write(const handle &h, std::size_t i, elem x) {
        cow_buf *c = cow_buf_clone(h.p);
        std::uint8_t *data = nullptr;
        if (cow_buf_make_mut(&c, &data) != COW_OK) std::abort();
        data[i] = static_cast<std::uint8_t>(x);
        benchmark::DoNotOptimize(data);
        cow_buf_release(c);
    }
    static void unique_write(handle &h, std::size_t i, elem x) {
        std::uint8_t *data = nullptr;
        if (cow_buf_make_mut(&h.p, &data) != COW_OK) std::abort();
        data[i] = static_cast<std::uint8_t>(x);
    }
};

template <cow_strategy_t Strategy>
struct cow_vec_side {
    using handle = owned<cow_vec, cow_vec_release>;
    using elem = u64;

    static handle make(const std::vector<u64> &src) {
        cow_options o = options_for(Strategy);
        cow_vec *v = nullptr;
        must(cow_vec_from_array(&v, cow_type_u64(), src.data(), src.size(), &o), "cow_vec_from_array");
        return handle(v);
    }
    static std::size_t size(const handle &h) { return cow_vec_len(h.p); }
    static elem at(const handle &h, std::size_t i) { return get(h, i); }
    static void clone_release(const handle &h) {
        cow_vec *c = cow_vec_clone(h.p);
        benchmark::DoNotOptimize(c);
        cow_vec_release(c);
    }
    static void first_write(const handle &h, std::size_t i, elem x) {
        cow_vec *c = cow_vec_clone(h.p);
        if (cow_vec_set(&c, i, &x, nullptr) != COW_OK) std::abort();
        benchmark::DoNotOptimize(c);
        cow_vec_release(c);
    }
    static void unique_write(handle &h, std::size_t i, elem x) {
        if (cow_vec_set(&h.p, i, &x, nullptr) != COW_OK) std::abort();
    }
    static u64 get(const handle &h, std::size_t i) {
        return *static_cast<const u64 *>(cow_vec_get(h.p, i));
    }
    static u64 sum(const handle &h) {
        cow_vec_cursor cursor;
        if (cow_vec_cursor_init(&cursor, h.p) != COW_OK) std::abort();
        const void *span = nullptr;
        std::size_t count = 0;
        u64 s = 0;
        while (cow_vec_next_span(&cursor, &span, &count)) s += sum_of(static_cast<const u64 *>(span), count);
        return s;
    }
    static handle build_by_push(const std::vector<u64> &src) {
        cow_options o = options_for(Strategy);
        cow_vec *v = nullptr;
        must(cow_vec_new(&v, cow_type_u64(), &o), "cow_vec_new");
        for (const u64 &x : src)
            if (cow_vec_push(&v, &x) != COW_OK) std::abort();
        return handle(v);
    }
};

template <class Side, class Source>
bool same_contents(const typename Side::handle &h, const Source &src) {
    if (Side::size(h) != src.size()) return false;
    for (std::size_t i = 0; i < src.size(); ++i)
        if (Side::at(h, i) != static_cast<typename Side::elem>(src[i])) return false;
    return true;
}

template <class Elem>
Elem value_for(std::size_t k) {
    return static_cast<Elem>(k * 2654435761u + 1);
}

template <class Side, class Source>
void bm_clone_release(benchmark::State &state, const Source &src) {
    auto h = Side::make(src);
    for (auto _ : state) Side::clone_release(h);
}

// Clone, write one element (a different one each time), release the clone.
template <class Side, class Source>
void bm_first_write(benchmark::State &state, const Source &src) {
    using elem = typename Side::elem;
    auto h = Side::make(src);
    std::size_t n = src.size(), pos = 0;
    for (auto _ : state) {
        Side::first_write(h, pos, value_for<elem>(pos));
        if (++pos == n) pos = 0;
    }
    if (!same_contents<Side>(h, src)) state.SkipWithError("a write to a clone changed the original");
}

// `batch` writes at shuffled positions of a value nothing else shares.
template <class Side, class Source>
void bm_unique_write(benchmark::State &state, const Source &src) {
    using elem = typename Side::elem;
    auto h = Side::make(src);
    const std::vector<std::size_t> where = positions(src.size(), batch);
    for (auto _ : state) {
        for (std::size_t k = 0; k < batch; ++k) Side::unique_write(h, where[k], value_for<elem>(k));
        benchmark::DoNotOptimize(h);
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch));
}

// Build a vector of n u64 by push from empty, then release it.
template <class Side>
void bm_push(benchmark::State &state, const std::vector<u64> &src) {
    for (auto _ : state) {
        auto h = Side::build_by_push(src);
        benchmark::DoNotOptimize(h);
    }
    if (!same_contents<Side>(Side::build_by_push(src), src)) state.SkipWithError("push built wrong contents");
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(src.size()));
}

// `batch` reads per iteration at shuffled positions, walking on between iterations.
template <class Side>
void bm_get(benchmark::State &state, const std::vector<u64> &src) {
    auto h = Side::make(src);
    const std::vector<std::size_t> where = positions(src.size(), src.size());
    std::size_t pos = 0;
    for (auto _ : state) {
        u64 s = 0;
        for (std::size_t k = 0; k < batch; ++k) {
            s += Side::get(h, where[pos]);
            if (++pos == where.size()) pos = 0;
        }
        benchmark::DoNotOptimize(s);
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch));
}

template <class Side>
void bm_iterate(benchmark::State &state, const std::vector<u64> &src) {
    auto h = Side::make(src);
    if (Side::sum(h) != sum_of(src.data(), src.size())) state.SkipWithError("wrong sum");
    for (auto _ : state) {
        u64 s = Side::sum(h);
        benchmark::DoNotOptimize(s);
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(src.size()));
}

// ---------------------------------------------------------------------------
// Maps from u64 or string keys to u64. Keys are made once per (kind, size):
// `keys` in insertion order (the value of keys[i] is i), `order` the same
// shuffled for lookups, `fresh` keys no map holds, for inserts.
// ---------------------------------------------------------------------------

template <class Key>
struct key_set {
    std::vector<Key> keys, order, fresh;
};

// u64 keys: random; fresh ones from another sequence, checked absent.
// String keys: 8 to 31 bytes, the index then ':' then letters (distinct);
// fresh ones start with 'x', so no key begins like them.
template <class Key>
const key_set<Key> &keys_of(std::size_t n) {
    static std::map<std::size_t, std::unique_ptr<key_set<Key>>> cache;
    auto &slot = cache[n];
    if (slot) return *slot;
    slot = std::make_unique<key_set<Key>>();
    key_set<Key> &ks = *slot;
    bench::rng r(11 * n + 5);
    if constexpr (std::is_same_v<Key, u64>) {
        for (std::size_t i = 0; i < n; ++i) ks.keys.push_back(r.next());
        std::unordered_map<u64, bool> seen;
        for (u64 k : ks.keys) seen[k] = true;
        if (seen.size() != n) std::abort();
        while (ks.fresh.size() < 1024) {
            u64 k = r.next();
            if (!seen.count(k)) ks.fresh.push_back(k);
        }
    } else {
        static const char letters[] = "abcdefghijklmnopqrstuvwxyz0123456789";
        auto make = [&](const char *prefix, std::size_t i) {
            std::string k = prefix;
            k += std::to_string(i);
            k += ':';
            std::size_t len = 8 + r.below(24);
            while (k.size() < len) k += letters[r.below(36)];
            return k;
        };
        for (std::size_t i = 0; i < n; ++i) ks.keys.push_back(make("", i));
        for (std::size_t i = 0; i < 1024; ++i) ks.fresh.push_back(make("x", i));
    }
    ks.order = ks.keys;
    bench::shuffle(ks.order, 13 * n + 1);
    return ks;
}

// Each map side: key (the key as its users hold it, made outside the timing),
// build, get, clone_release, shared_write (clone, insert a new key, release),
// size.
template <class Key, cow_strategy_t Strategy>
struct cow_map_side {
    using handle = owned<cow_map, cow_map_release>;
    using key_t = Key;
    static const Key &key(const Key &k) { return k; }
    static const void *ptr(const Key &k) {
        if constexpr (std::is_same_v<Key, u64>) return &k;
        else return k.data();
    }
    static std::size_t len(const Key &k) {
        if constexpr (std::is_same_v<Key, u64>) return sizeof k;
        else return k.size();
    }
    static handle build(const std::vector<Key> &keys) {
        cow_options o = options_for(Strategy);
        cow_map *m = nullptr;
        must(cow_map_new(&m, std::is_same_v<Key, u64> ? cow_type_u64() : cow_type_string(), cow_type_u64(), &o),
             "cow_map_new");
        for (std::size_t i = 0; i < keys.size(); ++i) {
            u64 v = i;
            if (cow_map_insert(&m, ptr(keys[i]), len(keys[i]), &v, nullptr, nullptr) != COW_OK) std::abort();
        }
        return handle(m);
    }
    static std::size_t size(const handle &h) { return cow_map_len(h.p); }
    static u64 get(const handle &h, const Key &k) {
        return *static_cast<const u64 *>(cow_map_get(h.p, ptr(k), len(k)));
    }
    static void clone_release(const handle &h) {
        cow_map *c = cow_map_clone(h.p);
        benchmark::DoNotOptimize(c);
        cow_map_release(c);
    }
    static void shared_write(const handle &h, const Key &k, u64 v) {
        cow_map *c = cow_map_clone(h.p);
        if (cow_map_insert(&c, ptr(k), len(k), &v, nullptr, nullptr) != COW_OK) std::abort();
        benchmark::DoNotOptimize(c);
        cow_map_release(c);
    }
};

// std::unordered_map and absl::flat_hash_map (a clone is a copy), QHash (a
// copy shares until a write detaches it). Qt programs key strings by QString.
template <class Map, class Key>
struct map_value_side {
    using handle = Map;
    using key_t = typename Map::key_type;
    static key_t key(const Key &k) {
        if constexpr (std::is_same_v<key_t, QString>) return QString::fromStdString(k);
        else return static_cast<key_t>(k);
    }
    static handle build(const std::vector<key_t> &keys) {
        Map m;
        for (std::size_t i = 0; i < keys.size(); ++i) m.insert({keys[i], i});
        return m;
    }
    static std::size_t size(const handle &h) { return static_cast<std::size_t>(h.size()); }
    static u64 get(const handle &h, const key_t &k) {
        if constexpr (std::is_same_v<Map, QHash<key_t, quint64>>) return h.value(k);
        else return h.find(k)->second;
    }
    static void clone_release(const handle &h) {
        Map c(h);
        benchmark::DoNotOptimize(c);
    }
    static void shared_write(const handle &h, const key_t &k, u64 v) {
        Map c(h);
        c.insert({k, v});
        benchmark::DoNotOptimize(c);
    }
};

// QHash::insert takes (key, value), not a pair.
template <class Key>
struct qhash_side : map_value_side<QHash<std::conditional_t<std::is_same_v<Key, u64>, quint64, QString>, quint64>, Key> {
    using base = map_value_side<QHash<std::conditional_t<std::is_same_v<Key, u64>, quint64, QString>, quint64>, Key>;
    using typename base::handle;
    using typename base::key_t;
    static handle build(const std::vector<key_t> &keys) {
        handle m;
        for (std::size_t i = 0; i < keys.size(); ++i) m.insert(keys[i], i);
        return m;
    }
    static void shared_write(const handle &h, const key_t &k, u64 v) {
        handle c(h);
        c.insert(k, v);
        benchmark::DoNotOptimize(c);
    }
};

template <class Key>
using std_map_side = map_value_side<std::unordered_map<Key, u64>, Key>;
template <class Key>
using absl_map_side = map_value_side<absl::flat_hash_map<Key, u64>, Key>;

// std::shared_ptr<const std::unordered_map>: a write copies the map into a
// new shared_ptr (see shared_side).
template <class Key>
struct shared_map_side {
    using map_t = std::unordered_map<Key, u64>;
    using handle = std::shared_ptr<const map_t>;
    using key_t = Key;
    static const Key &key(const Key &k) { return k; }
    static handle build(const std::vector<Key> &keys) {
        return std::make_shared<map_t>(std_map_side<Key>::build(keys));
    }
    static std::size_t size(const handle &h) { return h->size(); }
    static u64 get(const handle &h, const Key &k) { return h->find(k)->second; }
    static void clone_release(const handle &h) {
        handle c(h);
        benchmark::DoNotOptimize(c);
    }
    static void shared_write(const handle &h, const Key &k, u64 v) {
        handle c(h);
        auto w = std::make_shared<map_t>(*c);
        w->emplace(k, v);
        c = std::move(w);
        benchmark::DoNotOptimize(c);
    }
};

// The keys of a key set as a side's users hold them.
template <class Side, class Key>
struct side_keys {
    std::vector<typename Side::key_t> keys, order, fresh;
};

template <class Side, class Key>
const side_keys<Side, Key> &side_keys_of(std::size_t n) {
    static std::map<std::size_t, std::unique_ptr<side_keys<Side, Key>>> cache;
    auto &slot = cache[n];
    if (!slot) {
        const key_set<Key> &ks = keys_of<Key>(n);
        slot = std::make_unique<side_keys<Side, Key>>();
        for (const Key &k : ks.keys) slot->keys.push_back(Side::key(k));
        for (const Key &k : ks.order) slot->order.push_back(Side::key(k));
        for (const Key &k : ks.fresh) slot->fresh.push_back(Side::key(k));
    }
    return *slot;
}

// One map of n entries per side and key kind, built once and kept; every
// key is checked once.
template <class Side, class Key>
const typename Side::handle &map_of(std::size_t n) {
    static std::map<std::size_t, std::unique_ptr<typename Side::handle>> cache;
    auto &slot = cache[n];
    if (!slot) {
        const auto &sk = side_keys_of<Side, Key>(n);
        slot = std::make_unique<typename Side::handle>(Side::build(sk.keys));
        if (Side::size(*slot) != n) std::abort();
        for (std::size_t i = 0; i < n; ++i)
            if (Side::get(*slot, sk.keys[i]) != i) std::abort();
    }
    return *slot;
}

template <class Side, class Key>
void bm_map_clone_release(benchmark::State &state, std::size_t n) {
    const auto &m = map_of<Side, Key>(n);
    for (auto _ : state) Side::clone_release(m);
}

// `batch` lookups per iteration in shuffled order, walking on between iterations.
template <class Side, class Key>
void bm_map_get(benchmark::State &state, std::size_t n) {
    const auto &m = map_of<Side, Key>(n);
    const auto &order = side_keys_of<Side, Key>(n).order;
    std::size_t pos = 0;
    for (auto _ : state) {
        u64 s = 0;
        for (std::size_t k = 0; k < batch; ++k) {
            s += Side::get(m, order[pos]);
            if (++pos == n) pos = 0;
        }
        benchmark::DoNotOptimize(s);
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch));
}

template <class Side, class Key>
void bm_map_shared_write(benchmark::State &state, std::size_t n) {
    const auto &m = map_of<Side, Key>(n);
    const auto &fresh = side_keys_of<Side, Key>(n).fresh;
    std::size_t pos = 0;
    for (auto _ : state) {
        Side::shared_write(m, fresh[pos & 1023], pos);
        ++pos;
    }
    if (Side::size(m) != n) state.SkipWithError("a write to a clone changed the original");
}

// n inserts into an empty map; the map's heap bytes per entry (mallinfo2,
// malloc's own overhead included) and, for libcow, the bytes libcow
// allocated per entry. The release is not timed.
template <class Side, class Key>
void bm_map_build(benchmark::State &state, std::size_t n) {
    const auto &keys = side_keys_of<Side, Key>(n).keys;
    double heap_per_entry = 0, cow_per_entry = 0;
    for (auto _ : state) {
        std::int64_t heap0 = heap_in_use(), cow0 = cow_live_bytes();
        auto m = std::make_unique<typename Side::handle>(Side::build(keys));
        state.PauseTiming();
        if (Side::size(*m) != n) std::abort();
        heap_per_entry = static_cast<double>(heap_in_use() - heap0) / static_cast<double>(n);
        cow_per_entry = static_cast<double>(cow_live_bytes() - cow0) / static_cast<double>(n);
        m.reset();
        state.ResumeTiming();
    }
    state.counters["bytes_per_entry"] = heap_per_entry;
    if (cow_per_entry > 0) state.counters["cow_bytes_per_entry"] = cow_per_entry;
}

// ---------------------------------------------------------------------------
// Registration: operation/case/implementation.
// ---------------------------------------------------------------------------

template <class F>
benchmark::internal::Benchmark *add(const std::string &op, const std::string &which, const char *impl, F &&fn) {
    return benchmark::RegisterBenchmark((op + "/" + which + "/" + impl).c_str(), std::forward<F>(fn));
}

// Sources live for the whole run: the benchmarks keep references to them.
template <class T>
const T &keep(T value) {
    static std::vector<std::unique_ptr<T>> kept;
    kept.push_back(std::make_unique<T>(std::move(value)));
    return *kept.back();
}

using qbytes = value_side<QByteArray>;
using qvector = value_side<QVector<u64>>;
using std_bytes = value_side<std::string>;
using std_vector = value_side<std::vector<u64>>;
using cow_flat = cow_vec_side<COW_STRATEGY_LAZY>;
using cow_tree = cow_vec_side<COW_STRATEGY_STRUCTURAL>;

// Byte strings and vectors: clone + release, the first write after a clone,
// unique writes.
template <class Side, class Source>
struct clone_release_op {
    static void run(benchmark::State &s, const Source &src) { bm_clone_release<Side>(s, src); }
};
template <class Side, class Source>
struct first_write_op {
    static void run(benchmark::State &s, const Source &src) { bm_first_write<Side>(s, src); }
};
template <class Side, class Source>
struct unique_write_op {
    static void run(benchmark::State &s, const Source &src) { bm_unique_write<Side>(s, src); }
};

template <template <class, class> class Op>
void add_bytes(const std::string &op, const std::string &which, const std::string *src) {
    add(op, which, "libcow", [src](benchmark::State &s) { Op<cow_buf_side, std::string>::run(s, *src); });
    add(op, which, "qt5", [src](benchmark::State &s) { Op<qbytes, std::string>::run(s, *src); });
    add(op, which, "shared_ptr", [src](benchmark::State &s) { Op<shared_side<std::string>, std::string>::run(s, *src); });
    add(op, which, "std", [src](benchmark::State &s) { Op<std_bytes, std::string>::run(s, *src); });
}

template <template <class, class> class Op>
void add_vector(const std::string &op, const std::string &which, const std::vector<u64> *src) {
    using V = std::vector<u64>;
    add(op, which, "libcow", [src](benchmark::State &s) { Op<cow_flat, V>::run(s, *src); });
    add(op, which, "libcow_tree", [src](benchmark::State &s) { Op<cow_tree, V>::run(s, *src); });
    add(op, which, "qt5", [src](benchmark::State &s) { Op<qvector, V>::run(s, *src); });
    add(op, which, "shared_ptr", [src](benchmark::State &s) { Op<shared_side<V>, V>::run(s, *src); });
    add(op, which, "std", [src](benchmark::State &s) { Op<std_vector, V>::run(s, *src); });
}

template <class Key>
void add_map_gets(const std::string &which, std::size_t n) {
    add("map_get", which, "libcow", [n](benchmark::State &s) { bm_map_get<cow_map_side<Key, COW_STRATEGY_LAZY>, Key>(s, n); });
    add("map_get", which, "libcow_tree", [n](benchmark::State &s) { bm_map_get<cow_map_side<Key, COW_STRATEGY_STRUCTURAL>, Key>(s, n); });
    add("map_get", which, "qt5", [n](benchmark::State &s) { bm_map_get<qhash_side<Key>, Key>(s, n); });
    add("map_get", which, "absl", [n](benchmark::State &s) { bm_map_get<absl_map_side<Key>, Key>(s, n); });
    add("map_get", which, "std", [n](benchmark::State &s) { bm_map_get<std_map_side<Key>, Key>(s, n); });
}

template <class Key>
void add_map_shared_writes(const std::string &which, std::size_t n) {
    const char *op = "map_shared_write";
    add(op, which, "libcow", [n](benchmark::State &s) { bm_map_shared_write<cow_map_side<Key, COW_STRATEGY_LAZY>, Key>(s, n); });
    add(op, which, "libcow_tree", [n](benchmark::State &s) { bm_map_shared_write<cow_map_side<Key, COW_STRATEGY_STRUCTURAL>, Key>(s, n); });
    add(op, which, "qt5", [n](benchmark::State &s) { bm_map_shared_write<qhash_side<Key>, Key>(s, n); });
    add(op, which, "shared_ptr", [n](benchmark::State &s) { bm_map_shared_write<shared_map_side<Key>, Key>(s, n); });
    add(op, which, "absl", [n](benchmark::State &s) { bm_map_shared_write<absl_map_side<Key>, Key>(s, n); });
    add(op, which, "std", [n](benchmark::State &s) { bm_map_shared_write<std_map_side<Key>, Key>(s, n); });
}

void register_all() {
    // Byte strings.
    const std::string &b64 = keep(bytes_of(64));
    const std::string &b1k = keep(bytes_of(kib));
    const std::string &b4k = keep(bytes_of(4 * kib));
    const std::string &b1m = keep(bytes_of(mib));
    add_bytes<clone_release_op>("clone_release", "bytes_64", &b64);
    add_bytes<first_write_op>("first_write", "bytes_64", &b64);
    add_bytes<first_write_op>("first_write", "bytes_1k", &b1k);
    add_bytes<first_write_op>("first_write", "bytes_4k", &b4k);
    add_bytes<first_write_op>("first_write", "bytes_1m", &b1m);
    add_bytes<unique_write_op>("unique_write", "bytes_1k", &b1k);

    // Vectors of u64: 64 B, 1 KiB, 1 MiB for the first write; 1,000 and
    // 1,000,000 elements for the rest.
    const auto &v64 = keep(values_of(64 / sizeof(u64)));
    const auto &v1k = keep(values_of(kib / sizeof(u64)));
    const auto &v1m = keep(values_of(mib / sizeof(u64)));
    const auto &v1000 = keep(values_of(1000));
    const auto &vbig = keep(values_of(big));
    add_vector<clone_release_op>("clone_release", "vec_1000", &v1000);
    add_vector<first_write_op>("first_write", "vec_64", &v64);
    add_vector<first_write_op>("first_write", "vec_1k", &v1k);
    add_vector<first_write_op>("first_write", "vec_1m", &v1m);
    add_vector<unique_write_op>("unique_write", "vec_1000", &v1000);

    const auto *pv1000 = &v1000, *pvbig = &vbig;
    add("push", "vec_big", "libcow", [pvbig](benchmark::State &s) { bm_push<cow_flat>(s, *pvbig); });
    add("push", "vec_big", "libcow_tree", [pvbig](benchmark::State &s) { bm_push<cow_tree>(s, *pvbig); });
    add("push", "vec_big", "qt5", [pvbig](benchmark::State &s) { bm_push<qvector>(s, *pvbig); });
    add("push", "vec_big", "std", [pvbig](benchmark::State &s) { bm_push<std_vector>(s, *pvbig); });
    for (const auto &[which_, src_] : {std::pair{"vec_1000", pv1000}, std::pair{"vec_big", pvbig}}) {
        const char *which = which_;
        const std::vector<u64> *src = src_;
        add("get", which, "libcow", [src](benchmark::State &s) { bm_get<cow_flat>(s, *src); });
        add("get", which, "libcow_tree", [src](benchmark::State &s) { bm_get<cow_tree>(s, *src); });
        add("get", which, "qt5", [src](benchmark::State &s) { bm_get<qvector>(s, *src); });
        add("get", which, "std", [src](benchmark::State &s) { bm_get<std_vector>(s, *src); });
    }
    add("iterate", "vec_big", "libcow", [pvbig](benchmark::State &s) { bm_iterate<cow_flat>(s, *pvbig); });
    add("iterate", "vec_big", "libcow_tree", [pvbig](benchmark::State &s) { bm_iterate<cow_tree>(s, *pvbig); });
    add("iterate", "vec_big", "qt5", [pvbig](benchmark::State &s) { bm_iterate<qvector>(s, *pvbig); });
    add("iterate", "vec_big", "std", [pvbig](benchmark::State &s) { bm_iterate<std_vector>(s, *pvbig); });

    // Maps.
    {
        const char *op = "clone_release", *which = "map_1000";
        std::size_t n = 1000;
        add(op, which, "libcow", [n](benchmark::State &s) { bm_map_clone_release<cow_map_side<u64, COW_STRATEGY_LAZY>, u64>(s, n); });
        add(op, which, "libcow_tree", [n](benchmark::State &s) { bm_map_clone_release<cow_map_side<u64, COW_STRATEGY_STRUCTURAL>, u64>(s, n); });
        add(op, which, "qt5", [n](benchmark::State &s) { bm_map_clone_release<qhash_side<u64>, u64>(s, n); });
        add(op, which, "shared_ptr", [n](benchmark::State &s) { bm_map_clone_release<shared_map_side<u64>, u64>(s, n); });
        add(op, which, "absl", [n](benchmark::State &s) { bm_map_clone_release<absl_map_side<u64>, u64>(s, n); });
        add(op, which, "std", [n](benchmark::State &s) { bm_map_clone_release<std_map_side<u64>, u64>(s, n); });
    }
    add_map_gets<u64>("u64_1000", 1000);
    add_map_gets<u64>("u64_big", big);
    add_map_gets<std::string>("str_1000", 1000);
    add_map_gets<std::string>("str_big", big);
    add_map_shared_writes<u64>("u64_1000", 1000);
    add_map_shared_writes<u64>("u64_big", big);
    add_map_shared_writes<std::string>("str_1000", 1000);
    {
        const char *op = "map_build", *which = "u64_big";
        std::size_t n = big;
        add(op, which, "libcow", [n](benchmark::State &s) { bm_map_build<cow_map_side<u64, COW_STRATEGY_LAZY>, u64>(s, n); });
        add(op, which, "libcow_tree", [n](benchmark::State &s) { bm_map_build<cow_map_side<u64, COW_STRATEGY_STRUCTURAL>, u64>(s, n); });
        add(op, which, "qt5", [n](benchmark::State &s) { bm_map_build<qhash_side<u64>, u64>(s, n); });
        add(op, which, "absl", [n](benchmark::State &s) { bm_map_build<absl_map_side<u64>, u64>(s, n); });
        add(op, which, "std", [n](benchmark::State &s) { bm_map_build<std_map_side<u64>, u64>(s, n); });
    }
}

}  // namespace

int main(int argc, char **argv) {
    // Warm copies: keep large blocks on the heap (no mmap per block) and
    // never hand the top of the heap back, so that a copy reuses pages
    // already touched, for every implementation alike.
    mallopt(M_MMAP_THRESHOLD, 32 * mib);
    mallopt(M_TRIM_THRESHOLD, 1024 * mib);
    // A second thread, alive until the end: libstdc++ then counts shared_ptr
    // references with atomics, and malloc takes its locks, as in any
    // threaded program.
    std::promise<void> finished;
    std::thread companion([done = finished.get_future()] { done.wait(); });

    int status = 0;
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
        status = 1;
    } else {
        register_all();
        benchmark::RunSpecifiedBenchmarks();
    }
    benchmark::Shutdown();

    finished.set_value();
    companion.join();
    return status;
}
