/*
 * cow.h - libcow: copy-on-write values behind a stable C ABI.
 *
 * ============================================================================
 * THE HANDLE MODEL
 * ============================================================================
 * Every value (cow_buf, cow_str, cow_vec, cow_map, cow_box) is an opaque
 * handle: a pointer to reference-counted, shared data.
 *
 *  - cow_clone(h) adds a reference and returns a handle to the same data:
 *    O(1), no allocation, safe from any thread. (Only values created with the
 *    EAGER or THRESHOLD strategy copy at clone; there cow_clone returns NULL
 *    if that copy fails.)
 *  - cow_release(h) drops one reference; the last one frees the data.
 *    cow_release(NULL) does nothing.
 *  - Every mutating call takes the handle's *slot* by address (cow_str **).
 *    If the write would be visible to another holder, the call first makes a
 *    private copy and stores the new handle in the slot; otherwise it writes
 *    in place. Other holders never observe a change (Rust's Arc::make_mut).
 *  - A call that fails leaves the slot and every value exactly as they were.
 *
 * OWNERSHIP WORDS used below:
 *  - "new reference": the caller owns it and must cow_release() it.
 *  - "borrowed": valid while the caller holds the handle; do not release it.
 *  - "consumed": the call takes over the caller's reference (on success).
 *  - "caller-owned memory": free it with cow_owned_free(), never free().
 *
 * POINTER LIFETIMES: pointers returned by reads (cow_buf_data, cow_str_data,
 * cow_vec_get, cow_map_get, ...) stay valid until the next write through the
 * same slot or the release of that handle. A pointer obtained from a
 * *_make_mut / *_get_mut call may be written through only until the handle
 * is next cloned or written by another call. A pointer read before a clone
 * never sees writes made through the clone.
 *
 * THREAD SAFETY:
 *  - Any number of threads may read, clone and release handles to the same
 *    data at the same time, without locks.
 *  - One slot (a variable holding a handle) is written by one thread at a
 *    time, like any variable. To give another thread its own slot, clone.
 *  - Statistics are updated atomically and may be read at any time; a read
 *    is not a consistent snapshot across counters. Counters only grow and
 *    are not rolled back: a call that fails after cloning element handles
 *    (part of a container being copied, or a handle being stored) leaves
 *    those clones counted in the elements' lineages (the values themselves
 *    are unchanged).
 *  - cow_set_allocator() must not race with any other libcow call.
 *
 * ERRORS: functions that can fail return cow_status (COW_OK == 0) and give
 * results through out-parameters, which are written only on success. Pure
 * queries return their value directly and document what an invalid handle
 * gives. No call uses a thread-local "last error"; no call unwinds.
 *
 * LIMITS: sizes are at most PTRDIFF_MAX bytes; larger requests are refused
 * with COW_EOVERFLOW before anything is allocated. Reference counts hold up
 * to COW_MAX_REFCOUNT handles per value; a clone beyond that is refused
 * (cow_clone returns NULL) rather than wrapped. Element alignment is at most
 * COW_MAX_ALIGN.
 *
 * STABILITY: every function is exported under the symbol version of the
 * release that introduced it: LIBCOW_0 for 0.1, LIBCOW_0.2 (which inherits
 * LIBCOW_0) for those marked "since 0.2". A program that calls a 0.2
 * function refuses to load on a 0.1 library instead of failing later; one
 * that calls only 0.1 functions loads on both. Until 1.0 the SONAME is
 * libcow.so.0. The structs a caller fills in
 * (cow_options, cow_stats_info, cow_type, cow_allocator) start with their
 * own size: set it to sizeof(the struct) (the *_init functions and *_INIT
 * macros do). The library reads min(your size, its size) and treats the
 * rest as zero, so old callers keep working when these structs grow. The
 * *_init functions write this version's layout and never more: a field
 * added later comes with a new init function, so an old caller's smaller
 * struct is never overrun. cow_owned and the cursor structs never grow
 * (their layout is frozen; a future need gets a new struct).
 */
#ifndef COW_H
#define COW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(COW_BUILDING_LIBRARY) && (defined(__GNUC__) || defined(__clang__))
#define COW_API __attribute__((visibility("default")))
#else
#define COW_API
#endif

#ifdef __cplusplus
#define COW_NOEXCEPT noexcept
#else
#define COW_NOEXCEPT
#endif

/* ============================================================================
 * Version
 * ========================================================================== */
#define COW_VERSION_MAJOR 0
#define COW_VERSION_MINOR 2
#define COW_VERSION_PATCH 0
#define COW_VERSION_NUMBER \
    (COW_VERSION_MAJOR * 10000 + COW_VERSION_MINOR * 100 + COW_VERSION_PATCH)
#define COW_VERSION_STRING "0.2.0"

/* The version of the library actually loaded, as COW_VERSION_NUMBER. */
COW_API uint32_t cow_version(void) COW_NOEXCEPT;
/* The same as a static string, e.g. "0.2.0". */
COW_API const char *cow_version_string(void) COW_NOEXCEPT;

/* ============================================================================
 * Status codes
 * ========================================================================== */
typedef int32_t cow_status;
#define COW_OK             0  /* success */
#define COW_EINVAL         1  /* invalid argument (NULL, bad flag, not a char boundary) */
#define COW_ETYPE          2  /* a handle of the wrong type, or not a libcow handle */
#define COW_ERANGE         3  /* index or offset out of range */
#define COW_ENOTFOUND      4  /* key or substring not found */
#define COW_EUTF8          5  /* input is not valid UTF-8 */
#define COW_EOVERFLOW      6  /* size or reference count would overflow */
#define COW_ENOMEM         7  /* allocation failed */
#define COW_EBUSY          8  /* operation not allowed while libcow values are alive */
#define COW_ENOTCONTIGUOUS 9  /* the value is not stored contiguously */
#define COW_EUNSUPPORTED   10 /* option or strategy not supported by this version */
#define COW_ECALLBACK      11 /* a user callback (cow_type copy) reported failure */

/* A static, human-readable name for a status ("COW_ENOMEM: out of memory").
 * Never NULL; unknown codes give "unknown libcow status". */
COW_API const char *cow_strerror(cow_status status) COW_NOEXCEPT;

/* ============================================================================
 * Handle types (opaque)
 * ========================================================================== */
typedef struct cow_buf cow_buf; /* bytes */
typedef struct cow_str cow_str; /* UTF-8 text */
typedef struct cow_vec cow_vec; /* vector of typed elements */
typedef struct cow_map cow_map; /* hash map of typed keys and values */
typedef struct cow_box cow_box; /* one value of a user type */

/* The kind of a handle, as returned by cow_kind(). */
typedef uint32_t cow_kind_t;
#define COW_KIND_INVALID 0
#define COW_KIND_BUF     1
#define COW_KIND_STR     2
#define COW_KIND_VEC     3
#define COW_KIND_MAP     4
#define COW_KIND_BOX     5

#define COW_MAX_REFCOUNT ((uint64_t)0x7fffffff)
#define COW_MAX_ALIGN    64

/* ============================================================================
 * Memory: allocator and caller-owned blocks
 * ========================================================================== */
typedef struct cow_allocator {
    uint32_t size; /* sizeof(cow_allocator) */
    uint32_t reserved;
    void *ctx;     /* passed to every callback */
    /* Returns NULL on failure. Called with size > 0. Like malloc(), every
     * block must be aligned for any standard type (alignof(max_align_t));
     * libcow pads only for element alignments beyond that. */
    void *(*malloc_fn)(void *ctx, size_t size);
    /* Like realloc() (same alignment rule); old_size is the size the block
     * was allocated with. */
    void *(*realloc_fn)(void *ctx, void *ptr, size_t old_size, size_t new_size);
    /* Frees a block of the given size. Never called with NULL. */
    void (*free_fn)(void *ctx, void *ptr, size_t size);
} cow_allocator;

/* Replaces the allocator used for all libcow memory. NULL restores malloc.
 * Accepted only while no libcow value and no caller-owned block is alive:
 * COW_EBUSY otherwise, checked first (so also for NULL or an invalid
 * allocator). Must not race with any other libcow call. COW_EINVAL if a
 * callback is NULL or size is smaller than this version's struct. */
COW_API cow_status cow_set_allocator(const cow_allocator *allocator) COW_NOEXCEPT;

/* Memory handed to the caller (by the *_into calls). Free it with
 * cow_owned_free(), never with free(): it comes from libcow's allocator.
 * Unlike the other ABI structs this one has no size field: its layout is
 * frozen for the life of the ABI (a future need gets a new struct). */
typedef struct cow_owned {
    void *data;        /* never NULL after a successful *_into; aligned for the elements */
    size_t len;        /* bytes (buf, str) or elements (vec) */
    size_t alloc_size; /* bytes in the block; needed to free it */
    size_t offset;     /* bytes from the block's start to data (alignment padding) */
} cow_owned;

/* Frees owned->data (if not NULL) and zeroes *owned. NULL does nothing. */
COW_API void cow_owned_free(cow_owned *owned) COW_NOEXCEPT;

/* ============================================================================
 * Options and sharing strategies
 * ========================================================================== */
typedef uint32_t cow_strategy_t;
#define COW_STRATEGY_LAZY       0 /* copy on the first write to a shared value (default) */
#define COW_STRATEGY_EAGER      1 /* cow_clone copies at once; writes copy only values
                                     that share storage with a slice/substring */
#define COW_STRATEGY_THRESHOLD  2 /* EAGER while the value is below threshold_bytes, else LAZY */
#define COW_STRATEGY_STRUCTURAL 3 /* persistent trees: versions share what they did not change
                                     (vectors and maps; other kinds answer COW_EUNSUPPORTED);
                                     since 0.2 */
#define COW_STRATEGY_ADAPTIVE   4 /* flat or tree, chosen per lineage at the copies
                                     writes make (vectors and maps); since 0.2 */

/* Flags for cow_options.flags */
#define COW_OPT_NO_STATS 1u /* do not keep lineage statistics for this value */

typedef struct cow_options {
    uint32_t size;            /* sizeof(cow_options) */
    cow_strategy_t strategy;  /* COW_STRATEGY_* */
    uint64_t threshold_bytes; /* THRESHOLD: the size below which clones copy;
                                 ADAPTIVE: the size floor (0: 64 KiB) */
    uint32_t flags;           /* COW_OPT_* */
    uint32_t reserved;        /* must be zero */
} cow_options;

#define COW_OPTIONS_INIT {sizeof(cow_options), COW_STRATEGY_LAZY, 0, 0, 0}
/* Function twin of COW_OPTIONS_INIT (for FFI). NULL does nothing. */
COW_API void cow_options_init(cow_options *options) COW_NOEXCEPT;

/* Every *_new call takes `const cow_options *options`; NULL means defaults.
 * Invalid options give COW_EINVAL, strategies a kind does not offer
 * COW_EUNSUPPORTED (STRUCTURAL and ADAPTIVE: only cow_vec and cow_map).
 * Copies and clones inherit the strategy of the value they came from.
 *
 * STRUCTURAL vectors and maps are trees whose nodes carry their own
 * reference counts. A clone is O(1) as under LAZY; a write to a shared
 * value copies only the nodes on its path that another version still holds
 * (O(log n) nodes: for a vector one leaf of elements, for a map one node
 * of entries per level), never the whole value; a write to nodes this
 * value alone holds happens in place. A tree vector has no contiguous
 * elements: read it by index or by spans (cursors). */
/* ADAPTIVE vectors and maps start flat. They clone in O(1) as under LAZY,
 * and each write that finds the value shared, and so must copy anyway,
 * makes its copy flat or as a tree, from what the value's history
 * measured: the copies writes made along the versions it came from,
 * against the clones of the values they copied (the last 64 clones or so
 * count; older ones fade). Clones stand for reads; a value of V bytes
 * weighs a whole copy per copy (flat) against w = min(V / 2, 256 KiB) per
 * clone (a tree's slower reads, in bytes of flat copying).
 *  - Flat to tree: V is at least the size floor (threshold_bytes; 0 means
 *    64 KiB), at least 2 copies were made, and copies * V >= clones * w.
 *    Up to 512 KiB that is copies >= clones / 2 (most clones end up
 *    written); larger values switch at lower copy rates. A value cloned
 *    and written over and over becomes a tree at its second copy.
 *  - Tree to flat: V fell below the floor, or copies * V * 4 < clones * w
 *    (the lineage has stopped copying: most clones are only read).
 *  - Otherwise the copy keeps the representation.
 * A switch copies the whole value once, in place of the copy the write
 * would have made (a tree's path copy, when going back to flat); it counts
 * as a copy and a switch in the statistics (cow_stats_info.switches), and
 * the report gives "Representation:" and "Switches:" lines. Reads, clones
 * and writes to unique values never switch, and cost what they cost in the
 * current representation. cow_make_mut and cow_map_clear keep the
 * representation; cow_vec_make_mut with out_data keeps a flat value flat.
 * Read ADAPTIVE vectors through get and spans: cow_vec_data answers
 * COW_ENOTCONTIGUOUS while the value is a tree. */

/* ============================================================================
 * Generic handle operations (any handle type, passed as a pointer)
 * ========================================================================== */

/* The kind of a handle; COW_KIND_INVALID for NULL or a non-libcow pointer
 * that does not carry libcow's tag (a best-effort check). */
COW_API cow_kind_t cow_kind(const void *handle) COW_NOEXCEPT;

/* Returns a new reference to the same value: O(1), no allocation under the
 * LAZY strategy. Under EAGER/THRESHOLD it may return a private copy.
 * Returns NULL for NULL or an invalid handle, when the value already has
 * COW_MAX_REFCOUNT handles, and when an eager copy fails (out of memory, a
 * cow_type copy callback failed, or an element handle is at its limit). */
COW_API void *cow_clone(const void *handle) COW_NOEXCEPT;

/* Drops one reference (consumed). The last reference frees the value and
 * releases the handles it contains. NULL or an invalid handle: no effect. */
COW_API void cow_release(void *handle) COW_NOEXCEPT;

/* Makes the handle in *slot uniquely owned, copying the value if it is
 * shared, so that a batch of writes pays the check once. `slot` is the
 * address of any handle variable (cow_str **, cow_vec **, ...). A tree
 * (STRUCTURAL) gets a private root only, O(1): its nodes stay shared until
 * a write reaches them. */
COW_API cow_status cow_make_mut(void *slot) COW_NOEXCEPT;

/* True exactly when a write through this handle would copy: more than one
 * handle refers to the value, or its storage is shared in another way (a
 * slice/substring and its parent). False for NULL. For a tree (STRUCTURAL)
 * it tells whether the root is shared: false means a write copies at most
 * the nodes on its path that other versions still hold, never the value. */
COW_API bool cow_is_shared(const void *handle) COW_NOEXCEPT;

/* The number of handles referring to this representation (0 for NULL or an
 * invalid handle). Racy by nature: only a snapshot. */
COW_API uint64_t cow_strong_count(const void *handle) COW_NOEXCEPT;

/* True when both handles refer to the same representation. */
COW_API bool cow_ptr_eq(const void *a, const void *b) COW_NOEXCEPT;

/* ============================================================================
 * Statistics
 * ========================================================================== */
/* A lineage is a value made by a cow_*_new and every value cloned or copied
 * from it. Its counters only grow.
 *   clones        cow_clone calls on any member
 *   copies        writes (or eager clones) that found the value shared and
 *                 had to copy (for a tree: found its root shared)
 *   bytes_copied  bytes actually copied by writes and eager clones (a tree's
 *                 write copies a path of nodes, not the value)
 *   copy_rate     copies / clones (0 when clones == 0)
 *   memory_saved  clones * current size of this value - bytes_copied: what
 *                 the clones would have copied, less what was copied; 0 when
 *                 negative
 *   live_handles  handles alive in the lineage (sum of strong counts)
 *   live_values   representations alive in the lineage
 * The fields from representation on are part of the 0.2 layout. */

/* How a value is stored (cow_stats_info.representation). */
#define COW_REPRESENTATION_FLAT 0 /* one contiguous block */
#define COW_REPRESENTATION_TREE 1 /* a persistent tree (STRUCTURAL, and ADAPTIVE at times) */

typedef struct cow_stats_info {
    uint32_t size;     /* set by the caller: sizeof(cow_stats_info) */
    uint32_t enabled;  /* 1 when the lineage keeps statistics, else 0 */
    uint64_t clones;
    uint64_t copies;
    uint64_t bytes_copied;
    uint64_t memory_saved;
    uint64_t live_handles;
    uint64_t live_values;
    double copy_rate;
    uint64_t value_bytes; /* current size of this value in bytes */
    /* COW_REPRESENTATION_* of this value (not of the lineage). */
    uint32_t representation;
    uint32_t reserved; /* always 0 */
    /* Tree nodes copied by writes because another version held them (a
     * write that found the root shared also counts once in copies); 0 for
     * flat values. Their bytes are counted in bytes_copied too. */
    uint64_t nodes_copied;
    /* Switches between representations in the lineage (ADAPTIVE values);
     * 0 for every other strategy. */
    uint64_t switches;
} cow_stats_info;

/* The whole layout of this version. */
#define COW_STATS_INFO_INIT \
    {sizeof(cow_stats_info), 0, 0, 0, 0, 0, 0, 0, 0.0, 0, COW_REPRESENTATION_FLAT, 0, 0, 0}
/* Writes the 0.1 layout: the fields up to value_bytes, size set to
 * offsetof(cow_stats_info, representation). cow_stats then fills only those
 * fields. Use cow_stats_info_init_v2 for the whole struct. */
COW_API void cow_stats_info_init(cow_stats_info *info) COW_NOEXCEPT;
/* Since 0.2. Writes the whole 0.2 layout (size = sizeof(cow_stats_info)),
 * like COW_STATS_INFO_INIT. Does nothing when info is NULL. */
COW_API void cow_stats_info_init_v2(cow_stats_info *info) COW_NOEXCEPT;

/* Fills *out (up to out->size bytes) with the statistics of the handle's
 * lineage. A value created with COW_OPT_NO_STATS gives enabled = 0 and zero
 * counters (value_bytes and representation are still set). COW_EINVAL: out
 * NULL or out->size < 8. */
COW_API cow_status cow_stats(const void *handle, cow_stats_info *out) COW_NOEXCEPT;

#define COW_REPORT_TEXT 0
#define COW_REPORT_JSON 1
/* Writes a report of the lineage statistics as a new string (new reference)
 * in *out. TEXT has the lines
 *   Clones: N / Copies: N / Copy rate: P% (one decimal) /
 *   Bytes copied: N / Memory saved: N bytes (X.XX MB) / Live handles: N
 * then, for an ADAPTIVE value, "Representation: flat|tree" and
 * "Switches: N", and for a STRUCTURAL one "Representation: tree".
 * JSON is one object with every field of cow_stats_info but size and
 * reserved; representation is a string ("flat" or "tree"). */
COW_API cow_status cow_stats_report(const void *handle, uint32_t format, cow_str **out) COW_NOEXCEPT;

/* Process-wide counters, changed only when memory is allocated or freed. */
typedef struct cow_global_stats_info {
    uint32_t size; /* sizeof(cow_global_stats_info) */
    uint32_t reserved;
    uint64_t live_values;      /* representations alive (all kinds) */
    uint64_t live_bytes;       /* bytes allocated through libcow's allocator */
    uint64_t live_allocations; /* blocks allocated and not yet freed */
} cow_global_stats_info;
#define COW_GLOBAL_STATS_INFO_INIT {sizeof(cow_global_stats_info), 0, 0, 0, 0}
COW_API cow_status cow_global_stats(cow_global_stats_info *out) COW_NOEXCEPT;

/* ============================================================================
 * cow_buf: a byte buffer
 * ========================================================================== */
/* Creates a buffer holding a copy of bytes[0..len). bytes may be NULL when
 * len == 0. New reference in *out. */
COW_API cow_status cow_buf_new(cow_buf **out, const void *bytes, size_t len,
                               const cow_options *options) COW_NOEXCEPT;
/* Creates an empty buffer with room for `capacity` bytes. */
COW_API cow_status cow_buf_with_capacity(cow_buf **out, size_t capacity,
                                         const cow_options *options) COW_NOEXCEPT;
/* Typed forms of the generic operations. */
COW_API cow_buf *cow_buf_clone(const cow_buf *buf) COW_NOEXCEPT;
COW_API void cow_buf_release(cow_buf *buf) COW_NOEXCEPT;

/* Length in bytes; 0 for NULL or an invalid handle. */
COW_API size_t cow_buf_len(const cow_buf *buf) COW_NOEXCEPT;
/* Read-only bytes (borrowed). Never NULL for a valid handle, even when
 * empty; NULL for NULL or an invalid handle. */
COW_API const uint8_t *cow_buf_data(const cow_buf *buf) COW_NOEXCEPT;

/* Makes *slot unique (copying if shared) and stores in *out_data (may be
 * NULL) a pointer to its writable bytes [0, len). */
COW_API cow_status cow_buf_make_mut(cow_buf **slot, uint8_t **out_data) COW_NOEXCEPT;

/* Appends bytes[0..len) (bytes may point into the buffer itself; NULL only
 * when len == 0). COW_EOVERFLOW if the result would exceed PTRDIFF_MAX. */
COW_API cow_status cow_buf_append(cow_buf **slot, const void *bytes, size_t len) COW_NOEXCEPT;
/* Inserts bytes at offset `at` (0..len); COW_ERANGE beyond. */
COW_API cow_status cow_buf_insert(cow_buf **slot, size_t at, const void *bytes, size_t len) COW_NOEXCEPT;
/* Erases [at, at+count); COW_ERANGE if that is not inside the buffer. */
COW_API cow_status cow_buf_erase(cow_buf **slot, size_t at, size_t count) COW_NOEXCEPT;
/* Shortens to new_len; COW_ERANGE if new_len > len. */
COW_API cow_status cow_buf_truncate(cow_buf **slot, size_t new_len) COW_NOEXCEPT;
/* Sets the length; new bytes are set to `fill`. */
COW_API cow_status cow_buf_resize(cow_buf **slot, size_t new_len, uint8_t fill) COW_NOEXCEPT;

/* Byte-wise comparisons. NULL/invalid handles compare as empty buffers. */
COW_API bool cow_buf_equal(const cow_buf *a, const cow_buf *b) COW_NOEXCEPT;
/* <0, 0, >0 like memcmp, shorter prefix first. */
COW_API int cow_buf_compare(const cow_buf *a, const cow_buf *b) COW_NOEXCEPT;
/* Seeded 64-bit hash of the bytes (same for cow_str with the same bytes);
 * stable within a process only. */
COW_API uint64_t cow_buf_hash(const cow_buf *buf) COW_NOEXCEPT;

/* A new buffer viewing bytes [offset, offset+len) of buf: O(1), no byte
 * storage allocated; it shares buf's storage (both report cow_is_shared).
 * Writing to either copies only that value. The storage is freed with the
 * last value using it. */
COW_API cow_status cow_buf_slice(cow_buf **out, const cow_buf *buf, size_t offset, size_t len) COW_NOEXCEPT;

/* Hands the bytes to the caller and consumes the handle in *slot (set to
 * NULL). A unique buffer hands over its storage block without copying,
 * unless the bytes share one block with the value's header (small values
 * are made so, header and bytes within 1,032 bytes: one allocation each);
 * those, and a shared buffer's bytes, are copied into a new block.
 * out->data is caller-owned memory (cow_owned_free). On failure nothing
 * changes. */
COW_API cow_status cow_buf_into(cow_buf **slot, cow_owned *out) COW_NOEXCEPT;

/* ============================================================================
 * cow_str: UTF-8 text
 * ========================================================================== */
/* Every input is validated: overlong forms, surrogates, code points above
 * U+10FFFF and truncated sequences give COW_EUTF8 and change nothing.
 * Offsets are in bytes and must fall on character boundaries (COW_EINVAL
 * otherwise, COW_ERANGE past the end). Embedded NUL characters are allowed. */
COW_API cow_status cow_str_new(cow_str **out, const char *text, size_t len,
                               const cow_options *options) COW_NOEXCEPT;
/* From a NUL-terminated string. */
COW_API cow_status cow_str_from_cstr(cow_str **out, const char *text, const cow_options *options) COW_NOEXCEPT;
COW_API cow_str *cow_str_clone(const cow_str *str) COW_NOEXCEPT;
COW_API void cow_str_release(cow_str *str) COW_NOEXCEPT;

/* Length in bytes, O(1); 0 for NULL or an invalid handle. */
COW_API size_t cow_str_len(const cow_str *str) COW_NOEXCEPT;
/* Bytes (borrowed, not necessarily NUL-terminated), O(1); never NULL for a
 * valid handle. */
COW_API const char *cow_str_data(const cow_str *str) COW_NOEXCEPT;
/* A NUL-terminated pointer (borrowed). O(1), except for a substring whose
 * end is not the end of its storage: there the string first becomes a
 * private NUL-terminated copy, which is why it takes the slot. */
COW_API cow_status cow_str_cstr(cow_str **slot, const char **out) COW_NOEXCEPT;
/* Number of Unicode code points, O(n). */
COW_API size_t cow_str_char_count(const cow_str *str) COW_NOEXCEPT;

/* Makes *slot unique (copying if shared). No writable pointer is given:
 * raw writes could break UTF-8 validity. */
COW_API cow_status cow_str_make_mut(cow_str **slot) COW_NOEXCEPT;
/* Appends text[0..len), which must be valid UTF-8 (COW_EUTF8); text may
 * point into the string itself. */
COW_API cow_status cow_str_append(cow_str **slot, const char *text, size_t len) COW_NOEXCEPT;
/* Inserts text at byte offset `at` (a character boundary, 0..len). */
COW_API cow_status cow_str_insert(cow_str **slot, size_t at, const char *text, size_t len) COW_NOEXCEPT;
/* Erases bytes [at, at+count); both ends must be character boundaries. */
COW_API cow_status cow_str_erase(cow_str **slot, size_t at, size_t count) COW_NOEXCEPT;
/* Shortens to new_len bytes (a character boundary; COW_ERANGE if > len). */
COW_API cow_status cow_str_truncate(cow_str **slot, size_t new_len) COW_NOEXCEPT;

/* A new string for bytes [offset, offset+len): O(1), shares storage. */
COW_API cow_status cow_str_substr(cow_str **out, const cow_str *str, size_t offset, size_t len) COW_NOEXCEPT;
/* Finds needle at or after byte offset `from`; the byte offset in *out_pos
 * (always a character boundary). The needle must be valid UTF-8 (COW_EUTF8)
 * and `from` a character boundary (COW_EINVAL); COW_ERANGE if from > len;
 * COW_ENOTFOUND if absent. An empty needle matches at `from`. */
COW_API cow_status cow_str_find(const cow_str *str, const char *needle, size_t needle_len,
                                size_t from, size_t *out_pos) COW_NOEXCEPT;
/* Byte-wise comparisons, as for cow_buf (UTF-8 byte order is code point
 * order). NULL/invalid handles compare as empty strings. */
COW_API bool cow_str_equal(const cow_str *a, const cow_str *b) COW_NOEXCEPT;
COW_API int cow_str_compare(const cow_str *a, const cow_str *b) COW_NOEXCEPT;
/* Equal to cow_buf_hash of the same bytes; stable within a process only. */
COW_API uint64_t cow_str_hash(const cow_str *str) COW_NOEXCEPT;

/* Hands the text to the caller, NUL-terminated (out->len excludes the NUL),
 * and consumes *slot (set to NULL). Copies as cow_buf_into does: not for a
 * unique string with a storage block of its own. cow_owned_free() it. */
COW_API cow_status cow_str_into(cow_str **slot, cow_owned *out) COW_NOEXCEPT;

/* ============================================================================
 * cow_type: how elements, keys, values and box contents are handled
 * ========================================================================== */
/* Values are moved with memcpy: a type whose objects hold pointers to
 * themselves (or a C++ type that is not trivially relocatable) belongs in a
 * box behind a pointer. A cow_type must outlive every value that uses it;
 * the built-in descriptors are static. Callbacks must not unwind. */
typedef struct cow_type {
    uint32_t size;       /* sizeof(cow_type) */
    uint32_t flags;      /* reserved, must be 0 */
    size_t elem_size;    /* bytes of one value, 1..(PTRDIFF_MAX/2), a multiple of elem_align */
    size_t elem_align;   /* a power of two <= COW_MAX_ALIGN */
    void *ctx;           /* passed to every callback */
    /* Copies *src into the uninitialised dst. NULL: memcpy. A failure status
     * (anything but COW_OK) aborts the operation and changes nothing; the
     * call returns that status when it is a libcow code (e.g. COW_ENOMEM),
     * else COW_ECALLBACK. dst is then treated as uninitialised. */
    cow_status (*copy)(void *ctx, void *dst, const void *src);
    /* Destroys a value. NULL: nothing to do. */
    void (*drop)(void *ctx, void *value);
    /* NULL: byte-wise equality of elem_size bytes. */
    bool (*equal)(void *ctx, const void *a, const void *b);
    /* NULL: hash of the elem_size bytes. Equal values must hash alike. */
    uint64_t (*hash)(void *ctx, const void *value, uint64_t seed);
    const char *name;    /* for diagnostics; may be NULL */
} cow_type;

/* Built-in descriptors (static, never NULL). */
COW_API const cow_type *cow_type_u8(void) COW_NOEXCEPT;
COW_API const cow_type *cow_type_u16(void) COW_NOEXCEPT;
COW_API const cow_type *cow_type_u32(void) COW_NOEXCEPT;
COW_API const cow_type *cow_type_u64(void) COW_NOEXCEPT;
COW_API const cow_type *cow_type_i8(void) COW_NOEXCEPT;
COW_API const cow_type *cow_type_i16(void) COW_NOEXCEPT;
COW_API const cow_type *cow_type_i32(void) COW_NOEXCEPT;
COW_API const cow_type *cow_type_i64(void) COW_NOEXCEPT;
/* Floats: +0.0 and -0.0 are equal and hash alike; every NaN equals every
 * NaN (so a NaN key can be found again). */
COW_API const cow_type *cow_type_f32(void) COW_NOEXCEPT;
COW_API const cow_type *cow_type_f64(void) COW_NOEXCEPT;
/* A raw pointer (void *): copied bit-wise, never dereferenced or freed. */
COW_API const cow_type *cow_type_ptr(void) COW_NOEXCEPT;
/* A libcow handle of any kind, stored as a pointer (cow_str *, cow_vec *...).
 * Storing clones it (the caller keeps its reference); dropping releases it;
 * copying a container clones its element handles (they are shared, not deep
 * copied). Equal: same representation, or equal contents for buf and str. */
COW_API const cow_type *cow_type_handle(void) COW_NOEXCEPT;
/* Variable-length bytes, for map keys only: stored inside the map and
 * passed as (pointer, length); lookups allocate nothing. cow_type_string()
 * also requires the bytes to be valid UTF-8 (COW_EUTF8 otherwise). */
COW_API const cow_type *cow_type_bytes(void) COW_NOEXCEPT;
COW_API const cow_type *cow_type_string(void) COW_NOEXCEPT;

/* Function twin of filling a cow_type for FFI: zeroes *type, sets size,
 * elem_size and elem_align. NULL does nothing. */
COW_API void cow_type_init(cow_type *type, size_t elem_size, size_t elem_align) COW_NOEXCEPT;

/* ============================================================================
 * cow_vec: a vector of elements of one cow_type
 * ========================================================================== */
/* Elements are passed by address (const void *elem points at one value) and
 * copied in with the type's copy. Values handed back (pop, erase, set's old
 * value) are moved into caller memory of elem_size bytes: the caller owns
 * them (drop them with the type's drop, e.g. cow_release for handles); pass
 * NULL to let libcow drop them. COW_ERANGE for an index out of range.
 *
 * Representations (chosen by the strategy at creation, see cow_options):
 *   flat (every strategy but STRUCTURAL): one contiguous block. get O(1);
 *     push amortised O(1); insert/erase O(n); a write to a shared vector
 *     copies all of it, O(n).
 *   tree (STRUCTURAL): a relaxed radix-balanced tree of 32-way inner nodes
 *     over leaves of up to 512 bytes of elements (at least one element;
 *     2^k elements), plus a tail leaf. get, set, get_mut O(log n); push and
 *     pop amortised O(1) on nodes this value alone holds, O(log n) else;
 *     insert and erase at any index O(log n) (leaves and nodes split or
 *     empty, B-tree fashion); a write to a shared vector copies one leaf and
 *     the inner nodes above it, O(log n), and clones the handles of the leaf
 *     it copies (a vector of handles). Nodes come from libcow's allocator.
 * A call that fails changes nothing, for every representation. */
COW_API cow_status cow_vec_new(cow_vec **out, const cow_type *type, const cow_options *options) COW_NOEXCEPT;
/* Room for `capacity` elements (a tree reserves nothing). COW_EOVERFLOW when
 * capacity elements could never be held, before anything is allocated. */
COW_API cow_status cow_vec_with_capacity(cow_vec **out, const cow_type *type, size_t capacity,
                                         const cow_options *options) COW_NOEXCEPT;
/* A vector holding copies of elems[0..count). */
COW_API cow_status cow_vec_from_array(cow_vec **out, const cow_type *type, const void *elems,
                                      size_t count, const cow_options *options) COW_NOEXCEPT;
COW_API cow_vec *cow_vec_clone(const cow_vec *vec) COW_NOEXCEPT;
COW_API void cow_vec_release(cow_vec *vec) COW_NOEXCEPT;

/* Number of elements; 0 for NULL or an invalid handle. */
COW_API size_t cow_vec_len(const cow_vec *vec) COW_NOEXCEPT;
/* The element type (borrowed); NULL for NULL or an invalid handle. */
COW_API const cow_type *cow_vec_type(const cow_vec *vec) COW_NOEXCEPT;
/* Address of element `index` (borrowed); NULL when out of range or invalid. */
COW_API const void *cow_vec_get(const cow_vec *vec, size_t index) COW_NOEXCEPT;
/* Makes *slot unique and gives the writable address of element `index`.
 * A tree copies the path to the element where other versions hold it (the
 * whole leaf, cloning the handles in it); the address stays valid until the
 * next write through the slot or a clone of the handle.
 * For a vector of handles this is a slot: pass it (cast to cow_x **) to the
 * mutating calls to edit the inner value with one copy per level. Storing a
 * container into itself with push/insert/set/extend stores a snapshot of it;
 * but storing the outer vector (or a value holding it) into an inner value
 * through such a slot makes a reference cycle, which is never freed. */
COW_API cow_status cow_vec_get_mut(cow_vec **slot, size_t index, void **out_elem) COW_NOEXCEPT;
/* Replaces element `index` by a copy of *elem; the old value goes to
 * out_old (caller-owned) or is dropped when out_old is NULL. */
COW_API cow_status cow_vec_set(cow_vec **slot, size_t index, const void *elem, void *out_old) COW_NOEXCEPT;
COW_API cow_status cow_vec_push(cow_vec **slot, const void *elem) COW_NOEXCEPT;
/* Removes the last element into out_elem (or drops it). COW_ERANGE if empty. */
COW_API cow_status cow_vec_pop(cow_vec **slot, void *out_elem) COW_NOEXCEPT;
/* Inserts a copy of *elem before `index` (0..len). */
COW_API cow_status cow_vec_insert(cow_vec **slot, size_t index, const void *elem) COW_NOEXCEPT;
/* Removes element `index` into out_elem (or drops it). */
COW_API cow_status cow_vec_erase(cow_vec **slot, size_t index, void *out_elem) COW_NOEXCEPT;
/* Appends copies of elems[0..count) (all or nothing). A tree fills its tail
 * in place: building by push or extend copies no path. */
COW_API cow_status cow_vec_extend(cow_vec **slot, const void *elems, size_t count) COW_NOEXCEPT;
/* Ensures room for len + additional elements (makes *slot unique; a tree
 * gets a private root and reserves nothing else). COW_EOVERFLOW when the
 * total could never be held. */
COW_API cow_status cow_vec_reserve(cow_vec **slot, size_t additional) COW_NOEXCEPT;
COW_API cow_status cow_vec_clear(cow_vec **slot) COW_NOEXCEPT;
/* Drops the elements from new_len on; COW_ERANGE if new_len > len. A tree
 * removes them one at a time: O(k log n) for k removed elements. */
COW_API cow_status cow_vec_truncate(cow_vec **slot, size_t new_len) COW_NOEXCEPT;
/* Read-only contiguous elements (borrowed; never NULL, even when empty).
 * COW_ENOTCONTIGUOUS for a tree (STRUCTURAL, or ADAPTIVE while it is one),
 * empty ones included: a read never flattens a tree; read it with
 * cow_vec_get or the cursors. */
COW_API cow_status cow_vec_data(const cow_vec *vec, const void **out_data) COW_NOEXCEPT;
/* Makes *slot unique and gives its writable contiguous elements. For a tree
 * with out_data != NULL: COW_ENOTCONTIGUOUS and nothing changes (unless it
 * is a shared ADAPTIVE value that the ADAPTIVE rule copies flat: then
 * COW_OK); with out_data NULL it makes the root private (O(1)) and answers
 * COW_OK. */
COW_API cow_status cow_vec_make_mut(cow_vec **slot, void **out_data) COW_NOEXCEPT;

/* Iteration by contiguous spans, valid for every representation; never
 * copies and takes no reference. The cursor borrows the vector: do not write
 * through its slot while iterating. A flat vector is one span; a tree gives
 * one span per leaf, each found next to the one before (the cursor caches
 * the inner node above it in `path`), going down from the root only once per
 * 32 leaves: O(1) per span, O(log n) after a jump. `next` may be set by the
 * caller to resume from any index. */
typedef struct cow_vec_cursor {
    uint32_t size;        /* sizeof(cow_vec_cursor), set by cow_vec_cursor_init */
    uint32_t reserved;
    const cow_vec *vec;
    size_t next;          /* index of the next element to hand out */
    uint64_t path[8];     /* room for a tree path (internal) */
} cow_vec_cursor;
COW_API cow_status cow_vec_cursor_init(cow_vec_cursor *cursor, const cow_vec *vec) COW_NOEXCEPT;
/* Gives the next span (data, count >= 1) and returns true, or false at the end. */
COW_API bool cow_vec_next_span(cow_vec_cursor *cursor, const void **out_data, size_t *out_count) COW_NOEXCEPT;

/* Since 0.2. A cursor that starts at element `index` (0..len; len gives an
 * empty walk). COW_ERANGE when index > len. O(1): the first
 * cow_vec_next_span finds its leaf from the root, O(log n). */
COW_API cow_status cow_vec_cursor_init_at(cow_vec_cursor *cursor, const cow_vec *vec,
                                          size_t index) COW_NOEXCEPT;

/* ---- whole-vector operations (since 0.2) -----------------------------------
 * Two vectors are comparable when they have the same cow_type (the same
 * descriptor address). Flat and tree vectors mix freely in every call. */

/* Since 0.2. A new vector (*out, caller-owned) holding elements
 * [offset, offset + len) of vec, with vec's strategy and options (a new
 * lineage: the slice is a value of its own). COW_ERANGE when offset > n or
 * len > n - offset. Flat: copies len elements (handles cloned), O(len);
 * unlike cow_buf_slice it shares nothing, and neither value reports shared.
 * Tree: shares every node inside the range and copies at most the two
 * boundary leaves and the inner nodes above them, O(log n). */
COW_API cow_status cow_vec_slice(cow_vec **out, const cow_vec *vec, size_t offset,
                                 size_t len) COW_NOEXCEPT;

/* Since 0.2. Appends the elements of other to *slot. other is borrowed and
 * may be *slot itself (the vector is then doubled). COW_ETYPE when the
 * element types differ; COW_EOVERFLOW when the result could never be held,
 * before anything is allocated. The result keeps *slot's representation.
 * Flat: copies other's elements, O(len(other)) (plus a copy of *slot when
 * shared). Two trees: joins them along the right edge of *slot and the left
 * edge of other, sharing both (other's nodes gain a holder) and copying only
 * the nodes on those edges, O(log n); the nodes that meet at the seam are
 * merged when they fit in one. A short other (no more than one leaf) is
 * appended element by element, as cow_vec_extend. A flat other appended to
 * a tree is copied into leaves, O(len(other)). */
COW_API cow_status cow_vec_concat(cow_vec **slot, const cow_vec *other) COW_NOEXCEPT;

/* Since 0.2. Whether a and b hold equal elements (the type's equal) in the
 * same order. NULL compares as an empty vector; handles of another kind and
 * vectors of different element types compare unequal. Equal lengths are
 * checked first; the same value, and subtrees that both versions share, are
 * equal without being read: O(1) for clones, O(changed leaves x log n) for
 * versions related by set, push and pop, O(n) at worst. */
COW_API bool cow_vec_equal(const cow_vec *a, const cow_vec *b) COW_NOEXCEPT;

/* Since 0.2. A 64-bit hash of the length and the elements (the type's
 * hash), consistent with cow_vec_equal: equal vectors hash alike, whatever
 * their representations, so vectors can be map keys by value. NULL (and a
 * handle of another kind) hashes as an empty vector. Stable within a process
 * only. O(n). */
COW_API uint64_t cow_vec_hash(const cow_vec *vec) COW_NOEXCEPT;

/* Called by cow_vec_diff for each range [offset, offset + count) of
 * positions where a and b differ. Return non-zero to stop the walk. */
typedef int (*cow_vec_diff_fn)(void *ctx, size_t offset, size_t count);

/* Since 0.2. Positional difference of a and b: calls callback(ctx, offset,
 * count) for each maximal range of positions where the elements differ (the
 * type's equal), in ascending order. Positions past the end of the shorter
 * vector differ: they extend the last range or make one of their own. NULL
 * compares as an empty vector.
 * Subtrees that both versions share at the same position are skipped
 * unread, so versions related by set, push and pop diff in time
 * proportional to the leaves that changed; an insert or erase at index i
 * shifts everything after it, O(n - i). Flat vectors compare element by
 * element.
 * Callback convention (the same for every libcow walk): a non-zero return
 * stops the walk; the call then returns COW_OK and sets *out_stopped (which
 * may be NULL) to true, else to false. The callback must not write or
 * release a or b.
 * COW_EINVAL when callback is NULL; COW_ETYPE for a handle of another kind
 * or different element types. */
COW_API cow_status cow_vec_diff(const cow_vec *a, const cow_vec *b, cow_vec_diff_fn callback,
                                void *ctx, bool *out_stopped) COW_NOEXCEPT;

/* Hands the elements to the caller (out->len elements of elem_size bytes,
 * caller-owned: drop each, then cow_owned_free) and consumes *slot (set to
 * NULL). A unique flat vector hands over its storage block without copying,
 * unless the elements share one block with the value's header (small
 * vectors are made so, header and elements within 1,032 bytes: one
 * allocation each); those are moved into a new block. A shared vector's
 * elements are copied (handles cloned). A tree's elements go into one new
 * block: moved from the leaves this value alone holds, copied from the ones
 * other versions hold. */
COW_API cow_status cow_vec_into(cow_vec **slot, cow_owned *out) COW_NOEXCEPT;

/* ============================================================================
 * cow_map: a hash map
 * ========================================================================== */
/* Keys are passed as (key, key_len): for a fixed-size key type key points
 * at one key and key_len must equal its elem_size (COW_EINVAL otherwise);
 * for cow_type_bytes()/cow_type_string() key points at key_len bytes.
 * Values are fixed-size (cow_type_bytes/string are refused as value types).
 * Iteration order is unspecified. Variable-length keys of up to 32 bytes
 * are stored inside their entry; longer ones in shared blocks of key bytes,
 * so a copy never allocates per key. A lookup allocates nothing.
 *
 * Representations (chosen by the strategy at creation, see cow_options):
 *   flat (every strategy but STRUCTURAL): one open-addressing hash table.
 *     get, insert, remove O(1) on average; a write to a shared map copies
 *     the table, O(n) (values through their type's copy: handles cloned).
 *   tree (STRUCTURAL): a hash trie (CHAMP) of up to 32-way nodes over the
 *     keys' 64-bit hashes, entries stored in the nodes; keys whose hashes
 *     are equal in full share a list node. get, insert, remove, get_mut
 *     O(log32 n); a write to a shared map copies the nodes on the key's
 *     path that other versions hold, O(log n), and clones the handles of
 *     the entries in the nodes it copies (a map of handles). Removing a key
 *     gives back the shape the tree had before it was inserted. Bytes of
 *     removed long keys stay in their blocks until no version holds the
 *     block. Nodes come from libcow's allocator.
 * A call that fails changes nothing, for every representation. */
COW_API cow_status cow_map_new(cow_map **out, const cow_type *key_type, const cow_type *value_type,
                               const cow_options *options) COW_NOEXCEPT;
COW_API cow_map *cow_map_clone(const cow_map *map) COW_NOEXCEPT;
COW_API void cow_map_release(cow_map *map) COW_NOEXCEPT;
COW_API size_t cow_map_len(const cow_map *map) COW_NOEXCEPT;
COW_API const cow_type *cow_map_key_type(const cow_map *map) COW_NOEXCEPT;
COW_API const cow_type *cow_map_value_type(const cow_map *map) COW_NOEXCEPT;
/* Address of the value for key (borrowed), or NULL when absent/invalid. */
COW_API const void *cow_map_get(const cow_map *map, const void *key, size_t key_len) COW_NOEXCEPT;
COW_API bool cow_map_contains(const cow_map *map, const void *key, size_t key_len) COW_NOEXCEPT;
/* Inserts or replaces. The replaced value goes to out_old (caller-owned)
 * or is dropped when out_old is NULL; *out_replaced (may be NULL) tells
 * whether a value was replaced. When the map is shared and out_old is NULL,
 * its copy leaves the replaced value out instead of copying and dropping it
 * (no clone of it is made or counted); cow_map_remove does the same. */
COW_API cow_status cow_map_insert(cow_map **slot, const void *key, size_t key_len, const void *value,
                                  void *out_old, bool *out_replaced) COW_NOEXCEPT;
/* Removes key; its value goes to out_value (caller-owned) or is dropped.
 * COW_ENOTFOUND if absent (nothing copied then, even when shared). */
COW_API cow_status cow_map_remove(cow_map **slot, const void *key, size_t key_len, void *out_value) COW_NOEXCEPT;
/* Makes *slot unique and gives the writable value for key (COW_ENOTFOUND
 * if absent). For handle values it is a slot for nested editing. A tree
 * copies the path to the entry where other versions hold it (the address
 * is valid until the next write through *slot). */
COW_API cow_status cow_map_get_mut(cow_map **slot, const void *key, size_t key_len, void **out_value) COW_NOEXCEPT;
COW_API cow_status cow_map_clear(cow_map **slot) COW_NOEXCEPT;
/* Makes *slot unique (copying the table if shared), so that a batch of
 * edits pays the check once. A tree gets a private root only, O(1). */
COW_API cow_status cow_map_make_mut(cow_map **slot) COW_NOEXCEPT;

/* Iteration with a cursor that never copies. The cursor borrows the map: do
 * not write through its slot while iterating. A tree map needs the whole
 * cursor (size = sizeof(cow_map_cursor), as cow_map_cursor_init sets); each
 * entry costs O(1) amortised. */
typedef struct cow_map_cursor {
    uint32_t size;        /* sizeof(cow_map_cursor), set by cow_map_cursor_init */
    uint32_t reserved;
    const cow_map *map;
    size_t next;          /* internal position */
    uint64_t path[8];     /* room for a tree path (internal) */
} cow_map_cursor;
COW_API cow_status cow_map_cursor_init(cow_map_cursor *cursor, const cow_map *map) COW_NOEXCEPT;
/* Gives the next entry and returns true, or false at the end. Any out
 * pointer may be NULL. */
COW_API bool cow_map_next(cow_map_cursor *cursor, const void **out_key, size_t *out_key_len,
                          const void **out_value) COW_NOEXCEPT;

/* Since 0.2. Finds key, inserting a copy of *init_value when it is absent,
 * and gives the writable value for it in *out_value (valid until the next
 * write through *slot): one call where an insert followed by
 * cow_map_get_mut would copy a shared map twice. *out_inserted (may be
 * NULL) tells whether the key was inserted. init_value is read only when
 * the key is absent, but must not be NULL (COW_EINVAL), nor may out_value.
 * Costs as cow_map_insert: a shared flat map copies its table once, a tree
 * copies one path. */
COW_API cow_status cow_map_entry(cow_map **slot, const void *key, size_t key_len,
                                 const void *init_value, void **out_value,
                                 bool *out_inserted) COW_NOEXCEPT;

/* Since 0.2. True when a and b hold the same keys with equal values (the
 * value type's equal; handle values compare shallowly: the same value, or
 * equal bytes for buffers and strings). False for different key or value
 * types (compared by descriptor address) or a handle of another kind; NULL
 * compares as an empty map. Two tree maps skip the subtrees they share;
 * anything else looks every key of a up in b, O(n). */
COW_API bool cow_map_equal(const cow_map *a, const cow_map *b) COW_NOEXCEPT;

/* Since 0.2. A 64-bit hash of the entries, independent of their order and
 * of the representation, consistent with cow_map_equal: equal maps hash
 * alike. NULL (and a handle of another kind) hashes as an empty map.
 * Stable within a process only. O(n). */
COW_API uint64_t cow_map_hash(const cow_map *map) COW_NOEXCEPT;

/* What cow_map_diff reports for one key. */
typedef uint32_t cow_map_change_t;
#define COW_MAP_ADDED   0 /* in b only: old_value is NULL */
#define COW_MAP_REMOVED 1 /* in a only: new_value is NULL */
#define COW_MAP_CHANGED 2 /* in both, with values that are not equal */

/* Called by cow_map_diff for each key that differs. key (key_len bytes, or
 * one key of the key type) and the values are borrowed for the call.
 * Return non-zero to stop the walk. */
typedef int (*cow_map_diff_fn)(void *ctx, cow_map_change_t kind, const void *key, size_t key_len,
                               const void *old_value, const void *new_value);

/* Since 0.2. The difference from a to b: calls callback once for each key
 * added (in b only), removed (in a only) or changed (the value type's equal
 * says the values differ: handle values compare shallowly, so a nested
 * container rebuilt with the same contents counts as changed). The order is
 * unspecified and may differ from process to process. NULL compares as an
 * empty map.
 * Two tree maps (STRUCTURAL) that share structure diff in time proportional
 * to what changed: subtrees both hold are skipped unread. Anything else
 * looks every key of each map up in the other, O(n + m).
 * Callback convention (the same for every libcow walk): a non-zero return
 * stops the walk; the call then returns COW_OK and sets *out_stopped (which
 * may be NULL) to true, else to false. The callback must not write or
 * release a or b.
 * COW_EINVAL when callback is NULL; COW_ETYPE for a handle of another kind
 * or different key or value types. */
COW_API cow_status cow_map_diff(const cow_map *a, const cow_map *b, cow_map_diff_fn callback,
                                void *ctx, bool *out_stopped) COW_NOEXCEPT;

/* ============================================================================
 * cow_box: one value of a user cow_type (a generic Cow<T>)
 * ========================================================================== */
/* Creates a box holding a copy of *value. */
COW_API cow_status cow_box_new(cow_box **out, const cow_type *type, const void *value,
                               const cow_options *options) COW_NOEXCEPT;
COW_API cow_box *cow_box_clone(const cow_box *box) COW_NOEXCEPT;
COW_API void cow_box_release(cow_box *box) COW_NOEXCEPT;
/* The value (borrowed); NULL for NULL or an invalid handle. */
COW_API const void *cow_box_get(const cow_box *box) COW_NOEXCEPT;
COW_API const cow_type *cow_box_type(const cow_box *box) COW_NOEXCEPT;
/* Makes *slot unique and gives the writable value. */
COW_API cow_status cow_box_make_mut(cow_box **slot, void **out_value) COW_NOEXCEPT;
/* Calls fn(ctx, value) on a unique value. If fn returns a failure status it
 * is returned as is; a copy made for this update is then discarded and the
 * slot left unchanged. When the box was already unique fn edits in place,
 * so whatever fn changed before failing stays changed. */
typedef cow_status (*cow_update_fn)(void *ctx, void *value);
COW_API cow_status cow_box_update(cow_box **slot, cow_update_fn fn, void *ctx) COW_NOEXCEPT;
/* Moves the value into out_value (elem_size bytes of caller memory; the
 * caller owns it) and consumes *slot (set to NULL). No copy when unique. */
COW_API cow_status cow_box_into(cow_box **slot, void *out_value) COW_NOEXCEPT;

#ifdef __cplusplus
}
#endif

#endif /* COW_H */
