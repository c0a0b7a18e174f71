#include "report.hpp"

#define FMT_HEADER_ONLY
#include <fmt/format.h>

namespace cow::detail {
namespace {

const char *representation_name(std::uint32_t representation) noexcept {
    return representation == COW_REPRESENTATION_TREE ? "tree" : "flat";
}

}  // namespace

std::size_t format_report(const cow_stats_info &s, std::uint32_t format, bool adaptive, char *buf,
                          std::size_t cap) noexcept {
    if (cap == 0) return 0;
    double mb = double(s.memory_saved) / (1024.0 * 1024.0);
    char *at = buf, *const end = buf + cap - 1;
    // Moves `at` past what the last format_to_n wrote (it may have been cut short).
    auto advance = [&](const fmt::format_to_n_result<char *> &r) {
        at += r.size < std::size_t(end - at) ? r.size : std::size_t(end - at);
    };
    // format_to_n into a caller buffer never allocates; the arguments are numbers and literals.
    if (format == COW_REPORT_JSON) {
        advance(fmt::format_to_n(
            at, end - at,
            "{{\"enabled\":{},\"clones\":{},\"copies\":{},\"copy_rate\":{:.4f},"
            "\"bytes_copied\":{},\"memory_saved\":{},\"live_handles\":{},\"live_values\":{},"
            "\"value_bytes\":{},\"representation\":\"{}\",\"nodes_copied\":{},"
            "\"switches\":{}}}",
            s.enabled ? "true" : "false", s.clones, s.copies, s.copy_rate, s.bytes_copied,
            s.memory_saved, s.live_handles, s.live_values, s.value_bytes,
            representation_name(s.representation), s.nodes_copied, s.switches));
    } else {
        // Flat reports keep their lines; a tree says so, and an ADAPTIVE
        // value says which it is now and how often its lineage switched.
        advance(fmt::format_to_n(at, end - at,
                                 "Clones: {}\nCopies: {}\nCopy rate: {:.1f}%\nBytes copied: {}\n"
                                 "Memory saved: {} bytes ({:.2f} MB)\nLive handles: {}\n",
                                 s.clones, s.copies, s.copy_rate * 100.0, s.bytes_copied,
                                 s.memory_saved, mb, s.live_handles));
        if (adaptive)
            advance(fmt::format_to_n(at, end - at, "Representation: {}\nSwitches: {}\n",
                                     representation_name(s.representation), s.switches));
        else if (s.representation == COW_REPRESENTATION_TREE)
            advance(fmt::format_to_n(at, end - at, "Representation: tree\n"));
        if (!s.enabled)
            advance(fmt::format_to_n(at, end - at, "(statistics are off for this value)\n"));
    }
    *at = 0;
    return std::size_t(at - buf);
}

}  // namespace cow::detail
