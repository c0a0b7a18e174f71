// The container fuzz targets' common part, for element types of every
// shape (types.hpp) including libcow handles, which the mixed target uses
// to nest values (vectors of strings, maps holding vectors) and to edit
// them in place through get_mut / make_mut slots.
//
// Handle elements: storing one clones it (a lazy value: the same pointer,
// one more count; an eager one: a new copy, read back from the library);
// a value handed out of a unique container is moved, out of a shared one
// cloned. world::stored_clone models one such clone.
#pragma once
#include <set>
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

// One element into a vector.
enum class vec_put { push, insert, set };
// Elements out of a vector.
enum class vec_removal { pop, erase, truncate, clear };

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
    // After a write to a tree of handles: the nodes it copied cloned their
    // handles (an eager value's clone is a new value, read back here); which
    // nodes those were the model does not know, so the counts of the
    // elements are read back (world::check bounds them).
    // A tree just made by a switch copied every element once, and the model
    // counted those clones exactly (world::switched): nothing to read back.
    void settle_tree(const void *h) {
        rep_model &r = w.rep(h);
        if (!r.is_tree() || r.ek != elem_kind::handle || h == w.last_switched) return;
        auto settle_one = [&](std::uint64_t &model, const void *stored) {
            std::uint64_t actual = decode(r.ek, stored), src = model;
            if (actual == src) return;
            // Only an eager element becomes another value when cloned.
            FUZZ_CHECK(src && actual && world::copies_at_clone(w.rep(as_ptr(src))));
            model = actual;
            stored_clone(src, actual);
            w.unsynced.insert(as_ptr(src));  // the shared node keeps its reference
        };
        for (std::size_t i = 0; i < r.elems.size(); ++i)
            settle_one(r.elems[i], cow_vec_get(static_cast<const cow_vec *>(h), i));
        for (auto &[k, v] : r.entries) {
            std::string key = world::key_arg(r, k);
            settle_one(v, cow_map_get(static_cast<const cow_map *>(h), key.data(), key.size()));
        }
        for (const void *e : world::inner_handles(r)) w.sync_count(e);
    }
    // A tree with a private root whose nodes other versions (or other
    // places of itself) may share.
    bool tree_maybe_shared(const rep_model &r) const {
        return w.shares_nodes(r);
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
    // `maybe_shared`: out of a tree with a private root whose nodes other
    // versions may share: a copy from a shared node, moved from its own.
    void take_out(elem_kind k, bool from_shared, std::uint64_t model_value, void *out,
                  bool maybe_shared = false) {
        if (k != elem_kind::handle) {
            FUZZ_CHECK(decode(k, out) == model_value);
            drop_owned(k, out);
            return;
        }
        std::uint64_t actual = decode(k, out);
        if (from_shared || (maybe_shared && actual != model_value)) {
            stored_clone(model_value, actual);  // a clone; the container keeps its own
            // Out of a tree node that another version, or another place of
            // the same tree (a tree joined with itself), holds: the node
            // keeps its reference, or drops it when that tree goes (into).
            if (maybe_shared && model_value) w.unsynced.insert(as_ptr(model_value));
        } else {
            FUZZ_CHECK(actual == model_value);  // moved: the container's reference
            if (maybe_shared && actual) w.sync_count(as_ptr(actual));  // or a lazy clone
        }
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
    // Each value is visited once: versions nest one value many times over.
    bool reachable(const void *from, const void *to) {
        std::set<const void *> seen;
        std::vector<const void *> todo{from};
        while (!todo.empty()) {
            const void *h = todo.back();
            todo.pop_back();
            if (!h || !seen.insert(h).second) continue;
            if (h == to) return true;
            for (const void *e : held_handles(h)) todo.push_back(e);
        }
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
    // More elements than PTRDIFF_MAX bytes hold: what a value that
    // allocates nothing up front (a tree) refuses, exactly.
    static bool never_fits(std::size_t count, std::size_t es, std::size_t already = 0) {
        std::size_t total;
        if (__builtin_add_overflow(count, already, &total)) return true;
        return total > static_cast<std::size_t>(PTRDIFF_MAX) / es;
    }

    // Where an element to insert comes from: a fresh value, or an element
    // of the vector itself (aliasing its own storage).
    struct elem_source {
        elem_buf buf;
        const void *ptr = nullptr;
        std::uint64_t value = 0;
    };

    // Writes a new value into an element the caller may write (a get_mut or
    // make_mut pointer) and keeps the model in step. A handle element is a
    // slot: the inner value is edited through it instead (nested COW).
    void write_through(elem_kind k, void *elem, std::uint64_t &model) {
        if (k == elem_kind::handle) {
            if (model && nested_depth < 3) {
                ++nested_depth;
                nested = true;
                edit_inner(reinterpret_cast<void **>(elem), model);
                --nested_depth;
                nested = nested_depth > 0;
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

    // A key argument drawn for a map operation.
    struct key_draw {
        std::string bytes;           // what is passed
        const void *ptr = nullptr;
        std::size_t len = 0;
        key_model model;             // its identity in the model
        bool valid = true;           // a well-formed key argument
        bool utf8_bad = false;       // a string key that is not UTF-8
    };

    // The box's handle value was stored as a clone of the model's value.
    void settle_box(const void *h) {
        rep_model &r = w.rep(h);
        if (r.ek != elem_kind::handle) return;
        std::uint64_t src = r.boxed;
        r.boxed = decode(r.ek, cow_box_get(static_cast<const cow_box *>(h)));
        stored_clone(src, r.boxed);
    }

    // What cow_box_update's function (update_fn) writes and returns.
    struct update_ctx {
        elem_kind k;
        std::uint64_t value;
        cow_status result;
        int calls = 0;
    };

    // The operations of each kind: vec_ops.hpp, map_ops.hpp, box_ops.hpp.
    void op_vec_new();
    void draw_vec_source(elem_source &s, const rep_model *m, const void *h, elem_kind k, bool itself);
    void op_vec_put(vec_put which, target *given = nullptr);
    void op_vec_extend(target *given = nullptr);
    void op_vec_remove(vec_removal which, target *given = nullptr);
    void op_vec_reserve();
    void op_vec_mut(bool one, target *given = nullptr);
    void op_vec_into();
    // A drawn source for a call that reads one vector: its model, or nullptr
    // when the call must fail (e says how: NULL, a stale or another kind).
    rep_model *draw_vec_source(expectation &e, const void *&src);
    void op_vec_slice();
    void op_vec_concat();
    void op_vec_compare();
    void op_vec_diff();
    void op_vec_cursor_at();
    // The vector operands of the comparisons: NULL (an empty vector), a
    // vector, or a handle of another kind or none (never equal to anything).
    struct vec_operand {
        const void *h = nullptr;
        const rep_model *m = nullptr;
        bool wrong = false;
        std::size_t len() const { return m ? m->elems.size() : 0; }
    };
    vec_operand draw_vec_operand();
    vec_operand operand_of(const void *h);
    bool elem_equal(elem_kind k, std::uint64_t a, std::uint64_t b);
    bool model_equal(const vec_operand &a, const vec_operand &b);
    std::vector<std::pair<std::size_t, std::size_t>> model_diff(const vec_operand &a, const vec_operand &b);
    key_draw draw_key(const rep_model *m, expectation &e);
    void op_map_new();
    void op_map_insert(target *given = nullptr);
    void op_map_remove(target *given = nullptr);
    void op_map_get_mut(target *given = nullptr);
    void op_map_clear();
    void op_map_lookup();
    void op_box_new();
    void op_box_make_mut(target *given = nullptr);
    static cow_status update_fn(void *ctx, void *value);
    void op_box_update(target *given = nullptr);
    void op_box_into();

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
