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

    void step() {
        switch (in.ConsumeIntegralInRange<int>(0, 18)) {
        case 0: case 1: op_new(); break;
        case 2: op_with_capacity(); break;
        case 3: case 4: op_clone(); break;
        case 5: op_release(); break;
        case 6: op_insert(true); break;
        case 7: op_insert(false); break;
        case 8: op_erase(); break;
        case 9: op_truncate(); break;
        case 10: op_resize(); break;
        case 11: op_make_mut(); break;
        case 12: op_make_mut_generic(); break;
        case 13: op_slice(); break;
        case 14: op_into(); break;
        case 15: op_stats(); break;
        case 16: op_compare(); break;
        case 17: op_queries_typed(); break;
        default: op_arm_failure(); break;
        }
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    return fuzz::run_input<buf_fuzzer>(data, size);
}
