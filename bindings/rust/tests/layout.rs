//! src/ffi.rs is written by hand: its structs must match what the C
//! compiler makes of cow.h (sizes, alignments, field offsets, measured by
//! build.rs against the installed header).
use libcow::c_layout::C_LAYOUT;
use libcow::ffi::*;
use std::mem::{align_of, size_of, MaybeUninit};

macro_rules! rust_layout {
    ($($t:ident { $($f:ident),* })*) => {{
        let mut v: Vec<(&'static str, &'static str, usize, usize)> = Vec::new();
        $(
            v.push((stringify!($t), ".", size_of::<$t>(), align_of::<$t>()));
            let u = MaybeUninit::<$t>::uninit();
            let base = u.as_ptr() as usize;
            $(
                let field = unsafe { std::ptr::addr_of!((*u.as_ptr()).$f) } as usize;
                v.push((stringify!($t), stringify!($f), field - base, 0));
            )*
        )*
        v
    }};
}

#[test]
fn ffi_structs_match_the_c_header() {
    let rust = rust_layout! {
        cow_allocator { size, reserved, ctx, malloc_fn, realloc_fn, free_fn }
        cow_owned { data, len, alloc_size, offset }
        cow_options { size, strategy, threshold_bytes, flags, reserved }
        cow_stats_info { size, enabled, clones, copies, bytes_copied, memory_saved, live_handles,
                         live_values, copy_rate, value_bytes, representation, reserved, nodes_copied,
                         switches }
        cow_global_stats_info { size, reserved, live_values, live_bytes, live_allocations }
        cow_type { size, flags, elem_size, elem_align, ctx, copy, drop, equal, hash, name }
        cow_vec_cursor { size, reserved, vec, next, path }
        cow_map_cursor { size, reserved, map, next, path }
    };
    assert_eq!(C_LAYOUT.len(), rust.len(), "build.rs and this test must list the same fields");
    for (c, r) in C_LAYOUT.iter().zip(rust.iter()) {
        assert_eq!(c, r, "C (left) and Rust (right) disagree");
    }
}

#[test]
fn version_matches_the_header() {
    assert_eq!(libcow::version(), COW_VERSION_NUMBER);
    assert_eq!(libcow::version_string(), "0.2.0");
}
