//! The checkpoint list (string, vector, map, generic box, threads, stats)
//! against the installed libcow: zig test cow_test.zig -I<include> -L<lib> -lcow -lc
const std = @import("std");
const cow = @import("cow.zig");
const expect = std.testing.expect;
const expectEqual = std.testing.expectEqual;
const expectEqualSlices = std.testing.expectEqualSlices;
const expectEqualStrings = std.testing.expectEqualStrings;
const expectError = std.testing.expectError;
const testing = std.testing;

test "README example" {
    var a = try cow.Str.init("hello");
    defer a.deinit();
    var b = try a.clone(); // O(1): shares the text
    defer b.deinit();
    try b.append(" world"); // b is shared: it gets a private copy
    std.debug.print("{s} / {s}\n", .{ a.slice(), b.slice() }); // hello / hello world
    var v = try cow.Vec(u32).init(&.{ 1, 2, 3 });
    defer v.deinit();
    try v.push(4); // unique: written in place
    std.debug.print("{any} copies={d}\n", .{ try v.items(), v.stats().copies });
    try expectEqualStrings("hello world", b.slice());
    try expectEqualSlices(u32, &.{ 1, 2, 3, 4 }, try v.items());
}

// ---- string ----

test "string: clone shares the text" {
    var a = try cow.Str.init("hello");
    defer a.deinit();
    var b = try a.clone();
    try expectEqual(@as(u64, 2), a.strongCount());
    try expect(a.ptrEq(b));
    try expectEqual(a.slice().ptr, b.slice().ptr);
    b.deinit();
    try expectEqual(@as(u64, 1), a.strongCount());
    try expect(!a.isShared());
}

test "string: a write to a shared value copies, the other is unchanged" {
    var a = try cow.Str.init("hello");
    defer a.deinit();
    var b = try a.clone();
    defer b.deinit();
    try b.append(" world");
    try expectEqualStrings("hello", a.slice());
    try expectEqualStrings("hello world", b.slice());
    try expect(!a.ptrEq(b));
    const s = a.stats();
    try expectEqual(@as(u64, 1), s.clones);
    try expectEqual(@as(u64, 1), s.copies);
    try expectEqual(@as(u64, 5), s.bytes_copied);
    // A flat value: the copy counts in copies, never in nodes_copied.
    try expectEqual(cow.Representation.flat, cow.Representation.of(s));
    try expectEqual(@as(u64, 0), s.nodes_copied);
    try expectEqual(@as(u64, 0), s.switches);
}

test "stats: cow_stats_info_init writes the 0.1 layout, init_v2 the 0.2 one" {
    const c = cow.c;
    var a = try cow.Str.init("abc");
    defer a.deinit();
    var b = try a.clone();
    defer b.deinit();
    // Sentinels in the 0.2 fields show which of them cow_stats wrote.
    var v1: c.cow_stats_info = undefined;
    c.cow_stats_info_init(&v1);
    try expectEqual(@as(u32, @offsetOf(c.cow_stats_info, "representation")), v1.size);
    v1.representation = 77;
    v1.nodes_copied = 77;
    v1.switches = 77;
    try expectEqual(@as(c.cow_status, c.COW_OK), c.cow_stats(@ptrCast(a.raw), &v1));
    try expectEqual(@as(u64, 1), v1.clones);
    try expectEqual(@as(u32, 77), v1.representation);
    try expectEqual(@as(u64, 77), v1.nodes_copied);
    try expectEqual(@as(u64, 77), v1.switches);

    var v2: c.cow_stats_info = undefined;
    c.cow_stats_info_init_v2(&v2);
    try expectEqual(@as(u32, @sizeOf(c.cow_stats_info)), v2.size);
    v2.representation = 77;
    v2.nodes_copied = 77;
    v2.switches = 77;
    try expectEqual(@as(c.cow_status, c.COW_OK), c.cow_stats(@ptrCast(a.raw), &v2));
    try expectEqual(@as(u64, 1), v2.clones);
    try expectEqual(@as(u32, c.COW_REPRESENTATION_FLAT), v2.representation);
    try expectEqual(@as(u64, 0), v2.nodes_copied);
    try expectEqual(@as(u64, 0), v2.switches);
}

test "string: a unique write happens in place" {
    var s = try cow.Str.init("hello, world");
    defer s.deinit();
    const data = s.slice().ptr;
    try s.truncate(5);
    try s.erase(1, 2);
    try s.insert(1, "el");
    try s.makeUnique();
    try expectEqualStrings("hello", s.slice());
    try expectEqual(data, s.slice().ptr);
    try expectEqual(@as(u64, 0), s.stats().copies);
}

test "string: queries and errors" {
    var s = try cow.Str.init("héllo wörld");
    defer s.deinit();
    try expectEqual(@as(usize, 11), s.charCount());
    try expectEqual(@as(?usize, 7), try s.find("wö", 0));
    try expectEqual(@as(?usize, null), try s.find("xyz", 0));
    try expectError(error.OutOfRange, s.find("l", 100));
    try expectError(error.InvalidUtf8, cow.Str.init("bad \xc3"));
    var c = try s.clone();
    defer c.deinit();
    try expectError(error.InvalidArgument, c.erase(2, 1)); // inside "é"
    try expect(c.ptrEq(s)); // a failed write copies nothing
    var sub = try s.substr(7, 6);
    defer sub.deinit();
    try expectEqualStrings("wörld", sub.slice());
    try expect(sub.isShared());
}

test "string: buffers copy on write and edit unique ones in place" {
    var a = try cow.Buf.init(&[_]u8{ 1, 2, 3, 4 });
    defer a.deinit();
    var b = try a.clone();
    defer b.deinit();
    (try b.makeMut())[0] = 9;
    try expectEqualSlices(u8, &[_]u8{ 1, 2, 3, 4 }, a.bytes());
    try expectEqualSlices(u8, &[_]u8{ 9, 2, 3, 4 }, b.bytes());
    try b.resize(6, 7);
    try b.erase(1, 2);
    try expectEqualSlices(u8, &[_]u8{ 9, 4, 7, 7 }, b.bytes());

    var u = try cow.Buf.withCapacity(64);
    defer u.deinit();
    try u.append("abc");
    const data = u.bytes().ptr;
    try u.append("def");
    try u.insert(0, "_");
    try expectEqualStrings("_abcdef", u.bytes());
    try expectEqual(data, u.bytes().ptr);
    var part = try u.slice(1, 3);
    defer part.deinit();
    try expectEqual(data + 1, part.bytes().ptr);
}

// ---- vector ----

test "vector: copy on push and set to a shared vector" {
    var a = try cow.Vec(i32).init(&[_]i32{ 1, 2, 3 });
    defer a.deinit();
    var b = try a.clone();
    defer b.deinit();
    try expectEqual(@as(u64, 2), a.strongCount());
    try b.push(4);
    try expectEqualSlices(i32, &[_]i32{ 1, 2, 3 }, try a.items());
    try expectEqualSlices(i32, &[_]i32{ 1, 2, 3, 4 }, try b.items());
    var c = try a.clone();
    defer c.deinit();
    try expectEqual(@as(i32, 1), try c.set(0, 100));
    try expectEqualSlices(i32, &[_]i32{ 1, 2, 3 }, try a.items());
    try expectEqualSlices(i32, &[_]i32{ 100, 2, 3 }, try c.items());
    try expectError(error.OutOfRange, c.set(3, 0));
    try expectEqual(@as(u64, 2), a.stats().copies);
}

test "vector: unique writes in place, pop, iteration" {
    var v = try cow.Vec(u64).withCapacity(16);
    defer v.deinit();
    try v.push(1);
    const data = (try v.items()).ptr;
    var i: u64 = 2;
    while (i <= 10) : (i += 1) try v.push(i);
    (try v.makeMut())[0] = 100;
    try expectEqual(data, (try v.items()).ptr);
    try expectEqual(@as(?u64, 10), try v.pop());
    try v.insert(0, 7);
    try expectEqual(@as(u64, 100), try v.remove(1));
    try v.extend(&[_]u64{ 11, 12 });
    var it = v.iterator();
    var sum: u64 = 0;
    var n: usize = 0;
    while (it.next()) |x| {
        sum += x;
        n += 1;
    }
    try expectEqual(@as(usize, 11), n);
    try expectEqual(@as(u64, 7 + 2 + 3 + 4 + 5 + 6 + 7 + 8 + 9 + 11 + 12), sum);
    try expectEqual(@as(?u64, 12), v.get(10));
    try expectEqual(@as(?u64, null), v.get(11));
    try v.truncate(2);
    try expectEqualSlices(u64, &[_]u64{ 7, 2 }, try v.items());
    try v.clear();
    try expectEqual(@as(?u64, null), try v.pop());
    try expectEqual(@as(u64, 0), v.stats().copies);
}

test "vector: a flat vector is one span" {
    var v = try cow.Vec(u16).init(&[_]u16{ 4, 5, 6 });
    defer v.deinit();
    var spans = v.spans();
    const first = spans.next().?;
    try expectEqual((try v.items()).ptr, first.ptr);
    try expectEqualSlices(u16, &[_]u16{ 4, 5, 6 }, first);
    try expect(spans.next() == null);
    (try v.getMut(1)).* = 50;
    try expectEqualSlices(u16, &[_]u16{ 4, 50, 6 }, try v.items());
    try expectError(error.OutOfRange, v.getMut(3));
}

test "vector: a structural tree, read by index and by spans, edited after a clone" {
    const n: u64 = 10000;
    var v = try cow.Vec(u64).initWith(&[_]u64{}, .{ .strategy = .structural });
    defer v.deinit();
    try expectEqual(cow.Representation.tree, cow.Representation.of(v.stats()));
    try expectError(error.NotContiguous, v.items()); // even when empty
    var none = v.spans();
    try expect(none.next() == null);
    var i: u64 = 0;
    while (i < n) : (i += 1) try v.push(i * 3);
    try expectEqual(@as(usize, n), v.len());

    // By index.
    i = 0;
    while (i < n) : (i += 1) try expectEqual(@as(?u64, i * 3), v.get(i));
    try expectEqual(@as(?u64, null), v.get(n));

    // By iteration: in order, several non-empty spans.
    var it = v.iterator();
    i = 0;
    while (it.next()) |x| : (i += 1) try expectEqual(i * 3, x);
    try expectEqual(n, i);
    var spans = v.spans();
    var count: usize = 0;
    var total: u64 = 0;
    while (spans.next()) |span| {
        try std.testing.expect(span.len > 0);
        for (span) |x| {
            try expectEqual(total * 3, x);
            total += 1;
        }
        count += 1;
    }
    try expectEqual(n, total);
    try std.testing.expect(count > 1);

    // No contiguous view; makeMut changes nothing.
    try expectError(error.NotContiguous, v.items());
    var snapshot = try v.clone();
    defer snapshot.deinit();
    try expectError(error.NotContiguous, v.makeMut());
    try std.testing.expect(v.ptrEq(snapshot));

    // Edits after the clone: the clone never sees them.
    try expectEqual(@as(u64, 15000), try v.set(5000, 1));
    (try v.getMut(0)).* = 7;
    try v.push(42);
    try v.insert(1, 99);
    try expectEqual(@as(u64, 8999 * 3), try v.remove(9000));
    try std.testing.expect(!v.ptrEq(snapshot));
    try expectEqual(@as(usize, n + 1), v.len());
    try expectEqual(@as(?u64, 7), v.get(0));
    try expectEqual(@as(?u64, 99), v.get(1));
    try expectEqual(@as(?u64, 1), v.get(5001));
    try expectEqual(@as(?u64, 9000 * 3), v.get(9000));
    try expectEqual(@as(?u64, 42), v.get(n));
    var old = snapshot.iterator();
    i = 0;
    while (old.next()) |x| : (i += 1) try expectEqual(i * 3, x);
    try expectEqual(n, i);
    try expectEqual(cow.Representation.tree, cow.Representation.of(snapshot.stats()));
    try expectEqual(cow.Representation.tree, cow.Representation.of(v.stats()));

    var w = try cow.Vec(i16).withCapacityWith(64, .{ .strategy = .structural });
    defer w.deinit();
    try w.extend(&[_]i16{ 4, 5 });
    try expectError(error.NotContiguous, w.items());
    try expectEqual(@as(?i16, 5), w.get(1));
}

// ---- vector: whole-vector operations, flat (lazy) and tree (structural) ----

const vec_strategies = [_]cow.Strategy{ .lazy, .structural };

/// 0, 7, 14, ... as a slice (the model) and as a vector with `strategy`.
fn sevens(model: []u64, strategy: cow.Strategy) !cow.Vec(u64) {
    for (model, 0..) |*x, i| x.* = 7 * @as(u64, i);
    return cow.Vec(u64).initWith(model, .{ .strategy = strategy });
}

fn representationOf(strategy: cow.Strategy) cow.Representation {
    return if (strategy == .structural) .tree else .flat;
}

/// Copies a vector's elements into a new slice (freed by the caller).
fn toSlice(v: cow.Vec(u64)) ![]u64 {
    const out = try std.testing.allocator.alloc(u64, v.len());
    var it = v.iterator();
    var i: usize = 0;
    while (it.next()) |x| : (i += 1) out[i] = x;
    return out;
}

fn expectElements(want: []const u64, v: cow.Vec(u64)) !void {
    const got = try toSlice(v);
    defer std.testing.allocator.free(got);
    try expectEqualSlices(u64, want, got);
}

const DiffRange = cow.Vec(u64).DiffRange;

/// What diff must report: the maximal runs where a and b differ, positions
/// past the shorter one included.
fn modelDiff(a: []const u64, b: []const u64) !std.ArrayList(DiffRange) {
    var out = std.ArrayList(DiffRange).init(std.testing.allocator);
    errdefer out.deinit();
    var i: usize = 0;
    while (i < @max(a.len, b.len)) : (i += 1) {
        if (i < a.len and i < b.len and a[i] == b[i]) continue;
        if (out.items.len > 0 and out.items[out.items.len - 1].offset + out.items[out.items.len - 1].count == i) {
            out.items[out.items.len - 1].count += 1;
        } else {
            try out.append(.{ .offset = i, .count = 1 });
        }
    }
    return out;
}

fn expectRanges(want: []const DiffRange, got: []const DiffRange) !void {
    try expectEqual(want.len, got.len);
    for (want, got) |w, g| {
        try expectEqual(w.offset, g.offset);
        try expectEqual(w.count, g.count);
    }
}

test "vector: iteratorFrom and spansFrom start at an index" {
    for (vec_strategies) |strategy| {
        var model: [3000]u64 = undefined;
        var v = try sevens(&model, strategy);
        defer v.deinit();
        for ([_]usize{ 0, 1, 1500, 2047, 2999, 3000 }) |start| {
            var it = try v.iteratorFrom(start);
            var i = start;
            while (it.next()) |x| : (i += 1) try expectEqual(model[i], x);
            try expectEqual(@as(usize, 3000), i);
            var spans = try v.spansFrom(start);
            var at = start;
            while (spans.next()) |span| {
                try expectEqualSlices(u64, model[at .. at + span.len], span);
                at += span.len;
            }
            try expectEqual(@as(usize, 3000), at);
        }
        var from_1234 = try v.spansFrom(1234);
        try expectEqual(@as(u64, 7 * 1234), from_1234.next().?[0]);
        try expectError(error.OutOfRange, v.iteratorFrom(3001));
        try expectError(error.OutOfRange, v.spansFrom(std.math.maxInt(usize)));
    }
}

test "vector: slice copies a range into a value of its own" {
    for (vec_strategies) |strategy| {
        var model: [5000]u64 = undefined;
        var v = try sevens(&model, strategy);
        defer v.deinit();
        var mid = try v.slice(1000, 2500);
        defer mid.deinit();
        try expectElements(model[1000..3500], mid);
        try expectEqual(representationOf(strategy), cow.Representation.of(mid.stats()));
        try expect(!mid.ptrEq(v));
        var whole = try v.slice(0, 5000);
        defer whole.deinit();
        try expectElements(&model, whole);
        var empty = try v.slice(5000, 0);
        defer empty.deinit();
        try expectEqual(@as(usize, 0), empty.len());
        try expectError(error.OutOfRange, v.slice(5001, 0));
        try expectError(error.OutOfRange, v.slice(4000, 1001));
        // Writes to either stay there.
        _ = try mid.set(0, 1);
        _ = try v.set(1001, 2);
        try expectEqual(@as(?u64, 7000), v.get(1000));
        try expectEqual(@as(?u64, 7 * 1001), mid.get(1));
    }
}

test "vector: concat appends across representations; the argument is unchanged" {
    for (vec_strategies) |strategy| {
        for (vec_strategies) |other_strategy| {
            var model_a: [3000]u64 = undefined;
            var model_b: [2000]u64 = undefined;
            var a = try sevens(&model_a, strategy);
            defer a.deinit();
            var b = try sevens(&model_b, other_strategy);
            defer b.deinit();
            _ = try b.set(0, 99);
            model_b[0] = 99;
            var before = try a.clone();
            defer before.deinit();
            try a.concat(b);
            const want = try std.mem.concat(std.testing.allocator, u64, &.{ &model_a, &model_b });
            defer std.testing.allocator.free(want);
            try expectElements(want, a);
            try expectElements(&model_b, b);
            try expectElements(&model_a, before);
            try expectEqual(representationOf(strategy), cow.Representation.of(a.stats()));
            try b.concat(b);
            const doubled = try std.mem.concat(std.testing.allocator, u64, &.{ &model_b, &model_b });
            defer std.testing.allocator.free(doubled);
            try expectElements(doubled, b);
            var empty = try cow.Vec(u64).init(&.{});
            defer empty.deinit();
            try a.concat(empty);
            try expectEqual(@as(usize, 5000), a.len());
        }
    }
}

test "vector: eql and hash agree across representations" {
    for (vec_strategies) |strategy| {
        var model: [4000]u64 = undefined;
        var v = try sevens(&model, strategy);
        defer v.deinit();
        var flat = try cow.Vec(u64).init(&model);
        defer flat.deinit();
        var tree = try cow.Vec(u64).initWith(&model, .{ .strategy = .structural });
        defer tree.deinit();
        var copy = try v.clone();
        defer copy.deinit();
        for ([_]cow.Vec(u64){ flat, tree, copy }) |same| {
            try expect(v.eql(same));
            try expectEqual(v.hash(), same.hash());
        }
        _ = try copy.set(3999, 1);
        try expect(!v.eql(copy));
        try expect(v.hash() != copy.hash());
        _ = try copy.set(3999, 7 * 3999);
        try expect(v.eql(copy));
        try expectEqual(v.hash(), copy.hash());
        _ = try copy.pop();
        try expect(!v.eql(copy)); // a prefix is not equal
        var e1 = try cow.Vec(u64).initWith(&.{}, .{ .strategy = strategy });
        defer e1.deinit();
        var e2 = try cow.Vec(u64).init(&.{});
        defer e2.deinit();
        try expect(e1.eql(e2));
        try expectEqual(e1.hash(), e2.hash());
        // Floats by libcow's equality: NaN equals NaN, 0.0 equals -0.0.
        var f = try cow.Vec(f64).initWith(&.{ std.math.nan(f64), 0.0 }, .{ .strategy = strategy });
        defer f.deinit();
        var g = try cow.Vec(f64).init(&.{ std.math.nan(f64), -0.0 });
        defer g.deinit();
        try expect(f.eql(g));
        try expectEqual(f.hash(), g.hash());
    }
}

test "vector: diff reports the ranges where two versions differ, and stops" {
    for (vec_strategies) |strategy| {
        var model_a: [5000]u64 = undefined;
        var a = try sevens(&model_a, strategy);
        defer a.deinit();
        var b = try a.clone();
        defer b.deinit();
        var model_b: [5002]u64 = undefined;
        @memcpy(model_b[0..5000], &model_a);
        for ([_]usize{ 3, 4, 5, 2600, 4998, 4999 }) |i| {
            _ = try b.set(i, 1);
            model_b[i] = 1;
        }
        try b.extend(&.{ 8, 9 });
        model_b[5000] = 8;
        model_b[5001] = 9;
        var want = try modelDiff(&model_a, &model_b);
        defer want.deinit();
        try expectRanges(&.{ .{ .offset = 3, .count = 3 }, .{ .offset = 2600, .count = 1 }, .{ .offset = 4998, .count = 4 } }, want.items);

        const ab = try a.diffRanges(b, std.testing.allocator);
        defer std.testing.allocator.free(ab);
        try expectRanges(want.items, ab);
        const ba = try b.diffRanges(a, std.testing.allocator);
        defer std.testing.allocator.free(ba);
        try expectRanges(want.items, ba);

        // Against the other representation of the same elements.
        var other = try cow.Vec(u64).initWith(&model_b, .{ .strategy = if (strategy == .structural) .lazy else .structural });
        defer other.deinit();
        const ac = try a.diffRanges(other, std.testing.allocator);
        defer std.testing.allocator.free(ac);
        try expectRanges(want.items, ac);
        const Count = struct {
            fn add(n: *usize, _: usize, _: usize) bool {
                n.* += 1;
                return true;
            }
        };
        var calls: usize = 0;
        try expect(!try b.diff(other, &calls, Count.add));
        try expectEqual(@as(usize, 0), calls);

        // Returning false stops after that range.
        const FirstTwo = struct {
            seen: [3]DiffRange = undefined,
            n: usize = 0,
            fn add(self: *@This(), offset: usize, count: usize) bool {
                self.seen[self.n] = .{ .offset = offset, .count = count };
                self.n += 1;
                return self.n < 2;
            }
        };
        var first_two = FirstTwo{};
        try expect(try a.diff(b, &first_two, FirstTwo.add));
        try expectRanges(want.items[0..2], first_two.seen[0..first_two.n]);

        // A context of no size.
        const Never = struct {
            fn stop(_: void, _: usize, _: usize) bool {
                return false;
            }
        };
        try expect(try a.diff(b, {}, Never.stop));
        try expect(!try a.diff(a, {}, Never.stop));

        // Against an empty vector every position differs.
        var empty = try cow.Vec(u64).init(&.{});
        defer empty.deinit();
        const all = try a.diffRanges(empty, std.testing.allocator);
        defer std.testing.allocator.free(all);
        try expectRanges(&.{.{ .offset = 0, .count = 5000 }}, all);
    }
}

// ---- map ----

test "map: insert, remove, contains, iteration" {
    var m = try cow.Map(u64, f64).init();
    defer m.deinit();
    var k: u64 = 0;
    while (k < 100) : (k += 1) try expectEqual(@as(?f64, null), try m.put(k, @floatFromInt(k)));
    try expectEqual(@as(?f64, 1), try m.put(1, 42));
    try expectEqual(@as(usize, 100), m.len());
    try expect(m.contains(99));
    try expect(!m.contains(100));
    try expectEqual(@as(?f64, 2), try m.remove(2));
    try expectEqual(@as(?f64, null), try m.remove(2));
    (try m.getMut(1)).?.* += 1;
    try expectEqual(@as(?f64, 43), m.get(1));
    var seen = [_]bool{false} ** 100;
    var it = m.iterator();
    var n: usize = 0;
    while (it.next()) |e| {
        try expect(!seen[e.key]);
        seen[e.key] = true;
        n += 1;
    }
    try expectEqual(@as(usize, 99), n);
}

test "map: string keys, copy on the first write to a shared map" {
    var a = try cow.Map([]const u8, i32).init();
    defer a.deinit();
    for ([_][]const u8{ "alpha", "beta", "gamma", "" }, 0..) |w, i| _ = try a.put(w, @intCast(i));
    var b = try a.clone();
    defer b.deinit();
    try expectEqual(@as(?i32, null), try b.remove("delta"));
    try expect(a.ptrEq(b)); // removing an absent key copies nothing
    _ = try b.put("beta", -1);
    _ = try b.remove("gamma");
    try expectEqual(@as(?i32, 1), a.get("beta"));
    try expectEqual(@as(?i32, -1), b.get("beta"));
    try expect(a.contains("gamma") and !b.contains("gamma"));
    try expectEqual(@as(?i32, 3), a.get(""));
    var it = a.iterator();
    var total: usize = 0;
    while (it.next()) |e| total += e.key.len;
    try expectEqual(@as(usize, 5 + 4 + 5 + 0), total);
    try expectError(error.InvalidUtf8, a.put("bad \xff", 0));
    try expectEqual(@as(u64, 1), a.stats().copies);
}

// ---- generic box ----

const Point = struct { x: f64, y: f64, tags: [4]i32 = .{ 0, 0, 0, 0 } };

test "generic: make_mut copies a shared box once; into" {
    var a = try cow.Box(Point).init(.{ .x = 1, .y = 2 });
    defer a.deinit();
    var b = try a.clone();
    defer b.deinit();
    try expectEqual(a.get(), b.get());
    (try b.makeMut()).x = 10;
    (try b.makeMut()).tags[0] = 5;
    try expectEqual(@as(f64, 1), a.get().x);
    try expectEqual(@as(f64, 10), b.get().x);
    try expectEqual(@as(i32, 5), b.get().tags[0]);
    try expectEqual(@as(u64, 1), a.stats().copies);
    const p = b.get();
    (try b.makeMut()).y = 20;
    try expectEqual(p, b.get()); // unique: in place
    var c = try a.clone();
    const v = try c.into();
    try expectEqual(@as(f64, 1), v.x);
    try expectEqual(@as(u64, 1), a.strongCount());
}

// ---- threads ----

fn cloneMany(a: *const cow.Str) void {
    var i: usize = 0;
    while (i < 1000) : (i += 1) {
        var c = a.clone() catch unreachable;
        std.debug.assert(c.ptrEq(a.*));
        c.deinit();
    }
}

test "threads: ten threads cloning" {
    var a = try cow.Str.init("shared by ten threads");
    defer a.deinit();
    var threads: [10]std.Thread = undefined;
    for (&threads) |*t| t.* = try std.Thread.spawn(.{}, cloneMany, .{&a});
    for (threads) |t| t.join();
    try expectEqual(@as(u64, 1), a.strongCount());
    try expectEqual(@as(u64, 10000), a.stats().clones);
    try expectEqual(@as(u64, 0), a.stats().copies);
}

fn readMany(mine: cow.Buf, shared: *const cow.Vec(i64), index: usize, failures: *std.atomic.Atomic(u32)) void {
    var m = mine;
    defer m.deinit();
    var i: usize = 0;
    while (i < 100) : (i += 1) {
        var sum: i64 = 0;
        var it = shared.iterator();
        while (it.next()) |x| sum += x;
        if (m.bytes().len != 256 or m.bytes()[index] != index or sum != 15)
            _ = failures.fetchAdd(1, .SeqCst);
    }
}

test "threads: twenty threads reading" {
    var bytes: [256]u8 = undefined;
    for (&bytes, 0..) |*b, i| b.* = @intCast(i);
    var a = try cow.Buf.init(&bytes);
    defer a.deinit();
    var v = try cow.Vec(i64).init(&[_]i64{ 1, 2, 3, 4, 5 });
    defer v.deinit();
    var failures = std.atomic.Atomic(u32).init(0);
    var threads: [20]std.Thread = undefined;
    for (&threads, 0..) |*t, i| t.* = try std.Thread.spawn(.{}, readMany, .{ try a.clone(), &v, i, &failures });
    for (threads) |t| t.join();
    try expectEqual(@as(u32, 0), failures.load(.SeqCst));
    try expectEqual(@as(u64, 1), a.strongCount());
    try expectEqual(@as(u64, 0), a.stats().copies);
}

fn writeOne(s: *cow.Str, v: *cow.Vec(u32), id: u32) void {
    var buf: [8]u8 = undefined;
    const suffix = std.fmt.bufPrint(&buf, "-{d}", .{id}) catch unreachable;
    s.append(suffix) catch unreachable;
    v.push(id) catch unreachable;
}

test "threads: ten writers each get a private copy" {
    var a = try cow.Str.init("base");
    defer a.deinit();
    var v = try cow.Vec(u32).init(&([_]u32{0} ** 100));
    defer v.deinit();
    var mine: [10]cow.Str = undefined;
    var vecs: [10]cow.Vec(u32) = undefined;
    var threads: [10]std.Thread = undefined;
    for (&threads, 0..) |*t, i| {
        mine[i] = try a.clone();
        vecs[i] = try v.clone();
        t.* = try std.Thread.spawn(.{}, writeOne, .{ &mine[i], &vecs[i], @as(u32, @intCast(i)) });
    }
    for (threads) |t| t.join();
    try expectEqualStrings("base", a.slice());
    try expectEqual(@as(usize, 100), v.len());
    for (&mine, &vecs, 0..) |*s, *w, i| {
        var expected: [8]u8 = undefined;
        try expectEqualStrings(try std.fmt.bufPrint(&expected, "base-{d}", .{i}), s.slice());
        try expectEqual(@as(?u32, @intCast(i)), w.get(100));
        try expect(!s.ptrEq(a));
        s.deinit();
        w.deinit();
    }
    try expectEqual(@as(u64, 10), a.stats().copies);
    try expectEqual(@as(u64, 10), v.stats().copies);
}

// ---- stats ----

test "stats: clones, copies, copy rate, report lines" {
    var a = try cow.Buf.init(&([_]u8{0} ** 2048));
    defer a.deinit();
    var clones: [3]cow.Buf = undefined;
    for (&clones) |*c| c.* = try a.clone();
    (try clones[2].makeMut())[0] = 1;
    const s = a.stats();
    try expectEqual(@as(u32, 1), s.enabled);
    try expectEqual(@as(u64, 3), s.clones);
    try expectEqual(@as(u64, 1), s.copies);
    try expectEqual(@as(u64, 2048), s.bytes_copied);
    try expectEqual(@as(u64, 4), s.live_handles);
    try expectEqual(@as(u64, 2), s.live_values);
    try expectEqual(@as(u64, 4096), s.memory_saved);
    try expectEqual(@as(f64, 1.0 / 3.0), s.copy_rate);
    var report = try a.report();
    defer report.deinit();
    var lines = std.mem.splitScalar(u8, report.slice(), '\n');
    for ([_][]const u8{ "Clones: 3", "Copies: 1", "Copy rate: 33.3%", "Bytes copied: 2048", "Memory saved: 4096 bytes (0.00 MB)", "Live handles: 4" }) |want| {
        try expectEqualStrings(want, lines.next().?);
    }
    for (&clones) |*c| c.deinit();

    var q = try cow.Str.initWith("quiet", .{ .stats = false });
    defer q.deinit();
    var q2 = try q.clone();
    defer q2.deinit();
    try expectEqual(@as(u32, 0), q.stats().enabled);
    try expectEqual(@as(u64, 0), q.stats().clones);
}

test "nothing leaks" {
    const before = cow.globalStats();
    {
        var s = try cow.Str.init("x");
        defer s.deinit();
        var t = try s.clone();
        defer t.deinit();
        try t.append("y");
        var m = try cow.Map([]const u8, u8).init();
        defer m.deinit();
        _ = try m.put("k", 1);
        var n = try m.clone();
        defer n.deinit();
        _ = try n.remove("k");
        var tree = try cow.Vec(u64).initWith(&[_]u64{ 1, 2, 3 }, .{ .strategy = .structural });
        defer tree.deinit();
        var j: u64 = 0;
        while (j < 3000) : (j += 1) try tree.push(j);
        var shared = try tree.clone();
        defer shared.deinit();
        _ = try tree.set(1500, 0);
        var bx = try cow.Box([2]u64).init(.{ 1, 2 });
        defer bx.deinit();
        var r = try bx.report();
        defer r.deinit();
    }
    const after = cow.globalStats();
    try expectEqual(before.live_values, after.live_values);
    try expectEqual(before.live_allocations, after.live_allocations);
    try expectEqual(before.live_bytes, after.live_bytes);
    try expectEqual(@as(u32, 200), cow.version());
}

test "generic: zero-sized values box too" {
    var a = try cow.Box(struct {}).init(.{});
    defer a.deinit();
    var b = try a.clone();
    defer b.deinit();
    _ = try b.makeMut();
    try expectEqual(@as(u64, 1), a.stats().copies);
}

/// What diff(a -> b) reports, counted by kind, checked against a plain model.
const MapDiffCheck = struct {
    model_a: *const std.AutoHashMap(u64, u64),
    model_b: *const std.AutoHashMap(u64, u64),
    added: usize = 0,
    removed: usize = 0,
    changed: usize = 0,
    wrong: usize = 0,
    fn see(self: *@This(), ch: cow.Map(u64, u64).Change) bool {
        const old = self.model_a.get(ch.key);
        const new = self.model_b.get(ch.key);
        const ok = switch (ch.kind) {
            .added => old == null and ch.old == null and new != null and ch.new.? == new.?,
            .removed => new == null and ch.new == null and old != null and ch.old.? == old.?,
            .changed => old != null and new != null and old.? != new.? and ch.old.? == old.? and ch.new.? == new.?,
        };
        if (!ok) self.wrong += 1;
        switch (ch.kind) {
            .added => self.added += 1,
            .removed => self.removed += 1,
            .changed => self.changed += 1,
        }
        return true;
    }
};

test "map: eql, hash and diff against a plain model, flat and tree" {
    const M = cow.Map(u64, u64);
    for ([_]cow.Strategy{ .lazy, .structural }) |strategy| {
        const other_strategy: cow.Strategy = if (strategy == .structural) .lazy else .structural;
        var model_a = std.AutoHashMap(u64, u64).init(testing.allocator);
        defer model_a.deinit();
        var a = try M.initWith(.{ .strategy = strategy });
        defer a.deinit();
        var k: u64 = 0;
        while (k < 3000) : (k += 1) {
            try model_a.put(k * 11, k);
            _ = try a.put(k * 11, k);
        }
        var b = try a.clone();
        defer b.deinit();
        try testing.expect(a.eql(b));
        try testing.expectEqual(a.hash(), b.hash());

        var model_b = try model_a.clone();
        defer model_b.deinit();
        for ([_]u64{ 5, 100001, 7 }) |key| { // added
            _ = try b.put(key, key + 1);
            try model_b.put(key, key + 1);
        }
        for ([_]u64{ 0, 11 * 2999 }) |key| { // removed
            try testing.expect((try b.remove(key)) != null);
            _ = model_b.remove(key);
        }
        for ([_]u64{ 11, 11 * 1500, 11 * 2998 }) |key| { // changed
            (try b.getMut(key)).?.* = 999999;
            try model_b.put(key, 999999);
        }
        _ = try b.put(22, 2); // the same value: not a change
        try testing.expect(!a.eql(b));
        try testing.expect(a.hash() != b.hash());

        var check_ab = MapDiffCheck{ .model_a = &model_a, .model_b = &model_b };
        try testing.expect(!try a.diff(b, &check_ab, MapDiffCheck.see));
        try testing.expectEqual(@as(usize, 0), check_ab.wrong);
        try testing.expectEqual(@as(usize, 3), check_ab.added);
        try testing.expectEqual(@as(usize, 2), check_ab.removed);
        try testing.expectEqual(@as(usize, 3), check_ab.changed);
        var check_ba = MapDiffCheck{ .model_a = &model_b, .model_b = &model_a };
        _ = try b.diff(a, &check_ba, MapDiffCheck.see);
        try testing.expectEqual(@as(usize, 0), check_ba.wrong);
        try testing.expectEqual(@as(usize, 2), check_ba.added);
        try testing.expectEqual(@as(usize, 3), check_ba.removed);

        // The same entries in the other representation.
        var c = try M.initWith(.{ .strategy = other_strategy });
        defer c.deinit();
        var it = model_b.iterator();
        while (it.next()) |e| _ = try c.put(e.key_ptr.*, e.value_ptr.*);
        try testing.expect(b.eql(c));
        try testing.expectEqual(b.hash(), c.hash());
        var check_ac = MapDiffCheck{ .model_a = &model_a, .model_b = &model_b };
        _ = try a.diff(c, &check_ac, MapDiffCheck.see);
        try testing.expectEqual(@as(usize, 0), check_ac.wrong);
        try testing.expectEqual(@as(usize, 8), check_ac.added + check_ac.removed + check_ac.changed);

        // Returning false stops the walk.
        const Stop = struct {
            calls: usize = 0,
            fn see(self: *@This(), _: M.Change) bool {
                self.calls += 1;
                return self.calls < 2;
            }
        };
        var stop = Stop{};
        try testing.expect(try a.diff(c, &stop, Stop.see));
        try testing.expectEqual(@as(usize, 2), stop.calls);
    }
}

test "map: entry inserts then finds; string keys in diff" {
    const M = cow.Map([]const u8, u64);
    for ([_]cow.Strategy{ .lazy, .structural }) |strategy| {
        var counts = try M.initWith(.{ .strategy = strategy });
        defer counts.deinit();
        for ([_][]const u8{ "a", "b", "a", "c", "a", "b" }) |w| (try counts.entry(w, 0)).* += 1;
        try testing.expectEqual(@as(usize, 3), counts.len());
        try testing.expectEqual(@as(?u64, 3), counts.get("a"));
        try testing.expectEqual(@as(?u64, 2), counts.get("b"));

        var before = try counts.clone();
        defer before.deinit();
        const d = try counts.entry("d", 40); // inserted into a copy
        try testing.expectEqual(@as(u64, 40), d.*);
        d.* += 2;
        try testing.expectEqual(@as(u64, 42), (try counts.entry("d", 0)).*); // found
        try testing.expect(!before.contains("d"));
        try testing.expectEqual(@as(usize, 4), counts.len());

        const Seen = struct {
            n: usize = 0,
            fn see(self: *@This(), ch: M.Change) bool {
                self.n += 1;
                return ch.kind == .added and std.mem.eql(u8, ch.key, "d") and ch.old == null and ch.new.? == 42;
            }
        };
        var seen = Seen{};
        try testing.expect(!try before.diff(counts, &seen, Seen.see));
        try testing.expectEqual(@as(usize, 1), seen.n);
        try testing.expect(!before.eql(counts));
        try testing.expectError(error.InvalidUtf8, counts.entry("\xff", 0));
    }
}

test "vector: an adaptive vector written after every clone becomes a tree at its second copy" {
    var items: [1000]u64 = undefined;
    for (&items, 0..) |*x, i| x.* = i;
    var cur = try cow.Vec(u64).initWith(&items, .{ .strategy = .adaptive, .threshold_bytes = 1024 });
    try expectEqual(cow.Representation.flat, cow.Representation.of(cur.stats()));
    var round: u64 = 1;
    while (round <= 2) : (round += 1) {
        var next = try cur.clone();
        _ = try next.set(0, round);
        cur.deinit();
        cur = next;
    }
    defer cur.deinit();
    const st = cur.stats();
    try expectEqual(cow.Representation.tree, cow.Representation.of(st));
    try expectEqual(@as(u64, 1), st.switches);
    try expectError(error.NotContiguous, cur.items());
    try expectEqual(@as(?u64, 2), cur.get(0));
    try expectEqual(@as(?u64, 999), cur.get(999));
}
