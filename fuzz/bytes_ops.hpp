// The operations cow_buf and cow_str have in common, written once over a
// small table of the functions that differ (buf_api, str_api). Each
// operation draws its arguments, predicts the outcome with the model, makes
// the call and checks the status, the out-parameters and, on failure, that
// nothing changed. The caller runs world::check() after every operation.
#pragma once
#include <cinttypes>
#include <string>

#include "pool_ops.hpp"

namespace fuzz {

struct buf_api {
    using handle = cow_buf;
    static constexpr cow_kind_t kind = COW_KIND_BUF;
    static constexpr const char *name = "cow_buf";
    static cow_status create(handle **out, const char *p, std::size_t n, const cow_options *o) {
        return cow_buf_new(out, p, n, o);
    }
    static kind_api api() {
        return {kind, [](const void *h) -> void * { return cow_buf_clone(static_cast<const cow_buf *>(h)); },
                [](void *h) { cow_buf_release(static_cast<cow_buf *>(h)); },
                [](void *h) { cow_str_release(static_cast<cow_str *>(h)); }};
    }
    static cow_status append(handle **s, const char *p, std::size_t n) { return cow_buf_append(s, p, n); }
    static cow_status insert(handle **s, std::size_t at, const char *p, std::size_t n) {
        return cow_buf_insert(s, at, p, n);
    }
    static cow_status erase(handle **s, std::size_t at, std::size_t n) { return cow_buf_erase(s, at, n); }
    static cow_status truncate(handle **s, std::size_t n) { return cow_buf_truncate(s, n); }
    static cow_status slice(handle **out, const handle *h, std::size_t off, std::size_t n) {
        return cow_buf_slice(out, h, off, n);
    }
    static cow_status into(handle **s, cow_owned *o) { return cow_buf_into(s, o); }
    static bool equal(const void *a, const void *b) {
        return cow_buf_equal(static_cast<const handle *>(a), static_cast<const handle *>(b));
    }
    static int compare(const void *a, const void *b) {
        return cow_buf_compare(static_cast<const handle *>(a), static_cast<const handle *>(b));
    }
    static std::uint64_t hash(const void *h) { return cow_buf_hash(static_cast<const handle *>(h)); }
    static std::uint64_t hash_other_kind(const void *h) { return cow_str_hash(static_cast<const cow_str *>(h)); }
    static std::size_t len(const void *h) { return cow_buf_len(static_cast<const handle *>(h)); }
    static const void *data(const void *h) { return cow_buf_data(static_cast<const handle *>(h)); }
    // A handle of the other byte kind (wrong type for every call here).
    static void *make_other(const char *p, std::size_t n) {
        cow_str *s = nullptr;
        FUZZ_CHECK(cow_str_new(&s, p, n, nullptr) == COW_OK);
        return s;
    }
    static constexpr cow_kind_t other_kind = COW_KIND_STR;
    static std::string draw_bytes(provider &in) {
        if (in.ConsumeBool()) return draw_text(in);
        return in.ConsumeBytesAsString(in.ConsumeIntegralInRange<std::size_t>(0, 40));
    }
    static void text_defects(expectation &, const std::string &) {}
    static bool boundary(const std::string &, std::size_t) { return true; }
    // Sizes to append that overflow the value (cur + n >= PTRDIFF_MAX):
    // a byte buffer must refuse them before reading a byte.
    static std::size_t overflowing(provider &in, std::size_t cur) {
        if (in.ConsumeBool()) return draw_huge(in);
        return static_cast<std::size_t>(PTRDIFF_MAX) - cur + in.ConsumeIntegralInRange<std::size_t>(0, 3);
    }
};

struct str_api {
    using handle = cow_str;
    static constexpr cow_kind_t kind = COW_KIND_STR;
    static constexpr const char *name = "cow_str";
    static cow_status create(handle **out, const char *p, std::size_t n, const cow_options *o) {
        return cow_str_new(out, p, n, o);
    }
    static kind_api api() {
        return {kind, [](const void *h) -> void * { return cow_str_clone(static_cast<const cow_str *>(h)); },
                [](void *h) { cow_str_release(static_cast<cow_str *>(h)); },
                [](void *h) { cow_buf_release(static_cast<cow_buf *>(h)); }};
    }
    static cow_status append(handle **s, const char *p, std::size_t n) { return cow_str_append(s, p, n); }
    static cow_status insert(handle **s, std::size_t at, const char *p, std::size_t n) {
        return cow_str_insert(s, at, p, n);
    }
    static cow_status erase(handle **s, std::size_t at, std::size_t n) { return cow_str_erase(s, at, n); }
    static cow_status truncate(handle **s, std::size_t n) { return cow_str_truncate(s, n); }
    static cow_status slice(handle **out, const handle *h, std::size_t off, std::size_t n) {
        return cow_str_substr(out, h, off, n);
    }
    static cow_status into(handle **s, cow_owned *o) { return cow_str_into(s, o); }
    static bool equal(const void *a, const void *b) {
        return cow_str_equal(static_cast<const handle *>(a), static_cast<const handle *>(b));
    }
    static int compare(const void *a, const void *b) {
        return cow_str_compare(static_cast<const handle *>(a), static_cast<const handle *>(b));
    }
    static std::uint64_t hash(const void *h) { return cow_str_hash(static_cast<const handle *>(h)); }
    static std::uint64_t hash_other_kind(const void *h) { return cow_buf_hash(static_cast<const cow_buf *>(h)); }
    static std::size_t len(const void *h) { return cow_str_len(static_cast<const handle *>(h)); }
    static const void *data(const void *h) { return cow_str_data(static_cast<const handle *>(h)); }
    static void *make_other(const char *p, std::size_t n) {
        cow_buf *b = nullptr;
        FUZZ_CHECK(cow_buf_new(&b, p, n, nullptr) == COW_OK);
        return b;
    }
    static constexpr cow_kind_t other_kind = COW_KIND_BUF;
    static std::string draw_bytes(provider &in) { return draw_text(in); }
    static void text_defects(expectation &e, const std::string &t) { e.add(!utf8_ok(t), COW_EUTF8); }
    static bool boundary(const std::string &s, std::size_t at) { return utf8_boundary(s, at); }
    // Text lengths the library must refuse before validating (reading) it.
    static std::size_t overflowing(provider &in, std::size_t) { return draw_huge(in); }
};

template <class Api>
struct bytes_fuzzer : pool_fuzzer {
    using H = typename Api::handle;

    static rep_model other_model() {
        rep_model r;
        r.kind = Api::other_kind;
        r.bytes = "x\xc3\xa9";
        return r;
    }
    explicit bytes_fuzzer(provider &input)
        : pool_fuzzer(input, Api::api(), Api::make_other("x\xc3\xa9", 3), other_model()) {}

    // The model's value behind a target ("" for a defective one).
    std::string value(const target &t) { return t.valid() ? w.rep(t.handle()).bytes : std::string(); }

    // -- operations -------------------------------------------------------

    void op_new() {
        int j = draw_slot();
        options_draw o = draw_options(in);
        expectation e = o.defects;
        std::string bytes;
        const char *p = bytes.data();
        std::size_t n = 0;
        switch (in.ConsumeIntegralInRange<int>(0, 9)) {
        case 0: p = nullptr; break;
        case 1:
            p = nullptr;
            n = in.ConsumeIntegralInRange<std::size_t>(1, 9);
            e.add(true, COW_EINVAL);
            break;
        case 2:
            n = draw_huge(in);
            p = "abc";
            e.add(true, COW_EOVERFLOW);
            break;
        default:
            bytes = Api::draw_bytes(in);
            p = bytes.data();
            n = bytes.size();
            Api::text_defects(e, bytes);
        }
        bool null_out = in.ConsumeIntegralInRange<int>(0, 15) == 0;
        e.add(null_out, COW_EINVAL);
        H *out = sentinel<H>();
        before_call bc;
        cow_status st = Api::create(null_out ? nullptr : &out, p, n, o.ptr());
        if (!FUZZ_JUDGE("new", e, st, bc)) {
            FUZZ_CHECK(out == sentinel<H>());
            bc.unchanged();
            return;
        }
        FUZZ_CHECK(out && out != sentinel<H>());
        w.created(out, Api::kind, bytes, o);
        put(j, out);
    }

    void op_insert(bool at_end) {
        target t = draw_target();
        std::string cur = value(t);
        std::size_t at = at_end ? cur.size() : draw_index(in, cur.size());
        expectation e = t.defects;
        if (t.valid() && !at_end) {
            e.add(at > cur.size(), COW_ERANGE);
            e.add(at <= cur.size() && !Api::boundary(cur, at), COW_EINVAL);
        }
        source s = draw_insert_source(e, t, cur.size());
        void *old = t.handle();
        before_call bc;
        cow_status st = at_end ? Api::append(t.slot<H>(), s.p, s.n) : Api::insert(t.slot<H>(), at, s.p, s.n);
        if (!FUZZ_JUDGE(at_end ? "append" : "insert", e, st, bc)) return failed(t, old, bc);
        std::string after = cur;
        after.insert(at, s.bytes);
        w.edited(old, t.handle(), after, s.n > 0, cur.size());
    }

    // The bytes to insert: text from the input, NULL, an overflowing length,
    // or bytes of a value in the pool (possibly the one being edited).
    struct source {
        const char *p = nullptr;
        std::size_t n = 0;
        std::string bytes;  // what the model inserts
        bool overflow = false;
    };
    source draw_insert_source(expectation &e, const target &t, std::size_t cur) {
        source s;
        switch (in.ConsumeIntegralInRange<int>(0, 11)) {
        case 0: break;  // NULL, 0: nothing to insert
        case 1:
            s.n = in.ConsumeIntegralInRange<std::size_t>(1, 5);
            e.add(true, COW_EINVAL);
            break;
        case 2:
            s.p = "overflow";
            s.n = Api::overflowing(in, t.valid() ? cur : 0);
            s.overflow = true;
            e.add(true, COW_EOVERFLOW);
            break;
        case 3:
        case 4: {
            // Aliasing: bytes of the target itself or of another pool value.
            const void *from = in.ConsumeBool() && t.valid() ? t.handle() : w.slot[draw_slot()];
            if (!w.known(from)) break;
            const std::string &v = w.rep(from).bytes;
            std::size_t off = in.ConsumeIntegralInRange<std::size_t>(0, v.size());
            std::size_t n = in.ConsumeIntegralInRange<std::size_t>(0, v.size() - off);
            s.p = static_cast<const char *>(Api::data(from)) + off;
            s.n = n;
            s.bytes = v.substr(off, n);
            Api::text_defects(e, s.bytes);
            break;
        }
        default:
            s.bytes = Api::draw_bytes(in);
            s.p = s.bytes.data();
            s.n = s.bytes.size();
            Api::text_defects(e, s.bytes);
        }
        return s;
    }

    void op_erase() {
        target t = draw_target();
        std::string cur = value(t);
        std::size_t at = draw_index(in, cur.size());
        std::size_t n = draw_index(in, cur.size());
        expectation e = t.defects;
        if (t.valid()) {
            bool range = at > cur.size() || n > cur.size() - at;
            e.add(range, COW_ERANGE);
            e.add(!range && (!Api::boundary(cur, at) || !Api::boundary(cur, at + n)), COW_EINVAL);
        }
        void *old = t.handle();
        before_call bc;
        cow_status st = Api::erase(t.slot<H>(), at, n);
        if (!FUZZ_JUDGE("erase", e, st, bc)) return failed(t, old, bc);
        std::string after = cur;
        after.erase(at, n);
        w.edited(old, t.handle(), after, n > 0, after.size());
    }

    void op_truncate() {
        target t = draw_target();
        std::string cur = value(t);
        std::size_t n = draw_index(in, cur.size());
        expectation e = t.defects;
        if (t.valid()) {
            e.add(n > cur.size(), COW_ERANGE);
            e.add(n <= cur.size() && !Api::boundary(cur, n), COW_EINVAL);
        }
        void *old = t.handle();
        before_call bc;
        cow_status st = Api::truncate(t.slot<H>(), n);
        if (!FUZZ_JUDGE("truncate", e, st, bc)) return failed(t, old, bc);
        w.edited(old, t.handle(), cur.substr(0, n), n != cur.size(), n);
    }

    void op_slice() {
        int j = draw_slot();
        expectation e;
        const void *src = draw_source(e);
        std::string cur = e.ok() ? w.rep(src).bytes : std::string();
        std::size_t off = draw_index(in, cur.size());
        std::size_t n = draw_index(in, cur.size());
        if (e.ok()) {
            bool range = off > cur.size() || n > cur.size() - off;
            e.add(range, COW_ERANGE);
            e.add(!range && (!Api::boundary(cur, off) || !Api::boundary(cur, off + n)), COW_EINVAL);
        }
        bool null_out = in.ConsumeIntegralInRange<int>(0, 15) == 0;
        e.add(null_out, COW_EINVAL);
        H *out = sentinel<H>();
        before_call bc;
        cow_status st = Api::slice(null_out ? nullptr : &out, static_cast<const H *>(src), off, n);
        if (!FUZZ_JUDGE("slice", e, st, bc)) {
            FUZZ_CHECK(out == sentinel<H>());
            bc.unchanged();
            return;
        }
        w.sliced(out, src, off, n);
        FUZZ_CHECK(cow_is_shared(out) && cow_is_shared(src));
        put(j, out);
    }

    void op_into() {
        target t = draw_target();
        std::string cur = value(t);
        expectation e = t.defects;
        bool null_out = in.ConsumeIntegralInRange<int>(0, 15) == 0;
        e.add(null_out, COW_EINVAL);
        cow_owned owned;
        std::memset(&owned, 0x5a, sizeof owned);
        const cow_owned untouched = owned;
        void *old = t.handle();
        before_call bc;
        cow_status st = Api::into(t.slot<H>(), null_out ? nullptr : &owned);
        if (!FUZZ_JUDGE("into", e, st, bc)) {
            FUZZ_CHECK(std::memcmp(&owned, &untouched, sizeof owned) == 0);
            return failed(t, old, bc);
        }
        FUZZ_CHECK(*t.where == nullptr);  // consumed
        FUZZ_CHECK(owned.data != nullptr && owned.len == cur.size());
        FUZZ_CHECK(owned.alloc_size > owned.len);
        FUZZ_CHECK(cur.empty() || std::memcmp(owned.data, cur.data(), cur.size()) == 0);
        FUZZ_CHECK(static_cast<const char *>(owned.data)[cur.size()] == 0);
        w.released(old);
        cow_owned_free(&owned);
        const cow_owned zero{};
        FUZZ_CHECK(std::memcmp(&owned, &zero, sizeof owned) == 0);
        cow_owned_free(nullptr);
    }

    // equal / compare / hash between two values (NULL, the wrong kind and a
    // fake pointer compare as empty).
    void op_compare() {
        auto pick = [&]() -> const void * {
            switch (in.ConsumeIntegralInRange<int>(0, 11)) {
            case 0: return nullptr;
            case 1: return fake;
            case 2: return foreign();
            default: return w.slot[draw_slot()];
            }
        };
        const void *a = pick(), *b = pick();
        auto model = [&](const void *h) {
            return w.known(h) && h != foreign() ? w.rep(h).bytes : std::string();
        };
        std::string x = model(a), y = model(b);
        int c = x.compare(y);
        FUZZ_CHECK(Api::equal(a, b) == (x == y));
        int got = Api::compare(a, b);
        FUZZ_CHECK((got < 0) == (c < 0) && (got > 0) == (c > 0));
        if (x == y) FUZZ_CHECK(Api::hash(a) == Api::hash(b));
        // A buffer and a string with the same bytes hash alike.
        if (x == w.rep(foreign()).bytes) FUZZ_CHECK(Api::hash(a) == Api::hash_other_kind(foreign()));
    }

    // Typed queries on NULL, a fake pointer and the wrong kind.
    void op_queries_typed() {
        op_queries();
        FUZZ_CHECK(Api::len(nullptr) == 0 && Api::data(nullptr) == nullptr);
        FUZZ_CHECK(Api::len(fake) == 0 && Api::data(fake) == nullptr);
        FUZZ_CHECK(Api::len(foreign()) == 0 && Api::data(foreign()) == nullptr);
    }
};

}  // namespace fuzz
