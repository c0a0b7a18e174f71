// Fuzz target: values inside values. Vectors, maps and boxes of handles hold
// strings, buffers and other containers (vectors of strings, maps holding
// vectors, boxes of maps, up to a few levels), and edits reach inner values
// through cow_vec_get_mut / cow_map_get_mut / cow_box_make_mut slots: one
// copy per shared level, never a change seen by another holder. Element
// handles are cloned when stored and when their container is copied; the
// model (world.hpp) counts those references in every strong count.
#include "box_ops.hpp"
#include "map_ops.hpp"
#include "vec_ops.hpp"

namespace {

using namespace fuzz;

kind_api mixed_api() {
    // Typed calls use the vector functions; other kinds in the pool are the
    // "wrong kind" for them.
    return {COW_KIND_VEC, [](const void *h) -> void * { return cow_vec_clone(static_cast<const cow_vec *>(h)); },
            [](void *h) { cow_vec_release(static_cast<cow_vec *>(h)); },
            [](void *h) { cow_box_release(static_cast<cow_box *>(h)); }};
}

struct mixed_fuzzer : container_fuzzer {
    explicit mixed_fuzzer(provider &in)
        : container_fuzzer(in, mixed_api(),
                           {elem_kind::handle, elem_kind::handle, elem_kind::handle, elem_kind::u32,
                            elem_kind::tracked},
                           {elem_kind::u32, elem_kind::u64}) {
        w.failed_calls_may_count = true;
    }

    // A string or a buffer for the pool (the leaves of nested values).
    void op_bytes_new() {
        int j = draw_slot();
        bool str = in.ConsumeBool();
        options_draw o = draw_options(in);
        expectation e = o.defects;
        std::string text = draw_text(in, 24);
        if (str) e.add(!utf8_ok(text), COW_EUTF8);
        void *out = sentinel<void>();
        before_call bc;
        cow_status st = str ? cow_str_new(reinterpret_cast<cow_str **>(&out), text.data(), text.size(), o.ptr())
                            : cow_buf_new(reinterpret_cast<cow_buf **>(&out), text.data(), text.size(), o.ptr());
        if (!FUZZ_JUDGE("cow_str_new/cow_buf_new", e, st, bc)) {
            FUZZ_CHECK(out == sentinel<void>());  // out-parameters are written only on success
            return bc.unchanged();
        }
        w.created(out, str ? COW_KIND_STR : COW_KIND_BUF, text, o);
        put(j, out);
    }

    // Appends to the string or buffer whose handle is in *where.
    void append_bytes(target &t, cow_kind_t kind) {
        std::string cur = w.rep(t.handle()).bytes;
        std::string text = draw_text(in, 8);
        expectation e;
        if (kind == COW_KIND_STR) e.add(!utf8_ok(text), COW_EUTF8);
        void *old = t.handle();
        before_call bc;
        cow_status st = kind == COW_KIND_STR ? cow_str_append(t.slot<cow_str>(), text.data(), text.size())
                                             : cow_buf_append(t.slot<cow_buf>(), text.data(), text.size());
        if (!FUZZ_JUDGE("append (nested)", e, st, bc)) return failed(t, old, bc);
        w.edited(old, t.handle(), cur + text, !text.empty(), cur.size());
    }

    // The edits of a vector or a map held in a container (edit_inner), by
    // input value (draw_op).
    enum class inner_vec_op : std::uint8_t { push, erase, extend, get_mut, get_mut_2, count };
    enum class inner_map_op : std::uint8_t { insert, remove, get_mut, get_mut_2, count };

    // An edit of the value held in a container's element slot.
    void edit_inner(void **where, std::uint64_t &model) override {
        target t;
        t.where = where;
        t.index = -1;
        cow_kind_t kind = w.rep(*where).kind;
        switch (kind) {
        case COW_KIND_STR:
        case COW_KIND_BUF:
            if (in.ConsumeBool()) append_bytes(t, kind);
            else op_make_mut_generic(&t);
            break;
        case COW_KIND_VEC:
            switch (draw_op<inner_vec_op>()) {
            case inner_vec_op::push: op_vec_put(vec_put::push, &t); break;
            case inner_vec_op::erase: op_vec_remove(vec_removal::erase, &t); break;
            case inner_vec_op::extend: op_vec_extend(&t); break;
            case inner_vec_op::get_mut:
            case inner_vec_op::get_mut_2: op_vec_mut(true, &t); break;  // one level deeper
            case inner_vec_op::count: break;  // never drawn
            }
            break;
        case COW_KIND_MAP:
            switch (draw_op<inner_map_op>()) {
            case inner_map_op::insert: op_map_insert(&t); break;
            case inner_map_op::remove: op_map_remove(&t); break;
            case inner_map_op::get_mut:
            case inner_map_op::get_mut_2: op_map_get_mut(&t); break;  // one level deeper
            case inner_map_op::count: break;  // never drawn
            }
            break;
        case COW_KIND_BOX:
            if (in.ConsumeBool()) op_box_make_mut(&t);
            else op_box_update(&t);
            break;
        default: FUZZ_CHECK(false);
        }
        // The container now holds whatever the slot holds (a copy, if the
        // inner value was shared).
        model = as_bits(*where);
    }

    // The operations of a step, by input value (draw_op).
    enum class mixed_op : std::uint8_t {
        bytes_new, bytes_new_2, vec_new, map_new, box_new, clone, clone_2, release, vec_push,
        vec_push_2, vec_set, vec_erase, vec_get_mut, vec_get_mut_2, map_insert, map_insert_2,
        map_get_mut, map_remove, box_make_mut, vec_into, stats, arm_failure, vec_slice, vec_concat,
        vec_compare, vec_diff, vec_cursor_at, count
    };
    void step() {
        switch (draw_op<mixed_op>()) {
        case mixed_op::bytes_new: case mixed_op::bytes_new_2: op_bytes_new(); break;
        case mixed_op::vec_new: op_vec_new(); break;
        case mixed_op::map_new: op_map_new(); break;
        case mixed_op::box_new: op_box_new(); break;
        case mixed_op::clone: case mixed_op::clone_2: op_clone(); break;
        case mixed_op::release: op_release(); break;
        case mixed_op::vec_push: case mixed_op::vec_push_2: op_vec_put(vec_put::push); break;
        case mixed_op::vec_set: op_vec_put(vec_put::set); break;
        case mixed_op::vec_erase: op_vec_remove(vec_removal::erase); break;
        case mixed_op::vec_get_mut: case mixed_op::vec_get_mut_2: op_vec_mut(true); break;
        case mixed_op::map_insert: case mixed_op::map_insert_2: op_map_insert(); break;
        case mixed_op::map_get_mut: op_map_get_mut(); break;
        case mixed_op::map_remove: op_map_remove(); break;
        case mixed_op::box_make_mut: op_box_make_mut(); break;
        case mixed_op::vec_into: op_vec_into(); break;
        case mixed_op::stats: op_stats(); break;
        case mixed_op::arm_failure: op_arm_failure(); break;
        case mixed_op::vec_slice: op_vec_slice(); break;
        case mixed_op::vec_concat: op_vec_concat(); break;
        case mixed_op::vec_compare: op_vec_compare(); break;
        case mixed_op::vec_diff: op_vec_diff(); break;
        case mixed_op::vec_cursor_at: op_vec_cursor_at(); break;
        case mixed_op::count: break;  // never drawn
        }
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    return fuzz::run_input<mixed_fuzzer>(data, size);
}
