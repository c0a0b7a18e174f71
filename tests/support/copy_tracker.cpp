#include "copy_tracker.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace test {

namespace {
// A broken ownership rule is a libcow bug that must stop the run, in a
// doctest suite or a fuzz target alike.
[[noreturn]] void ownership_broken(const char *what) {
    std::fprintf(stderr, "copy tracker: %s\n", what);
    std::abort();
}
}  // namespace

void copy_tracker::arm(long nth, cow_status with) {
    calls = 0;
    fail_at = nth;
    fail_with = with;
}

cow_status copy_tracker::take_failure() {
    cow_status s = injected;
    injected = COW_OK;
    return s;
}

cow_status copy_tracker::count_copy() {
    if (fail_at != 0 && ++calls == fail_at) {
        injected = fail_with;
        return fail_with;
    }
    ++copies;
    return COW_OK;
}

cow_type tracked_type(copy_tracker &t, std::size_t size, std::size_t align, const char *name) {
    t.elem_size = size;
    cow_type ty;
    cow_type_init(&ty, size, align);
    ty.ctx = &t;
    ty.copy = tracked_copy;
    ty.drop = tracked_drop;
    ty.name = name;
    return ty;
}

cow_status tracked_copy(void *ctx, void *dst, const void *src) {
    auto *t = static_cast<copy_tracker *>(ctx);
    cow_status s = t->count_copy();
    if (s == COW_OK) std::memcpy(dst, src, t->elem_size);
    return s;
}

void tracked_drop(void *ctx, void *) { static_cast<copy_tracker *>(ctx)->count_drop(); }

stamped_tracker::stamped_tracker(const char *name) {
    cow_type_init(&type_, sizeof(stamped_value), alignof(stamped_value));
    type_.ctx = this;
    type_.copy = stamped_copy;
    type_.drop = stamped_drop;
    type_.equal = stamped_equal;
    type_.hash = stamped_hash;
    type_.name = name;
}

bool stamped_tracker::is_live_copy(const stamped_value &v) const {
    return v.serial != 0 && live.count(v.serial) == 1;
}

cow_status stamped_tracker::stamped_copy(void *ctx, void *dst, const void *src) {
    auto *self = static_cast<stamped_tracker *>(ctx);
    stamped_value v;
    std::memcpy(&v, src, sizeof v);
    if (v.serial != 0 && !self->is_live_copy(v)) ownership_broken("copied a value that is not alive");
    cow_status s = self->counts.count_copy();
    if (s != COW_OK) return s;
    v.serial = self->next_serial++;
    self->live.insert(v.serial);
    std::memcpy(dst, &v, sizeof v);
    return COW_OK;
}

void stamped_tracker::stamped_drop(void *ctx, void *value) {
    auto *self = static_cast<stamped_tracker *>(ctx);
    stamped_value v;
    std::memcpy(&v, value, sizeof v);
    if (v.serial == 0 || self->live.erase(v.serial) != 1)
        ownership_broken("dropped a value that no copy made, or twice");
    self->counts.count_drop();
}

bool stamped_tracker::stamped_equal(void *, const void *a, const void *b) {
    stamped_value x, y;
    std::memcpy(&x, a, sizeof x);
    std::memcpy(&y, b, sizeof y);
    return x.value == y.value;
}

std::uint64_t stamped_tracker::stamped_hash(void *, const void *value, std::uint64_t seed) {
    stamped_value v;
    std::memcpy(&v, value, sizeof v);
    std::uint64_t x = (v.value ^ seed) * 0x9e3779b97f4a7c15u;
    return x ^ (x >> 29);
}

}  // namespace test
