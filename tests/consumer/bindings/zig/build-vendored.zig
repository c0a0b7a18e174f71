//! The outside project's build.zig, with libcow's bindings/zig vendored in
//! its tree as deps/libcow-zig (a copy or a git submodule): that directory's
//! build.zig gives the module "cow" and links the installed libcow.
const std = @import("std");
const libcow = @import("deps/libcow-zig/build.zig");

pub fn build(b: *std.Build) void {
    const target = b.standardTargetOptions(.{});
    const optimize = b.standardOptimizeOption(.{});
    const dep = b.anonymousDependency("deps/libcow-zig", libcow, .{});
    const exe = b.addExecutable(.{
        .name = "cow-consumer",
        .root_source_file = .{ .path = "main.zig" },
        .target = target,
        .optimize = optimize,
    });
    exe.addModule("cow", dep.module("cow"));
    libcow.link(exe);
    b.installArtifact(exe);
}
