// Operations on cow_vec, cow_map and cow_box, for element types of every
// shape (types.hpp) including libcow handles, which the mixed target uses
// to nest values (vectors of strings, maps holding vectors) and to edit
// them in place through get_mut / make_mut slots.
//
// Handle elements: storing one clones it (a lazy value: the same pointer,
// one more count; an eager one: a new copy, read back from the library);
// a value handed out of a unique container is moved, out of a shared one
// cloned. world::stored_clone models one such clone.
#pragma once
#include <vector>

#include "pool_ops.hpp"

namespace fuzz {

inline const void *as_ptr(std::uint64_t v) {
    return reinterpret_cast<const void *>(static_cast<std::uintptr_t>(v));
}
inline std::uint64_t as_bits(const void *p) { return reinterpret_cast<std::uintptr_t>(p); }

// Room for one element of any kind, aligned for all of them.
struct elem_buf {
    alignas(64) unsigned char bytes[big_size];
};
// Room for a few elements in a row (arrays passed to from_array / extend).
struct elems_buf {
    alignas(64) unsigned char bytes[16 * big_size];
};

class container_fuzzer : public pool_fuzzer {
public:
    std::vector<elem_kind> value_kinds;  // element / value kinds to create
    std::vector<elem_kind> key_kinds;    // fixed-size map key kinds
    int nested_depth = 0;                // > 0 while editing through an element slot

    container_fuzzer(provider &input, kind_api a, std::vector<elem_kind> values,
                     std::vector<elem_kind> keys)
        : pool_fuzzer(input, a, make_foreign(), foreign_model()),
          value_kinds(std::move(values)), key_kinds(std::move(keys)) {
        w.on_container_copy = [this](void *h, const rep_model &m) { settle_all(h, m); };
    }
    virtual ~container_fuzzer() = default;
    container_fuzzer(const container_fuzzer &) = delete;
    container_fuzzer &operator=(const container_fuzzer &) = delete;

    static void *make_foreign() {
        cow_str *s = nullptr;
        FUZZ_CHECK(cow_str_new(&s, "x", 1, nullptr) == COW_OK);
        return s;
    }
    static rep_model foreign_model() {
        rep_model r;
        r.kind = COW_KIND_STR;
        r.bytes = "x";
        return r;
    }

    // ---- the model of handle elements ---------------------------------

    // The library stored (or handed out) a clone of handle `src` and the
    // result is `actual`.
    void stored_clone(std::uint64_t src, std::uint64_t actual) {
        const void *s = as_ptr(src), *a = as_ptr(actual);
        if (!s) {
            FUZZ_CHECK(!a);
            return;
        }
        rep_model &r = w.rep(s);
        if (world::copies_at_clone(r)) {
            FUZZ_CHECK(a && a != s);
            w.copied(const_cast<void *>(a), s, [](rep_model &) {}, world::value_bytes(r), true);
        } else {
            FUZZ_CHECK(a == s);
            w.cloned(s);
        }
    }
    // Reads back the element handles of container h that the model holds
    // as "clones of" the values in `from` (a copy of the whole container,
    // or newly stored elements) and settles the model.
    void settle(const void *h, const std::vector<std::size_t> &positions, const std::vector<key_model> &keys) {
        rep_model &r = w.rep(h);
        if (r.ek != elem_kind::handle) return;
        // (r stays valid while stored_clone adds reps: std::map nodes are stable)
        for (std::size_t i : positions) {
            std::uint64_t src = r.elems[i];
            std::uint64_t actual = decode(r.ek, cow_vec_get(static_cast<const cow_vec *>(h), i));
            r.elems[i] = actual;
            stored_clone(src, actual);
        }
        for (const key_model &k : keys) {
            std::uint64_t src = r.entries.at(k);
            std::string key = world::key_arg(r, k);
            std::uint64_t actual = decode(r.ek, cow_map_get(static_cast<const cow_map *>(h), key.data(), key.size()));
            r.entries[k] = actual;
            stored_clone(src, actual);
        }
    }
    // Every element of a freshly copied container: called by world::copied.
    void settle_all(void *h, const rep_model &m) {
        std::vector<std::size_t> pos;
        std::vector<key_model> keys;
        if (m.kind == COW_KIND_VEC)
            for (std::size_t i = 0; i < m.elems.size(); ++i) pos.push_back(i);
        if (m.kind == COW_KIND_MAP)
            for (auto &[k, v] : m.entries) keys.push_back(k);
        if (m.kind == COW_KIND_BOX) return settle_box(h);
        settle(h, pos, keys);
    }

    // A map's handle value dropped by a replace or remove. A shared map's
    // copy leaves that value out (cow.h: it is not cloned only to be
    // dropped), so the original map's reference is the only one: nothing
    // changes. A unique map releases its reference.
    void dropped_from(bool shared_map, std::uint64_t v) {
        if (!shared_map) w.released(as_ptr(v));
    }

    // A value handed to the caller (pop, erase, set's or insert's old value,
    // remove, into): check it, then drop it as its owner must.
    void take_out(elem_kind k, bool from_shared, std::uint64_t model_value, void *out) {
        if (k != elem_kind::handle) {
            FUZZ_CHECK(decode(k, out) == model_value);
            drop_owned(k, out);
            return;
        }
        std::uint64_t actual = decode(k, out);
        if (from_shared)
            stored_clone(model_value, actual);  // a clone; the container keeps its own
        else
            FUZZ_CHECK(actual == model_value);  // moved: the container's reference
        cow_release(const_cast<void *>(as_ptr(actual)));
        if (actual) w.released(as_ptr(actual));
    }

    // The handles a container holds, read from the library itself: during a
    // nested edit the model of the containers on the edited path is updated
    // only when the edit returns, so it may not show a copy just made.
    static std::vector<const void *> held_handles(const void *h) {
        std::vector<const void *> out;
        auto add = [&](const void *slot) {
            void *e;
            std::memcpy(&e, slot, sizeof e);
            if (e) out.push_back(e);
        };
        switch (cow_kind(h)) {
        case COW_KIND_VEC: {
            auto *v = static_cast<const cow_vec *>(h);
            if (cow_vec_type(v) != cow_type_handle()) break;
            for (std::size_t i = 0; i < cow_vec_len(v); ++i) add(cow_vec_get(v, i));
            break;
        }
        case COW_KIND_MAP: {
            auto *m = static_cast<const cow_map *>(h);
            if (cow_map_value_type(m) != cow_type_handle()) break;
            cow_map_cursor c;
            FUZZ_CHECK(cow_map_cursor_init(&c, m) == COW_OK);
            const void *value;
            while (cow_map_next(&c, nullptr, nullptr, &value)) add(value);
            break;
        }
        case COW_KIND_BOX: {
            auto *b = static_cast<const cow_box *>(h);
            if (cow_box_type(b) == cow_type_handle()) add(cow_box_get(b));
            break;
        }
        default: break;
        }
        return out;
    }

    // Would storing handle `from` inside `to` make a cycle (a value that
    // holds itself, which reference counting can never free)? Storing a
    // container straight into itself stores a snapshot (cow.h, see
    // may_store_itself), but through a nested get_mut slot it makes a cycle.
    bool reachable(const void *from, const void *to) {
        if (!from) return false;
        if (from == to) return true;
        for (const void *e : held_handles(from))
            if (reachable(e, to)) return true;
        return false;
    }

    // ---- drawing ----------------------------------------------------------

    elem_kind draw_value_kind() { return value_kinds[in.ConsumeIntegralInRange<std::size_t>(0, value_kinds.size() - 1)]; }

    // A value for an element of kind k: for handles, one from the pool (or
    // NULL); `into` is the container it goes into (no cycles; `itself`: the
    // container itself is allowed, see may_store_itself).
    std::uint64_t draw_elem(elem_kind k, const void *into, bool itself = false) {
        if (k != elem_kind::handle) return draw_value(in, k);
        const void *h = w.slot[draw_slot()];
        // Eager values copy their elements at every clone: keep the model small.
        if (w.reps.size() > 200) h = nullptr;
        bool cycle = into && reachable(h, into) && !(itself && h == into);
        if (in.ConsumeIntegralInRange<int>(0, 7) == 0 || cycle) h = nullptr;
        return as_bits(h);
    }

    // A container stored into itself, through its own pool slot: the library
    // clones the incoming element before it looks at sharing, so the
    // container is shared by then and the write copies it. The slot gets the
    // copy; the stored element is the container as it was before the call
    // (a snapshot), holding the reference the slot gave up. Modelled for
    // lazy containers; an eager one would store a fresh copy of itself.
    bool may_store_itself(const target &t, const rep_model *m) const {
        return m && t.index >= 0 && !world::copies_at_clone(*m);
    }
    // Before the model of a successful self-store is edited: the element's
    // reference is taken first, so the write sees a shared container
    // (settle_all then counts that clone; stored_itself gives it back).
    void storing_itself(void *h) { w.rep(h).handles += 1; }
    void stored_itself(void *h) { w.rep(h).handles -= 1; }

    // The model behind a target if it is a value of kind `kind`; adds the
    // defect otherwise.
    rep_model *model_of(target &t, cow_kind_t kind) {
        if (!t.valid()) return nullptr;
        rep_model &r = w.rep(t.handle());
        if (r.kind != kind) {
            t.defects.add(true, COW_ETYPE);
            return nullptr;
        }
        return &r;
    }

    // How many elements of size es are "too many" (more than PTRDIFF_MAX
    // bytes: refused); and the borderline where either refusal is fine.
    static bool too_many(std::size_t count, std::size_t es, std::size_t already = 0) {
        std::size_t total;
        if (__builtin_add_overflow(count, already, &total)) return true;
        return total > (static_cast<std::size_t>(PTRDIFF_MAX) - 64) / es;
    }

    // ---- cow_vec ----------------------------------------------------------

    void op_vec_new() {
        int j = draw_slot();
        elem_kind k = draw_value_kind();
        options_draw o = draw_options(in);
        expectation e = o.defects;
        std::size_t es = size_of(k);
        std::vector<std::uint64_t> values;
        elems_buf storage;
        const void *elems = nullptr;
        std::size_t count = 0, capacity = 0;
        int how = in.ConsumeIntegralInRange<int>(0, 9);
        const cow_type *type = type_of(k);
        if (in.ConsumeIntegralInRange<int>(0, 15) == 0) {
            // Types a vector must refuse: NULL, a variable-length key type.
            type = in.ConsumeBool() ? nullptr : cow_type_string();
            e.add(true, COW_EINVAL);
        }
        if (how == 0) {
            capacity = in.ConsumeBool() ? draw_huge(in) : huge_request / es + 1;
            if (too_many(capacity, es)) e.add(true, COW_EOVERFLOW);
        } else if (how == 1) {
            capacity = in.ConsumeIntegralInRange<std::size_t>(0, 40);
        } else if (how == 2) {
            count = draw_huge(in);
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
        cow_status st;
        if (how == 0 || how == 1)
            st = cow_vec_with_capacity(outp, type, capacity, o.ptr());
        else if ((how >= 2 && how <= 3) || how >= 6)
            st = cow_vec_from_array(outp, type, elems, count, o.ptr());
        else
            st = cow_vec_new(outp, type, o.ptr());
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

    // Where an element to insert comes from: a fresh value, or an element
    // of the vector itself (aliasing its own storage).
    struct elem_source {
        elem_buf buf;
        const void *ptr = nullptr;
        std::uint64_t value = 0;
    };
    void draw_vec_source(elem_source &s, const rep_model *m, const void *h, elem_kind k, bool itself) {
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
    void op_vec_put(int which, target *given = nullptr) {
        target t = given ? *given : draw_target();
        rep_model *m = model_of(t, COW_KIND_VEC);
        expectation e = t.defects;
        elem_kind k = m ? m->ek : elem_kind::u8;
        std::size_t len = m ? m->elems.size() : 0;
        std::size_t index = which == 0 ? len : draw_index(in, len);
        if (m && which == 1) e.add(index > len, COW_ERANGE);
        if (m && which == 2) e.add(index >= len, COW_ERANGE);
        elem_source s;
        draw_vec_source(s, m, t.handle(), k, may_store_itself(t, m));
        if (in.ConsumeIntegralInRange<int>(0, 15) == 0) {
            s.ptr = nullptr;
            e.add(true, COW_EINVAL);
        }
        bool want_old = which == 2 && in.ConsumeBool();
        elem_buf old_value;
        void *old = t.handle();
        bool was_shared = m && w.shared(old);
        before_call bc;
        cow_status st;
        auto **slot = t.slot<cow_vec>();
        if (which == 0) st = cow_vec_push(slot, s.ptr);
        else if (which == 1) st = cow_vec_insert(slot, index, s.ptr);
        else st = cow_vec_set(slot, index, s.ptr, want_old ? old_value.bytes : nullptr);
        if (!FUZZ_JUDGE("cow_vec_push/insert/set", e, st, bc)) return failed(t, old, bc);
        std::uint64_t replaced = which == 2 ? m->elems[index] : 0;
        std::uint64_t bytes = (which == 2 ? len - 1 : len) * size_of(k);
        bool itself = k == elem_kind::handle && s.value == as_bits(old);
        if (itself) {
            storing_itself(old);
            was_shared = true;
        }
        w.edited(old, t.handle(), true, bytes, [&](rep_model &r) {
            if (which == 2) r.elems[index] = s.value;
            else r.elems.insert(r.elems.begin() + static_cast<std::ptrdiff_t>(index), s.value);
        });
        if (itself) stored_itself(old);
        if (t.handle() == old) settle(old, {index}, {});
        // The replaced value leaves only now: the source may be that very
        // element, held nowhere else, and the library clones it before it
        // drops the old one.
        if (which == 2) {
            if (want_old) take_out(k, was_shared, replaced, old_value.bytes);
            else if (k == elem_kind::handle && !was_shared && replaced) w.released(as_ptr(replaced));
        }
    }

    void op_vec_extend(target *given = nullptr) {
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
                count = in.ConsumeIntegralInRange<std::size_t>(0, len - from);
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
        cow_status st = cow_vec_extend(t.slot<cow_vec>(), elems, count);
        if (!FUZZ_JUDGE("cow_vec_extend", e, st, bc)) return failed(t, old, bc);
        w.edited(old, t.handle(), count > 0, len * es, [&](rep_model &r) {
            r.elems.insert(r.elems.end(), values.begin(), values.end());
        });
        if (t.handle() == old) {
            std::vector<std::size_t> pos;
            for (std::size_t i = 0; i < count; ++i) pos.push_back(len + i);
            settle(old, pos, {});
        }
    }

    // pop / erase / truncate / clear: elements out.
    void op_vec_remove(int which, target *given = nullptr) {
        target t = given ? *given : draw_target();
        rep_model *m = model_of(t, COW_KIND_VEC);
        expectation e = t.defects;
        elem_kind k = m ? m->ek : elem_kind::u8;
        std::size_t len = m ? m->elems.size() : 0, es = size_of(k);
        std::size_t at = 0, n = 0;  // the range removed
        if (which == 0) {
            if (m) e.add(len == 0, COW_ERANGE);
            at = len ? len - 1 : 0;
            n = 1;
        } else if (which == 1) {
            at = draw_index(in, len);
            n = 1;
            if (m) e.add(at >= len, COW_ERANGE);
        } else if (which == 2) {
            std::size_t new_len = draw_index(in, len);
            if (m) e.add(new_len > len, COW_ERANGE);
            at = new_len;
            n = new_len <= len ? len - new_len : 0;
        } else {
            at = 0;
            n = len;
        }
        bool want = which < 2 && in.ConsumeBool();
        elem_buf out;
        void *old = t.handle();
        bool was_shared = m && w.shared(old);
        std::vector<std::uint64_t> removed;
        before_call bc;
        cow_status st;
        auto **slot = t.slot<cow_vec>();
        if (which == 0) st = cow_vec_pop(slot, want ? out.bytes : nullptr);
        else if (which == 1) st = cow_vec_erase(slot, at, want ? out.bytes : nullptr);
        else if (which == 2) st = cow_vec_truncate(slot, at);
        else st = cow_vec_clear(slot);
        if (!FUZZ_JUDGE("cow_vec_pop/erase/truncate/clear", e, st, bc)) return failed(t, old, bc);
        removed.assign(m->elems.begin() + static_cast<std::ptrdiff_t>(at),
                       m->elems.begin() + static_cast<std::ptrdiff_t>(at + n));
        if (want) {
            take_out(k, was_shared, removed[0], out.bytes);
        } else if (k == elem_kind::handle && !was_shared) {
            for (auto v : removed)
                if (v) w.released(as_ptr(v));
        }
        w.edited(old, t.handle(), n > 0, (len - n) * es, [&](rep_model &r) {
            r.elems.erase(r.elems.begin() + static_cast<std::ptrdiff_t>(at),
                          r.elems.begin() + static_cast<std::ptrdiff_t>(at + n));
        });
    }

    void op_vec_reserve() {
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
        if (m && too_many(add, es, len)) e.add(true, COW_EOVERFLOW);
        void *old = t.handle();
        before_call bc;
        cow_status st = cow_vec_reserve(t.slot<cow_vec>(), add);
        if (!FUZZ_JUDGE("cow_vec_reserve", e, st, bc)) return failed(t, old, bc);
        w.edited(old, t.handle(), true, len * es, [](rep_model &) {});
        FUZZ_CHECK(!cow_is_shared(t.handle()));
    }

    // make_mut (all elements) or get_mut (one): then write through it, or,
    // for handle elements, edit the inner value through the element slot.
    void op_vec_mut(bool one, target *given = nullptr) {
        target t = given ? *given : draw_target();
        rep_model *m = model_of(t, COW_KIND_VEC);
        expectation e = t.defects;
        std::size_t len = m ? m->elems.size() : 0;
        std::size_t index = one ? draw_index(in, len) : 0;
        if (m && one) e.add(index >= len, COW_ERANGE);
        bool null_out = in.ConsumeIntegralInRange<int>(0, 15) == 0;
        if (one) e.add(null_out, COW_EINVAL);
        void *p = sentinel<void>();
        void *old = t.handle();
        std::uint64_t bytes = m ? world::value_bytes(*m) : 0;
        before_call bc;
        cow_status st = one ? cow_vec_get_mut(t.slot<cow_vec>(), index, null_out ? nullptr : &p)
                            : cow_vec_make_mut(t.slot<cow_vec>(), null_out ? nullptr : &p);
        if (!FUZZ_JUDGE("cow_vec_get_mut/make_mut", e, st, bc)) {
            FUZZ_CHECK(p == sentinel<void>());
            return failed(t, old, bc);
        }
        w.edited(old, t.handle(), true, bytes, [](rep_model &) {});
        FUZZ_CHECK(!cow_is_shared(t.handle()));
        if (null_out || len == 0) return;
        rep_model &r = w.rep(t.handle());
        std::size_t i = one ? index : in.ConsumeIntegralInRange<std::size_t>(0, len - 1);
        void *elem = static_cast<unsigned char *>(p) + (one ? 0 : i * size_of(r.ek));
        FUZZ_CHECK(elem == cow_vec_get(static_cast<const cow_vec *>(t.handle()), i));
        write_through(r.ek, elem, r.elems[i]);
    }

    // Writes a new value into an element the caller may write (a get_mut or
    // make_mut pointer) and keeps the model in step. A handle element is a
    // slot: the inner value is edited through it instead (nested COW).
    void write_through(elem_kind k, void *elem, std::uint64_t &model) {
        if (k == elem_kind::handle) {
            if (model && nested_depth < 3) {
                ++nested_depth;
                edit_inner(reinterpret_cast<void **>(elem), model);
                --nested_depth;
            }
            return;
        }
        std::uint64_t v = draw_value(in, k);
        if (k == elem_kind::tracked) {
            // Only the value: the serial belongs to the stored copy.
            std::memcpy(elem, &v, sizeof v);
        } else {
            encode(k, v, elem);
        }
        model = v;
    }

    // Edits the value whose handle sits in the slot *where (inside a
    // container); `model` is that slot in the model. Overridden by the
    // mixed target; the plain targets never store handles.
    virtual void edit_inner(void **, std::uint64_t &) {}

    void op_vec_into() {
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
        cow_status st = cow_vec_into(t.slot<cow_vec>(), null_out ? nullptr : &owned);
        if (!FUZZ_JUDGE("cow_vec_into", e, st, bc)) {
            FUZZ_CHECK(std::memcmp(&owned, &untouched, sizeof owned) == 0);
            return failed(t, old, bc);
        }
        FUZZ_CHECK(*t.where == nullptr && owned.data != nullptr && owned.len == m->elems.size());
        elem_kind k = m->ek;
        std::size_t es = size_of(k);
        FUZZ_CHECK(reinterpret_cast<std::uintptr_t>(owned.data) % type_of(k)->elem_align == 0);
        std::vector<std::uint64_t> values = m->elems;
        // A unique vector's elements move out: its references go with them.
        if (!was_shared && k == elem_kind::handle) m->elems.clear();
        for (std::size_t i = 0; i < values.size(); ++i)
            take_out(k, was_shared, values[i], static_cast<unsigned char *>(owned.data) + i * es);
        w.released(old);
        cow_owned_free(&owned);
    }

    // ---- cow_map ----------------------------------------------------------

    struct key_draw {
        std::string bytes;           // what is passed
        const void *ptr = nullptr;
        std::size_t len = 0;
        key_model model;             // its identity in the model
        bool valid = true;           // a well-formed key argument
        bool utf8_bad = false;       // a string key that is not UTF-8
    };
    key_draw draw_key(const rep_model *m, expectation &e) {
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

    void op_map_new() {
        int j = draw_slot();
        options_draw o = draw_options(in);
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

    void op_map_insert(target *given = nullptr) {
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
        cow_status st = cow_map_insert(t.slot<cow_map>(), k.ptr, k.len, s.ptr,
                                       want_old ? old_value.bytes : nullptr, want_flag ? &replaced : nullptr);
        if (!FUZZ_JUDGE("cow_map_insert", e, st, bc)) return failed(t, old, bc);
        bool itself = vk == elem_kind::handle && s.value == as_bits(old);
        if (itself) {
            storing_itself(old);
            was_shared = true;
        }
        auto it = m->entries.find(k.model);
        bool existed = it != m->entries.end();
        if (want_flag) FUZZ_CHECK(replaced == existed);
        if (existed) {
            if (want_old) take_out(vk, was_shared, it->second, old_value.bytes);
            else if (vk == elem_kind::handle && it->second) dropped_from(was_shared, it->second);
        }
        w.edited(old, t.handle(), true, bytes, [&](rep_model &r) { r.entries[k.model] = s.value; });
        if (itself) stored_itself(old);
        if (t.handle() == old) settle(old, {}, {k.model});
    }

    void op_map_remove(target *given = nullptr) {
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
        cow_status st = cow_map_remove(t.slot<cow_map>(), k.ptr, k.len, want ? out.bytes : nullptr);
        if (!FUZZ_JUDGE("cow_map_remove", e, st, bc)) return failed(t, old, bc);
        std::uint64_t v = m->entries.at(k.model);
        if (want) take_out(m->ek, was_shared, v, out.bytes);
        else if (m->ek == elem_kind::handle && v) dropped_from(was_shared, v);
        w.edited(old, t.handle(), true, bytes, [&](rep_model &r) { r.entries.erase(k.model); });
    }

    void op_map_get_mut(target *given = nullptr) {
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
        cow_status st = cow_map_get_mut(t.slot<cow_map>(), k.ptr, k.len, null_out ? nullptr : &p);
        if (!FUZZ_JUDGE("cow_map_get_mut", e, st, bc)) {
            FUZZ_CHECK(p == sentinel<void>());
            return failed(t, old, bc);
        }
        w.edited(old, t.handle(), true, bytes, [](rep_model &) {});
        rep_model &r = w.rep(t.handle());
        FUZZ_CHECK(p == cow_map_get(static_cast<const cow_map *>(t.handle()), k.ptr, k.len));
        write_through(r.ek, p, r.entries.at(k.model));
    }

    void op_map_clear() {
        target t = draw_target();
        rep_model *m = model_of(t, COW_KIND_MAP);
        expectation e = t.defects;
        void *old = t.handle();
        bool was_shared = m && w.shared(old);
        before_call bc;
        cow_status st = cow_map_clear(t.slot<cow_map>());
        if (!FUZZ_JUDGE("cow_map_clear", e, st, bc)) return failed(t, old, bc);
        if (m->ek == elem_kind::handle && !was_shared)
            for (auto &[key, v] : m->entries)
                if (v) w.released(as_ptr(v));
        w.edited(old, t.handle(), !m->entries.empty(), 0, [](rep_model &r) { r.entries.clear(); });
    }

    // Lookups with absent and malformed keys find nothing and change nothing.
    void op_map_lookup() {
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

    // ---- cow_box ----------------------------------------------------------

    void op_box_new() {
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
    // The box's handle value was stored as a clone of the model's value.
    void settle_box(const void *h) {
        rep_model &r = w.rep(h);
        if (r.ek != elem_kind::handle) return;
        std::uint64_t src = r.boxed;
        r.boxed = decode(r.ek, cow_box_get(static_cast<const cow_box *>(h)));
        stored_clone(src, r.boxed);
    }

    void op_box_make_mut(target *given = nullptr) {
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

    // cow_box_update with a function that writes a new value and then
    // succeeds or fails.
    struct update_ctx {
        elem_kind k;
        std::uint64_t value;
        cow_status result;
        int calls = 0;
    };
    static cow_status update_fn(void *ctx, void *value) {
        auto *u = static_cast<update_ctx *>(ctx);
        ++u->calls;
        if (u->k == elem_kind::tracked)
            std::memcpy(value, &u->value, sizeof u->value);
        else
            encode(u->k, u->value, value);
        return u->result;
    }
    void op_box_update(target *given = nullptr) {
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

    void op_box_into() {
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

    // Typed queries of the container kinds on NULL, fake and wrong kinds.
    void op_container_queries() {
        op_queries();
        FUZZ_CHECK(cow_vec_len(nullptr) == 0 && cow_vec_len(static_cast<cow_vec *>(fake)) == 0);
        FUZZ_CHECK(cow_vec_get(static_cast<cow_vec *>(foreign()), 0) == nullptr);
        FUZZ_CHECK(cow_vec_type(nullptr) == nullptr);
        const void *d = sentinel<void>();
        FUZZ_CHECK(cow_vec_data(static_cast<cow_vec *>(foreign()), &d) == COW_ETYPE && d == sentinel<void>());
        FUZZ_CHECK(cow_map_len(static_cast<cow_map *>(fake)) == 0);
        FUZZ_CHECK(cow_map_get(nullptr, "k", 1) == nullptr && !cow_map_contains(nullptr, "k", 1));
        FUZZ_CHECK(cow_box_get(static_cast<cow_box *>(foreign())) == nullptr);
        FUZZ_CHECK(cow_box_type(nullptr) == nullptr);
        cow_vec_cursor vc;
        FUZZ_CHECK(cow_vec_cursor_init(&vc, static_cast<cow_vec *>(fake)) == COW_ETYPE);
        cow_map_cursor mc;
        FUZZ_CHECK(cow_map_cursor_init(&mc, nullptr) == COW_EINVAL);
        FUZZ_CHECK(cow_map_cursor_init(nullptr, nullptr) == COW_EINVAL);
    }
};

}  // namespace fuzz
