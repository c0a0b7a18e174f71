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

    void step() {
        switch (in.ConsumeIntegralInRange<int>(0, 11)) {
        case 0: case 1: op_box_new(); break;
        case 2: case 3: op_clone(); break;
        case 4: op_release(); break;
        case 5: op_box_make_mut(); break;
        case 6: op_box_update(); break;
        case 7: op_box_into(); break;
        case 8: op_make_mut_generic(); break;
        case 9: op_stats(); break;
        case 10: op_container_queries(); break;
        default: op_arm_failure(); break;
        }
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    return fuzz::run_input<box_fuzzer>(data, size);
}
