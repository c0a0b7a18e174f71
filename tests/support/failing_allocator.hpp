// An allocator for cow_set_allocator that counts what libcow asks of it and
// refuses the requests it is told to: one chosen call, every call from a
// chosen one on, or any request above a size limit (as an exhausted heap
// would). The test suites and the fuzz targets inject allocation failures
// with it.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "cow.h"

namespace test {

class failing_allocator {
public:
    std::atomic<long> calls{0};     // malloc + realloc attempts, refused ones included
    std::atomic<long> allocs{0};    // successful mallocs
    std::atomic<long> reallocs{0};  // successful reallocs
    std::atomic<long> frees{0};
    long fail_at = 0;               // the call number (counted in `calls`) to refuse; 0: none
    bool fail_all_after = false;    // refuse every call from fail_at on
    std::size_t largest_request = SIZE_MAX;  // larger requests are refused

    // The callbacks to install, with this object as their context.
    cow_allocator callbacks();

    // Refuses the n-th call from now (1-based), and only that one.
    void fail_nth_from_now(long n) { fail_at = calls + n; }
    void stop_failing() {
        fail_at = 0;
        fail_all_after = false;
    }
    // Whether a call was refused since this was last asked.
    bool take_refusal() { return refused.exchange(false); }
    long successful_allocations() const { return allocs + reallocs; }

private:
    std::atomic<bool> refused{false};
    bool refuse(std::size_t size);
    static void *do_malloc(void *ctx, std::size_t size);
    static void *do_realloc(void *ctx, void *p, std::size_t old_size, std::size_t size);
    static void do_free(void *ctx, void *p, std::size_t size);
};

}  // namespace test
