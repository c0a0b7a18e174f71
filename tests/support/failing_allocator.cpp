#include "failing_allocator.hpp"

#include <cstdlib>

namespace test {

cow_allocator failing_allocator::callbacks() {
    return cow_allocator{sizeof(cow_allocator), 0, this, do_malloc, do_realloc, do_free};
}

bool failing_allocator::refuse(std::size_t size) {
    long n = ++calls;
    bool fail = size > largest_request ||
                (fail_at != 0 && (fail_all_after ? n >= fail_at : n == fail_at));
    if (fail) refused = true;
    return fail;
}

void *failing_allocator::do_malloc(void *ctx, std::size_t size) {
    auto *self = static_cast<failing_allocator *>(ctx);
    if (self->refuse(size)) return nullptr;
    ++self->allocs;
    return std::malloc(size);
}

void *failing_allocator::do_realloc(void *ctx, void *p, std::size_t, std::size_t size) {
    auto *self = static_cast<failing_allocator *>(ctx);
    if (self->refuse(size)) return nullptr;
    ++self->reallocs;
    return std::realloc(p, size);
}

void failing_allocator::do_free(void *ctx, void *p, std::size_t) {
    ++static_cast<failing_allocator *>(ctx)->frees;
    std::free(p);
}

}  // namespace test
