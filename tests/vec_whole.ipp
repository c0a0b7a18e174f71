// Whole-vector operations (slice, concat, equal, hash, diff, cursors from
// an index), checked against std::vector models for one strategy; part of
// vec_generic.ipp, so every strategy and the tiny-branching build run them.
// Lengths go from empty to several leaves deep in the default tree shape.

namespace {

const std::size_t whole_lengths[] = {0, 1, 2, 7, 130, 1000, 5000};

std::vector<std::int32_t> slice_of(const std::vector<std::int32_t> &m, std::size_t at, std::size_t n) {
    return {m.begin() + static_cast<std::ptrdiff_t>(at), m.begin() + static_cast<std::ptrdiff_t>(at + n)};
}

// The ranges cow_vec_diff must report for two models.
std::vector<std::pair<std::size_t, std::size_t>> model_diff(const std::vector<std::int32_t> &a,
                                                            const std::vector<std::int32_t> &b) {
    return test::positional_diff(a, b);
}

struct diff_log {
    std::vector<std::pair<std::size_t, std::size_t>> ranges;
    std::size_t stop_after = SIZE_MAX;  // ranges to take before stopping the walk
};

int log_range(void *ctx, size_t offset, size_t count) {
    auto *log = static_cast<diff_log *>(ctx);
    log->ranges.push_back({offset, count});
    return log->ranges.size() >= log->stop_after ? 1 : 0;
}

std::vector<std::pair<std::size_t, std::size_t>> diff_of(const cow_vec *a, const cow_vec *b) {
    diff_log log;
    bool stopped = true;
    REQUIRE(cow_vec_diff(a, b, log_range, &log, &stopped) == COW_OK);
    CHECK_FALSE(stopped);
    return log.ranges;
}

}  // namespace

VEC_TEST("slice: every range holds the model's elements and leaves the source as it was") {
    test::leak_check leaks;
    for (std::size_t n : whole_lengths) {
        auto model = iota(n);
        cow_vec *v = make(model);
        std::size_t cuts[] = {0, 1, n / 3, n / 2, n > 0 ? n - 1 : 0, n};
        for (std::size_t from : cuts) {
            for (std::size_t end : cuts) {
                if (from > n || end < from || end > n) continue;
                cow_vec *s = nullptr;
                REQUIRE(cow_vec_slice(&s, v, from, end - from) == COW_OK);
                CHECK(items(s) == slice_of(model, from, end - from));
                CHECK(cow_vec_type(s) == i32());
                CHECK(test::stats(s).representation == test::stats(v).representation);
                CHECK_FALSE(cow_is_shared(s));
                // A slice of the slice, and writes to either leave the other alone.
                if (end - from >= 2) {
                    cow_vec *ss = nullptr;
                    REQUIRE(cow_vec_slice(&ss, s, 1, end - from - 2) == COW_OK);
                    CHECK(items(ss) == slice_of(model, from + 1, end - from - 2));
                    std::int32_t x = -5;
                    REQUIRE(cow_vec_set(&s, 0, &x, nullptr) == COW_OK);
                    REQUIRE(cow_vec_push(&ss, &x) == COW_OK);
                    CHECK(at(s, 0) == -5);
                    cow_vec_release(ss);
                }
                cow_vec_release(s);
            }
        }
        CHECK(items(v) == model);
        CHECK_FALSE(cow_is_shared(v));
        cow_vec_release(v);
    }
}

VEC_TEST("slice: bad arguments are refused and make nothing") {
    test::leak_check leaks;
    cow_vec *v = make(iota(10));
    cow_vec *s = nullptr;
    CHECK(cow_vec_slice(&s, v, 11, 0) == COW_ERANGE);
    CHECK(cow_vec_slice(&s, v, 4, 7) == COW_ERANGE);
    CHECK(cow_vec_slice(&s, v, 1, SIZE_MAX) == COW_ERANGE);
    CHECK(cow_vec_slice(nullptr, v, 0, 1) == COW_EINVAL);
    CHECK(cow_vec_slice(&s, nullptr, 0, 0) == COW_EINVAL);
    cow_buf *b = nullptr;
    REQUIRE(cow_buf_new(&b, nullptr, 0, nullptr) == COW_OK);
    CHECK(cow_vec_slice(&s, reinterpret_cast<cow_vec *>(b), 0, 0) == COW_ETYPE);
    CHECK(s == nullptr);
    REQUIRE(cow_vec_slice(&s, v, 10, 0) == COW_OK);  // empty, at the end
    CHECK(cow_vec_len(s) == 0);
    cow_vec_release(s);
    cow_buf_release(b);
    cow_vec_release(v);
}

VEC_TEST("concat: every pair of lengths, and a vector with itself, gives the joined model") {
    test::leak_check leaks;
    for (std::size_t n : whole_lengths) {
        for (std::size_t m : whole_lengths) {
            auto left = iota(n, 1), right = iota(m, 100000);
            cow_vec *a = make(left), *b = make(right);
            cow_vec *keep = cow_vec_clone(a);  // the version before
            REQUIRE(cow_vec_concat(&a, b) == COW_OK);
            auto joined = left;
            joined.insert(joined.end(), right.begin(), right.end());
            CHECK(items(a) == joined);
            CHECK(items(b) == right);
            CHECK(items(keep) == left);
            // Reads by index agree with the spans (trees become relaxed here).
            for (std::size_t i = 0; i < joined.size(); i += 1 + joined.size() / 50)
                CHECK(at(a, i) == joined[i]);
            // Writes after a join.
            std::int32_t x = -1;
            std::size_t n0 = joined.size();
            REQUIRE(cow_vec_push(&a, &x) == COW_OK);
            joined.push_back(x);
            REQUIRE(cow_vec_set(&a, n0 / 2, &x, nullptr) == COW_OK);
            joined[n0 / 2] = x;
            REQUIRE(cow_vec_insert(&a, n0 / 3, &x) == COW_OK);
            joined.insert(joined.begin() + static_cast<std::ptrdiff_t>(n0 / 3), x);
            CHECK(items(a) == joined);
            CHECK(items(b) == right);
            cow_vec_release(keep);
            cow_vec_release(a);
            cow_vec_release(b);
        }
        auto model = iota(n);
        cow_vec *v = make(model);
        REQUIRE(cow_vec_concat(&v, v) == COW_OK);
        auto twice = model;
        twice.insert(twice.end(), model.begin(), model.end());
        CHECK(items(v) == twice);
        cow_vec_release(v);
    }
}

VEC_TEST("concat: slices joined back in order give the original, repeated joins stay readable") {
    test::leak_check leaks;
    auto model = iota(5000);
    cow_vec *v = make(model);
    cow_vec *joined = make({});
    std::size_t cuts[] = {0, 3, 64, 65, 200, 1024, 1500, 4093, 5000};
    for (std::size_t k = 0; k + 1 < std::size(cuts); ++k) {
        cow_vec *s = nullptr;
        REQUIRE(cow_vec_slice(&s, v, cuts[k], cuts[k + 1] - cuts[k]) == COW_OK);
        REQUIRE(cow_vec_concat(&joined, s) == COW_OK);
        cow_vec_release(s);
    }
    CHECK(items(joined) == model);
    CHECK(cow_vec_equal(joined, v));
    CHECK(cow_vec_hash(joined) == cow_vec_hash(v));
    // Doubling by self-concatenation: 40 elements to 40 << 8.
    cow_vec *d = make(iota(40));
    std::vector<std::int32_t> dm = iota(40);
    for (int k = 0; k < 8; ++k) {
        REQUIRE(cow_vec_concat(&d, d) == COW_OK);
        auto copy = dm;
        dm.insert(dm.end(), copy.begin(), copy.end());
    }
    CHECK(items(d) == dm);
    for (std::size_t i = 0; i < dm.size(); i += 97) CHECK(at(d, i) == dm[i]);
    cow_vec_release(d);
    cow_vec_release(joined);
    cow_vec_release(v);
}

VEC_TEST("concat: different element types, bad handles and overflow are refused, changing nothing") {
    test::leak_check leaks;
    cow_vec *a = make(iota(5));
    cow_vec *before = a;
    cow_vec *u = make_vec(cow_type_u64(), S);
    CHECK(cow_vec_concat(&a, u) == COW_ETYPE);
    CHECK(cow_vec_concat(&a, nullptr) == COW_EINVAL);
    CHECK(cow_vec_concat(nullptr, a) == COW_EINVAL);
    cow_buf *b = nullptr;
    REQUIRE(cow_buf_new(&b, nullptr, 0, nullptr) == COW_OK);
    CHECK(cow_vec_concat(&a, reinterpret_cast<cow_vec *>(b)) == COW_ETYPE);
    CHECK(a == before);
    CHECK(items(a) == iota(5));
    cow_buf_release(b);
    cow_vec_release(u);
    cow_vec_release(a);
}

VEC_TEST("equal and hash: by contents, whatever the history; NULL is empty; types must match") {
    test::leak_check leaks;
    auto model = iota(1000);
    cow_vec *a = make(model);
    cow_vec *b = make_vec(i32(), S);
    for (std::int32_t x : model) REQUIRE(cow_vec_push(&b, &x) == COW_OK);
    cow_vec *c = cow_vec_clone(a);
    CHECK(cow_vec_equal(a, a));
    CHECK(cow_vec_equal(a, b));
    CHECK(cow_vec_equal(a, c));
    CHECK(cow_vec_hash(a) == cow_vec_hash(b));
    CHECK(cow_vec_hash(a) == cow_vec_hash(c));
    std::int32_t x = 7;
    REQUIRE(cow_vec_set(&c, 999, &x, nullptr) == COW_OK);
    CHECK_FALSE(cow_vec_equal(a, c));
    CHECK(cow_vec_hash(a) != cow_vec_hash(c));
    REQUIRE(cow_vec_set(&c, 999, &model[999], nullptr) == COW_OK);
    CHECK(cow_vec_equal(a, c));  // equal again, in a different copy
    REQUIRE(cow_vec_pop(&c, nullptr) == COW_OK);
    CHECK_FALSE(cow_vec_equal(a, c));

    cow_vec *e = make({});
    cow_vec *eu = make_vec(cow_type_u64(), S);
    CHECK(cow_vec_equal(nullptr, nullptr));
    CHECK(cow_vec_equal(e, nullptr));
    CHECK(cow_vec_equal(nullptr, eu));
    CHECK_FALSE(cow_vec_equal(e, eu));  // different element types, even empty
    CHECK_FALSE(cow_vec_equal(a, nullptr));
    CHECK(cow_vec_hash(nullptr) == cow_vec_hash(e));
    cow_buf *buf = nullptr;
    REQUIRE(cow_buf_new(&buf, nullptr, 0, nullptr) == COW_OK);
    CHECK_FALSE(cow_vec_equal(reinterpret_cast<cow_vec *>(buf), nullptr));
    cow_buf_release(buf);
    for (cow_vec *v : {a, b, c, e, eu}) cow_vec_release(v);
}

VEC_TEST("equal and hash: a flat and a tree vector with the same elements are equal") {
    test::leak_check leaks;
    auto model = iota(700);
    cow_vec *mine = make(model);
    for (const strategy &other : {lazy, structural}) {
        cow_vec *v = make_i32(model, other);
        CHECK(cow_vec_equal(mine, v));
        CHECK(cow_vec_equal(v, mine));
        CHECK(cow_vec_hash(mine) == cow_vec_hash(v));
        CHECK(diff_of(mine, v).empty());
        std::int32_t x = -3;
        REQUIRE(cow_vec_set(&v, 650, &x, nullptr) == COW_OK);
        CHECK_FALSE(cow_vec_equal(mine, v));
        CHECK(diff_of(mine, v) == (std::vector<std::pair<std::size_t, std::size_t>>{{650, 1}}));
        REQUIRE(cow_vec_concat(&v, mine) == COW_OK);  // mixed representations
        auto twice = model;
        twice[650] = x;
        twice.insert(twice.end(), model.begin(), model.end());
        CHECK(items(v) == twice);
        cow_vec_release(v);
    }
    cow_vec_release(mine);
}

VEC_TEST("diff: the ranges of the model, after sets, pushes, pops and inserts on a version") {
    test::leak_check leaks;
    for (std::size_t n : whole_lengths) {
        auto model = iota(n);
        cow_vec *a = make(model);
        cow_vec *b = cow_vec_clone(a);
        auto bm = model;
        CHECK(diff_of(a, b).empty());
        std::int32_t x = -9;
        std::size_t sets[] = {0, 5, 6, 7, 129, 640, 641, 4999};
        for (std::size_t i : sets) {
            if (i >= n) continue;
            REQUIRE(cow_vec_set(&b, i, &x, nullptr) == COW_OK);
            bm[i] = x;
        }
        CHECK(diff_of(a, b) == model_diff(model, bm));
        CHECK(diff_of(b, a) == model_diff(bm, model));
        for (int k = 0; k < 3; ++k) {
            REQUIRE(cow_vec_push(&b, &x) == COW_OK);
            bm.push_back(x);
        }
        CHECK(diff_of(a, b) == model_diff(model, bm));
        for (int k = 0; k < 5 && !bm.empty(); ++k) {
            REQUIRE(cow_vec_pop(&b, nullptr) == COW_OK);
            bm.pop_back();
        }
        CHECK(diff_of(a, b) == model_diff(model, bm));
        REQUIRE(cow_vec_insert(&b, bm.size() / 2, &x) == COW_OK);
        bm.insert(bm.begin() + static_cast<std::ptrdiff_t>(bm.size() / 2), x);
        CHECK(diff_of(a, b) == model_diff(model, bm));
        CHECK(diff_of(nullptr, b) == model_diff({}, bm));
        CHECK(diff_of(a, nullptr) == model_diff(model, {}));
        cow_vec_release(a);
        cow_vec_release(b);
    }
}

VEC_TEST("diff: a non-zero return stops the walk; bad arguments are refused") {
    test::leak_check leaks;
    auto model = iota(300);
    cow_vec *a = make(model);
    cow_vec *b = cow_vec_clone(a);
    std::int32_t x = 0;
    for (std::size_t i : {10, 20, 30}) REQUIRE(cow_vec_set(&b, i, &x, nullptr) == COW_OK);
    diff_log log;
    log.stop_after = 2;
    bool stopped = false;
    REQUIRE(cow_vec_diff(a, b, log_range, &log, &stopped) == COW_OK);
    CHECK(stopped);
    CHECK(log.ranges == (std::vector<std::pair<std::size_t, std::size_t>>{{10, 1}, {20, 1}}));
    log = {};
    REQUIRE(cow_vec_diff(a, b, log_range, &log, nullptr) == COW_OK);  // out_stopped may be NULL
    CHECK(log.ranges.size() == 3);
    CHECK(cow_vec_diff(a, b, nullptr, nullptr, &stopped) == COW_EINVAL);
    cow_vec *u = make_vec(cow_type_u64(), S);
    CHECK(cow_vec_diff(a, u, log_range, &log, &stopped) == COW_ETYPE);
    cow_buf *buf = nullptr;
    REQUIRE(cow_buf_new(&buf, nullptr, 0, nullptr) == COW_OK);
    CHECK(cow_vec_diff(a, reinterpret_cast<cow_vec *>(buf), log_range, &log, &stopped) == COW_ETYPE);
    cow_buf_release(buf);
    cow_vec_release(u);
    cow_vec_release(a);
    cow_vec_release(b);
}

VEC_TEST("cursor from an index: the elements from there on; the end gives none; beyond is refused") {
    test::leak_check leaks;
    auto model = iota(1000);
    cow_vec *v = make(model);
    for (std::size_t from : {std::size_t{0}, std::size_t{1}, std::size_t{127}, std::size_t{128},
                             std::size_t{999}, std::size_t{1000}}) {
        cow_vec_cursor c;
        REQUIRE(cow_vec_cursor_init_at(&c, v, from) == COW_OK);
        std::vector<std::int32_t> got;
        const void *data;
        std::size_t n;
        while (cow_vec_next_span(&c, &data, &n)) {
            REQUIRE(data == cow_vec_get(v, from + got.size()));
            auto *p = static_cast<const std::int32_t *>(data);
            got.insert(got.end(), p, p + n);
        }
        CHECK(got == slice_of(model, from, 1000 - from));
    }
    cow_vec_cursor c;
    std::memset(&c, 0xab, sizeof c);
    cow_vec_cursor before = c;
    CHECK(cow_vec_cursor_init_at(&c, v, 1001) == COW_ERANGE);
    CHECK(std::memcmp(&c, &before, sizeof c) == 0);  // a refused call leaves the cursor alone
    CHECK(cow_vec_cursor_init_at(nullptr, v, 0) == COW_EINVAL);
    CHECK(cow_vec_cursor_init_at(&c, nullptr, 0) == COW_EINVAL);
    cow_vec_release(v);
}

VEC_TEST("slice and concat of handles clone each kept handle once, and release them once") {
    test::leak_check leaks;
    cow_vec *v = make_vec(cow_type_handle(), S);
    std::vector<cow_str *> strs;
    for (int k = 0; k < 300; ++k) {
        cow_str *s = nullptr;
        REQUIRE(cow_str_from_cstr(&s, std::to_string(k).c_str(), nullptr) == COW_OK);
        REQUIRE(cow_vec_push(&v, &s) == COW_OK);
        strs.push_back(s);
    }
    for (cow_str *s : strs) CHECK(strong(s) == 2);
    cow_vec *sl = nullptr;
    REQUIRE(cow_vec_slice(&sl, v, 100, 150) == COW_OK);
    REQUIRE(cow_vec_concat(&sl, v) == COW_OK);
    for (int k = 0; k < 300; ++k) {
        // Held by the caller and v; the joined slice holds one more for each
        // element it contains, whether its leaf was copied or shared.
        std::uint64_t in_slice = (k >= 100 && k < 250) ? 1 : 0;
        std::uint64_t expect = 2 + in_slice + 1;
        if (is_tree(S)) {
            CHECK(strong(strs[k]) <= expect);  // shared leaves hold one reference for both
            CHECK(strong(strs[k]) >= 2);
        } else
            CHECK(strong(strs[k]) == expect);
    }
    cow_vec_release(sl);
    for (cow_str *s : strs) CHECK(strong(s) == 2);
    cow_vec_release(v);
    for (cow_str *s : strs) cow_str_release(s);
}

VEC_TEST("cursor: a caller's jumps of next, forward and back, over a joined (relaxed) vector") {
    test::leak_check leaks;
    auto model = iota(3000);
    cow_vec *v = make(model);
    cow_vec *a = nullptr, *b = nullptr;
    REQUIRE(cow_vec_slice(&a, v, 5, 1500) == COW_OK);
    REQUIRE(cow_vec_slice(&b, v, 1700, 1300) == COW_OK);
    REQUIRE(cow_vec_concat(&a, b) == COW_OK);
    std::vector<std::int32_t> joined = slice_of(model, 5, 1500);
    auto tail = slice_of(model, 1700, 1300);
    joined.insert(joined.end(), tail.begin(), tail.end());
    cow_vec_cursor c;
    REQUIRE(cow_vec_cursor_init(&c, a) == COW_OK);
    std::uint64_t r = 12345;
    const void *data;
    std::size_t n;
    for (int step = 0; step < 2000; ++step) {
        r = r * 6364136223846793005u + 1442695040888963407u;
        if ((r >> 60) == 0) c.next = (r >> 20) % joined.size();  // a jump, one step in 16
        std::size_t from = c.next;
        if (!cow_vec_next_span(&c, &data, &n)) {
            CHECK(from >= joined.size());
            c.next = 0;
            continue;
        }
        REQUIRE(n >= 1);
        REQUIRE(from + n <= joined.size());
        CHECK(c.next == from + n);
        CHECK(data == cow_vec_get(a, from));
        auto *p = static_cast<const std::int32_t *>(data);
        CHECK(std::vector<std::int32_t>(p, p + n) == slice_of(joined, from, n));
    }
    for (cow_vec *h : {v, a, b}) cow_vec_release(h);
}
