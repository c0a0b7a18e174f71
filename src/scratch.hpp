// Room for values built before the structure they go into is touched (the
// copies a write makes before it can fail no more): on the stack when
// small, so most writes to unique values allocate nothing, else from
// libcow's allocator.
#pragma once
#include <cstddef>
#include <cstdint>

#include "alloc.hpp"
#include "cow.h"

namespace cow::detail {

class scratch {
public:
    // size bytes aligned to align (a power of two, at most COW_MAX_ALIGN).
    scratch(std::size_t size, std::size_t align) noexcept {
        if (size <= sizeof local_) {
            ptr_ = local_;
        } else if (add_size(size, align - 1, heap_size_)) {
            heap_ = mem_alloc(heap_size_);
            if (heap_) {
                auto addr = reinterpret_cast<std::uintptr_t>(heap_);
                auto pad = static_cast<std::size_t>(-addr & (align - 1));
                ptr_ = static_cast<unsigned char *>(heap_) + pad;
            }
        }
    }
    ~scratch() {
        if (heap_) mem_free(heap_, heap_size_);
    }
    scratch(const scratch &) = delete;
    scratch &operator=(const scratch &) = delete;

    unsigned char *get() const noexcept { return ptr_; }  // nullptr: out of memory

private:
    alignas(COW_MAX_ALIGN) unsigned char local_[256];
    unsigned char *ptr_ = nullptr;
    void *heap_ = nullptr;
    std::size_t heap_size_ = 0;
};

}  // namespace cow::detail
