// What cow_vec_diff must report for two plain vectors: the ascending maximal
// ranges (offset, count) of positions whose elements differ, positions past
// the shorter one included.
#pragma once
#include <cstddef>
#include <utility>
#include <vector>

namespace test {

using diff_ranges_t = std::vector<std::pair<std::size_t, std::size_t>>;

template <class T>
diff_ranges_t positional_diff(const std::vector<T> &a, const std::vector<T> &b) {
    diff_ranges_t out;
    std::size_t longer = a.size() > b.size() ? a.size() : b.size();
    for (std::size_t i = 0; i < longer; ++i) {
        if (i < a.size() && i < b.size() && a[i] == b[i]) continue;
        if (!out.empty() && out.back().first + out.back().second == i)
            out.back().second += 1;
        else
            out.push_back({i, 1});
    }
    return out;
}

}  // namespace test
