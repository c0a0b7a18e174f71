//! libcow for Zig: copy-on-write values behind a stable C ABI.
//!
//! A thin module over `@cImport` of cow.h. Each type owns one libcow
//! handle: `clone` shares the data (O(1)), `deinit` releases the handle,
//! reads return slices into libcow memory (valid until the next write or
//! deinit of that value), and writes take `*Self`: a write to a shared value
//! first makes a private copy, a write to a unique one happens in place.
const std = @import("std");

pub const c = @cImport(@cInclude("cow.h"));

pub const Error = error{
    InvalidArgument,
    WrongType,
    OutOfRange,
    NotFound,
    InvalidUtf8,
    Overflow,
    OutOfMemory,
    Busy,
    NotContiguous,
    Unsupported,
    Callback,
    Unknown,
};

/// Turns a cow_status into an error.
pub fn check(status: c.cow_status) Error!void {
    return switch (status) {
        c.COW_OK => {},
        c.COW_EINVAL => error.InvalidArgument,
        c.COW_ETYPE => error.WrongType,
        c.COW_ERANGE => error.OutOfRange,
        c.COW_ENOTFOUND => error.NotFound,
        c.COW_EUTF8 => error.InvalidUtf8,
        c.COW_EOVERFLOW => error.Overflow,
        c.COW_ENOMEM => error.OutOfMemory,
        c.COW_EBUSY => error.Busy,
        c.COW_ENOTCONTIGUOUS => error.NotContiguous,
        c.COW_EUNSUPPORTED => error.Unsupported,
        c.COW_ECALLBACK => error.Callback,
        else => error.Unknown,
    };
}

pub const Strategy = enum(u32) {
    lazy = c.COW_STRATEGY_LAZY,
    eager = c.COW_STRATEGY_EAGER,
    threshold = c.COW_STRATEGY_THRESHOLD,
    /// A persistent tree: a write to a shared value copies only the nodes
    /// on its path. For `Vec` only (its elements are then not contiguous:
    /// see `Vec.items`); the other kinds answer `error.Unsupported`.
    structural = c.COW_STRATEGY_STRUCTURAL,
    /// Flat or tree, chosen at each copy a write makes from how the
    /// lineage is used, for `Vec` and `Map`; `threshold_bytes` is the size
    /// floor below which a value stays flat (0: 64 KiB).
    adaptive = c.COW_STRATEGY_ADAPTIVE,
};

pub const Options = struct {
    strategy: Strategy = .lazy,
    threshold_bytes: u64 = 0,
    stats: bool = true,

    fn toC(self: Options) c.cow_options {
        var o: c.cow_options = undefined;
        c.cow_options_init(&o);
        o.strategy = @intFromEnum(self.strategy);
        o.threshold_bytes = self.threshold_bytes;
        if (!self.stats) o.flags |= c.COW_OPT_NO_STATS;
        return o;
    }
};

/// Lineage statistics (cow_stats_info, the whole 0.2 layout): clones,
/// copies, bytes_copied, memory_saved, live_handles, live_values, copy_rate,
/// value_bytes, representation (a `Representation` value), nodes_copied and
/// switches.
pub const Stats = c.cow_stats_info;

/// How a value is stored (Stats.representation): `Representation.of(s)`.
pub const Representation = enum(u32) {
    flat = c.COW_REPRESENTATION_FLAT,
    tree = c.COW_REPRESENTATION_TREE,
    _,

    pub fn of(s: Stats) Representation {
        return @enumFromInt(s.representation);
    }
};

pub const GlobalStats = c.cow_global_stats_info;

pub fn globalStats() GlobalStats {
    var g = std.mem.zeroes(GlobalStats);
    g.size = @sizeOf(GlobalStats);
    check(c.cow_global_stats(&g)) catch unreachable;
    return g;
}

pub fn version() u32 {
    return c.cow_version();
}

/// The operations every handle type shares (mixed in with usingnamespace).
fn HandleMethods(comptime Self: type) type {
    return struct {
        fn ptr(self: Self) *const anyopaque {
            return @ptrCast(self.raw);
        }

        /// Number of handles sharing the value (a snapshot).
        pub fn strongCount(self: Self) u64 {
            return c.cow_strong_count(ptr(self));
        }

        /// True exactly when a write through this handle would copy.
        pub fn isShared(self: Self) bool {
            return c.cow_is_shared(ptr(self));
        }

        /// True when both share the same representation.
        pub fn ptrEq(self: Self, other: Self) bool {
            return c.cow_ptr_eq(ptr(self), ptr(other));
        }

        /// Makes the value unique (copies it if shared).
        pub fn makeUnique(self: *Self) Error!void {
            var h: ?*anyopaque = @ptrCast(self.raw);
            try check(c.cow_make_mut(@ptrCast(&h)));
            self.raw = @ptrCast(h.?);
        }

        pub fn stats(self: Self) Stats {
            var s: Stats = undefined;
            c.cow_stats_info_init_v2(&s);
            check(c.cow_stats(ptr(self), &s)) catch unreachable;
            return s;
        }

        /// The text report ("Clones: N", ...) as a new Str.
        pub fn report(self: Self) Error!Str {
            var out: ?*c.cow_str = null;
            try check(c.cow_stats_report(ptr(self), c.COW_REPORT_TEXT, &out));
            return .{ .raw = out.? };
        }

        /// O(1): a new handle sharing the data.
        pub fn clone(self: Self) Error!Self {
            const p = c.cow_clone(ptr(self)) orelse {
                return if (c.cow_strong_count(ptr(self)) >= c.COW_MAX_REFCOUNT) error.Overflow else error.OutOfMemory;
            };
            var copy = self;
            copy.raw = @ptrCast(@alignCast(p));
            return copy;
        }

        pub fn deinit(self: *Self) void {
            c.cow_release(@ptrCast(self.raw));
            self.* = undefined;
        }
    };
}

/// Copy-on-write UTF-8 text (cow_str). Offsets are bytes on char boundaries.
pub const Str = struct {
    raw: *c.cow_str,
    pub usingnamespace HandleMethods(Str);

    pub fn init(text: []const u8) Error!Str {
        return initWith(text, .{});
    }

    pub fn initWith(text: []const u8, options: Options) Error!Str {
        const o = options.toC();
        var out: ?*c.cow_str = null;
        try check(c.cow_str_new(&out, text.ptr, text.len, &o));
        return .{ .raw = out.? };
    }

    /// The text (borrowed: valid until the next write or deinit).
    pub fn slice(self: Str) []const u8 {
        return c.cow_str_data(self.raw)[0..c.cow_str_len(self.raw)];
    }

    pub fn charCount(self: Str) usize {
        return c.cow_str_char_count(self.raw);
    }

    pub fn append(self: *Str, text: []const u8) Error!void {
        var h: ?*c.cow_str = self.raw;
        defer self.raw = h.?;
        return check(c.cow_str_append(&h, text.ptr, text.len));
    }

    pub fn insert(self: *Str, at: usize, text: []const u8) Error!void {
        var h: ?*c.cow_str = self.raw;
        defer self.raw = h.?;
        return check(c.cow_str_insert(&h, at, text.ptr, text.len));
    }

    pub fn erase(self: *Str, at: usize, count: usize) Error!void {
        var h: ?*c.cow_str = self.raw;
        defer self.raw = h.?;
        return check(c.cow_str_erase(&h, at, count));
    }

    pub fn truncate(self: *Str, new_len: usize) Error!void {
        var h: ?*c.cow_str = self.raw;
        defer self.raw = h.?;
        return check(c.cow_str_truncate(&h, new_len));
    }

    /// A string for [offset, offset+len): O(1), shares the storage.
    pub fn substr(self: Str, offset: usize, len: usize) Error!Str {
        var out: ?*c.cow_str = null;
        try check(c.cow_str_substr(&out, self.raw, offset, len));
        return .{ .raw = out.? };
    }

    /// Byte offset of needle at or after `from`; null when absent.
    pub fn find(self: Str, needle: []const u8, from: usize) Error!?usize {
        var pos: usize = 0;
        check(c.cow_str_find(self.raw, needle.ptr, needle.len, from, &pos)) catch |e| {
            return if (e == error.NotFound) null else e;
        };
        return pos;
    }

    pub fn eql(self: Str, other: Str) bool {
        return c.cow_str_equal(self.raw, other.raw);
    }
};

/// A copy-on-write byte buffer (cow_buf).
pub const Buf = struct {
    raw: *c.cow_buf,
    pub usingnamespace HandleMethods(Buf);

    pub fn init(data: []const u8) Error!Buf {
        var out: ?*c.cow_buf = null;
        try check(c.cow_buf_new(&out, data.ptr, data.len, null));
        return .{ .raw = out.? };
    }

    pub fn withCapacity(capacity: usize) Error!Buf {
        var out: ?*c.cow_buf = null;
        try check(c.cow_buf_with_capacity(&out, capacity, null));
        return .{ .raw = out.? };
    }

    pub fn bytes(self: Buf) []const u8 {
        return c.cow_buf_data(self.raw)[0..c.cow_buf_len(self.raw)];
    }

    /// Makes the buffer unique (copying if shared) and gives its bytes.
    pub fn makeMut(self: *Buf) Error![]u8 {
        var h: ?*c.cow_buf = self.raw;
        var data: [*c]u8 = null;
        try check(c.cow_buf_make_mut(&h, &data));
        self.raw = h.?;
        return data[0..c.cow_buf_len(self.raw)];
    }

    pub fn append(self: *Buf, data: []const u8) Error!void {
        var h: ?*c.cow_buf = self.raw;
        defer self.raw = h.?;
        return check(c.cow_buf_append(&h, data.ptr, data.len));
    }

    pub fn insert(self: *Buf, at: usize, data: []const u8) Error!void {
        var h: ?*c.cow_buf = self.raw;
        defer self.raw = h.?;
        return check(c.cow_buf_insert(&h, at, data.ptr, data.len));
    }

    pub fn erase(self: *Buf, at: usize, count: usize) Error!void {
        var h: ?*c.cow_buf = self.raw;
        defer self.raw = h.?;
        return check(c.cow_buf_erase(&h, at, count));
    }

    pub fn truncate(self: *Buf, new_len: usize) Error!void {
        var h: ?*c.cow_buf = self.raw;
        defer self.raw = h.?;
        return check(c.cow_buf_truncate(&h, new_len));
    }

    pub fn resize(self: *Buf, new_len: usize, fill: u8) Error!void {
        var h: ?*c.cow_buf = self.raw;
        defer self.raw = h.?;
        return check(c.cow_buf_resize(&h, new_len, fill));
    }

    /// A buffer viewing [offset, offset+len): O(1), shares the storage.
    pub fn slice(self: Buf, offset: usize, len: usize) Error!Buf {
        var out: ?*c.cow_buf = null;
        try check(c.cow_buf_slice(&out, self.raw, offset, len));
        return .{ .raw = out.? };
    }
};

/// The built-in descriptor for a number type.
fn builtinType(comptime T: type) *const c.cow_type {
    const t = switch (T) {
        u8 => c.cow_type_u8(),
        u16 => c.cow_type_u16(),
        u32 => c.cow_type_u32(),
        u64 => c.cow_type_u64(),
        i8 => c.cow_type_i8(),
        i16 => c.cow_type_i16(),
        i32 => c.cow_type_i32(),
        i64 => c.cow_type_i64(),
        f32 => c.cow_type_f32(),
        f64 => c.cow_type_f64(),
        []const u8 => c.cow_type_string(),
        else => @compileError("no built-in cow_type for " ++ @typeName(T)),
    };
    return t;
}

/// A copy-on-write vector of numbers (cow_vec).
///
/// A vector made with `.strategy = .structural` is a persistent tree whose
/// elements are not contiguous: `get`, `getMut`, `set`, `spans`,
/// `iterator` and every write work for every representation, while `items`
/// and `makeMut` answer `error.NotContiguous` for a tree (even an empty
/// one) and change nothing.
pub fn Vec(comptime T: type) type {
    return struct {
        const Self = @This();
        raw: *c.cow_vec,
        pub usingnamespace HandleMethods(Self);

        pub fn init(values: []const T) Error!Self {
            return initWith(values, .{});
        }

        pub fn initWith(values: []const T, options: Options) Error!Self {
            const o = options.toC();
            var out: ?*c.cow_vec = null;
            try check(c.cow_vec_from_array(&out, builtinType(T), values.ptr, values.len, &o));
            return .{ .raw = out.? };
        }

        pub fn withCapacity(capacity: usize) Error!Self {
            return withCapacityWith(capacity, .{});
        }

        pub fn withCapacityWith(capacity: usize, options: Options) Error!Self {
            const o = options.toC();
            var out: ?*c.cow_vec = null;
            try check(c.cow_vec_with_capacity(&out, builtinType(T), capacity, &o));
            return .{ .raw = out.? };
        }

        pub fn len(self: Self) usize {
            return c.cow_vec_len(self.raw);
        }

        /// The elements as one slice when they are contiguous (the lazy,
        /// eager and threshold strategies); `error.NotContiguous` for a tree.
        /// `get`, `spans` and `iterator` work for both.
        pub fn items(self: Self) Error![]const T {
            var data: ?*const anyopaque = null;
            try check(c.cow_vec_data(self.raw, &data));
            const p: [*]const T = @ptrCast(@alignCast(data.?));
            return p[0..self.len()];
        }

        /// Element `index`, or null when out of range. Every representation
        /// (O(1) flat, O(log n) for a tree).
        pub fn get(self: Self, index: usize) ?T {
            const p = c.cow_vec_get(self.raw, index) orelse return null;
            const e: *const T = @ptrCast(@alignCast(p));
            return e.*;
        }

        /// Makes the vector unique and gives element `index` to write (every
        /// representation: a tree copies only the shared nodes on its
        /// path); valid until the next clone of, or write to, this value.
        pub fn getMut(self: *Self, index: usize) Error!*T {
            var h: ?*c.cow_vec = self.raw;
            var p: ?*anyopaque = null;
            try check(c.cow_vec_get_mut(&h, index, &p));
            self.raw = h.?;
            return @ptrCast(@alignCast(p.?));
        }

        /// Makes the vector unique (copying if shared) and gives its
        /// elements, when contiguous; `error.NotContiguous` for a tree, and
        /// nothing changes (write with `set` or `getMut` instead).
        pub fn makeMut(self: *Self) Error![]T {
            var h: ?*c.cow_vec = self.raw;
            var data: ?*anyopaque = null;
            try check(c.cow_vec_make_mut(&h, &data));
            self.raw = h.?;
            const p: [*]T = @ptrCast(@alignCast(data.?));
            return p[0..self.len()];
        }

        pub fn push(self: *Self, value: T) Error!void {
            var h: ?*c.cow_vec = self.raw;
            defer self.raw = h.?;
            return check(c.cow_vec_push(&h, &value));
        }

        /// Removes the last element; null when empty.
        pub fn pop(self: *Self) Error!?T {
            if (self.len() == 0) return null;
            var h: ?*c.cow_vec = self.raw;
            var out: T = undefined;
            try check(c.cow_vec_pop(&h, &out));
            self.raw = h.?;
            return out;
        }

        /// Replaces element `index`, returning the old value.
        pub fn set(self: *Self, index: usize, value: T) Error!T {
            var h: ?*c.cow_vec = self.raw;
            var old: T = undefined;
            try check(c.cow_vec_set(&h, index, &value, &old));
            self.raw = h.?;
            return old;
        }

        pub fn insert(self: *Self, index: usize, value: T) Error!void {
            var h: ?*c.cow_vec = self.raw;
            defer self.raw = h.?;
            return check(c.cow_vec_insert(&h, index, &value));
        }

        pub fn remove(self: *Self, index: usize) Error!T {
            var h: ?*c.cow_vec = self.raw;
            var out: T = undefined;
            try check(c.cow_vec_erase(&h, index, &out));
            self.raw = h.?;
            return out;
        }

        pub fn extend(self: *Self, values: []const T) Error!void {
            var h: ?*c.cow_vec = self.raw;
            defer self.raw = h.?;
            return check(c.cow_vec_extend(&h, values.ptr, values.len));
        }

        pub fn truncate(self: *Self, new_len: usize) Error!void {
            var h: ?*c.cow_vec = self.raw;
            defer self.raw = h.?;
            return check(c.cow_vec_truncate(&h, new_len));
        }

        pub fn clear(self: *Self) Error!void {
            var h: ?*c.cow_vec = self.raw;
            defer self.raw = h.?;
            return check(c.cow_vec_clear(&h));
        }

        /// The elements as contiguous slices, in order, without a copy: one
        /// for a flat vector, one per leaf for a tree, none when empty; each
        /// is non-empty. Valid until the next write to or deinit of this value.
        pub fn spans(self: *const Self) SpanIterator {
            var it = SpanIterator{ .cursor = undefined };
            check(c.cow_vec_cursor_init(&it.cursor, self.raw)) catch unreachable;
            return it;
        }

        pub const SpanIterator = struct {
            cursor: c.cow_vec_cursor,

            pub fn next(it: *SpanIterator) ?[]const T {
                var data: ?*const anyopaque = null;
                var count: usize = 0;
                if (!c.cow_vec_next_span(&it.cursor, &data, &count)) return null;
                const p: [*]const T = @ptrCast(@alignCast(data.?));
                return p[0..count];
            }
        };

        /// Iterates the elements span by span (every representation); never
        /// copies.
        pub fn iterator(self: *const Self) Iterator {
            return .{ .spans = self.spans(), .span = &[_]T{} };
        }

        pub const Iterator = struct {
            spans: SpanIterator,
            span: []const T,

            pub fn next(it: *Iterator) ?T {
                while (it.span.len == 0) {
                    it.span = it.spans.next() orelse return null;
                }
                const x = it.span[0];
                it.span = it.span[1..];
                return x;
            }
        };

        // ---- whole-vector operations: flat and tree vectors mix freely ----

        /// `spans` starting at element `index`: the first span starts there.
        /// `index == len()` gives no span; `error.OutOfRange` past it. O(1)
        /// to start, plus O(log n) to find the first leaf of a tree.
        pub fn spansFrom(self: *const Self, index: usize) Error!SpanIterator {
            var it = SpanIterator{ .cursor = undefined };
            try check(c.cow_vec_cursor_init_at(&it.cursor, self.raw, index));
            return it;
        }

        /// `iterator` starting at element `index`; `error.OutOfRange` when
        /// `index > len()`.
        pub fn iteratorFrom(self: *const Self, index: usize) Error!Iterator {
            return .{ .spans = try self.spansFrom(index), .span = &[_]T{} };
        }

        /// A new vector of the `count` elements from `offset`, with this
        /// vector's options (a value of its own). Flat: copies them,
        /// O(count). Tree: shares every node inside the range, O(log n).
        /// `error.OutOfRange` when the range is not inside the vector.
        pub fn slice(self: Self, offset: usize, count: usize) Error!Self {
            var out: ?*c.cow_vec = null;
            try check(c.cow_vec_slice(&out, self.raw, offset, count));
            return .{ .raw = out.? };
        }

        /// Appends the elements of `other` (only read; it may be this vector,
        /// which is then doubled). Two trees are joined sharing the nodes of
        /// both, O(log n); otherwise other's elements are copied. The vector
        /// keeps its representation.
        pub fn concat(self: *Self, other: Self) Error!void {
            var h: ?*c.cow_vec = self.raw;
            defer self.raw = h.?;
            return check(c.cow_vec_concat(&h, other.raw));
        }

        /// Equal lengths and equal elements in order, by libcow's element
        /// equality (floats: NaN equals NaN, 0.0 equals -0.0), whatever the
        /// representations. O(1) for clones; trees skip shared subtrees.
        pub fn eql(self: Self, other: Self) bool {
            return c.cow_vec_equal(self.raw, other.raw);
        }

        /// A 64-bit hash of the length and the elements, consistent with
        /// `eql` (flat or tree); stable within a process only.
        pub fn hash(self: Self) u64 {
            return c.cow_vec_hash(self.raw);
        }

        /// Calls `callback(context, offset, count)` for each maximal run of
        /// positions where this vector and `other` differ (by libcow's
        /// element equality), in ascending order, until it returns false;
        /// positions past the end of the shorter one differ. Returns whether
        /// the callback stopped the walk. Subtrees both versions share are
        /// skipped unread. The callback must not write or deinit either
        /// vector.
        pub fn diff(
            self: Self,
            other: Self,
            context: anytype,
            comptime callback: fn (@TypeOf(context), usize, usize) bool,
        ) Error!bool {
            const Context = @TypeOf(context);
            const Trampoline = struct {
                fn call(ctx: ?*anyopaque, offset: usize, count: usize) callconv(.C) c_int {
                    const value: Context = if (@sizeOf(Context) == 0)
                        undefined
                    else
                        @as(*const Context, @ptrCast(@alignCast(ctx.?))).*;
                    return if (callback(value, offset, count)) 0 else 1;
                }
            };
            var held = context;
            const ctx: ?*anyopaque = if (@sizeOf(Context) == 0) null else @ptrCast(&held);
            var stopped = false;
            try check(c.cow_vec_diff(self.raw, other.raw, &Trampoline.call, ctx, &stopped));
            return stopped;
        }

        /// A run of positions [offset, offset + count) where two vectors differ.
        pub const DiffRange = struct { offset: usize, count: usize };

        /// Every range `diff` reports, in a slice the caller frees with
        /// `allocator`.
        pub fn diffRanges(self: Self, other: Self, allocator: std.mem.Allocator) (Error || std.mem.Allocator.Error)![]DiffRange {
            var list = std.ArrayList(DiffRange).init(allocator);
            errdefer list.deinit();
            const Collect = struct {
                list: *std.ArrayList(DiffRange),
                failed: bool = false,
                fn add(self_: *@This(), offset: usize, count: usize) bool {
                    self_.list.append(.{ .offset = offset, .count = count }) catch {
                        self_.failed = true;
                        return false;
                    };
                    return true;
                }
            };
            var collect = Collect{ .list = &list };
            _ = try self.diff(other, &collect, Collect.add);
            if (collect.failed) return error.OutOfMemory;
            return list.toOwnedSlice();
        }
    };
}

/// A copy-on-write hash map (cow_map) from integers or strings
/// (`[]const u8`, validated UTF-8) to numbers. Order is unspecified.
pub fn Map(comptime K: type, comptime V: type) type {
    return struct {
        const Self = @This();
        const string_keys = K == []const u8;
        raw: *c.cow_map,
        pub usingnamespace HandleMethods(Self);

        pub fn init() Error!Self {
            var out: ?*c.cow_map = null;
            try check(c.cow_map_new(&out, builtinType(K), builtinType(V), null));
            return .{ .raw = out.? };
        }

        /// An empty map with options (`.structural`: a persistent hash trie).
        pub fn initWith(options: Options) Error!Self {
            var out: ?*c.cow_map = null;
            const o = options.toC();
            try check(c.cow_map_new(&out, builtinType(K), builtinType(V), &o));
            return .{ .raw = out.? };
        }

        fn keyPtr(key: *const K) ?*const anyopaque {
            return if (string_keys) key.*.ptr else key;
        }
        fn keyLen(key: *const K) usize {
            return if (string_keys) key.*.len else @sizeOf(K);
        }

        pub fn len(self: Self) usize {
            return c.cow_map_len(self.raw);
        }

        pub fn get(self: Self, key: K) ?V {
            const p = c.cow_map_get(self.raw, keyPtr(&key), keyLen(&key)) orelse return null;
            const v: *const V = @ptrCast(@alignCast(p));
            return v.*;
        }

        pub fn contains(self: Self, key: K) bool {
            return c.cow_map_contains(self.raw, keyPtr(&key), keyLen(&key));
        }

        /// Inserts or replaces; returns the replaced value.
        pub fn put(self: *Self, key: K, value: V) Error!?V {
            var h: ?*c.cow_map = self.raw;
            var old: V = undefined;
            var replaced = false;
            try check(c.cow_map_insert(&h, keyPtr(&key), keyLen(&key), &value, &old, &replaced));
            self.raw = h.?;
            return if (replaced) old else null;
        }

        /// Removes key; returns its value, null when absent (no copy then).
        pub fn remove(self: *Self, key: K) Error!?V {
            var h: ?*c.cow_map = self.raw;
            var out: V = undefined;
            check(c.cow_map_remove(&h, keyPtr(&key), keyLen(&key), &out)) catch |e| {
                return if (e == error.NotFound) null else e;
            };
            self.raw = h.?;
            return out;
        }

        /// Makes the map unique and gives the value for key to write.
        pub fn getMut(self: *Self, key: K) Error!?*V {
            var h: ?*c.cow_map = self.raw;
            var p: ?*anyopaque = null;
            check(c.cow_map_get_mut(&h, keyPtr(&key), keyLen(&key), &p)) catch |e| {
                return if (e == error.NotFound) null else e;
            };
            self.raw = h.?;
            return @ptrCast(@alignCast(p.?));
        }

        pub fn clear(self: *Self) Error!void {
            var h: ?*c.cow_map = self.raw;
            defer self.raw = h.?;
            return check(c.cow_map_clear(&h));
        }

        /// Finds key, inserting `init` when it is absent, makes the map
        /// unique and gives the value to write (valid until the next write
        /// or clone): one call where put then getMut would copy a shared map
        /// twice (a tree copies one path).
        pub fn entry(self: *Self, key: K, init_value: V) Error!*V {
            var h: ?*c.cow_map = self.raw;
            var p: ?*anyopaque = null;
            try check(c.cow_map_entry(&h, keyPtr(&key), keyLen(&key), &init_value, &p, null));
            self.raw = h.?;
            return @ptrCast(@alignCast(p.?));
        }

        /// Same keys with equal values, by libcow's value equality (floats:
        /// NaN equals NaN, 0.0 equals -0.0), whatever the representations.
        /// O(1) for clones; two trees skip the subtrees they share.
        pub fn eql(self: Self, other: Self) bool {
            return c.cow_map_equal(self.raw, other.raw);
        }

        /// A 64-bit hash of the entries, independent of their order and of
        /// the representation, consistent with `eql`; stable within a
        /// process only.
        pub fn hash(self: Self) u64 {
            return c.cow_map_hash(self.raw);
        }

        /// What `diff` reports for one key.
        pub const ChangeKind = enum(u32) {
            added = c.COW_MAP_ADDED, // in the other map only: `old` is null
            removed = c.COW_MAP_REMOVED, // in this map only: `new` is null
            changed = c.COW_MAP_CHANGED, // in both, values not equal
        };
        /// One key that differs. String keys point into the map, borrowed
        /// for the callback.
        pub const Change = struct { kind: ChangeKind, key: K, old: ?V, new: ?V };

        /// Calls `callback(context, change)` once for each key added (in
        /// `other` only), removed (in this map only) or changed from this
        /// map to `other`, in unspecified order, until it returns false.
        /// Returns whether the callback stopped the walk. Two trees that
        /// share structure skip what they share. The callback must not write
        /// or deinit either map.
        pub fn diff(
            self: Self,
            other: Self,
            context: anytype,
            comptime callback: fn (@TypeOf(context), Change) bool,
        ) Error!bool {
            const Context = @TypeOf(context);
            const Trampoline = struct {
                fn call(ctx: ?*anyopaque, kind: c.cow_map_change_t, k: ?*const anyopaque, kn: usize, o: ?*const anyopaque, n: ?*const anyopaque) callconv(.C) c_int {
                    const value: Context = if (@sizeOf(Context) == 0)
                        undefined
                    else
                        @as(*const Context, @ptrCast(@alignCast(ctx.?))).*;
                    const key: K = if (string_keys)
                        @as([*]const u8, @ptrCast(k.?))[0..kn]
                    else
                        @as(*const K, @ptrCast(@alignCast(k.?))).*;
                    const change = Change{
                        .kind = @enumFromInt(kind),
                        .key = key,
                        .old = if (o) |p| @as(*const V, @ptrCast(@alignCast(p))).* else null,
                        .new = if (n) |p| @as(*const V, @ptrCast(@alignCast(p))).* else null,
                    };
                    return if (callback(value, change)) 0 else 1;
                }
            };
            var held = context;
            const ctx: ?*anyopaque = if (@sizeOf(Context) == 0) null else @ptrCast(&held);
            var stopped = false;
            try check(c.cow_map_diff(self.raw, other.raw, &Trampoline.call, ctx, &stopped));
            return stopped;
        }

        pub const Entry = struct { key: K, value: V };

        pub fn iterator(self: *const Self) Iterator {
            var it = Iterator{ .cursor = undefined };
            check(c.cow_map_cursor_init(&it.cursor, self.raw)) catch unreachable;
            return it;
        }

        pub const Iterator = struct {
            cursor: c.cow_map_cursor,

            /// Keys of string maps point into the map (borrowed).
            pub fn next(it: *Iterator) ?Entry {
                var k: ?*const anyopaque = null;
                var kn: usize = 0;
                var v: ?*const anyopaque = null;
                if (!c.cow_map_next(&it.cursor, &k, &kn, &v)) return null;
                const vp: *const V = @ptrCast(@alignCast(v.?));
                if (string_keys) {
                    const kp: [*]const u8 = @ptrCast(k.?);
                    return .{ .key = kp[0..kn], .value = vp.* };
                }
                const kp: *const K = @ptrCast(@alignCast(k.?));
                return .{ .key = kp.*, .value = vp.* };
            }
        };
    };
}

/// One copy-on-write value of T (cow_box), copied with memcpy: a generic
/// Cow(T). A T holding pointers shares what they point to.
pub fn Box(comptime T: type) type {
    return struct {
        const Self = @This();
        raw: *c.cow_box,
        pub usingnamespace HandleMethods(Self);

        // cow.h: a cow_type must outlive its values; one static per T.
        const Desc = struct {
            var desc: c.cow_type = undefined;
            var once = std.once(fill);
            fn fill() void {
                c.cow_type_init(&desc, stored_size, stored_align);
            }
        };

        fn typeDesc() *const c.cow_type {
            Desc.once.call();
            return &Desc.desc;
        }

        pub fn init(value: T) Error!Self {
            return initWith(value, .{});
        }

        // libcow wants a size of at least one byte that is a multiple of
        // the alignment (0 for zero-sized types in Zig 0.11), so a value
        // travels in a buffer of that size: a zero-sized T has no address.
        const stored_align = @max(@alignOf(T), 1);
        const stored_size = @max(@sizeOf(T), stored_align);
        const Stored = [stored_size]u8;

        pub fn initWith(value: T, options: Options) Error!Self {
            const o = options.toC();
            var bytes: Stored align(stored_align) = undefined;
            @memcpy(bytes[0..@sizeOf(T)], std.mem.asBytes(&value));
            var out: ?*c.cow_box = null;
            try check(c.cow_box_new(&out, typeDesc(), &bytes, &o));
            return .{ .raw = out.? };
        }

        /// The value (borrowed).
        pub fn get(self: Self) *const T {
            return @ptrCast(@alignCast(c.cow_box_get(self.raw).?));
        }

        /// Makes the box unique (copying if shared) and gives the value.
        pub fn makeMut(self: *Self) Error!*T {
            var h: ?*c.cow_box = self.raw;
            var p: ?*anyopaque = null;
            try check(c.cow_box_make_mut(&h, &p));
            self.raw = h.?;
            return @ptrCast(@alignCast(p.?));
        }

        /// Moves the value out (no copy when unique) and consumes the box.
        pub fn into(self: *Self) Error!T {
            var h: ?*c.cow_box = self.raw;
            var bytes: Stored align(stored_align) = undefined;
            try check(c.cow_box_into(&h, &bytes));
            self.* = undefined;
            var out: T = undefined;
            @memcpy(std.mem.asBytes(&out), bytes[0..@sizeOf(T)]);
            return out;
        }
    };
}
