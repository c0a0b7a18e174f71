// Fuzz target: cow_box (make_mut, update with a function that may fail,
// into) over values of every shape. Operations in box_ops.hpp; the
// model in world.hpp, checked after every call.
#include "box_ops.hpp"

namespace {

using namespace fuzz;

kind_api box_api() {
    return {COW_KIND_BOX, [](const void *h) -> void * { return cow_box_clone(static_cast<const cow_box *>(h)); },
            [](void *h) { cow_box_release(static_cast<cow_box *>(h)); },
            [](void *h) { cow_vec_release(static_cast<cow_vec *>(h)); }};
}

struct box_fuzzer : container_fuzzer {
    explicit box_fuzzer(provider &in)
        : container_fuzzer(in, box_api(),
                           {elem_kind::u8, elem_kind::u32, elem_kind::u64, elem_kind::f64,
                            elem_kind::aligned, elem_kind::big, elem_kind::tracked},
                           {elem_kind::u32}) {}

    // The operations of a step, by input value (draw_op).
    enum class box_op : std::uint8_t {
        create, create_2, clone, clone_2, release, make_mut, update, into, make_mut_generic, stats,
        queries, arm_failure, count
    };
    void step() {
        switch (draw_op<box_op>()) {
        case box_op::create: case box_op::create_2: op_box_new(); break;
        case box_op::clone: case box_op::clone_2: op_clone(); break;
        case box_op::release: op_release(); break;
        case box_op::make_mut: op_box_make_mut(); break;
        case box_op::update: op_box_update(); break;
        case box_op::into: op_box_into(); break;
        case box_op::make_mut_generic: op_make_mut_generic(); break;
        case box_op::stats: op_stats(); break;
        case box_op::queries: op_container_queries(); break;
        case box_op::arm_failure: op_arm_failure(); break;
        case box_op::count: break;  // never drawn
        }
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    return fuzz::run_input<box_fuzzer>(data, size);
}
