// Per-lineage statistics: the values made by one cow_*_new and everything
// cloned or copied from them. The lineage keeps a registry of its live
// representations, touched only when one is allocated or freed; clone
// counts live in each representation's fused counter and are summed on read.
#pragma once
#include <atomic>
#include <cstdint>
#include <thread>

#include "rep.hpp"

namespace cow::detail {

// A minimal lock: held only for a few pointer and counter updates, so one
// atomic exchange to take it and a store to drop it beat a mutex's pair of
// read-modify-writes on the copy and free paths.
class spinlock {
public:
    void lock() noexcept {
        while (locked_.exchange(true, std::memory_order_acquire))
            while (locked_.load(std::memory_order_relaxed)) std::this_thread::yield();
    }
    void unlock() noexcept { locked_.store(false, std::memory_order_release); }

private:
    std::atomic<bool> locked_{false};
};

struct lineage {
    spinlock mu;                            // guards everything but carried_clones
    rep *head = nullptr;                    // live representations
    std::uint64_t retired_clones = 0;       // clones counted by freed reps
    std::uint64_t copies = 0;
    std::uint64_t bytes_copied = 0;
    std::uint64_t nodes_copied = 0;
    std::uint64_t switches = 0;             // copies made in the other representation
    std::atomic<std::uint64_t> carried_clones{0};  // wraps of a rep's 32-bit clone field
};

lineage *lineage_new() noexcept;
// Adds r; the caller holds no lock.
void lineage_join(lineage *l, rep *r, std::uint64_t copies, std::uint64_t bytes,
                  std::uint64_t clones, std::uint64_t switches = 0) noexcept;
// Adds node copies made under a private root (they are not value copies).
void lineage_count_nodes(lineage *l, std::uint64_t nodes, std::uint64_t bytes) noexcept;
// Removes r (flushing its clones); frees the lineage when it was the last.
void lineage_leave(lineage *l, rep *r) noexcept;

}  // namespace cow::detail
