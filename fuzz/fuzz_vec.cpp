// Fuzz target: cow_vec with elements of every shape (1 to 320 bytes, 64-byte
// alignment, a type with copy/drop callbacks that can fail). Operations in
// vec_ops.hpp; the model in world.hpp, checked after every call.
#include "vec_ops.hpp"

namespace {

using namespace fuzz;

kind_api vec_api() {
    return {COW_KIND_VEC, [](const void *h) -> void * { return cow_vec_clone(static_cast<const cow_vec *>(h)); },
            [](void *h) { cow_vec_release(static_cast<cow_vec *>(h)); },
            [](void *h) { cow_map_release(static_cast<cow_map *>(h)); }};
}

struct vec_fuzzer : container_fuzzer {
    explicit vec_fuzzer(provider &in)
        : container_fuzzer(in, vec_api(),
                           {elem_kind::u8, elem_kind::u32, elem_kind::u64, elem_kind::f64,
                            elem_kind::aligned, elem_kind::big, elem_kind::tracked},
                           {elem_kind::u32}) {}

    // The operations of a step, by input value (draw_op).
    enum class vec_op : std::uint8_t {
        create, create_2, clone, clone_2, release, push, push_2, insert, set, extend, pop, erase,
        truncate, clear, reserve, get_mut, make_mut, make_mut_generic, into, stats, queries,
        arm_failure, slice, concat, concat_2, compare, diff, cursor_at, count
    };
    void step() {
        switch (draw_op<vec_op>()) {
        case vec_op::create: case vec_op::create_2: op_vec_new(); break;
        case vec_op::clone: case vec_op::clone_2: op_clone(); break;
        case vec_op::release: op_release(); break;
        case vec_op::push: case vec_op::push_2: op_vec_put(vec_put::push); break;
        case vec_op::insert: op_vec_put(vec_put::insert); break;
        case vec_op::set: op_vec_put(vec_put::set); break;
        case vec_op::extend: op_vec_extend(); break;
        case vec_op::pop: op_vec_remove(vec_removal::pop); break;
        case vec_op::erase: op_vec_remove(vec_removal::erase); break;
        case vec_op::truncate: op_vec_remove(vec_removal::truncate); break;
        case vec_op::clear: op_vec_remove(vec_removal::clear); break;
        case vec_op::reserve: op_vec_reserve(); break;
        case vec_op::get_mut: op_vec_mut(true); break;
        case vec_op::make_mut: op_vec_mut(false); break;
        case vec_op::make_mut_generic: op_make_mut_generic(); break;
        case vec_op::into: op_vec_into(); break;
        case vec_op::stats: op_stats(); break;
        case vec_op::queries: op_container_queries(); break;
        case vec_op::arm_failure: op_arm_failure(); break;
        case vec_op::slice: op_vec_slice(); break;
        case vec_op::concat: case vec_op::concat_2: op_vec_concat(); break;
        case vec_op::compare: op_vec_compare(); break;
        case vec_op::diff: op_vec_diff(); break;
        case vec_op::cursor_at: op_vec_cursor_at(); break;
        case vec_op::count: break;  // never drawn
        }
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    return fuzz::run_input<vec_fuzzer>(data, size);
}
