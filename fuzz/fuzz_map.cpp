// Fuzz target: cow_map with fixed-size keys (integers, floats with NaN and
// -0.0, a type with callbacks), byte and UTF-8 string keys, and values of
// every shape. Operations in map_ops.hpp; the model in world.hpp.
#include "map_ops.hpp"

namespace {

using namespace fuzz;

kind_api map_api() {
    return {COW_KIND_MAP, [](const void *h) -> void * { return cow_map_clone(static_cast<const cow_map *>(h)); },
            [](void *h) { cow_map_release(static_cast<cow_map *>(h)); },
            [](void *h) { cow_vec_release(static_cast<cow_vec *>(h)); }};
}

struct map_fuzzer : container_fuzzer {
    explicit map_fuzzer(provider &in)
        : container_fuzzer(in, map_api(),
                           {elem_kind::u8, elem_kind::u32, elem_kind::u64, elem_kind::aligned,
                            elem_kind::big, elem_kind::tracked},
                           {elem_kind::u8, elem_kind::u32, elem_kind::u64, elem_kind::f64,
                            elem_kind::aligned, elem_kind::tracked}) {}

    void step() {
        switch (in.ConsumeIntegralInRange<int>(0, 15)) {
        case 0: case 1: op_map_new(); break;
        case 2: case 3: op_clone(); break;
        case 4: op_release(); break;
        case 5: case 6: case 7: op_map_insert(); break;
        case 8: op_map_remove(); break;
        case 9: op_map_get_mut(); break;
        case 10: op_map_clear(); break;
        case 11: op_map_lookup(); break;
        case 12: op_make_mut_generic(); break;
        case 13: op_stats(); break;
        case 14: op_container_queries(); break;
        default: op_arm_failure(); break;
        }
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    return fuzz::run_input<map_fuzzer>(data, size);
}
