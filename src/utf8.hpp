// UTF-8 validation (RFC 3629: no overlong forms, no surrogates, <= U+10FFFF).
#pragma once
#include <cstddef>

namespace cow::detail {

bool utf8_valid(const char *s, std::size_t n) noexcept;
// True when offset `at` of valid UTF-8 text s[0..n) starts a character (or is n).
inline bool utf8_boundary(const char *s, std::size_t n, std::size_t at) noexcept {
    return at == n || (at < n && (static_cast<unsigned char>(s[at]) & 0xc0u) != 0x80u);
}
std::size_t utf8_count(const char *s, std::size_t n) noexcept;

}  // namespace cow::detail
