//! Build file of libcow's Zig binding, for Zig 0.11. It does not compile
//! libcow: it links the installed copy, found by pkg-config (cow.pc), and
//! libc.
//!
//!   zig build test          the checkpoint tests (cow_test.zig)
//!
//! A project that vendors this directory (a copy or a git submodule inside
//! its own tree, since Zig 0.11's build.zig.zon has no path dependencies)
//! uses it from its build.zig:
//!
//!   const libcow = @import("deps/libcow-zig/build.zig");
//!   const dep = b.anonymousDependency("deps/libcow-zig", libcow, .{});
//!   exe.addModule("cow", dep.module("cow"));
//!   libcow.link(exe);
const std = @import("std");

pub fn build(b: *std.Build) void {
    const target = b.standardTargetOptions(.{});
    const optimize = b.standardOptimizeOption(.{});

    // The binding, for dependents: dep.module("cow").
    _ = b.addModule("cow", .{ .source_file = .{ .path = "cow.zig" } });

    const tests = b.addTest(.{
        .root_source_file = .{ .path = "cow_test.zig" },
        .target = target,
        .optimize = optimize,
    });
    link(tests);
    const run = b.addRunArtifact(tests);
    b.step("test", "Run the checkpoint tests against the installed libcow").dependOn(&run.step);
}

/// Links the installed libcow.so (pkg-config: cow, which also gives the
/// include directory that cow.zig's @cImport needs) and libc into `step`,
/// with an rpath to libcow's directory so that the program finds it there.
pub fn link(step: *std.Build.Step.Compile) void {
    const b = step.step.owner;
    step.linkLibC();
    // .force: a missing cow.pc is an error, not a bare -lcow.
    step.linkSystemLibrary2("cow", .{ .use_pkg_config = .force });
    const libdir = std.mem.trim(u8, b.exec(&.{ "pkg-config", "--variable=libdir", "cow" }), " \n");
    step.addRPath(.{ .path = libdir });
}
