// The cow_map operations of the container fuzz targets: create with every
// key and value type and strategy (STRUCTURAL: a tree), insert (and
// replace), remove, get_mut, clear and lookups, with keys drawn valid,
// absent and malformed. Members of container_fuzzer (container_ops.hpp),
// which models the handle elements.
//
// A tree write copies the nodes on its path that other versions hold, and
// their entries with the types' copy: a value handed out of such a node
// (out_old, remove's out) is a copy, and the handles of every copied node
// are cloned (settle_tree reads them back).
#pragma once
#include <cstring>
#include <string>
#include <vector>

#include "container_ops.hpp"

namespace fuzz {

inline container_fuzzer::key_draw container_fuzzer::draw_key(const rep_model *m, expectation &e) {
    key_draw k;
    bool var = m ? m->var_keys : true;
    if (m && !m->entries.empty() && in.ConsumeBool()) {
        // An existing key (so that replace / remove / get_mut find it).
        auto it = m->entries.begin();
        std::advance(it, in.ConsumeIntegralInRange<std::size_t>(0, m->entries.size() - 1));
        k.model = it->first;
        k.bytes = world::key_arg(*m, k.model);
    } else if (var) {
        k.bytes = in.ConsumeBool() ? draw_text(in, 12) : in.ConsumeBytesAsString(in.ConsumeIntegralInRange<std::size_t>(0, 6));
        k.model = k.bytes;
    } else {
        elem_kind kk = m ? m->kk : elem_kind::u32;
        std::uint64_t v = draw_value(in, kk);
        k.bytes.assign(size_of(kk), '\0');
        encode(kk, v, k.bytes.data());
        k.model = fixed_key(kk, v);
    }
    k.ptr = k.bytes.data();
    k.len = k.bytes.size();
    k.utf8_bad = m && m->string_keys && !utf8_ok(k.bytes);
    switch (in.ConsumeIntegralInRange<int>(0, 19)) {
    case 0:
        k.ptr = nullptr;
        k.valid = !(k.len > 0 || !var);
        if (!var || k.len > 0) e.add(m != nullptr, COW_EINVAL);
        if (var && k.len == 0) k.model.clear();
        break;
    case 1:
        if (!var) {
            std::size_t es = size_of(m ? m->kk : elem_kind::u32);
            std::size_t r = in.ConsumeIntegralInRange<std::size_t>(1, 8);
            k.len = in.ConsumeBool() ? es + r : es - (r < es ? r : es);  // too long or too short
            k.valid = false;
            e.add(m != nullptr, COW_EINVAL);
        } else {
            k.len = draw_huge(in);
            k.valid = false;
            e.add(m != nullptr, COW_EOVERFLOW);
        }
        break;
    default: break;
    }
    return k;
}

inline void container_fuzzer::op_map_new() {
    int j = draw_slot();
    options_draw o = draw_options(in, true);
    expectation e = o.defects;
    rep_model m;
    m.kind = COW_KIND_MAP;
    m.ek = draw_value_kind();
    int key_choice = in.ConsumeIntegralInRange<int>(0, 5);
    const cow_type *kt;
    if (key_choice == 0) {
        m.var_keys = true;
        kt = cow_type_bytes();
    } else if (key_choice == 1) {
        m.var_keys = m.string_keys = true;
        kt = cow_type_string();
    } else {
        m.kk = key_kinds[in.ConsumeIntegralInRange<std::size_t>(0, key_kinds.size() - 1)];
        kt = type_of(m.kk);
    }
    const cow_type *vt = type_of(m.ek);
    switch (in.ConsumeIntegralInRange<int>(0, 15)) {
    case 0: kt = nullptr; e.add(true, COW_EINVAL); break;
    case 1: vt = in.ConsumeBool() ? cow_type_bytes() : cow_type_string(); e.add(true, COW_EINVAL); break;
    default: break;
    }
    bool null_out = in.ConsumeIntegralInRange<int>(0, 15) == 0;
    e.add(null_out, COW_EINVAL);
    cow_map *out = sentinel<cow_map>();
    before_call bc;
    cow_status st = cow_map_new(null_out ? nullptr : &out, kt, vt, o.ptr());
    if (!FUZZ_JUDGE("cow_map_new", e, st, bc)) {
        FUZZ_CHECK(out == sentinel<cow_map>());
        return bc.unchanged();
    }
    w.created(out, m, o);
    put(j, out);
}

inline void container_fuzzer::op_map_insert(target *given) {
    target t = given ? *given : draw_target();
    rep_model *m = model_of(t, COW_KIND_MAP);
    expectation e = t.defects;
    key_draw k = draw_key(m, e);
    e.add(m && k.valid && k.utf8_bad, COW_EUTF8);
    elem_kind vk = m ? m->ek : elem_kind::u8;
    elem_source s;
    s.value = draw_elem(vk, t.handle(), may_store_itself(t, m));
    encode(vk, s.value, s.buf.bytes);
    s.ptr = s.buf.bytes;
    if (in.ConsumeIntegralInRange<int>(0, 15) == 0) {
        s.ptr = nullptr;
        e.add(m != nullptr, COW_EINVAL);
    }
    bool want_old = in.ConsumeBool(), want_flag = in.ConsumeBool();
    elem_buf old_value;
    bool replaced = true;
    void *old = t.handle();
    bool was_shared = m && w.shared(old);
    std::uint64_t bytes = m ? world::value_bytes(*m) : 0;
    before_call bc;
    cow_status st = sweep_call([&] {
        return cow_map_insert(t.slot<cow_map>(), k.ptr, k.len, s.ptr, want_old ? old_value.bytes : nullptr,
                              want_flag ? &replaced : nullptr);
    }, [&] { FUZZ_CHECK(t.handle() == old); }, old);
    if (!FUZZ_JUDGE("cow_map_insert", e, st, bc)) return failed(t, old, bc);
    bool itself = vk == elem_kind::handle && s.value == as_bits(old);
    adaptive_rule rule = adaptive_rule::applies;
    if (itself) {
        // Unique before the call: the library found it shared only once
        // it had stored its clone.
        if (!was_shared) rule = adaptive_rule::may;
        storing_itself(old);
        was_shared = true;
    }
    auto it = m->entries.find(k.model);
    bool existed = it != m->entries.end();
    if (want_flag) FUZZ_CHECK(replaced == existed);
    bool maybe_shared = tree_maybe_shared(*m);
    if (existed) {
        if (want_old) take_out(vk, was_shared, it->second, old_value.bytes, maybe_shared);
        else if (vk == elem_kind::handle && it->second) dropped_from(was_shared, it->second);
    }
    // Under a shared root, an insert into a tree that has a root node
    // copies that node at least.
    tree_cost cost = {true, !m->entries.empty()};
    write_kind wk = w.edited(old, t.handle(), true, bytes, [&](rep_model &r) { r.entries[k.model] = s.value; },
                             cost, rule);
    if (itself) stored_itself(old);
    // A flat or switched copy took every entry (world::copied, switched).
    if (wk == write_kind::in_place || wk == write_kind::path_copy) settle(t.handle(), {}, {k.model});
    settle_tree(t.handle());
}

inline void container_fuzzer::op_map_remove(target *given) {
    target t = given ? *given : draw_target();
    rep_model *m = model_of(t, COW_KIND_MAP);
    expectation e = t.defects;
    key_draw k = draw_key(m, e);
    bool found = m && k.valid && m->entries.count(k.model);
    e.add(m && k.valid && !found, COW_ENOTFOUND);
    bool want = in.ConsumeBool();
    elem_buf out;
    void *old = t.handle();
    bool was_shared = m && w.shared(old);
    std::uint64_t bytes = m ? world::value_bytes(*m) : 0;
    before_call bc;
    cow_status st = sweep_call([&] { return cow_map_remove(t.slot<cow_map>(), k.ptr, k.len, want ? out.bytes : nullptr); },
                               [&] { FUZZ_CHECK(t.handle() == old); }, old);
    if (!FUZZ_JUDGE("cow_map_remove", e, st, bc)) {
        // An absent key copies nothing, even from a shared map (cow.h): no
        // element was cloned, so no lineage counter may have moved (the
        // model is not read back as after other failures).
        if (st == COW_ENOTFOUND) last_call_failed = false;
        return failed(t, old, bc);
    }
    std::uint64_t v = m->entries.at(k.model);
    if (want) take_out(m->ek, was_shared, v, out.bytes, tree_maybe_shared(*m));
    else if (m->ek == elem_kind::handle && v) dropped_from(was_shared, v);
    // Removing the last entry under a shared root copies no node.
    w.edited(old, t.handle(), true, bytes, [&](rep_model &r) { r.entries.erase(k.model); }, {true, false});
    settle_tree(t.handle());
}

inline void container_fuzzer::op_map_get_mut(target *given) {
    target t = given ? *given : draw_target();
    rep_model *m = model_of(t, COW_KIND_MAP);
    expectation e = t.defects;
    key_draw k = draw_key(m, e);
    bool found = m && k.valid && m->entries.count(k.model);
    e.add(m && k.valid && !found, COW_ENOTFOUND);
    bool null_out = in.ConsumeIntegralInRange<int>(0, 15) == 0;
    e.add(null_out, COW_EINVAL);
    void *p = sentinel<void>();
    void *old = t.handle();
    std::uint64_t bytes = m ? world::value_bytes(*m) : 0;
    before_call bc;
    cow_status st = sweep_call([&] { return cow_map_get_mut(t.slot<cow_map>(), k.ptr, k.len, null_out ? nullptr : &p); },
                               [&] { FUZZ_CHECK(t.handle() == old && p == sentinel<void>()); }, old);
    if (!FUZZ_JUDGE("cow_map_get_mut", e, st, bc)) {
        FUZZ_CHECK(p == sentinel<void>());
        return failed(t, old, bc);
    }
    // A tree copies the path to the entry where other versions hold it.
    w.edited(old, t.handle(), true, bytes, [](rep_model &) {}, tree_cost::leaf());
    settle_tree(t.handle());
    rep_model &r = w.rep(t.handle());
    FUZZ_CHECK(p == cow_map_get(static_cast<const cow_map *>(t.handle()), k.ptr, k.len));
    write_through(r.ek, p, r.entries.at(k.model));
}

inline void container_fuzzer::op_map_clear() {
    target t = draw_target();
    rep_model *m = model_of(t, COW_KIND_MAP);
    expectation e = t.defects;
    void *old = t.handle();
    bool was_shared = m && w.shared(old);
    before_call bc;
    cow_status st = sweep_call([&] { return cow_map_clear(t.slot<cow_map>()); },
                               [&] { FUZZ_CHECK(t.handle() == old); });
    if (!FUZZ_JUDGE("cow_map_clear", e, st, bc)) return failed(t, old, bc);
    if (m->ek == elem_kind::handle && !was_shared)
        for (auto &[key, v] : m->entries)
            if (v) w.released(as_ptr(v));
    // A tree lets go of its root node: nothing is copied. An ADAPTIVE map
    // keeps its representation.
    w.edited(old, t.handle(), !m->entries.empty(), 0, [](rep_model &r) { r.entries.clear(); },
             tree_cost::root_only(), adaptive_rule::never);
}

// Lookups with absent and malformed keys find nothing and change nothing.
inline void container_fuzzer::op_map_lookup() {
    expectation e;
    const void *h = draw_source(e);
    rep_model *m = e.ok() && w.rep(h).kind == COW_KIND_MAP ? &w.rep(h) : nullptr;
    expectation ignored;
    key_draw k = draw_key(m, ignored);
    bool found = m && k.valid && m->entries.count(k.model);
    auto *map = static_cast<const cow_map *>(h);
    FUZZ_CHECK(cow_map_contains(map, k.ptr, k.len) == found);
    const void *v = cow_map_get(map, k.ptr, k.len);
    FUZZ_CHECK((v != nullptr) == found);
    if (found) FUZZ_CHECK(decode(m->ek, v) == m->entries.at(k.model));
}

}  // namespace fuzz
