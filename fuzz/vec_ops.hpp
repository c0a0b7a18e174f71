// The cow_vec operations of the container fuzz targets: create (empty, with
// capacity, from an array), push / insert / set one element, extend, pop /
// erase / truncate / clear, reserve, make_mut / get_mut and into. Members of
// container_fuzzer (container_ops.hpp), which models the handle elements.
#pragma once
#include <cstring>
#include <string>
#include <vector>

#include "container_ops.hpp"

namespace fuzz {

inline void container_fuzzer::op_vec_new() {
    int j = draw_slot();
    elem_kind k = draw_value_kind();
    options_draw o = draw_options(in, true);
    expectation e = o.defects;
    std::size_t es = size_of(k);
    std::vector<std::uint64_t> values;
    elems_buf storage;
    const void *elems = nullptr;
    std::size_t count = 0, capacity = 0;
    int how = in.ConsumeIntegralInRange<int>(0, 9);
    bool tree = o.strategy == COW_STRATEGY_STRUCTURAL;
    const cow_type *type = type_of(k);
    if (in.ConsumeIntegralInRange<int>(0, 15) == 0) {
        // Types a vector must refuse: NULL, a variable-length key type.
        type = in.ConsumeBool() ? nullptr : cow_type_string();
        e.add(true, COW_EINVAL);
    }
    if (how == 0) {
        capacity = in.ConsumeBool() ? draw_huge(in) : huge_request / es + 1;
        // A tree reserves nothing: it refuses only what could never fit.
        if (tree ? never_fits(capacity, es) : too_many(capacity, es)) e.add(true, COW_EOVERFLOW);
    } else if (how == 1) {
        capacity = in.ConsumeIntegralInRange<std::size_t>(0, 40);
    } else if (how == 2) {
        count = draw_huge(in);
        // A tree copies element by element: a count that could fit would be read.
        if (tree && !never_fits(count, es)) count = SIZE_MAX;
        elems = "not read";
        e.add(true, COW_EOVERFLOW);
    } else if (how == 3) {
        count = in.ConsumeIntegralInRange<std::size_t>(1, 3);
        e.add(true, COW_EINVAL);  // NULL elements
    } else if (how >= 6) {
        count = in.ConsumeIntegralInRange<std::size_t>(0, k == elem_kind::handle ? 4 : 12);
        unsigned char *base = storage.bytes;
        for (std::size_t i = 0; i < count; ++i) {
            values.push_back(draw_elem(k, nullptr));
            encode(k, values.back(), base + i * es);
        }
        elems = base;
    }
    bool null_out = in.ConsumeIntegralInRange<int>(0, 15) == 0;
    e.add(null_out, COW_EINVAL);
    cow_vec *out = sentinel<cow_vec>();
    cow_vec **outp = null_out ? nullptr : &out;
    before_call bc;
    cow_status st = sweep_call([&] {
        if (how == 0 || how == 1) return cow_vec_with_capacity(outp, type, capacity, o.ptr());
        if ((how >= 2 && how <= 3) || how >= 6) return cow_vec_from_array(outp, type, elems, count, o.ptr());
        return cow_vec_new(outp, type, o.ptr());
    }, [&] { FUZZ_CHECK(out == sentinel<cow_vec>()); });
    if (!FUZZ_JUDGE("cow_vec_new", e, st, bc)) {
        FUZZ_CHECK(out == sentinel<cow_vec>());
        return bc.unchanged();
    }
    rep_model m;
    m.kind = COW_KIND_VEC;
    m.ek = k;
    m.elems = values;
    w.created(out, m, o);
    std::vector<std::size_t> pos;
    for (std::size_t i = 0; i < values.size(); ++i) pos.push_back(i);
    settle(out, pos, {});
    put(j, out);
}

inline void container_fuzzer::draw_vec_source(elem_source &s, const rep_model *m, const void *h, elem_kind k, bool itself) {
    if (m && !m->elems.empty() && in.ConsumeIntegralInRange<int>(0, 3) == 0) {
        std::size_t i = in.ConsumeIntegralInRange<std::size_t>(0, m->elems.size() - 1);
        s.ptr = cow_vec_get(static_cast<const cow_vec *>(h), i);
        s.value = m->elems[i];
        return;
    }
    s.value = draw_elem(k, h, itself);
    encode(k, s.value, s.buf.bytes);
    s.ptr = s.buf.bytes;
}

// push / insert / set: one element in.
inline void container_fuzzer::op_vec_put(vec_put which, target *given) {
    target t = given ? *given : draw_target();
    rep_model *m = model_of(t, COW_KIND_VEC);
    expectation e = t.defects;
    elem_kind k = m ? m->ek : elem_kind::u8;
    std::size_t len = m ? m->elems.size() : 0;
    std::size_t index = which == vec_put::push ? len : draw_index(in, len);
    if (m && which == vec_put::insert) e.add(index > len, COW_ERANGE);
    if (m && which == vec_put::set) e.add(index >= len, COW_ERANGE);
    elem_source s;
    draw_vec_source(s, m, t.handle(), k, may_store_itself(t, m));
    if (in.ConsumeIntegralInRange<int>(0, 15) == 0) {
        s.ptr = nullptr;
        e.add(true, COW_EINVAL);
    }
    bool want_old = which == vec_put::set && in.ConsumeBool();
    elem_buf old_value;
    void *old = t.handle();
    bool was_shared = m && w.shared(old);
    before_call bc;
    auto **slot = t.slot<cow_vec>();
    cow_status st = sweep_call([&] {
        if (which == vec_put::push) return cow_vec_push(slot, s.ptr);
        if (which == vec_put::insert) return cow_vec_insert(slot, index, s.ptr);
        return cow_vec_set(slot, index, s.ptr, want_old ? old_value.bytes : nullptr);
    }, [&] { FUZZ_CHECK(t.handle() == old); }, old);
    if (!FUZZ_JUDGE("cow_vec_push/insert/set", e, st, bc)) return failed(t, old, bc);
    std::uint64_t replaced = which == vec_put::set ? m->elems[index] : 0;
    std::uint64_t bytes = (which == vec_put::set ? len - 1 : len) * size_of(k);
    bool itself = k == elem_kind::handle && s.value == as_bits(old);
    if (itself) {
        storing_itself(old);
        was_shared = true;
    }
    bool tree = m->is_tree(), maybe_shared = tree_maybe_shared(*m);
    // Under a shared root a set, or an insert before the end, copies the
    // leaf it edits at least.
    tree_cost cost = {true, which == vec_put::set || index < len};
    w.edited(old, t.handle(), true, bytes, [&](rep_model &r) {
        if (which == vec_put::set) r.elems[index] = s.value;
        else r.elems.insert(r.elems.begin() + static_cast<std::ptrdiff_t>(index), s.value);
    }, cost);
    if (itself) stored_itself(old);
    if (t.handle() == old || tree) settle(t.handle(), {index}, {});
    // The replaced value leaves only now: the source may be that very
    // element, held nowhere else, and the library clones it before it
    // drops the old one.
    if (which == vec_put::set) {
        if (want_old) take_out(k, was_shared, replaced, old_value.bytes, maybe_shared);
        else if (k == elem_kind::handle && !was_shared && replaced) w.released(as_ptr(replaced));
    }
    settle_tree(t.handle());
}

inline void container_fuzzer::op_vec_extend(target *given) {
    target t = given ? *given : draw_target();
    rep_model *m = model_of(t, COW_KIND_VEC);
    expectation e = t.defects;
    elem_kind k = m ? m->ek : elem_kind::u8;
    std::size_t len = m ? m->elems.size() : 0, es = size_of(k);
    elems_buf storage;
    std::vector<std::uint64_t> values;
    const void *elems = storage.bytes;
    std::size_t count = 0;
    switch (in.ConsumeIntegralInRange<int>(0, 7)) {
    case 0:
        count = draw_huge(in);
        // A tree appends element by element: a count that could fit would be read.
        if (m && m->is_tree() && !never_fits(count, es, len)) count = SIZE_MAX;
        e.add(true, COW_EOVERFLOW);
        break;
    case 1:
        elems = nullptr;
        count = in.ConsumeIntegralInRange<std::size_t>(0, 2);
        e.add(count > 0, COW_EINVAL);
        break;
    case 2:
        // The vector's own elements (a slice of itself).
        if (m && len) {
            std::size_t from = in.ConsumeIntegralInRange<std::size_t>(0, len - 1);
            // Contiguous elements only: in a tree, those of one span (leaf).
            std::size_t room = len - from;
            if (m->is_tree()) {
                cow_vec_cursor c;
                FUZZ_CHECK(cow_vec_cursor_init(&c, static_cast<const cow_vec *>(t.handle())) == COW_OK);
                c.next = from;
                const void *span = nullptr;
                FUZZ_CHECK(cow_vec_next_span(&c, &span, &room) && room >= 1 && room <= len - from);
                FUZZ_CHECK(span == cow_vec_get(static_cast<const cow_vec *>(t.handle()), from));
            }
            count = in.ConsumeIntegralInRange<std::size_t>(0, room);
            elems = cow_vec_get(static_cast<const cow_vec *>(t.handle()), from);
            values.assign(m->elems.begin() + static_cast<std::ptrdiff_t>(from),
                          m->elems.begin() + static_cast<std::ptrdiff_t>(from + count));
        }
        break;
    default:
        count = in.ConsumeIntegralInRange<std::size_t>(0, k == elem_kind::handle ? 4 : sizeof storage.bytes / es < 24 ? sizeof storage.bytes / es : 24);
        for (std::size_t i = 0; i < count; ++i) {
            values.push_back(draw_elem(k, t.handle()));
            encode(k, values.back(), storage.bytes + i * es);
        }
    }
    void *old = t.handle();
    before_call bc;
    cow_status st = sweep_call([&] { return cow_vec_extend(t.slot<cow_vec>(), elems, count); },
                               [&] { FUZZ_CHECK(t.handle() == old); }, old);
    if (!FUZZ_JUDGE("cow_vec_extend", e, st, bc)) return failed(t, old, bc);
    bool tree = m->is_tree();
    w.edited(old, t.handle(), count > 0, len * es, [&](rep_model &r) {
        r.elems.insert(r.elems.end(), values.begin(), values.end());
    });
    if (t.handle() == old || tree) {
        std::vector<std::size_t> pos;
        for (std::size_t i = 0; i < count; ++i) pos.push_back(len + i);
        settle(t.handle(), pos, {});
    }
    settle_tree(t.handle());
}

// pop / erase / truncate / clear: elements out.
inline void container_fuzzer::op_vec_remove(vec_removal which, target *given) {
    target t = given ? *given : draw_target();
    rep_model *m = model_of(t, COW_KIND_VEC);
    expectation e = t.defects;
    elem_kind k = m ? m->ek : elem_kind::u8;
    std::size_t len = m ? m->elems.size() : 0, es = size_of(k);
    std::size_t at = 0, n = 0;  // the range removed
    if (which == vec_removal::pop) {
        if (m) e.add(len == 0, COW_ERANGE);
        at = len ? len - 1 : 0;
        n = 1;
    } else if (which == vec_removal::erase) {
        at = draw_index(in, len);
        n = 1;
        if (m) e.add(at >= len, COW_ERANGE);
    } else if (which == vec_removal::truncate) {
        std::size_t new_len = draw_index(in, len);
        if (m) e.add(new_len > len, COW_ERANGE);
        at = new_len;
        n = new_len <= len ? len - new_len : 0;
    } else {
        at = 0;
        n = len;
    }
    bool want = (which == vec_removal::pop || which == vec_removal::erase) && in.ConsumeBool();
    elem_buf out;
    void *old = t.handle();
    bool was_shared = m && w.shared(old);
    std::vector<std::uint64_t> removed;
    before_call bc;
    auto **slot = t.slot<cow_vec>();
    cow_status st = sweep_call([&] {
        if (which == vec_removal::pop) return cow_vec_pop(slot, want ? out.bytes : nullptr);
        if (which == vec_removal::erase) return cow_vec_erase(slot, at, want ? out.bytes : nullptr);
        if (which == vec_removal::truncate) return cow_vec_truncate(slot, at);
        return cow_vec_clear(slot);
    }, [&] { FUZZ_CHECK(t.handle() == old); }, old);
    if (!FUZZ_JUDGE("cow_vec_pop/erase/truncate/clear", e, st, bc)) return failed(t, old, bc);
    removed.assign(m->elems.begin() + static_cast<std::ptrdiff_t>(at),
                   m->elems.begin() + static_cast<std::ptrdiff_t>(at + n));
    if (want) {
        take_out(k, was_shared, removed[0], out.bytes, tree_maybe_shared(*m));
    } else if (k == elem_kind::handle && !was_shared) {
        for (auto v : removed)
            if (v) w.released(as_ptr(v));
    }
    // Under a shared root a removal may copy nothing: where the removed
    // elements fill whole leaves, those leaves just leave the tree.
    tree_cost cost = {true, false};
    w.edited(old, t.handle(), n > 0, (len - n) * es, [&](rep_model &r) {
        r.elems.erase(r.elems.begin() + static_cast<std::ptrdiff_t>(at),
                      r.elems.begin() + static_cast<std::ptrdiff_t>(at + n));
    }, cost);
    settle_tree(t.handle());
}

inline void container_fuzzer::op_vec_reserve() {
    target t = draw_target();
    rep_model *m = model_of(t, COW_KIND_VEC);
    expectation e = t.defects;
    std::size_t len = m ? m->elems.size() : 0, es = m ? size_of(m->ek) : 1;
    std::size_t add;
    switch (in.ConsumeIntegralInRange<int>(0, 5)) {
    case 0: add = draw_huge(in); break;
    case 1: add = huge_request / es + 1; break;
    default: add = in.ConsumeIntegralInRange<std::size_t>(0, 20);
    }
    if (m && (m->is_tree() ? never_fits(add, es, len) : too_many(add, es, len))) e.add(true, COW_EOVERFLOW);
    void *old = t.handle();
    before_call bc;
    cow_status st = sweep_call([&] { return cow_vec_reserve(t.slot<cow_vec>(), add); },
                               [&] { FUZZ_CHECK(t.handle() == old); });
    if (!FUZZ_JUDGE("cow_vec_reserve", e, st, bc)) return failed(t, old, bc);
    // A tree gets a private root and reserves nothing else.
    w.edited(old, t.handle(), true, len * es, [](rep_model &) {}, tree_cost::root_only());
    FUZZ_CHECK(!cow_is_shared(t.handle()));
}

// make_mut (all elements) or get_mut (one): then write through it, or,
// for handle elements, edit the inner value through the element slot.
inline void container_fuzzer::op_vec_mut(bool one, target *given) {
    target t = given ? *given : draw_target();
    rep_model *m = model_of(t, COW_KIND_VEC);
    expectation e = t.defects;
    std::size_t len = m ? m->elems.size() : 0;
    std::size_t index = one ? draw_index(in, len) : 0;
    if (m && one) e.add(index >= len, COW_ERANGE);
    bool null_out = in.ConsumeIntegralInRange<int>(0, 15) == 0;
    if (one) e.add(null_out, COW_EINVAL);
    // A tree has no contiguous elements to hand out; it is never flattened.
    bool tree = m && m->is_tree();
    if (tree && !one) e.add(!null_out, COW_ENOTCONTIGUOUS);
    void *p = sentinel<void>();
    void *old = t.handle();
    std::uint64_t bytes = m ? world::value_bytes(*m) : 0;
    before_call bc;
    cow_status st = sweep_call([&] {
        return one ? cow_vec_get_mut(t.slot<cow_vec>(), index, null_out ? nullptr : &p)
                   : cow_vec_make_mut(t.slot<cow_vec>(), null_out ? nullptr : &p);
    }, [&] { FUZZ_CHECK(t.handle() == old && p == sentinel<void>()); }, old);
    if (!FUZZ_JUDGE("cow_vec_get_mut/make_mut", e, st, bc)) {
        FUZZ_CHECK(p == sentinel<void>());
        return failed(t, old, bc);
    }
    // get_mut copies the path to the element where other versions hold it;
    // make_mut makes the root private only.
    w.edited(old, t.handle(), true, bytes, [](rep_model &) {}, one ? tree_cost::leaf() : tree_cost::root_only());
    FUZZ_CHECK(!cow_is_shared(t.handle()));
    settle_tree(t.handle());
    if (null_out || len == 0) return;
    rep_model &r = w.rep(t.handle());
    std::size_t i = one ? index : in.ConsumeIntegralInRange<std::size_t>(0, len - 1);
    void *elem = static_cast<unsigned char *>(p) + (one ? 0 : i * size_of(r.ek));
    FUZZ_CHECK(elem == cow_vec_get(static_cast<const cow_vec *>(t.handle()), i));
    write_through(r.ek, elem, r.elems[i]);
}

inline void container_fuzzer::op_vec_into() {
    target t = draw_target();
    rep_model *m = model_of(t, COW_KIND_VEC);
    expectation e = t.defects;
    bool null_out = in.ConsumeIntegralInRange<int>(0, 15) == 0;
    e.add(null_out, COW_EINVAL);
    cow_owned owned;
    std::memset(&owned, 0x5a, sizeof owned);
    const cow_owned untouched = owned;
    void *old = t.handle();
    bool was_shared = m && w.shared(old);
    before_call bc;
    cow_status st = sweep_call([&] { return cow_vec_into(t.slot<cow_vec>(), null_out ? nullptr : &owned); }, [&] {
        FUZZ_CHECK(t.handle() == old);
        FUZZ_CHECK(std::memcmp(&owned, &untouched, sizeof owned) == 0);
    });
    if (!FUZZ_JUDGE("cow_vec_into", e, st, bc)) {
        FUZZ_CHECK(std::memcmp(&owned, &untouched, sizeof owned) == 0);
        return failed(t, old, bc);
    }
    FUZZ_CHECK(*t.where == nullptr && owned.data != nullptr && owned.len == m->elems.size());
    elem_kind k = m->ek;
    std::size_t es = size_of(k);
    FUZZ_CHECK(reinterpret_cast<std::uintptr_t>(owned.data) % type_of(k)->elem_align == 0);
    std::vector<std::uint64_t> values = m->elems;
    // A tree's leaves that other versions hold are copied, its own moved.
    bool maybe_shared = tree_maybe_shared(*m);
    // A unique vector's elements move out: its references go with them.
    if (!was_shared && k == elem_kind::handle) m->elems.clear();
    for (std::size_t i = 0; i < values.size(); ++i)
        take_out(k, was_shared, values[i], static_cast<unsigned char *>(owned.data) + i * es, maybe_shared);
    w.released(old);
    cow_owned_free(&owned);
}

}  // namespace fuzz
