#include "adaptive.hpp"

namespace cow::detail {

adaptive_step adaptive_plan(const rep *r, adaptive_history &h, bool tree,
                            std::uint64_t value_bytes) noexcept {
    adaptive_step step;
    // The clones made of r since a copy of it last counted them (32-bit
    // fields: the difference is right across a wrap).
    auto made = std::uint32_t(r->count.load(std::memory_order_relaxed) >> 32);
    std::uint32_t counted = h.clones_counted.exchange(made, std::memory_order_relaxed);
    step.clones_taken = made - counted;
    std::uint64_t copies = std::uint64_t{h.counts.copies} + 1;
    std::uint64_t clones = std::uint64_t{h.counts.clones} + step.clones_taken;
    if (clones > adaptive_window) {
        copies = (copies * adaptive_window + clones - 1) / clones;  // rounded up: never 0
        clones = adaptive_window;
    }
    if (copies > adaptive_window) copies = adaptive_window;  // one value copied again and again
    step.counts.copies = std::uint32_t(copies);
    step.counts.clones = std::uint32_t(clones);
    std::uint64_t floor = r->threshold ? r->threshold : adaptive_default_floor;
    if (value_bytes < floor) return step;  // flat
    std::uint64_t w = value_bytes / 2 < adaptive_clone_bytes ? value_bytes / 2 : adaptive_clone_bytes;
    // copies * V * k >= clones * w; the right side is small (both factors
    // are bounded), the left may overflow, and is then the larger.
    auto flat_costs_more = [&](std::uint64_t k) {
        std::uint64_t flat_cost;
        return __builtin_mul_overflow(copies * k, value_bytes, &flat_cost) || flat_cost >= clones * w;
    };
    step.tree = tree ? flat_costs_more(4) : copies >= adaptive_min_copies && flat_costs_more(1);
    return step;
}

void adaptive_cancel(adaptive_history &h, const adaptive_step &step) noexcept {
    h.clones_counted.fetch_sub(step.clones_taken, std::memory_order_relaxed);
}

}  // namespace cow::detail
