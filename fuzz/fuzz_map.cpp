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

    // The operations of a step, by input value (draw_op).
    enum class map_op : std::uint8_t {
        create, create_2, clone, clone_2, release, insert, insert_2, insert_3, remove, get_mut,
        clear, lookup, make_mut_generic, stats, queries, arm_failure, count
    };
    void step() {
        switch (draw_op<map_op>()) {
        case map_op::create: case map_op::create_2: op_map_new(); break;
        case map_op::clone: case map_op::clone_2: op_clone(); break;
        case map_op::release: op_release(); break;
        case map_op::insert: case map_op::insert_2: case map_op::insert_3: op_map_insert(); break;
        case map_op::remove: op_map_remove(); break;
        case map_op::get_mut: op_map_get_mut(); break;
        case map_op::clear: op_map_clear(); break;
        case map_op::lookup: op_map_lookup(); break;
        case map_op::make_mut_generic: op_make_mut_generic(); break;
        case map_op::stats: op_stats(); break;
        case map_op::queries: op_container_queries(); break;
        case map_op::arm_failure: op_arm_failure(); break;
        case map_op::count: break;  // never drawn
        }
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    return fuzz::run_input<map_fuzzer>(data, size);
}
