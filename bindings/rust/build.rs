//! Finds the installed libcow with the `pkg-config` command (no crates
//! registry: std only), links libcow.so or, with LIBCOW_STATIC=1, libcow.a,
//! and records the C layout of cow.h's structs, so that
//! tests/layout.rs can check the hand-written declarations in src/ffi.rs.
use std::env;
use std::fs;
use std::path::PathBuf;
use std::process::Command;

fn pkg_config(args: &[&str]) -> String {
    let out = Command::new("pkg-config")
        .args(args)
        .arg("cow")
        .output()
        .unwrap_or_else(|e| panic!("cannot run pkg-config: {e} (install pkg-config)"));
    if !out.status.success() {
        panic!(
            "pkg-config {:?} cow failed: {}\nSet PKG_CONFIG_PATH to the directory holding cow.pc.",
            args,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8(out.stdout).expect("pkg-config output is not UTF-8").trim().to_string()
}

fn main() {
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_LIBDIR");
    println!("cargo:rerun-if-env-changed=LIBCOW_STATIC");
    println!("cargo:rerun-if-env-changed=CC");
    println!("cargo:rerun-if-changed=build.rs");

    // LIBCOW_STATIC=1 links libcow.a and what it needs (the C++ runtime:
    // cow.pc's Libs.private); otherwise libcow.so, found again at run time
    // through an rpath to its directory.
    let link_static = match env::var("LIBCOW_STATIC").as_deref() {
        Ok("1") => true,
        Ok("0") | Ok("") | Err(_) => false,
        Ok(other) => panic!("LIBCOW_STATIC must be 1 or 0, not {other:?}"),
    };
    let libs = if link_static { pkg_config(&["--static", "--libs"]) } else { pkg_config(&["--libs"]) };
    for flag in libs.split_whitespace() {
        if let Some(dir) = flag.strip_prefix("-L") {
            println!("cargo:rustc-link-search=native={dir}");
            if !link_static {
                // Find the library at run time without LD_LIBRARY_PATH: this
                // crate's tests get the rpath here; link arguments do not
                // reach dependents, so they read DEP_COW_RPATH (README.md).
                println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
                println!("cargo:rpath={dir}");
            }
        } else if let Some(lib) = flag.strip_prefix("-l") {
            let kind = if link_static && lib == "cow" { "static" } else { "dylib" };
            println!("cargo:rustc-link-lib={kind}={lib}");
        } else if link_static && flag == "-pthread" {
            println!("cargo:rustc-link-lib=dylib=pthread");
        }
    }
    let cflags = pkg_config(&["--cflags"]);
    let include = cflags
        .split_whitespace()
        .filter_map(|f| f.strip_prefix("-I"))
        .map(|d| d.to_string())
        .collect::<Vec<_>>();
    for dir in &include {
        println!("cargo:rerun-if-changed={dir}/cow.h");
    }
    println!("cargo:include={}", include.join(":"));

    write_c_layout(&cflags);
}

// Compiles and runs a C program printing sizeof/offsetof for every struct of
// cow.h, and turns its output into a Rust table (OUT_DIR/c_layout.rs).
fn write_c_layout(cflags: &str) {
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    let fields: &[(&str, &[&str])] = &[
        ("cow_allocator", &["size", "reserved", "ctx", "malloc_fn", "realloc_fn", "free_fn"]),
        ("cow_owned", &["data", "len", "alloc_size", "offset"]),
        ("cow_options", &["size", "strategy", "threshold_bytes", "flags", "reserved"]),
        (
            "cow_stats_info",
            &[
                "size", "enabled", "clones", "copies", "bytes_copied", "memory_saved", "live_handles",
                "live_values", "copy_rate", "value_bytes", "representation", "reserved", "nodes_copied",
                "switches",
            ],
        ),
        ("cow_global_stats_info", &["size", "reserved", "live_values", "live_bytes", "live_allocations"]),
        (
            "cow_type",
            &["size", "flags", "elem_size", "elem_align", "ctx", "copy", "drop", "equal", "hash", "name"],
        ),
        ("cow_vec_cursor", &["size", "reserved", "vec", "next", "path"]),
        ("cow_map_cursor", &["size", "reserved", "map", "next", "path"]),
    ];
    let mut c = String::from("#include <cow.h>\n#include <stddef.h>\n#include <stdio.h>\nint main(void) {\n");
    for (ty, fs) in fields {
        c += &format!("  printf(\"{ty} . %zu %zu\\n\", sizeof({ty}), _Alignof({ty}));\n");
        for f in *fs {
            c += &format!("  printf(\"{ty} {f} %zu 0\\n\", offsetof({ty}, {f}));\n");
        }
    }
    c += "  return 0;\n}\n";
    let src = out_dir.join("layout.c");
    let exe = out_dir.join("layout");
    fs::write(&src, c).unwrap();
    let cc = env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let status = Command::new(&cc)
        .arg("-std=c11")
        .args(cflags.split_whitespace())
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .status()
        .unwrap_or_else(|e| panic!("cannot run the C compiler {cc}: {e}"));
    assert!(status.success(), "compiling the layout probe failed");
    let out = Command::new(&exe).output().expect("cannot run the layout probe");
    assert!(out.status.success(), "the layout probe failed");
    let mut rs = String::from("/// (struct, field or \".\" for the struct itself, offset or size, align)\n");
    rs += "pub const C_LAYOUT: &[(&str, &str, usize, usize)] = &[\n";
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let p: Vec<&str> = line.split_whitespace().collect();
        rs += &format!("    (\"{}\", \"{}\", {}, {}),\n", p[0], p[1], p[2], p[3]);
    }
    rs += "];\n";
    fs::write(out_dir.join("c_layout.rs"), rs).unwrap();
}
