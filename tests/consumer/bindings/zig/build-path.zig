//! The outside project's build.zig, taking the binding by path: the module
//! file cow.zig from -Dlibcow-zig=<libcow>/bindings/zig, and the installed
//! libcow.so through pkg-config.
const std = @import("std");

pub fn build(b: *std.Build) void {
    const target = b.standardTargetOptions(.{});
    const optimize = b.standardOptimizeOption(.{});
    const binding = b.option([]const u8, "libcow-zig", "libcow's bindings/zig directory") orelse
        @panic("pass -Dlibcow-zig=<path to libcow's bindings/zig>");

    const cow = b.createModule(.{ .source_file = .{ .path = b.pathJoin(&.{ binding, "cow.zig" }) } });
    const exe = b.addExecutable(.{
        .name = "cow-consumer",
        .root_source_file = .{ .path = "main.zig" },
        .target = target,
        .optimize = optimize,
    });
    exe.addModule("cow", cow);
    exe.linkLibC();
    exe.linkSystemLibrary2("cow", .{ .use_pkg_config = .force }); // -I, -L and -lcow from cow.pc
    const libdir = std.mem.trim(u8, b.exec(&.{ "pkg-config", "--variable=libdir", "cow" }), " \n");
    exe.addRPath(.{ .path = libdir });
    b.installArtifact(exe);
}
