// Fuzz target: cow_buf. The input is decoded into a sequence of calls over
// a pool of handle slots; the model (world.hpp) is checked after each call.
#include "bytes_ops.hpp"

namespace {

using namespace fuzz;

struct buf_fuzzer : bytes_fuzzer<buf_api> {
    using bytes_fuzzer::bytes_fuzzer;

    void op_with_capacity() {
        int j = draw_slot();
        options_draw o = draw_options(in);
        expectation e = o.defects;
        std::size_t cap;
        switch (in.ConsumeIntegralInRange<int>(0, 7)) {
        case 0:
            cap = draw_huge(in);
            e.add(true, COW_EOVERFLOW);
            break;
        case 1:
            // Legal but more than the (fuzzing) heap gives: COW_ENOMEM.
            cap = huge_request + in.ConsumeIntegralInRange<std::size_t>(0, 4096);
            break;
        default: cap = in.ConsumeIntegralInRange<std::size_t>(0, 300);
        }
        bool null_out = in.ConsumeIntegralInRange<int>(0, 15) == 0;
        e.add(null_out, COW_EINVAL);
        cow_buf *out = sentinel<cow_buf>();
        before_call bc;
        cow_status st = cow_buf_with_capacity(null_out ? nullptr : &out, cap, o.ptr());
        if (!FUZZ_JUDGE("cow_buf_with_capacity", e, st, bc)) {
            FUZZ_CHECK(out == sentinel<cow_buf>());
            return bc.unchanged();
        }
        w.created(out, COW_KIND_BUF, std::string(), o);
        put(j, out);
    }

    void op_resize() {
        target t = draw_target();
        std::string cur = value(t);
        std::size_t n;
        expectation e = t.defects;
        switch (in.ConsumeIntegralInRange<int>(0, 9)) {
        case 0:
            n = draw_huge(in);
            e.add(t.valid(), COW_EOVERFLOW);
            break;
        case 1:
            // Legal sizes the heap refuses, up to the last one below the limit.
            n = in.ConsumeBool() ? static_cast<std::size_t>(PTRDIFF_MAX) - 1 : huge_request;
            break;
        default: n = in.ConsumeIntegralInRange<std::size_t>(0, cur.size() + 64);
        }
        auto fill = in.ConsumeIntegral<std::uint8_t>();
        void *old = t.handle();
        before_call bc;
        cow_status st = cow_buf_resize(t.slot<cow_buf>(), n, fill);
        if (!FUZZ_JUDGE("cow_buf_resize", e, st, bc)) return failed(t, old, bc);
        std::string after = cur;
        after.resize(n, static_cast<char>(fill));
        w.edited(old, t.handle(), after, n != cur.size(), n < cur.size() ? n : cur.size());
    }

    // cow_buf_make_mut, then writes through the pointer it gives.
    void op_make_mut() {
        target t = draw_target();
        std::string cur = value(t);
        expectation e = t.defects;
        bool want_data = in.ConsumeIntegralInRange<int>(0, 5) != 0;
        std::uint8_t *data = sentinel<std::uint8_t>();
        void *old = t.handle();
        before_call bc;
        cow_status st = cow_buf_make_mut(t.slot<cow_buf>(), want_data ? &data : nullptr);
        if (!FUZZ_JUDGE("cow_buf_make_mut", e, st, bc)) {
            FUZZ_CHECK(data == sentinel<std::uint8_t>());
            return failed(t, old, bc);
        }
        w.edited(old, t.handle(), cur, true, cur.size());
        FUZZ_CHECK(!cow_is_shared(t.handle()));
        if (!want_data) return;
        FUZZ_CHECK(data == cow_buf_data(static_cast<cow_buf *>(t.handle())));
        std::string &model = w.rep(t.handle()).bytes;
        std::size_t writes = model.empty() ? 0 : in.ConsumeIntegralInRange<std::size_t>(0, 4);
        for (std::size_t k = 0; k < writes; ++k) {
            std::size_t at = in.ConsumeIntegralInRange<std::size_t>(0, model.size() - 1);
            auto byte = in.ConsumeIntegral<std::uint8_t>();
            data[at] = byte;
            model[at] = static_cast<char>(byte);
        }
    }

    // The operations of a step, by input value (draw_op).
    enum class buf_op : std::uint8_t {
        create, create_2, with_capacity, clone, clone_2, release, append, insert, erase, truncate,
        resize, make_mut, make_mut_generic, slice, into, stats, compare, queries, arm_failure,
        count
    };
    void step() {
        switch (draw_op<buf_op>()) {
        case buf_op::create: case buf_op::create_2: op_new(); break;
        case buf_op::with_capacity: op_with_capacity(); break;
        case buf_op::clone: case buf_op::clone_2: op_clone(); break;
        case buf_op::release: op_release(); break;
        case buf_op::append: op_insert(true); break;
        case buf_op::insert: op_insert(false); break;
        case buf_op::erase: op_erase(); break;
        case buf_op::truncate: op_truncate(); break;
        case buf_op::resize: op_resize(); break;
        case buf_op::make_mut: op_make_mut(); break;
        case buf_op::make_mut_generic: op_make_mut_generic(); break;
        case buf_op::slice: op_slice(); break;
        case buf_op::into: op_into(); break;
        case buf_op::stats: op_stats(); break;
        case buf_op::compare: op_compare(); break;
        case buf_op::queries: op_queries_typed(); break;
        case buf_op::arm_failure: op_arm_failure(); break;
        case buf_op::count: break;  // never drawn
        }
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    return fuzz::run_input<buf_fuzzer>(data, size);
}
