// cow.hpp - header-only C++ value types over libcow's C API (cow.h).
//
// Every type here owns one libcow handle:
//   copy   = cow_clone (O(1), shares the data)
//   move   = steals the handle (the source becomes an empty, null value)
//   ~dtor  = cow_release
// Const members read; mutating members go through the handle's slot, so a
// write to shared data copies it first and other copies never see it.
//
// Errors throw: COW_ENOMEM -> std::bad_alloc, every other status ->
// std::system_error whose code is in cow::error_category() (message() is
// cow_strerror). A member that throws leaves the value unchanged.
//
// A moved-from value holds no handle: it reads as empty (size() == 0) and
// its first write creates a fresh empty value (with default options).
//
// Thread safety is the C API's: different objects (even copies of one
// another) may be used from different threads at once; one object is used
// by one thread at a time, like any variable.
//
// Elements, keys and map values are copied into libcow with memcpy, so
// vector<T> and box<T> need trivially copyable T; a map may also hold
// cow:: values (stored as handles through cow_type_handle).
//
// A vector created with COW_STRATEGY_STRUCTURAL is a persistent tree: its
// elements are not contiguous. Element access (operator[], at, front, back),
// iteration (begin/end, spans(), for_each_span) and every write work for
// every representation; data(), span() and make_mut() need contiguous
// elements and throw std::system_error COW_ENOTCONTIGUOUS for a tree
// (contiguous() says which applies). slice, concat, ==, hash() and diff
// take flat and tree vectors alike, mixed freely.
#ifndef COW_HPP
#define COW_HPP

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <initializer_list>
#include <iterator>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#if __cplusplus >= 202002L && __has_include(<span>)
#include <span>
#endif

#include "cow.h"

namespace cow {

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------
namespace detail {
class error_category_impl final : public std::error_category {
public:
    const char *name() const noexcept override { return "libcow"; }
    std::string message(int code) const override { return cow_strerror(code); }
};
}  // namespace detail

// The category of every std::system_error thrown by this header.
inline const std::error_category &error_category() noexcept {
    static const detail::error_category_impl category;
    return category;
}

inline std::error_code make_error_code(cow_status status) noexcept {
    return std::error_code(static_cast<int>(status), error_category());
}

// Throws the exception that stands for a failed status.
[[noreturn]] inline void throw_status(cow_status status, const char *what) {
    if (status == COW_ENOMEM) throw std::bad_alloc();
    throw std::system_error(make_error_code(status), what);
}

inline void check(cow_status status, const char *what) {
    if (status != COW_OK) throw_status(status, what);
}

// Options for a strategy (COW_STRATEGY_*), as COW_OPTIONS_INIT with the
// given fields: pass its address to a constructor.
inline cow_options make_options(cow_strategy_t strategy, std::uint64_t threshold_bytes = 0,
                                std::uint32_t flags = 0) noexcept {
    cow_options o COW_OPTIONS_INIT;
    o.strategy = strategy;
    o.threshold_bytes = threshold_bytes;
    o.flags = flags;
    return o;
}

// ---------------------------------------------------------------------------
// The handle owner shared by every value type
// ---------------------------------------------------------------------------
namespace detail {

struct value_tag {};

// A new reference to h (nullptr stays nullptr). cow_clone fails only on
// allocation failure (eager strategies) or a saturated reference count.
template <class H>
H *clone_handle(H *h) {
    if (!h) return nullptr;
    void *c = cow_clone(h);
    if (!c) {
        if (cow_strong_count(h) >= COW_MAX_REFCOUNT) throw_status(COW_EOVERFLOW, "cow_clone");
        throw std::bad_alloc();
    }
    return static_cast<H *>(c);
}

// Releases a report string however the conversion to std::string ends.
struct str_holder {
    cow_str *s = nullptr;
    ~str_holder() { cow_release(s); }
};

template <class H>
class handle_owner : public value_tag {
public:
    using handle_type = H;

    handle_owner(const handle_owner &other) : h_(clone_handle(other.h_)) {}
    handle_owner(handle_owner &&other) noexcept : h_(std::exchange(other.h_, nullptr)) {}
    handle_owner &operator=(const handle_owner &other) {
        H *c = clone_handle(other.h_);  // first, so a failure changes nothing
        cow_release(h_);
        h_ = c;
        return *this;
    }
    handle_owner &operator=(handle_owner &&other) noexcept {
        if (this != &other) {
            cow_release(h_);
            h_ = std::exchange(other.h_, nullptr);
        }
        return *this;
    }
    ~handle_owner() { cow_release(h_); }

    // A write through this value would copy.
    bool is_shared() const noexcept { return cow_is_shared(h_); }
    // Handles referring to this value's data (0 for a moved-from value).
    std::uint64_t use_count() const noexcept { return cow_strong_count(h_); }
    // Both refer to the same data (false when either is moved-from).
    bool same_as(const handle_owner &other) const noexcept { return cow_ptr_eq(h_, other.h_); }

    // Statistics of this value's lineage.
    cow_stats_info stats() const {
        cow_stats_info info COW_STATS_INFO_INIT;
        check(cow_stats(h_, &info), "cow_stats");
        return info;
    }
    // The lineage report (COW_REPORT_TEXT or COW_REPORT_JSON).
    std::string report(std::uint32_t format = COW_REPORT_TEXT) const {
        str_holder text;
        check(cow_stats_report(h_, format, &text.s), "cow_stats_report");
        return std::string(cow_str_data(text.s), cow_str_len(text.s));
    }

    // The handle (borrowed) for calls into the C API.
    H *handle() const noexcept { return h_; }
    // Gives up the handle: the caller owns the reference; this becomes empty.
    H *detach() noexcept { return std::exchange(h_, nullptr); }

protected:
    handle_owner() noexcept = default;
    explicit handle_owner(H *h) noexcept : h_(h) {}

    // Makes the data unique (copying it if shared) before a batch of writes.
    void make_unique_slot() { check(cow_make_mut(&h_), "cow_make_mut"); }

    H *h_ = nullptr;
};

// Keys and pointers of zero length must not be NULL in the C API.
inline const char *non_null(const char *p) noexcept { return p ? p : ""; }

}  // namespace detail

// True for the cow:: value types (stored in maps as libcow handles).
template <class T>
inline constexpr bool is_value_v = std::is_base_of_v<detail::value_tag, T>;

// ---------------------------------------------------------------------------
// cow::buffer: bytes
// ---------------------------------------------------------------------------
class buffer : public detail::handle_owner<cow_buf> {
public:
    buffer() : buffer(nullptr, 0) {}
    buffer(const void *bytes, std::size_t len, const cow_options *options = nullptr) {
        check(cow_buf_new(&h_, bytes, len, options), "cow_buf_new");
    }
    explicit buffer(std::string_view bytes, const cow_options *options = nullptr)
        : buffer(detail::non_null(bytes.data()), bytes.size(), options) {}
    // Takes over a reference the caller owns (COW_ETYPE if not a buffer;
    // the caller keeps it then).
    static buffer adopt(cow_buf *h) {
        if (h && cow_kind(h) != COW_KIND_BUF) throw_status(COW_ETYPE, "cow::buffer::adopt");
        return buffer(h, adopt_tag{});
    }

    std::size_t size() const noexcept { return cow_buf_len(h_); }
    bool empty() const noexcept { return size() == 0; }
    // Read-only bytes, valid until the next write to this object.
    const std::uint8_t *data() const noexcept { return h_ ? cow_buf_data(h_) : nullptr; }
    std::uint8_t operator[](std::size_t i) const noexcept { return data()[i]; }
    std::string_view view() const noexcept {
        return h_ ? std::string_view(reinterpret_cast<const char *>(data()), size())
                  : std::string_view();
    }
#ifdef __cpp_lib_span
    std::span<const std::uint8_t> bytes() const noexcept { return {data(), size()}; }
#endif

    // Writable bytes (copies if shared); valid until the next clone or write.
    std::uint8_t *make_mut() {
        ensure();
        std::uint8_t *p = nullptr;
        check(cow_buf_make_mut(&h_, &p), "cow_buf_make_mut");
        return p;
    }
    buffer &append(const void *bytes, std::size_t len) {
        ensure();
        check(cow_buf_append(&h_, len ? bytes : "", len), "cow_buf_append");
        return *this;
    }
    buffer &append(std::string_view bytes) { return append(bytes.data(), bytes.size()); }
    buffer &insert(std::size_t at, const void *bytes, std::size_t len) {
        ensure();
        check(cow_buf_insert(&h_, at, len ? bytes : "", len), "cow_buf_insert");
        return *this;
    }
    buffer &erase(std::size_t at, std::size_t count) {
        ensure();
        check(cow_buf_erase(&h_, at, count), "cow_buf_erase");
        return *this;
    }
    void truncate(std::size_t new_len) {
        ensure();
        check(cow_buf_truncate(&h_, new_len), "cow_buf_truncate");
    }
    void resize(std::size_t new_len, std::uint8_t fill = 0) {
        ensure();
        check(cow_buf_resize(&h_, new_len, fill), "cow_buf_resize");
    }
    void make_unique() {
        ensure();
        make_unique_slot();
    }
    // Bytes [offset, offset + len) sharing this buffer's storage: O(1).
    buffer slice(std::size_t offset, std::size_t len) const {
        buffer out(nullptr, adopt_tag{});
        if (!h_) {
            if (offset || len) throw_status(COW_ERANGE, "cow_buf_slice");
            return buffer();
        }
        check(cow_buf_slice(&out.h_, h_, offset, len), "cow_buf_slice");
        return out;
    }
    std::uint64_t hash() const noexcept { return cow_buf_hash(h_); }

    friend bool operator==(const buffer &a, const buffer &b) noexcept {
        return cow_buf_equal(a.h_, b.h_);
    }
    friend bool operator!=(const buffer &a, const buffer &b) noexcept { return !(a == b); }
    friend bool operator<(const buffer &a, const buffer &b) noexcept {
        return cow_buf_compare(a.h_, b.h_) < 0;
    }

private:
    struct adopt_tag {};
    buffer(cow_buf *h, adopt_tag) noexcept : handle_owner(h) {}
    void ensure() {
        if (!h_) check(cow_buf_new(&h_, "", 0, nullptr), "cow_buf_new");
    }
};

// ---------------------------------------------------------------------------
// cow::string: UTF-8 text (invalid input throws system_error COW_EUTF8)
// ---------------------------------------------------------------------------
class string : public detail::handle_owner<cow_str> {
public:
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

    string() : string(std::string_view()) {}
    // Explicit: creating a string allocates and may throw.
    explicit string(std::string_view text, const cow_options *options = nullptr) {
        check(cow_str_new(&h_, detail::non_null(text.data()), text.size(), options),
              "cow_str_new");
    }
    explicit string(const char *text, const cow_options *options = nullptr)
        : string(std::string_view(text), options) {}
    explicit string(const std::string &text, const cow_options *options = nullptr)
        : string(std::string_view(text), options) {}
    // Takes over a reference the caller owns (COW_ETYPE if not a string;
    // the caller keeps it then).
    static string adopt(cow_str *h) {
        if (h && cow_kind(h) != COW_KIND_STR) throw_status(COW_ETYPE, "cow::string::adopt");
        return string(h, adopt_tag{});
    }

    std::size_t size() const noexcept { return cow_str_len(h_); }
    bool empty() const noexcept { return size() == 0; }
    // Bytes (not NUL-terminated in general), valid until the next write.
    const char *data() const noexcept { return h_ ? cow_str_data(h_) : ""; }
    std::string_view view() const noexcept { return std::string_view(data(), size()); }
    operator std::string_view() const noexcept { return view(); }
    std::string str() const { return std::string(view()); }
    char operator[](std::size_t i) const noexcept { return data()[i]; }
    // Code points, O(n).
    std::size_t char_count() const noexcept { return cow_str_char_count(h_); }
    // NUL-terminated text; not const because a substring may first become a
    // private copy (see cow_str_cstr).
    const char *c_str() {
        ensure();
        const char *p = nullptr;
        check(cow_str_cstr(&h_, &p), "cow_str_cstr");
        return p;
    }

    string &append(std::string_view text) {
        ensure();
        check(cow_str_append(&h_, detail::non_null(text.data()), text.size()), "cow_str_append");
        return *this;
    }
    string &operator+=(std::string_view text) { return append(text); }
    string &insert(std::size_t at, std::string_view text) {
        ensure();
        check(cow_str_insert(&h_, at, detail::non_null(text.data()), text.size()),
              "cow_str_insert");
        return *this;
    }
    string &erase(std::size_t at, std::size_t count) {
        ensure();
        check(cow_str_erase(&h_, at, count), "cow_str_erase");
        return *this;
    }
    void truncate(std::size_t new_len) {
        ensure();
        check(cow_str_truncate(&h_, new_len), "cow_str_truncate");
    }
    void make_unique() {
        ensure();
        make_unique_slot();
    }

    // Bytes [offset, offset + len) sharing this string's storage: O(1).
    string substr(std::size_t offset, std::size_t len) const {
        if (!h_) {
            if (offset || len) throw_status(COW_ERANGE, "cow_str_substr");
            return string();
        }
        string out(nullptr, adopt_tag{});
        check(cow_str_substr(&out.h_, h_, offset, len), "cow_str_substr");
        return out;
    }
    // Byte offset of needle at or after `from`, or npos.
    std::size_t find(std::string_view needle, std::size_t from = 0) const {
        if (!h_) return needle.empty() && from == 0 ? 0 : npos;
        std::size_t pos = 0;
        cow_status s = cow_str_find(h_, detail::non_null(needle.data()), needle.size(), from, &pos);
        if (s == COW_ENOTFOUND) return npos;
        check(s, "cow_str_find");
        return pos;
    }
    std::uint64_t hash() const noexcept { return cow_str_hash(h_); }

    friend bool operator==(const string &a, const string &b) noexcept {
        return a.view() == b.view();
    }
    friend bool operator!=(const string &a, const string &b) noexcept { return !(a == b); }
    friend bool operator<(const string &a, const string &b) noexcept {
        return a.view() < b.view();
    }
    friend bool operator==(const string &a, std::string_view b) noexcept { return a.view() == b; }
    friend bool operator!=(const string &a, std::string_view b) noexcept { return a.view() != b; }
    friend bool operator==(std::string_view a, const string &b) noexcept { return a == b.view(); }
    friend bool operator!=(std::string_view a, const string &b) noexcept { return a != b.view(); }

private:
    struct adopt_tag {};
    string(cow_str *h, adopt_tag) noexcept : handle_owner(h) {}
    void ensure() {
        if (!h_) check(cow_str_new(&h_, "", 0, nullptr), "cow_str_new");
    }
};

// ---------------------------------------------------------------------------
// Element, key and value descriptions
// ---------------------------------------------------------------------------
namespace detail {

// A cow_type for any other trivially copyable T: size and alignment only
// (copied with memcpy, compared and hashed byte-wise).
template <class T>
struct plain_type {
    static constexpr cow_type value{sizeof(cow_type), 0, sizeof(T), alignof(T), nullptr,
                                    nullptr, nullptr, nullptr, nullptr, nullptr};
};

// The built-in cow_type for integers, floats and pointers, else plain_type.
template <class T>
const cow_type *type_for() noexcept {
    static_assert(std::is_trivially_copyable_v<T>, "libcow moves elements with memcpy");
    static_assert(alignof(T) <= COW_MAX_ALIGN, "alignment above COW_MAX_ALIGN");
    if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
        if constexpr (sizeof(T) == 1) return cow_type_i8();
        else if constexpr (sizeof(T) == 2) return cow_type_i16();
        else if constexpr (sizeof(T) == 4) return cow_type_i32();
        else if constexpr (sizeof(T) == 8) return cow_type_i64();
        else return &plain_type<T>::value;
    } else if constexpr (std::is_integral_v<T>) {
        if constexpr (sizeof(T) == 1) return cow_type_u8();
        else if constexpr (sizeof(T) == 2) return cow_type_u16();
        else if constexpr (sizeof(T) == 4) return cow_type_u32();
        else if constexpr (sizeof(T) == 8) return cow_type_u64();
        else return &plain_type<T>::value;
    } else if constexpr (std::is_same_v<T, float>) {
        return cow_type_f32();
    } else if constexpr (std::is_same_v<T, double>) {
        return cow_type_f64();
    } else if constexpr (std::is_pointer_v<T> && sizeof(T) == sizeof(void *)) {
        return cow_type_ptr();
    } else {
        return &plain_type<T>::value;
    }
}

template <class T>
T load(const void *p) noexcept {
    T v;
    std::memcpy(static_cast<void *>(&v), p, sizeof v);
    return v;
}

// Map keys: integers (by value) or UTF-8 strings (std::string,
// std::string_view; passed and seen as std::string_view).
template <class K, class = void>
struct key_traits {
    static_assert(std::is_integral_v<K>, "map keys are integers or strings");
    using arg = K;
    using view = K;
    static const cow_type *type() noexcept { return type_for<K>(); }
    static const void *ptr(const K &k) noexcept { return &k; }
    static std::size_t len(const K &) noexcept { return sizeof(K); }
    static view from(const void *p, std::size_t) noexcept { return load<K>(p); }
};
template <class K>
struct key_traits<K, std::enable_if_t<std::is_same_v<K, std::string> ||
                                      std::is_same_v<K, std::string_view>>> {
    using arg = std::string_view;
    using view = std::string_view;
    static const cow_type *type() noexcept { return cow_type_string(); }
    static const void *ptr(std::string_view k) noexcept { return non_null(k.data()); }
    static std::size_t len(std::string_view k) noexcept { return k.size(); }
    static view from(const void *p, std::size_t n) noexcept {
        return std::string_view(static_cast<const char *>(p), n);
    }
};

// Map values: trivially copyable (stored as bytes) or cow:: values (stored
// as handles: inserting clones, reading gives a new reference).
template <class V, bool IsValue = is_value_v<V>>
struct value_traits {
    using stored = V;
    using read = const V &;  // a reference into the container
    static const cow_type *type() noexcept { return type_for<V>(); }
    static read from(const void *p) noexcept { return *static_cast<const V *>(p); }
    static V take(const stored &s) noexcept { return s; }
};
template <class V>
struct value_traits<V, true> {
    using stored = typename V::handle_type *;
    using read = V;  // a new reference (O(1))
    static const cow_type *type() noexcept { return cow_type_handle(); }
    static read from(const void *p) { return V::adopt(clone_handle(load<stored>(p))); }
    static V take(stored s) { return V::adopt(s); }
};

}  // namespace detail

// ---------------------------------------------------------------------------
// cow::vector<T>: trivially copyable elements
// ---------------------------------------------------------------------------
template <class T>
class vector : public detail::handle_owner<cow_vec> {
    static_assert(std::is_trivially_copyable_v<T>, "cow::vector needs trivially copyable T");

public:
    using value_type = T;
    using size_type = std::size_t;

    // The cow_type describing T (built-in for integers, floats, pointers).
    static const cow_type *elem_type() noexcept { return detail::type_for<T>(); }

    vector() : vector(nullptr) {}
    // An empty vector with these options (nullptr: defaults), e.g. a tree:
    // cow::vector<T> v(cow::make_options(COW_STRATEGY_STRUCTURAL)).
    explicit vector(const cow_options *options) {
        check(cow_vec_new(&h_, elem_type(), options), "cow_vec_new");
    }
    explicit vector(const cow_options &options) : vector(&options) {}
    vector(const T *elems, std::size_t count, const cow_options *options = nullptr) {
        check(cow_vec_from_array(&h_, elem_type(), count ? static_cast<const void *>(elems) : "",
                                 count, options),
              "cow_vec_from_array");
    }
    vector(std::initializer_list<T> elems) : vector(elems.begin(), elems.size()) {}
    vector(std::initializer_list<T> elems, const cow_options &options)
        : vector(elems.begin(), elems.size(), &options) {}
    // An empty vector with room for `capacity` elements (cow_vec_with_capacity).
    static vector with_capacity(std::size_t capacity, const cow_options *options = nullptr) {
        vector out(nullptr, adopt_tag{});
        check(cow_vec_with_capacity(&out.h_, elem_type(), capacity, options),
              "cow_vec_with_capacity");
        return out;
    }
    // Takes over a reference the caller owns (COW_ETYPE if not a vector of
    // T-sized elements; the caller keeps it then).
    static vector adopt(cow_vec *h) {
        if (h && (cow_kind(h) != COW_KIND_VEC || cow_vec_type(h)->elem_size != sizeof(T)))
            throw_status(COW_ETYPE, "cow::vector::adopt");
        return vector(h, adopt_tag{});
    }

    std::size_t size() const noexcept { return cow_vec_len(h_); }
    bool empty() const noexcept { return size() == 0; }
    // Element i (i < size()), valid until the next write to this object.
    // Every representation (cow_vec_get: O(1) flat, O(log n) for a tree).
    const T &operator[](std::size_t i) const noexcept {
        return *static_cast<const T *>(cow_vec_get(h_, i));
    }
    // Element i; COW_ERANGE when i >= size().
    const T &at(std::size_t i) const {
        const void *p = cow_vec_get(h_, i);
        if (!p) throw_status(COW_ERANGE, "cow::vector::at");
        return *static_cast<const T *>(p);
    }
    const T &front() const { return at(0); }
    const T &back() const { return at(size() - 1); }

    // True when the elements are stored contiguously, so that data(), span()
    // and make_mut() work: false for a tree (COW_STRATEGY_STRUCTURAL, even
    // when empty), true for the flat strategies and a moved-from vector.
    bool contiguous() const noexcept {
        const void *p = nullptr;
        return !h_ || cow_vec_data(h_, &p) == COW_OK;
    }
    // Contiguous elements, valid until the next write to this object
    // (nullptr for a moved-from vector). Throws system_error
    // COW_ENOTCONTIGUOUS for a tree: read it with operator[], at, begin/end
    // or spans() instead.
    const T *data() const {
        if (!h_) return nullptr;
        const void *p = nullptr;
        check(cow_vec_data(h_, &p), "cow_vec_data");
        return static_cast<const T *>(p);
    }
#ifdef __cpp_lib_span
    // data() as a span: the same COW_ENOTCONTIGUOUS for a tree.
    std::span<const T> span() const { return {data(), size()}; }
#endif
    std::vector<T> to_std() const { return std::vector<T>(begin(), end()); }

    // Calls f(const T *data, std::size_t count) for each contiguous span, in
    // order, without copying (works for every representation: one span for
    // a flat vector, one per leaf for a tree, none when empty).
    template <class F>
    void for_each_span(F &&f) const {
        for (const chunk &c : spans()) f(c.data(), c.size());
    }

    // One contiguous run of elements handed out by spans(): a view into the
    // vector, valid until its next write.
    class chunk {
    public:
        chunk() noexcept = default;
        chunk(const T *data, std::size_t size) noexcept : data_(data), size_(size) {}
        const T *data() const noexcept { return data_; }
        std::size_t size() const noexcept { return size_; }
        bool empty() const noexcept { return size_ == 0; }
        const T *begin() const noexcept { return data_; }
        const T *end() const noexcept { return data_ + size_; }
        const T &operator[](std::size_t i) const noexcept { return data_[i]; }
#ifdef __cpp_lib_span
        operator std::span<const T>() const noexcept { return {data_, size_}; }
#endif
    private:
        const T *data_ = nullptr;
        std::size_t size_ = 0;
    };

    // Iterates the spans of cow_vec_next_span (each with size() >= 1).
    class span_iterator {
    public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = chunk;
        using difference_type = std::ptrdiff_t;
        using pointer = const chunk *;
        using reference = const chunk &;

        span_iterator() noexcept = default;
        reference operator*() const noexcept { return chunk_; }
        pointer operator->() const noexcept { return &chunk_; }
        span_iterator &operator++() noexcept {
            next();
            return *this;
        }
        span_iterator operator++(int) noexcept {
            span_iterator old = *this;
            next();
            return old;
        }
        friend bool operator==(const span_iterator &a, const span_iterator &b) noexcept {
            return a.chunk_.data() == b.chunk_.data();
        }
        friend bool operator!=(const span_iterator &a, const span_iterator &b) noexcept {
            return !(a == b);
        }

    private:
        friend class vector;
        explicit span_iterator(const cow_vec *h) {
            check(cow_vec_cursor_init(&cursor_, h), "cow_vec_cursor_init");
            next();
        }
        void next() noexcept {
            const void *p = nullptr;
            std::size_t n = 0;
            if (cow_vec_next_span(&cursor_, &p, &n)) {
                chunk_ = chunk(static_cast<const T *>(p), n);
            } else {
                chunk_ = chunk();  // the end
            }
        }
        cow_vec_cursor cursor_{};
        chunk chunk_;
    };
    // The elements as contiguous spans, in order, without copying (every
    // representation): `for (const auto &c : v.spans()) use(c.data(), c.size());`
    class span_range {
    public:
        span_iterator begin() const { return h_ ? span_iterator(h_) : span_iterator(); }
        span_iterator end() const noexcept { return span_iterator(); }

    private:
        friend class vector;
        explicit span_range(const cow_vec *h) noexcept : h_(h) {}
        const cow_vec *h_;
    };
    span_range spans() const noexcept { return span_range(h_); }

    // Iterates by spans (cow_vec_next_span): never copies the vector.
    class const_iterator {
    public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = T;
        using difference_type = std::ptrdiff_t;
        using pointer = const T *;
        using reference = const T &;

        const_iterator() noexcept = default;
        reference operator*() const noexcept { return *p_; }
        pointer operator->() const noexcept { return p_; }
        const_iterator &operator++() noexcept {
            ++p_;
            if (--left_ == 0) next_span();
            return *this;
        }
        const_iterator operator++(int) noexcept {
            const_iterator old = *this;
            ++*this;
            return old;
        }
        friend bool operator==(const const_iterator &a, const const_iterator &b) noexcept {
            return a.p_ == b.p_;
        }
        friend bool operator!=(const const_iterator &a, const const_iterator &b) noexcept {
            return a.p_ != b.p_;
        }

    private:
        friend class vector;
        explicit const_iterator(const cow_vec *h) {
            check(cow_vec_cursor_init(&cursor_, h), "cow_vec_cursor_init");
            next_span();
        }
        const_iterator(const cow_vec *h, std::size_t index) {
            check(cow_vec_cursor_init_at(&cursor_, h, index), "cow_vec_cursor_init_at");
            next_span();
        }
        void next_span() noexcept {
            const void *p = nullptr;
            if (cow_vec_next_span(&cursor_, &p, &left_)) {
                p_ = static_cast<const T *>(p);
            } else {
                p_ = nullptr;  // the end
                left_ = 0;
            }
        }
        cow_vec_cursor cursor_{};
        const T *p_ = nullptr;
        std::size_t left_ = 0;
    };
    using iterator = const_iterator;
    const_iterator begin() const { return h_ ? const_iterator(h_) : const_iterator(); }
    const_iterator end() const noexcept { return const_iterator(); }
    // An iterator at element `index` (index == size() gives end()); O(1),
    // the first element is found in O(log n) for a tree. COW_ERANGE when
    // index > size().
    const_iterator begin_at(std::size_t index) const {
        if (!h_) {
            if (index) throw_status(COW_ERANGE, "cow_vec_cursor_init_at");
            return const_iterator();
        }
        return const_iterator(h_, index);
    }
    // The elements from `index` to the end, for a range-for:
    // `for (T x : v.from(i))`. COW_ERANGE when index > size().
    class tail_range {
    public:
        const_iterator begin() const noexcept { return first_; }
        const_iterator end() const noexcept { return const_iterator(); }

    private:
        friend class vector;
        explicit tail_range(const_iterator first) noexcept : first_(first) {}
        const_iterator first_;
    };
    tail_range from(std::size_t index) const { return tail_range(begin_at(index)); }

    // Whole-vector operations. Vectors of T compare, hash and diff alike
    // whatever their representations (flat or tree).

    // Elements [offset, offset + len) as a new vector with this one's
    // options (no sharing for a flat vector, O(len); a tree shares its
    // nodes, O(log n)). COW_ERANGE when the range is not inside the vector.
    vector slice(std::size_t offset, std::size_t len) const {
        if (!h_) {
            if (offset || len) throw_status(COW_ERANGE, "cow_vec_slice");
            return vector();
        }
        vector out(nullptr, adopt_tag{});
        check(cow_vec_slice(&out.h_, h_, offset, len), "cow_vec_slice");
        return out;
    }
    // Appends other's elements (other may be this vector: it is doubled).
    // Two trees are joined sharing both, O(log n). COW_ETYPE when other was
    // adopted with another element descriptor.
    vector &concat(const vector &other) {
        ensure();
        if (other.h_) check(cow_vec_concat(&h_, other.h_), "cow_vec_concat");
        return *this;
    }
    // A hash of the length and elements, consistent with ==; stable within
    // a process only.
    std::uint64_t hash() const noexcept { return cow_vec_hash(h_); }

    // Calls f(offset, count) for each maximal range of positions where this
    // vector and other differ, in ascending order (positions past the end of
    // the shorter one differ). f returns void, or bool: true stops the walk.
    // Returns true when f stopped it. An exception thrown by f stops the
    // walk and goes on to the caller. Shared subtrees are skipped unread.
    template <class F>
    bool diff(const vector &other, F &&f) const {
        struct call {
            F *f;
            std::exception_ptr error;
            static int run(void *ctx, std::size_t offset, std::size_t count) noexcept {
                auto *self = static_cast<call *>(ctx);
                try {
                    if constexpr (std::is_void_v<std::invoke_result_t<F &, std::size_t,
                                                                       std::size_t>>) {
                        (*self->f)(offset, count);
                        return 0;
                    } else {
                        return static_cast<bool>((*self->f)(offset, count)) ? 1 : 0;
                    }
                } catch (...) {
                    self->error = std::current_exception();
                    return 1;
                }
            }
        } c{&f, nullptr};
        bool stopped = false;
        cow_status s = cow_vec_diff(h_, other.h_, &call::run, &c, &stopped);
        if (c.error) std::rethrow_exception(c.error);
        check(s, "cow_vec_diff");
        return stopped;
    }

    // Equal lengths and equal elements in order (cow_vec_equal): O(1) for
    // copies of one value; trees skip the subtrees they share.
    friend bool operator==(const vector &a, const vector &b) noexcept {
        return cow_vec_equal(a.h_, b.h_);
    }
    friend bool operator!=(const vector &a, const vector &b) noexcept { return !(a == b); }

    // Writes (each copies first when the vector is shared).
    void push_back(const T &value) {
        ensure();
        check(cow_vec_push(&h_, &value), "cow_vec_push");
    }
    T pop_back() {
        ensure();
        T out{};
        check(cow_vec_pop(&h_, &out), "cow_vec_pop");
        return out;
    }
    // Replaces element i; returns the old value.
    T set(std::size_t i, const T &value) {
        ensure();
        T old{};
        check(cow_vec_set(&h_, i, &value, &old), "cow_vec_set");
        return old;
    }
    void insert(std::size_t i, const T &value) {
        ensure();
        check(cow_vec_insert(&h_, i, &value), "cow_vec_insert");
    }
    // Removes element i; returns it.
    T erase(std::size_t i) {
        ensure();
        T out{};
        check(cow_vec_erase(&h_, i, &out), "cow_vec_erase");
        return out;
    }
    void append(const T *elems, std::size_t count) {
        ensure();
        check(cow_vec_extend(&h_, count ? static_cast<const void *>(elems) : "", count),
              "cow_vec_extend");
    }
    void append(std::initializer_list<T> elems) { append(elems.begin(), elems.size()); }
    // Room for `capacity` elements in total (like std::vector::reserve).
    void reserve(std::size_t capacity) {
        ensure();
        std::size_t n = size();
        check(cow_vec_reserve(&h_, capacity > n ? capacity - n : 0), "cow_vec_reserve");
    }
    void clear() {
        ensure();
        check(cow_vec_clear(&h_), "cow_vec_clear");
    }
    void truncate(std::size_t new_len) {
        ensure();
        check(cow_vec_truncate(&h_, new_len), "cow_vec_truncate");
    }
    // Writable element i / elements, after making the vector unique; valid
    // until the next clone of, or other write to, this object. get_mut works
    // for every representation (a tree copies only the shared nodes on the
    // element's path); make_mut needs contiguous elements: for a tree it
    // throws system_error COW_ENOTCONTIGUOUS and changes nothing.
    T &get_mut(std::size_t i) {
        ensure();
        void *p = nullptr;
        check(cow_vec_get_mut(&h_, i, &p), "cow_vec_get_mut");
        return *static_cast<T *>(p);
    }
    T *make_mut() {
        ensure();
        void *p = nullptr;
        check(cow_vec_make_mut(&h_, &p), "cow_vec_make_mut");
        return static_cast<T *>(p);
    }
    // Makes the vector unique before a batch of writes (for a tree: only
    // its root; every representation).
    void make_unique() {
        ensure();
        make_unique_slot();
    }

private:
    struct adopt_tag {};
    vector(cow_vec *h, adopt_tag) noexcept : handle_owner(h) {}
    void ensure() {
        if (!h_) check(cow_vec_new(&h_, elem_type(), nullptr), "cow_vec_new");
    }
};

// ---------------------------------------------------------------------------
// cow::map<K, V>: integer or string keys; trivially copyable or cow:: values
// ---------------------------------------------------------------------------

// What map::diff reports for one key (cow_map_change_t).
enum class map_change : cow_map_change_t {
    added = COW_MAP_ADDED,      // in the other map only: no old value
    removed = COW_MAP_REMOVED,  // in this map only: no new value
    changed = COW_MAP_CHANGED,  // in both, with values that are not equal
};

template <class K, class V>
class map : public detail::handle_owner<cow_map> {
    using keys = detail::key_traits<K>;
    using vals = detail::value_traits<V>;
    using stored = typename vals::stored;

public:
    using key_type = K;
    using mapped_type = V;
    using key_arg = typename keys::arg;    // std::string_view for string keys
    using key_view = typename keys::view;  // what iteration gives as the key
    using value_read = typename vals::read;  // const V& (plain) or V (cow:: value)

    map() : map(nullptr) {}
    explicit map(const cow_options *options) {
        check(cow_map_new(&h_, keys::type(), vals::type(), options), "cow_map_new");
    }
    map(std::initializer_list<std::pair<key_arg, V>> entries) : map() {
        for (const auto &e : entries) insert_or_assign(e.first, e.second);
    }
    // Takes over a reference the caller owns (COW_ETYPE if not a map with
    // this key type and a fitting value type; the caller keeps it then).
    static map adopt(cow_map *h) {
        if (h && !fits(h)) throw_status(COW_ETYPE, "cow::map::adopt");
        return map(h, adopt_tag{});
    }

    std::size_t size() const noexcept { return cow_map_len(h_); }
    bool empty() const noexcept { return size() == 0; }
    bool contains(key_arg k) const noexcept {
        return cow_map_contains(h_, keys::ptr(k), keys::len(k));
    }
    // The value for k, or nullopt (a copy, or a new reference for cow:: values).
    std::optional<V> get(key_arg k) const {
        const void *p = cow_map_get(h_, keys::ptr(k), keys::len(k));
        if (!p) return std::nullopt;
        return std::optional<V>(vals::from(p));
    }
    // The value for k; COW_ENOTFOUND when absent.
    value_read at(key_arg k) const {
        const void *p = cow_map_get(h_, keys::ptr(k), keys::len(k));
        if (!p) throw_status(COW_ENOTFOUND, "cow::map::at");
        return vals::from(p);
    }

    // Inserts or replaces; true when k was not there before.
    bool insert_or_assign(key_arg k, const V &value) {
        if constexpr (is_value_v<V>) {
            stored handle = value.handle();  // cow_type_handle's copy clones it
            return insert_from(k, &handle);
        } else {
            return insert_from(k, &value);
        }
    }
    // Removes k; false when absent (nothing is copied then).
    bool erase(key_arg k) {
        if (!h_) return false;
        cow_status s = cow_map_remove(&h_, keys::ptr(k), keys::len(k), nullptr);
        if (s == COW_ENOTFOUND) return false;
        check(s, "cow_map_remove");
        return true;
    }
    // Removes k and hands its value back; nullopt when absent.
    std::optional<V> extract(key_arg k) {
        if (!h_) return std::nullopt;
        stored out;
        cow_status s = cow_map_remove(&h_, keys::ptr(k), keys::len(k), &out);
        if (s == COW_ENOTFOUND) return std::nullopt;
        check(s, "cow_map_remove");
        return std::optional<V>(vals::take(out));
    }
    void clear() {
        ensure();
        check(cow_map_clear(&h_), "cow_map_clear");
    }
    void make_unique() {
        ensure();
        make_unique_slot();
    }

    // Edits the value for k in place: the map is made unique, then f(V &)
    // runs on its slot (one copy per level for nested cow:: values). f must
    // not move from its argument. COW_ENOTFOUND when absent. Returns f's result.
    template <class F>
    decltype(auto) edit(key_arg k, F &&f) {
        ensure();
        void *p = nullptr;
        check(cow_map_get_mut(&h_, keys::ptr(k), keys::len(k), &p), "cow_map_get_mut");
        return apply_to_slot(p, std::forward<F>(f));
    }

    // Finds k, inserting a copy of init when it is absent, and gives the
    // writable value for it: one call (a shared map is copied once, a tree
    // copies one path) where insert_or_assign then edit would copy twice.
    // The reference is valid until the next clone of, or other write to,
    // this object. Plain values only: cow:: values take the form with f.
    template <class U = V, std::enable_if_t<!is_value_v<U>, int> = 0>
    V &entry(key_arg k, const V &init) {
        return *static_cast<V *>(entry_slot(k, &init, nullptr));
    }
    // Finds k, inserting a copy of init when it is absent (init is cloned
    // for cow:: values), then runs f(V &) on its value in place as edit
    // does. Returns f's result.
    template <class F>
    decltype(auto) entry(key_arg k, const V &init, F &&f) {
        void *p = nullptr;
        if constexpr (is_value_v<V>) {
            stored handle = init.handle();  // cow_type_handle's copy clones it
            p = entry_slot(k, &handle, nullptr);
        } else {
            p = entry_slot(k, &init, nullptr);
        }
        return apply_to_slot(p, std::forward<F>(f));
    }

    // Same keys with equal values (cow_map_equal; cow:: values compare
    // shallowly: the same value, or equal bytes for strings and buffers),
    // whatever the representations (flat or tree). O(1) for copies of one
    // value; two trees skip the subtrees they share.
    friend bool operator==(const map &a, const map &b) noexcept {
        return cow_map_equal(a.h_, b.h_);
    }
    friend bool operator!=(const map &a, const map &b) noexcept { return !(a == b); }
    // A hash of the entries, independent of their order and of the
    // representation, consistent with ==; stable within a process only.
    std::uint64_t hash() const noexcept { return cow_map_hash(h_); }

    // What diff hands f for a value: a pointer into the map for plain
    // values (borrowed for the call; nullptr when absent), an optional new
    // reference for cow:: values.
    using diff_value = std::conditional_t<is_value_v<V>, std::optional<V>, const V *>;

    // Calls f(map_change kind, key_view key, diff_value old_value,
    // diff_value new_value) once for each key added (in other only: no old
    // value), removed (in this map only: no new value) or changed (values
    // not equal, as for ==). The order is unspecified. f returns void, or
    // bool: true stops the walk. Returns true when f stopped it. An
    // exception thrown by f stops the walk and goes on to the caller. Two
    // trees that share structure skip what they share.
    template <class F>
    bool diff(const map &other, F &&f) const {
        struct call {
            F *f;
            std::exception_ptr error;
            static diff_value value(const void *p) {
                if constexpr (is_value_v<V>) {
                    if (!p) return std::nullopt;
                    return std::optional<V>(vals::from(p));
                } else {
                    return static_cast<const V *>(p);
                }
            }
            static int run(void *ctx, cow_map_change_t kind, const void *key, std::size_t key_len,
                           const void *old_value, const void *new_value) noexcept {
                auto *self = static_cast<call *>(ctx);
                try {
                    const map_change k = static_cast<map_change>(kind);
                    if constexpr (std::is_void_v<std::invoke_result_t<F &, map_change, key_view,
                                                                       diff_value, diff_value>>) {
                        (*self->f)(k, keys::from(key, key_len), value(old_value),
                                   value(new_value));
                        return 0;
                    } else {
                        return static_cast<bool>((*self->f)(k, keys::from(key, key_len),
                                                            value(old_value), value(new_value)))
                                   ? 1
                                   : 0;
                    }
                } catch (...) {
                    self->error = std::current_exception();
                    return 1;
                }
            }
        } c{&f, nullptr};
        bool stopped = false;
        cow_status s = cow_map_diff(h_, other.h_, &call::run, &c, &stopped);
        if (c.error) std::rethrow_exception(c.error);
        check(s, "cow_map_diff");
        return stopped;
    }

    // One entry during iteration: the key and the value (a reference into
    // the map for plain values, a new reference for cow:: values).
    struct item {
        key_view key;
        value_read value;
    };
    // Iterates with cow_map_next: never copies the map. Order unspecified.
    class const_iterator {
    public:
        using iterator_category = std::input_iterator_tag;
        using value_type = item;
        using difference_type = std::ptrdiff_t;
        using reference = item;
        using pointer = void;

        const_iterator() noexcept = default;
        item operator*() const { return item{keys::from(key_, key_len_), vals::from(value_)}; }
        const_iterator &operator++() noexcept {
            advance();
            return *this;
        }
        friend bool operator==(const const_iterator &a, const const_iterator &b) noexcept {
            return a.value_ == b.value_;
        }
        friend bool operator!=(const const_iterator &a, const const_iterator &b) noexcept {
            return a.value_ != b.value_;
        }

    private:
        friend class map;
        explicit const_iterator(const cow_map *h) {
            check(cow_map_cursor_init(&cursor_, h), "cow_map_cursor_init");
            advance();
        }
        void advance() noexcept {
            if (!cow_map_next(&cursor_, &key_, &key_len_, &value_)) value_ = nullptr;
        }
        cow_map_cursor cursor_{};
        const void *key_ = nullptr;
        std::size_t key_len_ = 0;
        const void *value_ = nullptr;  // nullptr: the end
    };
    const_iterator begin() const { return h_ ? const_iterator(h_) : const_iterator(); }
    const_iterator end() const noexcept { return const_iterator(); }

private:
    struct adopt_tag {};
    map(cow_map *h, adopt_tag) noexcept : handle_owner(h) {}
    void ensure() {
        if (!h_) check(cow_map_new(&h_, keys::type(), vals::type(), nullptr), "cow_map_new");
    }
    static bool fits(const cow_map *h) noexcept {
        if (cow_kind(h) != COW_KIND_MAP || cow_map_key_type(h) != keys::type()) return false;
        const cow_type *vt = cow_map_value_type(h);
        if (vt == vals::type()) return true;
        // Plain values may come with the caller's own descriptor of the same size.
        return !is_value_v<V> && vt != cow_type_handle() && vt->elem_size == sizeof(V);
    }
    // Runs f(V &) on the value slot p of this (unique) map.
    template <class F>
    static decltype(auto) apply_to_slot(void *p, F &&f) {
        if constexpr (is_value_v<V>) {
            auto *slot = static_cast<stored *>(p);
            // Lend the slot's reference to a V and put it back however f ends.
            struct lend {
                stored *slot;
                V value;
                ~lend() { *slot = value.detach(); }
            } lent{slot, V::adopt(*slot)};
            return f(lent.value);
        } else {
            return f(*static_cast<V *>(p));
        }
    }
    void *entry_slot(key_arg k, const void *init, bool *inserted) {
        ensure();
        void *p = nullptr;
        check(cow_map_entry(&h_, keys::ptr(k), keys::len(k), init, &p, inserted),
              "cow_map_entry");
        return p;
    }
    bool insert_from(key_arg k, const void *value) {
        ensure();
        bool replaced = false;
        check(cow_map_insert(&h_, keys::ptr(k), keys::len(k), value, nullptr, &replaced),
              "cow_map_insert");
        return !replaced;
    }
};

// ---------------------------------------------------------------------------
// cow::box<T>: one trivially copyable value (a generic Cow<T>)
// ---------------------------------------------------------------------------
template <class T>
class box : public detail::handle_owner<cow_box> {
    static_assert(std::is_trivially_copyable_v<T>, "cow::box needs trivially copyable T");

public:
    static const cow_type *value_type() noexcept { return detail::type_for<T>(); }

    explicit box(const T &value, const cow_options *options = nullptr) {
        check(cow_box_new(&h_, value_type(), &value, options), "cow_box_new");
    }
    // Takes over a reference the caller owns (COW_ETYPE if not a box of a
    // T-sized value; the caller keeps it then).
    static box adopt(cow_box *h) {
        if (h && (cow_kind(h) != COW_KIND_BOX || cow_box_type(h)->elem_size != sizeof(T)))
            throw_status(COW_ETYPE, "cow::box::adopt");
        return box(h, adopt_tag{});
    }

    // The value (COW_EINVAL for a moved-from box).
    const T &get() const {
        const void *p = cow_box_get(h_);
        if (!p) throw_status(COW_EINVAL, "cow::box::get");
        return *static_cast<const T *>(p);
    }
    const T &operator*() const { return get(); }
    const T *operator->() const { return &get(); }

    // The writable value after making the box unique; valid until the next
    // clone of, or other write to, this object.
    T &make_mut() {
        void *p = nullptr;
        check(cow_box_make_mut(&h_, &p), "cow_box_make_mut");
        return *static_cast<T *>(p);
    }
    // Runs f(T &) on a unique value. If f throws, a copy made for this
    // update is discarded (the box is unchanged) and the exception goes on.
    template <class F>
    void update(F &&f) {
        struct call {
            F *f;
            std::exception_ptr error;
            static cow_status run(void *ctx, void *value) noexcept {
                auto *self = static_cast<call *>(ctx);
                try {
                    (*self->f)(*static_cast<T *>(value));
                    return COW_OK;
                } catch (...) {
                    self->error = std::current_exception();
                    return COW_ECALLBACK;
                }
            }
        } c{&f, nullptr};
        cow_status s = cow_box_update(&h_, &call::run, &c);
        if (c.error) std::rethrow_exception(c.error);
        check(s, "cow_box_update");
    }
    // Moves the value out and leaves the box empty (moved-from).
    T into() && {
        T out{};
        check(cow_box_into(&h_, &out), "cow_box_into");
        return out;
    }

private:
    struct adopt_tag {};
    box(cow_box *h, adopt_tag) noexcept : handle_owner(h) {}
};

}  // namespace cow

#endif  // COW_HPP
