// The cow_box operations of the container fuzz targets: create, make_mut,
// update with a function that succeeds or fails, and into. Members of
// container_fuzzer (container_ops.hpp), which models the handle elements.
#pragma once
#include <cstring>
#include <string>
#include <vector>

#include "container_ops.hpp"

namespace fuzz {

inline void container_fuzzer::op_box_new() {
    int j = draw_slot();
    options_draw o = draw_options(in);
    expectation e = o.defects;
    elem_kind k = draw_value_kind();
    const cow_type *type = type_of(k);
    if (in.ConsumeIntegralInRange<int>(0, 15) == 0) {
        type = in.ConsumeBool() ? nullptr : cow_type_bytes();
        e.add(true, COW_EINVAL);
    }
    elem_source s;
    s.value = draw_elem(k, nullptr);
    encode(k, s.value, s.buf.bytes);
    s.ptr = s.buf.bytes;
    if (in.ConsumeIntegralInRange<int>(0, 15) == 0) {
        s.ptr = nullptr;
        e.add(true, COW_EINVAL);
    }
    bool null_out = in.ConsumeIntegralInRange<int>(0, 15) == 0;
    e.add(null_out, COW_EINVAL);
    cow_box *out = sentinel<cow_box>();
    before_call bc;
    cow_status st = cow_box_new(null_out ? nullptr : &out, type, s.ptr, o.ptr());
    if (!FUZZ_JUDGE("cow_box_new", e, st, bc)) {
        FUZZ_CHECK(out == sentinel<cow_box>());
        return bc.unchanged();
    }
    rep_model m;
    m.kind = COW_KIND_BOX;
    m.ek = k;
    m.boxed = s.value;
    w.created(out, m, o);
    settle_box(out);
    put(j, out);
}

inline void container_fuzzer::op_box_make_mut(target *given) {
    target t = given ? *given : draw_target();
    rep_model *m = model_of(t, COW_KIND_BOX);
    expectation e = t.defects;
    bool want = in.ConsumeIntegralInRange<int>(0, 5) != 0;
    void *p = sentinel<void>();
    void *old = t.handle();
    std::uint64_t bytes = m ? world::value_bytes(*m) : 0;
    before_call bc;
    cow_status st = cow_box_make_mut(t.slot<cow_box>(), want ? &p : nullptr);
    if (!FUZZ_JUDGE("cow_box_make_mut", e, st, bc)) {
        FUZZ_CHECK(p == sentinel<void>());
        return failed(t, old, bc);
    }
    w.edited(old, t.handle(), true, bytes, [](rep_model &) {});
    FUZZ_CHECK(!cow_is_shared(t.handle()));
    if (!want) return;
    rep_model &r = w.rep(t.handle());
    FUZZ_CHECK(p == cow_box_get(static_cast<const cow_box *>(t.handle())));
    write_through(r.ek, p, r.boxed);
}

inline cow_status container_fuzzer::update_fn(void *ctx, void *value) {
    auto *u = static_cast<update_ctx *>(ctx);
    ++u->calls;
    if (u->k == elem_kind::tracked)
        std::memcpy(value, &u->value, sizeof u->value);
    else
        encode(u->k, u->value, value);
    return u->result;
}

inline void container_fuzzer::op_box_update(target *given) {
    target t = given ? *given : draw_target();
    rep_model *m = model_of(t, COW_KIND_BOX);
    expectation e = t.defects;
    elem_kind k = m ? m->ek : elem_kind::u8;
    if (k == elem_kind::handle) return;  // handle boxes are edited through make_mut
    static const cow_status results[] = {COW_OK, COW_OK, COW_OK, COW_ENOMEM, COW_ECALLBACK, 4242};
    update_ctx u{k, draw_value(in, k), results[in.ConsumeIntegralInRange<int>(0, 5)]};
    bool null_fn = in.ConsumeIntegralInRange<int>(0, 15) == 0;
    e.add(null_fn, COW_EINVAL);
    void *old = t.handle();
    bool was_shared = m && w.shared(old);
    std::uint64_t bytes = m ? world::value_bytes(*m) : 0;
    before_call bc;
    cow_status st = cow_box_update(t.slot<cow_box>(), null_fn ? nullptr : update_fn, &u);
    if (e.ok() && u.calls == 1 && u.result != COW_OK) {
        // The function failed: its status comes back as is. A copy made
        // for it is discarded; a unique value keeps what fn wrote.
        FUZZ_CHECK(st == u.result);
        FUZZ_CHECK(*t.where == old);
        if (!was_shared) m->boxed = u.value;
        else bc.unchanged();
        return;
    }
    if (!FUZZ_JUDGE("cow_box_update", e, st, bc)) {
        FUZZ_CHECK(u.calls == 0);
        return failed(t, old, bc);
    }
    FUZZ_CHECK(u.calls == 1);
    w.edited(old, t.handle(), true, bytes, [&](rep_model &r) { r.boxed = u.value; });
}

inline void container_fuzzer::op_box_into() {
    target t = draw_target();
    rep_model *m = model_of(t, COW_KIND_BOX);
    expectation e = t.defects;
    bool null_out = in.ConsumeIntegralInRange<int>(0, 15) == 0;
    e.add(null_out, COW_EINVAL);
    elem_buf out;
    void *old = t.handle();
    bool was_shared = m && w.shared(old);
    before_call bc;
    cow_status st = cow_box_into(t.slot<cow_box>(), null_out ? nullptr : out.bytes);
    if (!FUZZ_JUDGE("cow_box_into", e, st, bc)) return failed(t, old, bc);
    FUZZ_CHECK(*t.where == nullptr);
    elem_kind k = m->ek;
    std::uint64_t v = m->boxed;
    if (!was_shared && k == elem_kind::handle) m->boxed = 0;  // moved out with its reference
    take_out(k, was_shared, v, out.bytes);
    w.released(old);
}

}  // namespace fuzz
