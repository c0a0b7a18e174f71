// A C++ program that defines names libcow's core also uses internally (its
// C++ namespace is the one cow.hpp uses), and links libcow statically. Linked
// against the installed libcow.a it builds and both sides see their own
// definitions; linked against an archive whose internal symbols were left
// global, the linker reports them defined twice.
#include <cow.h>

#include <cstdint>
#include <cstdio>

namespace cow::detail {
// The core defines these as its built-in element types.
int builtin_u64 = 64;
int builtin_string = 7;
}  // namespace cow::detail

int main() {
    int failed = 0;
    if (cow::detail::builtin_u64 != 64 || cow::detail::builtin_string != 7) {
        std::fprintf(stderr, "the program's own cow::detail variables were overwritten\n");
        failed++;
    }
    // libcow still uses its own built-in u64 type.
    cow_vec *v = nullptr;
    std::uint64_t x = 42;
    if (cow_vec_new(&v, cow_type_u64(), nullptr) != COW_OK || cow_vec_push(&v, &x) != COW_OK ||
        cow_vec_len(v) != 1 || *static_cast<const std::uint64_t *>(cow_vec_get(v, 0)) != 42) {
        std::fprintf(stderr, "libcow's vector of u64 does not work\n");
        failed++;
    }
    cow_release(v);
    std::printf("collision consumer: %s\n", failed ? "FAILED" : "ok");
    return failed ? 1 : 0;
}
