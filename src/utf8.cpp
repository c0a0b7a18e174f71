#include "utf8.hpp"

namespace cow::detail {

bool utf8_valid(const char *text, std::size_t n) noexcept {
    auto *s = reinterpret_cast<const unsigned char *>(text);
    std::size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) { ++i; continue; }
        std::size_t need;
        unsigned lo = 0x80, hi = 0xbf;  // allowed range of the second byte
        if (c >= 0xc2 && c <= 0xdf) need = 1;
        else if (c == 0xe0) { need = 2; lo = 0xa0; }            // no overlong 3-byte
        else if (c == 0xed) { need = 2; hi = 0x9f; }            // no surrogates
        else if (c >= 0xe1 && c <= 0xef) need = 2;
        else if (c == 0xf0) { need = 3; lo = 0x90; }            // no overlong 4-byte
        else if (c == 0xf4) { need = 3; hi = 0x8f; }            // <= U+10FFFF
        else if (c >= 0xf1 && c <= 0xf3) need = 3;
        else return false;                                      // 0x80-0xc1, 0xf5-0xff
        if (n - i <= need) return false;                        // truncated
        if (s[i + 1] < lo || s[i + 1] > hi) return false;
        for (std::size_t k = 2; k <= need; ++k)
            if ((s[i + k] & 0xc0u) != 0x80u) return false;
        i += need + 1;
    }
    return true;
}

std::size_t utf8_count(const char *text, std::size_t n) noexcept {
    auto *s = reinterpret_cast<const unsigned char *>(text);
    std::size_t count = 0;
    for (std::size_t i = 0; i < n; ++i) count += (s[i] & 0xc0u) != 0x80u;
    return count;
}

}  // namespace cow::detail
