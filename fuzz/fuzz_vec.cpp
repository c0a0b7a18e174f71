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

    void step() {
        switch (in.ConsumeIntegralInRange<int>(0, 21)) {
        case 0: case 1: op_vec_new(); break;
        case 2: case 3: op_clone(); break;
        case 4: op_release(); break;
        case 5: case 6: op_vec_put(vec_put::push); break;
        case 7: op_vec_put(vec_put::insert); break;
        case 8: op_vec_put(vec_put::set); break;
        case 9: op_vec_extend(); break;
        case 10: op_vec_remove(vec_removal::pop); break;
        case 11: op_vec_remove(vec_removal::erase); break;
        case 12: op_vec_remove(vec_removal::truncate); break;
        case 13: op_vec_remove(vec_removal::clear); break;
        case 14: op_vec_reserve(); break;
        case 15: op_vec_mut(true); break;
        case 16: op_vec_mut(false); break;
        case 17: op_make_mut_generic(); break;
        case 18: op_vec_into(); break;
        case 19: op_stats(); break;
        case 20: op_container_queries(); break;
        default: op_arm_failure(); break;
        }
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    return fuzz::run_input<vec_fuzzer>(data, size);
}
