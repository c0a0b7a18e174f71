// Fuzz target: cow_str (UTF-8 validation, character boundaries, substrings
// sharing storage, NUL-terminated access). The operations shared with
// cow_buf live in bytes_ops.hpp; the model is world.hpp.
#include "bytes_ops.hpp"

namespace {

using namespace fuzz;

struct str_fuzzer : bytes_fuzzer<str_api> {
    using bytes_fuzzer::bytes_fuzzer;

    void op_from_cstr() {
        int j = draw_slot();
        options_draw o = draw_options(in);
        expectation e = o.defects;
        std::string text = draw_text(in);
        bool null_text = in.ConsumeIntegralInRange<int>(0, 15) == 0;
        e.add(null_text, COW_EINVAL);
        std::string until_nul = text.substr(0, text.find('\0'));
        e.add(!null_text && !utf8_ok(until_nul), COW_EUTF8);
        cow_str *out = sentinel<cow_str>();
        before_call bc;
        cow_status st = cow_str_from_cstr(&out, null_text ? nullptr : text.c_str(), o.ptr());
        if (!FUZZ_JUDGE("cow_str_from_cstr", e, st, bc)) {
            FUZZ_CHECK(out == sentinel<cow_str>());
            return bc.unchanged();
        }
        w.created(out, COW_KIND_STR, until_nul, o);
        put(j, out);
    }

    void op_make_mut() {
        target t = draw_target();
        std::string cur = value(t);
        expectation e = t.defects;
        void *old = t.handle();
        before_call bc;
        cow_status st = cow_str_make_mut(t.slot<cow_str>());
        if (!FUZZ_JUDGE("cow_str_make_mut", e, st, bc)) return failed(t, old, bc);
        w.edited(old, t.handle(), cur, true, cur.size());
        FUZZ_CHECK(!cow_is_shared(t.handle()));
    }

    // cow_str_cstr copies exactly a substring that does not end its storage.
    void op_cstr() {
        target t = draw_target();
        std::string cur = value(t);
        expectation e = t.defects;
        bool null_out = in.ConsumeIntegralInRange<int>(0, 15) == 0;
        e.add(null_out, COW_EINVAL);
        bool copies = false;
        if (t.valid()) {
            const rep_model &r = w.rep(t.handle());
            copies = world::is_slice(r) && r.off + r.bytes.size() != w.rep(r.owner).bytes.size();
        }
        const char *p = sentinel<char>();
        void *old = t.handle();
        before_call bc;
        cow_status st = cow_str_cstr(t.slot<cow_str>(), null_out ? nullptr : &p);
        if (!FUZZ_JUDGE("cow_str_cstr", e, st, bc)) {
            FUZZ_CHECK(p == sentinel<char>());
            return failed(t, old, bc);
        }
        w.edited(old, t.handle(), cur, copies, cur.size());
        FUZZ_CHECK(p == cow_str_data(static_cast<cow_str *>(t.handle())));
        FUZZ_CHECK(cur.empty() || std::memcmp(p, cur.data(), cur.size()) == 0);
        FUZZ_CHECK(p[cur.size()] == '\0');
    }

    void op_find() {
        expectation e;
        const void *h = draw_source(e);
        std::string hay = e.ok() ? w.rep(h).bytes : std::string();
        std::string needle;
        const char *p = nullptr;
        std::size_t n = 0;
        switch (in.ConsumeIntegralInRange<int>(0, 9)) {
        case 0: break;  // NULL, 0: the empty needle
        case 1:
            n = in.ConsumeIntegralInRange<std::size_t>(1, 4);
            e.add(true, COW_EINVAL);
            break;
        case 2: case 3: {
            // A piece of the haystack itself, so that it is found.
            std::size_t off = in.ConsumeIntegralInRange<std::size_t>(0, hay.size());
            needle = hay.substr(off, in.ConsumeIntegralInRange<std::size_t>(0, hay.size() - off));
            p = needle.data();
            n = needle.size();
            break;
        }
        default:
            needle = draw_text(in, 8);
            p = needle.data();
            n = needle.size();
        }
        std::size_t from = draw_index(in, hay.size());
        bool null_out = in.ConsumeIntegralInRange<int>(0, 15) == 0;
        e.add(null_out, COW_EINVAL);
        // The needle must be valid UTF-8 and `from` a character boundary.
        e.add(p && !utf8_ok(needle), COW_EUTF8);
        std::size_t expect = std::string::npos;
        if (e.ok()) {
            e.add(from > hay.size(), COW_ERANGE);
            e.add(from <= hay.size() && !utf8_boundary(hay, from), COW_EINVAL);
        }
        if (e.ok()) {
            expect = hay.find(needle, from);
            e.add(expect == std::string::npos, COW_ENOTFOUND);
        }
        std::size_t pos = 777;
        before_call bc;
        cow_status st = cow_str_find(static_cast<const cow_str *>(h), p, n, from,
                                     null_out ? nullptr : &pos);
        if (!FUZZ_JUDGE("cow_str_find", e, st, bc)) {
            FUZZ_CHECK(pos == 777);
            return bc.unchanged();
        }
        FUZZ_CHECK(pos == expect);
    }

    // The operations of a step, by input value (draw_op).
    enum class str_op : std::uint8_t {
        create, create_2, from_cstr, clone, clone_2, release, append, insert, erase, truncate,
        cstr, make_mut, make_mut_generic, substr, into, stats, compare, find, queries,
        arm_failure, count
    };
    void step() {
        switch (draw_op<str_op>()) {
        case str_op::create: case str_op::create_2: op_new(); break;
        case str_op::from_cstr: op_from_cstr(); break;
        case str_op::clone: case str_op::clone_2: op_clone(); break;
        case str_op::release: op_release(); break;
        case str_op::append: op_insert(true); break;
        case str_op::insert: op_insert(false); break;
        case str_op::erase: op_erase(); break;
        case str_op::truncate: op_truncate(); break;
        case str_op::cstr: op_cstr(); break;
        case str_op::make_mut: op_make_mut(); break;
        case str_op::make_mut_generic: op_make_mut_generic(); break;
        case str_op::substr: op_slice(); break;
        case str_op::into: op_into(); break;
        case str_op::stats: op_stats(); break;
        case str_op::compare: op_compare(); break;
        case str_op::find: op_find(); break;
        case str_op::queries: op_queries_typed(); break;
        case str_op::arm_failure: op_arm_failure(); break;
        case str_op::count: break;  // never drawn
        }
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    return fuzz::run_input<str_fuzzer>(data, size);
}
