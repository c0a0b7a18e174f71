// The cow_vec operations of the container fuzz targets: create (empty, with
// capacity, from an array), push / insert / set one element, extend, pop /
// erase / truncate / clear, reserve, make_mut / get_mut and into; and the
// whole-vector operations: slice, concat, equal and hash, diff, cursors from
// an index. Members of container_fuzzer (container_ops.hpp), which models
// the handle elements.
#pragma once
#include <climits>
#include <cmath>
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
    adaptive_rule rule = adaptive_rule::applies;
    if (itself) {
        // Unique before the call: the library found it shared only once
        // it had stored its clone.
        if (!was_shared) rule = adaptive_rule::may;
        storing_itself(old);
        was_shared = true;
    }
    bool maybe_shared = tree_maybe_shared(*m);
    // Under a shared root a set, or an insert before the end, copies the
    // leaf it edits at least.
    tree_cost cost = {true, which == vec_put::set || index < len};
    write_kind wk = w.edited(old, t.handle(), true, bytes, [&](rep_model &r) {
        if (which == vec_put::set) r.elems[index] = s.value;
        else r.elems.insert(r.elems.begin() + static_cast<std::ptrdiff_t>(index), s.value);
    }, cost, rule);
    if (itself) stored_itself(old);
    // A flat or switched copy took every element (world::copied, switched).
    if (wk == write_kind::in_place || wk == write_kind::path_copy) settle(t.handle(), {index}, {});
    // The replaced value leaves only now: the source may be that very
    // element, held nowhere else, and the library clones it before it
    // drops the old one.
    if (which == vec_put::set) {
        if (want_old) take_out(k, was_shared, replaced, old_value.bytes, maybe_shared);
        else if (k == elem_kind::handle && !was_shared && replaced) w.released(as_ptr(replaced));
        else if (k == elem_kind::handle && wk == write_kind::switched) w.dropped_copy(as_ptr(replaced));
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
    write_kind wk = w.edited(old, t.handle(), count > 0, len * es, [&](rep_model &r) {
        r.elems.insert(r.elems.end(), values.begin(), values.end());
    });
    if (wk == write_kind::in_place || wk == write_kind::path_copy) {
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
    write_kind wk = w.edited(old, t.handle(), n > 0, (len - n) * es, [&](rep_model &r) {
        r.elems.erase(r.elems.begin() + static_cast<std::ptrdiff_t>(at),
                      r.elems.begin() + static_cast<std::ptrdiff_t>(at + n));
    }, cost);
    if (k == elem_kind::handle && wk == write_kind::switched && !want)
        for (auto v : removed) w.dropped_copy(as_ptr(v));
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
    // A tree gets a private root and reserves nothing else. An ADAPTIVE
    // copy switches only when a flat vector could hold the result too: a
    // tree reserving past that stays a tree, below the floor too.
    adaptive_rule rule = too_many(add, es, len) ? adaptive_rule::never : adaptive_rule::applies;
    w.edited(old, t.handle(), true, len * es, [](rep_model &) {}, tree_cost::root_only(), rule);
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
    // A tree has no contiguous elements to hand out; it is never flattened,
    // except by the copy a write to a shared ADAPTIVE tree makes, which the
    // rule may make flat (then the call succeeds): below the floor it must.
    bool tree = m && m->is_tree();
    bool wants_data = !one && !null_out;
    if (tree && wants_data) {
        bool may_flatten = m->adaptive() && w.shared(t.handle());
        bool must_flatten = may_flatten && world::value_bytes(*m) < m->adaptive_floor();
        if (!must_flatten) e.add(true, COW_ENOTCONTIGUOUS);
        e.may_succeed = may_flatten;
    }
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
    write_kind wk = w.edited(old, t.handle(), true, bytes, [](rep_model &) {},
                             one ? tree_cost::leaf() : tree_cost::root_only());
    FUZZ_CHECK(!cow_is_shared(t.handle()));
    // Contiguous elements were handed out: the value is flat (a flat
    // ADAPTIVE value stays flat; a tree got here only by a switch).
    if (wants_data) FUZZ_CHECK(!w.rep(t.handle()).is_tree() && (!tree || wk == write_kind::switched));
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

// ---- whole-vector operations ---------------------------------------------

inline rep_model *container_fuzzer::draw_vec_source(expectation &e, const void *&src) {
    src = draw_source(e);
    if (!e.ok()) return nullptr;
    rep_model *m = &w.rep(src);
    if (m->kind == COW_KIND_VEC) return m;
    e.add(true, COW_ETYPE);
    return nullptr;
}

// cow_vec_slice into a pool slot: a new value of its own (a new lineage, the
// source's strategy and options). A flat slice copies its elements (handles
// cloned, one each); a tree slice shares the source's nodes inside the range
// and copies at most the boundary leaves, so its handle elements are read
// back (settle_tree) and their counts bounded like a family's.
inline void container_fuzzer::op_vec_slice() {
    int j = draw_slot();
    expectation e;
    const void *src;
    rep_model *m = draw_vec_source(e, src);
    std::size_t len = m ? m->elems.size() : 0, offset, count;
    switch (in.ConsumeIntegralInRange<int>(0, 7)) {
    case 0:
        offset = draw_index(in, len);
        count = draw_index(in, len);
        break;
    case 1:
        // offset + count wraps around.
        offset = in.ConsumeIntegralInRange<std::size_t>(1, len + 1);
        count = SIZE_MAX - in.ConsumeIntegralInRange<std::size_t>(0, 2);
        break;
    default:
        offset = in.ConsumeIntegralInRange<std::size_t>(0, len);
        count = in.ConsumeIntegralInRange<std::size_t>(0, len - offset);
    }
    if (m) e.add(offset > len || count > len - offset, COW_ERANGE);
    bool null_out = in.ConsumeIntegralInRange<int>(0, 15) == 0;
    e.add(null_out, COW_EINVAL);
    cow_vec *out = sentinel<cow_vec>();
    before_call bc;
    cow_status st = sweep_call([&] {
        return cow_vec_slice(null_out ? nullptr : &out, static_cast<const cow_vec *>(src), offset, count);
    }, [&] { FUZZ_CHECK(out == sentinel<cow_vec>()); });
    if (!FUZZ_JUDGE("cow_vec_slice", e, st, bc)) {
        FUZZ_CHECK(out == sentinel<cow_vec>());
        return bc.unchanged();
    }
    FUZZ_CHECK(out != nullptr && out != src);
    w.sliced_vec(out, src, offset, count);
    if (m->is_tree()) {
        settle_tree(out);
    } else {
        std::vector<std::size_t> pos;
        for (std::size_t i = 0; i < count; ++i) pos.push_back(i);
        settle(out, pos, {});
    }
    put(j, out);
}

// cow_vec_concat: *slot gets other's elements appended; other (a pool value,
// or *slot itself) is borrowed and stays as it was. A write like any other:
// under a shared slot it makes a copy, counted once in the slot's lineage.
// Two trees join and share other's nodes (their families become one; a join
// of two relatives, or of a tree with itself, is self-shared); anything else
// is copied element by element (handles cloned once each).
constexpr std::size_t max_concat_len = 2048;
inline void container_fuzzer::op_vec_concat() {
    target t = draw_target();
    rep_model *m = model_of(t, COW_KIND_VEC);
    expectation e = t.defects;
    const void *other;
    if (t.valid() && in.ConsumeIntegralInRange<int>(0, 3) == 0) other = t.handle();
    else other = draw_source(e);
    rep_model *om = nullptr;
    if (w.known(other) && other != fake) {
        om = &w.rep(other);
        if (om->kind != COW_KIND_VEC) {
            e.add(true, COW_ETYPE);
            om = nullptr;
        }
    }
    if (m && om) e.add(m->ek != om->ek, COW_ETYPE);
    std::vector<std::uint64_t> added = om ? om->elems : std::vector<std::uint64_t>{};
    rep_model other_before = om ? *om : rep_model{};
    std::size_t n = added.size(), len = m ? m->elems.size() : 0, es = m ? size_of(m->ek) : 1;
    // Concatenating a vector with itself doubles it: the model (and every
    // check, which reads all elements) stays small.
    if (len + n > max_concat_len) return trace("cow_vec_concat skipped: too long a result");
    bool joins = m && om && m->is_tree() && om->is_tree();
    void *old = t.handle();
    before_call bc;
    cow_status st = sweep_call([&] { return cow_vec_concat(t.slot<cow_vec>(), static_cast<const cow_vec *>(other)); },
                               [&] {
                                   FUZZ_CHECK(t.handle() == old);
                                   if (joins) w.tree_joined(*m, n);
                               }, old);
    if (!FUZZ_JUDGE("cow_vec_concat", e, st, bc)) {
        if (joins) w.tree_joined(*m, n);
        return failed(t, old, bc);
    }
    bool self_shared = false;
    if (joins && n > 0) {
        self_shared = om->family == m->family || om->self_shared;
        w.merge_families(m->family, om->family);
        w.tree_joined(*m, n);
    }
    // Two trees join without asking the ADAPTIVE rule, unless other's
    // elements all sit in its tail (which the model does not know): those
    // are appended like any elements, by a write that asks it.
    write_kind wk = w.edited(old, t.handle(), n > 0, len * es, [&](rep_model &r) {
        r.elems.insert(r.elems.end(), added.begin(), added.end());
        r.self_shared = r.self_shared || self_shared;
    }, {}, joins ? adaptive_rule::may : adaptive_rule::applies);
    // The other operand is unchanged (unless it is the slot, written in
    // place); world::check compares the library's value with this model.
    if (other != old || t.handle() != old) FUZZ_CHECK(w.rep(other).elems == other_before.elems);
    if (!joins && (wk == write_kind::in_place || wk == write_kind::path_copy)) {
        std::vector<std::size_t> pos;
        for (std::size_t i = 0; i < n; ++i) pos.push_back(len + i);
        settle(t.handle(), pos, {});
    }
    settle_tree(t.handle());
}

inline container_fuzzer::vec_operand container_fuzzer::operand_of(const void *h) {
    vec_operand o;
    o.h = h;
    if (!h) return o;
    if (h == fake || !w.known(h) || w.rep(h).kind != COW_KIND_VEC) {
        o.wrong = true;
        return o;
    }
    o.m = &w.rep(h);
    return o;
}

inline container_fuzzer::vec_operand container_fuzzer::draw_vec_operand() {
    int k = in.ConsumeIntegralInRange<int>(0, world::slots + 2);
    if (k == world::slots) return operand_of(nullptr);
    if (k == world::slots + 1) return operand_of(foreign());
    if (k == world::slots + 2) return operand_of(fake);
    return operand_of(w.slot[k]);
}

// The element types' equality (cow_type docs): floats with NaN == NaN and
// -0.0 == +0.0; handles the same value, or byte values (buffers, strings)
// of one kind with the same contents; the rest by value.
inline bool container_fuzzer::elem_equal(elem_kind k, std::uint64_t a, std::uint64_t b) {
    if (k == elem_kind::f64) {
        double x, y;
        std::memcpy(&x, &a, 8);
        std::memcpy(&y, &b, 8);
        return (std::isnan(x) && std::isnan(y)) || x == y;
    }
    if (k != elem_kind::handle || a == b) return a == b;
    if (!a || !b) return false;
    const rep_model &x = w.rep(as_ptr(a)), &y = w.rep(as_ptr(b));
    bool bytes = x.kind == COW_KIND_BUF || x.kind == COW_KIND_STR;
    return bytes && x.kind == y.kind && x.bytes == y.bytes;
}

inline bool container_fuzzer::model_equal(const vec_operand &a, const vec_operand &b) {
    if (a.wrong || b.wrong) return false;
    if (a.h == b.h) return true;
    if (a.len() != b.len()) return false;
    if (a.m && b.m && a.m->ek != b.m->ek) return false;
    for (std::size_t i = 0; i < a.len(); ++i)
        if (!elem_equal(a.m->ek, a.m->elems[i], b.m->elems[i])) return false;
    return true;
}

// The maximal ascending ranges of positions where a and b differ; the
// positions past the shorter one differ.
inline std::vector<std::pair<std::size_t, std::size_t>> container_fuzzer::model_diff(const vec_operand &a,
                                                                                    const vec_operand &b) {
    std::vector<std::pair<std::size_t, std::size_t>> out;
    std::size_t common = std::min(a.len(), b.len()), longer = std::max(a.len(), b.len());
    std::size_t open = SIZE_MAX;
    for (std::size_t i = 0; i < longer; ++i) {
        bool differ = i >= common || !elem_equal(a.m->ek, a.m->elems[i], b.m->elems[i]);
        if (differ && open == SIZE_MAX) open = i;
        if (!differ && open != SIZE_MAX) {
            out.emplace_back(open, i - open);
            open = SIZE_MAX;
        }
    }
    if (open != SIZE_MAX) out.emplace_back(open, longer - open);
    return out;
}

// cow_vec_equal and cow_vec_hash: two drawn operands (NULL, wrong kinds and
// fake pointers included), then every pair of pool values: equal exactly
// when the models are, and equal vectors hash alike.
inline void container_fuzzer::op_vec_compare() {
    vec_operand a = draw_vec_operand(), b = in.ConsumeIntegralInRange<int>(0, 7) == 0 ? a : draw_vec_operand();
    before_call bc;
    bool eq = model_equal(a, b);
    FUZZ_CHECK(cow_vec_equal(static_cast<const cow_vec *>(a.h), static_cast<const cow_vec *>(b.h)) == eq);
    FUZZ_CHECK(cow_vec_equal(static_cast<const cow_vec *>(b.h), static_cast<const cow_vec *>(a.h)) == eq);
    std::uint64_t ha = cow_vec_hash(static_cast<const cow_vec *>(a.h));
    FUZZ_CHECK(ha == cow_vec_hash(static_cast<const cow_vec *>(a.h)));
    // Another kind (or no handle) hashes as an empty vector.
    if (a.wrong) FUZZ_CHECK(ha == cow_vec_hash(nullptr));
    if (eq) FUZZ_CHECK(ha == cow_vec_hash(static_cast<const cow_vec *>(b.h)));
    std::vector<vec_operand> all{operand_of(nullptr)};
    for (void *h : w.slot) all.push_back(operand_of(h));
    std::vector<std::uint64_t> hashes;
    for (const vec_operand &o : all) hashes.push_back(cow_vec_hash(static_cast<const cow_vec *>(o.h)));
    for (std::size_t i = 0; i < all.size(); ++i)
        for (std::size_t k = i + 1; k < all.size(); ++k) {
            bool same = model_equal(all[i], all[k]);
            if (tracing() && same != cow_vec_equal(static_cast<const cow_vec *>(all[i].h), static_cast<const cow_vec *>(all[k].h)))
                std::fprintf(stderr, "  cow_vec_equal(%p, %p) is not %d\n", all[i].h, all[k].h, same);
            FUZZ_CHECK(cow_vec_equal(static_cast<const cow_vec *>(all[i].h), static_cast<const cow_vec *>(all[k].h)) == same);
            if (same) FUZZ_CHECK(hashes[i] == hashes[k]);
        }
    trace("cow_vec_equal/hash (checked against the model)");
    bc.unchanged();
}

namespace diff_detail {
struct diff_ctx {
    std::vector<std::pair<std::size_t, std::size_t>> got;
    std::size_t stop_at = 0;  // the call (1-based) that returns stop_value; 0: none
    int stop_value = 1;
};
inline int diff_fn(void *ctx, std::size_t offset, std::size_t count) {
    auto *d = static_cast<diff_ctx *>(ctx);
    d->got.emplace_back(offset, count);
    return d->got.size() == d->stop_at ? d->stop_value : 0;
}
}  // namespace diff_detail

// cow_vec_diff: the exact ranges the models give, in order; a callback that
// returns non-zero at its k-th call stops the walk there (*out_stopped).
inline void container_fuzzer::op_vec_diff() {
    vec_operand a = draw_vec_operand(), b = in.ConsumeIntegralInRange<int>(0, 7) == 0 ? a : draw_vec_operand();
    expectation e;
    e.add(a.wrong || b.wrong, COW_ETYPE);
    if (a.m && b.m) e.add(a.m->ek != b.m->ek, COW_ETYPE);
    bool null_fn = in.ConsumeIntegralInRange<int>(0, 15) == 0;
    e.add(null_fn, COW_EINVAL);
    bool null_stopped = in.ConsumeIntegralInRange<int>(0, 7) == 0;
    std::vector<std::pair<std::size_t, std::size_t>> want;
    if (e.ok()) want = model_diff(a, b);
    diff_detail::diff_ctx d;
    if (in.ConsumeBool()) d.stop_at = in.ConsumeIntegralInRange<std::size_t>(1, want.size() + 1);
    static const int stops[] = {1, -1, 2, INT_MIN, INT_MAX};
    d.stop_value = stops[in.ConsumeIntegralInRange<int>(0, 4)];
    bool expect_stop = d.stop_at >= 1 && d.stop_at <= want.size();
    if (expect_stop) want.resize(d.stop_at);
    bool stopped = !expect_stop;  // the opposite of what must be written
    before_call bc;
    cow_status st = cow_vec_diff(static_cast<const cow_vec *>(a.h), static_cast<const cow_vec *>(b.h),
                                 null_fn ? nullptr : diff_detail::diff_fn, &d, null_stopped ? nullptr : &stopped);
    if (!FUZZ_JUDGE("cow_vec_diff", e, st, bc)) {
        FUZZ_CHECK(d.got.empty() && stopped == !expect_stop);
        return bc.unchanged();
    }
    if (tracing())
        for (auto [at, n] : d.got) std::fprintf(stderr, "  (diff range %zu +%zu)\n", at, n);
    FUZZ_CHECK(d.got == want);
    if (!null_stopped) FUZZ_CHECK(stopped == expect_stop);
    bc.unchanged();
}

// cow_vec_cursor_init_at: the spans from the index cover the elements from
// there, in order, where cow_vec_get finds them.
inline void container_fuzzer::op_vec_cursor_at() {
    expectation e;
    const void *src;
    rep_model *m = draw_vec_source(e, src);
    std::size_t len = m ? m->elems.size() : 0;
    std::size_t index = in.ConsumeBool() ? in.ConsumeIntegralInRange<std::size_t>(0, len) : draw_index(in, len);
    if (m) e.add(index > len, COW_ERANGE);
    bool null_cursor = in.ConsumeIntegralInRange<int>(0, 15) == 0;
    e.add(null_cursor, COW_EINVAL);
    auto *v = static_cast<const cow_vec *>(src);
    cow_vec_cursor c;
    before_call bc;
    cow_status st = cow_vec_cursor_init_at(null_cursor ? nullptr : &c, v, index);
    if (!FUZZ_JUDGE("cow_vec_cursor_init_at", e, st, bc)) return bc.unchanged();
    std::size_t es = size_of(m->ek), seen = index, count = 0, spans = 0;
    const void *span = nullptr;
    while (cow_vec_next_span(&c, &span, &count)) {
        FUZZ_CHECK(count >= 1 && seen + count <= len);
        for (std::size_t k = 0; k < count; ++k) {
            const unsigned char *p = static_cast<const unsigned char *>(span) + k * es;
            FUZZ_CHECK(p == cow_vec_get(v, seen + k));
            FUZZ_CHECK(decode(m->ek, p) == m->elems[seen + k]);
        }
        seen += count;
        spans += 1;
        if (m->is_tree()) FUZZ_CHECK(count * es <= tree_leaf_bytes_max(es));
    }
    FUZZ_CHECK(seen == len);
    if (!m->is_tree()) FUZZ_CHECK(spans == (index < len ? 1u : 0u));
    FUZZ_CHECK(!cow_vec_next_span(&c, &span, &count));
    bc.unchanged();
}

}  // namespace fuzz
