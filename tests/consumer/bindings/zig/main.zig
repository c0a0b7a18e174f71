//! A program outside the libcow repository, using libcow's Zig binding as
//! the module "cow". Exits non-zero when a check fails.
const std = @import("std");
const cow = @import("cow");

fn check(ok: bool, what: []const u8) void {
    if (!ok) {
        std.debug.print("zig consumer: check failed: {s}\n", .{what});
        std.process.exit(1);
    }
}

pub fn main() !void {
    check(cow.version() == 200, "the loaded libcow is 0.2.0");
    var a = try cow.Str.init("hello");
    defer a.deinit();
    var b = try a.clone();
    defer b.deinit();
    check(a.ptrEq(b) and a.strongCount() == 2, "a clone shares the text");
    try b.append(", world");
    check(!a.ptrEq(b), "a write to a shared value copies");
    check(std.mem.eql(u8, a.slice(), "hello") and std.mem.eql(u8, b.slice(), "hello, world"), "both texts");

    var v = try cow.Vec(u64).init(&.{ 1, 2, 3 });
    defer v.deinit();
    var w = try v.clone();
    defer w.deinit();
    try v.push(4);
    check(std.mem.eql(u64, try v.items(), &.{ 1, 2, 3, 4 }) and std.mem.eql(u64, try w.items(), &.{ 1, 2, 3 }), "vector and its snapshot");

    const s = a.stats();
    check(s.clones == 1 and s.copies == 1, "lineage statistics");
    check(cow.Representation.of(s) == .flat, "flat representation");
    var report = try a.report();
    defer report.deinit();
    check(std.mem.startsWith(u8, report.slice(), "Clones: 1\n"), "text report");
    const out = std.io.getStdOut().writer();
    try out.print("zig consumer: ok ({s})\n", .{b.slice()});
}
