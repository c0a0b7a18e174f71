// Many versions of one vector, edited at random and compared after every
// call with plain std::vector models: every representation must give the
// same results, and an edit of one version must never show in another. A
// tree built with few children per node (meson -Dtree_bits=2) is many
// levels deep here, so splits, relaxed nodes and shared paths all occur.
#include <cstdint>
#include <random>
#include <vector>

#include <doctest/doctest.h>

#include "cow.h"
#include "support.hpp"

namespace {

using model = std::vector<std::uint64_t>;

model contents(const cow_vec *v) {
    model out;
    cow_vec_cursor c;
    REQUIRE(cow_vec_cursor_init(&c, v) == COW_OK);
    const void *data;
    std::size_t n;
    while (cow_vec_next_span(&c, &data, &n)) {
        auto *p = static_cast<const std::uint64_t *>(data);
        out.insert(out.end(), p, p + n);
    }
    REQUIRE(out.size() == cow_vec_len(v));
    for (std::size_t i = 0; i < out.size(); i += 1 + out.size() / 16)
        REQUIRE(*static_cast<const std::uint64_t *>(cow_vec_get(v, i)) == out[i]);
    return out;
}

struct version {
    cow_vec *v;
    model m;
};

void run_versions(cow_strategy_t strategy, std::uint32_t seed, int steps) {
    test::leak_check leaks;
    std::mt19937 rng(seed);
    auto below = [&](std::size_t n) { return n ? std::size_t(rng() % n) : 0; };
    cow_options o = COW_OPTIONS_INIT;
    o.strategy = strategy;
    std::vector<version> all;
    all.push_back({nullptr, {}});
    REQUIRE(cow_vec_new(&all[0].v, cow_type_u64(), &o) == COW_OK);
    std::uint64_t next = 1;
    for (int step = 0; step < steps; ++step) {
        CAPTURE(step);
        std::size_t which = below(all.size());
        version &x = all[which];
        std::size_t len = x.m.size();
        unsigned op = rng() % 14;
        CAPTURE(op);
        switch (op) {
        case 0: case 1: case 2: {  // push, often: trees grow deep
            std::uint64_t e = next++;
            REQUIRE(cow_vec_push(&x.v, &e) == COW_OK);
            x.m.push_back(e);
            break;
        }
        case 3: {
            std::uint64_t e = next++;
            std::size_t at = below(len + 1);
            REQUIRE(cow_vec_insert(&x.v, at, &e) == COW_OK);
            x.m.insert(x.m.begin() + static_cast<std::ptrdiff_t>(at), e);
            break;
        }
        case 4: {
            if (!len) break;
            std::size_t at = below(len);
            std::uint64_t out = 0;
            REQUIRE(cow_vec_erase(&x.v, at, &out) == COW_OK);
            REQUIRE(out == x.m[at]);
            x.m.erase(x.m.begin() + static_cast<std::ptrdiff_t>(at));
            break;
        }
        case 5: {
            if (!len) break;
            std::uint64_t out = 0;
            REQUIRE(cow_vec_pop(&x.v, &out) == COW_OK);
            REQUIRE(out == x.m.back());
            x.m.pop_back();
            break;
        }
        case 6: {
            if (!len) break;
            std::size_t at = below(len);
            std::uint64_t e = next++, old = 0;
            REQUIRE(cow_vec_set(&x.v, at, &e, &old) == COW_OK);
            REQUIRE(old == x.m[at]);
            x.m[at] = e;
            break;
        }
        case 7: {
            if (!len) break;
            std::size_t at = below(len);
            void *p = nullptr;
            REQUIRE(cow_vec_get_mut(&x.v, at, &p) == COW_OK);
            *static_cast<std::uint64_t *>(p) = next;
            x.m[at] = next++;
            break;
        }
        case 8: {  // extend by a run
            model more(below(40));
            for (auto &e : more) e = next++;
            REQUIRE(cow_vec_extend(&x.v, more.data(), more.size()) == COW_OK);
            x.m.insert(x.m.end(), more.begin(), more.end());
            break;
        }
        case 9: {
            std::size_t keep = below(len + 1);
            if (rng() % 4) keep = len - below(len < 20 ? len + 1 : 20);  // mostly short cuts
            REQUIRE(cow_vec_truncate(&x.v, keep) == COW_OK);
            x.m.resize(keep);
            break;
        }
        case 10: case 11: {  // a new version
            if (all.size() >= 12) break;
            cow_vec *c = cow_vec_clone(x.v);
            REQUIRE(c != nullptr);
            model copy = x.m;
            all.push_back({c, std::move(copy)});  // x is not valid after this
            break;
        }
        case 12: {  // drop a version
            if (all.size() <= 1) break;
            cow_vec_release(x.v);
            all.erase(all.begin() + static_cast<std::ptrdiff_t>(which));
            break;
        }
        case 13: {
            if (rng() % 8 == 0) {
                REQUIRE(cow_vec_clear(&x.v) == COW_OK);
                x.m.clear();
            } else {
                REQUIRE(cow_vec_make_mut(&x.v, nullptr) == COW_OK);
            }
            break;
        }
        }
        if (op == 12) continue;
        REQUIRE(contents(all[which].v) == all[which].m);
        if (step % 64 == 0)
            for (auto &y : all) REQUIRE(contents(y.v) == y.m);
    }
    for (auto &y : all) {
        REQUIRE(contents(y.v) == y.m);
        cow_vec_release(y.v);
    }
}

}  // namespace

TEST_CASE("vec versions: random edits of many versions match their models, flat") {
    run_versions(COW_STRATEGY_LAZY, 1, 3000);
}

TEST_CASE("vec versions: random edits of many versions match their models, tree") {
    for (std::uint32_t seed = 1; seed <= 8; ++seed) {
        CAPTURE(seed);
        run_versions(COW_STRATEGY_STRUCTURAL, seed, 4000);
    }
}
