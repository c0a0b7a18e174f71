//! Raw declarations of `cow.h`, written by hand to match it one to one.
//!
//! Every struct is `#[repr(C)]` with the header's field order; `tests/layout.rs`
//! compares their sizes and field offsets with what the C compiler says.
#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_int, c_void};

pub type cow_status = i32;
pub type cow_kind_t = u32;
pub type cow_strategy_t = u32;

pub const COW_VERSION_MAJOR: u32 = 0;
pub const COW_VERSION_MINOR: u32 = 2;
pub const COW_VERSION_PATCH: u32 = 0;
pub const COW_VERSION_NUMBER: u32 =
    COW_VERSION_MAJOR * 10000 + COW_VERSION_MINOR * 100 + COW_VERSION_PATCH;

pub const COW_OK: cow_status = 0;
pub const COW_EINVAL: cow_status = 1;
pub const COW_ETYPE: cow_status = 2;
pub const COW_ERANGE: cow_status = 3;
pub const COW_ENOTFOUND: cow_status = 4;
pub const COW_EUTF8: cow_status = 5;
pub const COW_EOVERFLOW: cow_status = 6;
pub const COW_ENOMEM: cow_status = 7;
pub const COW_EBUSY: cow_status = 8;
pub const COW_ENOTCONTIGUOUS: cow_status = 9;
pub const COW_EUNSUPPORTED: cow_status = 10;
pub const COW_ECALLBACK: cow_status = 11;

pub const COW_KIND_INVALID: cow_kind_t = 0;
pub const COW_KIND_BUF: cow_kind_t = 1;
pub const COW_KIND_STR: cow_kind_t = 2;
pub const COW_KIND_VEC: cow_kind_t = 3;
pub const COW_KIND_MAP: cow_kind_t = 4;
pub const COW_KIND_BOX: cow_kind_t = 5;

pub const COW_MAX_REFCOUNT: u64 = 0x7fff_ffff;
pub const COW_MAX_ALIGN: usize = 64;

pub const COW_STRATEGY_LAZY: cow_strategy_t = 0;
pub const COW_STRATEGY_EAGER: cow_strategy_t = 1;
pub const COW_STRATEGY_THRESHOLD: cow_strategy_t = 2;
pub const COW_STRATEGY_STRUCTURAL: cow_strategy_t = 3;
pub const COW_STRATEGY_ADAPTIVE: cow_strategy_t = 4;

pub const COW_OPT_NO_STATS: u32 = 1;

pub const COW_REPRESENTATION_FLAT: u32 = 0;
pub const COW_REPRESENTATION_TREE: u32 = 1;

pub const COW_REPORT_TEXT: u32 = 0;
pub const COW_REPORT_JSON: u32 = 1;

/// Opaque handle types: only ever used behind pointers.
#[repr(C)]
pub struct cow_buf {
    _opaque: [u8; 0],
}
#[repr(C)]
pub struct cow_str {
    _opaque: [u8; 0],
}
#[repr(C)]
pub struct cow_vec {
    _opaque: [u8; 0],
}
#[repr(C)]
pub struct cow_map {
    _opaque: [u8; 0],
}
#[repr(C)]
pub struct cow_box {
    _opaque: [u8; 0],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct cow_allocator {
    pub size: u32,
    pub reserved: u32,
    pub ctx: *mut c_void,
    pub malloc_fn: Option<unsafe extern "C" fn(ctx: *mut c_void, size: usize) -> *mut c_void>,
    pub realloc_fn: Option<
        unsafe extern "C" fn(ctx: *mut c_void, ptr: *mut c_void, old_size: usize, new_size: usize) -> *mut c_void,
    >,
    pub free_fn: Option<unsafe extern "C" fn(ctx: *mut c_void, ptr: *mut c_void, size: usize)>,
}

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct cow_owned {
    pub data: *mut c_void,
    pub len: usize,
    pub alloc_size: usize,
    pub offset: usize,
}

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct cow_options {
    pub size: u32,
    pub strategy: cow_strategy_t,
    pub threshold_bytes: u64,
    pub flags: u32,
    pub reserved: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct cow_stats_info {
    pub size: u32,
    pub enabled: u32,
    pub clones: u64,
    pub copies: u64,
    pub bytes_copied: u64,
    pub memory_saved: u64,
    pub live_handles: u64,
    pub live_values: u64,
    pub copy_rate: f64,
    pub value_bytes: u64,
    // The 0.2 layout (cow_stats_info_init_v2) from here on.
    pub representation: u32,
    pub reserved: u32,
    pub nodes_copied: u64,
    pub switches: u64,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct cow_global_stats_info {
    pub size: u32,
    pub reserved: u32,
    pub live_values: u64,
    pub live_bytes: u64,
    pub live_allocations: u64,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct cow_type {
    pub size: u32,
    pub flags: u32,
    pub elem_size: usize,
    pub elem_align: usize,
    pub ctx: *mut c_void,
    pub copy: Option<unsafe extern "C" fn(ctx: *mut c_void, dst: *mut c_void, src: *const c_void) -> cow_status>,
    pub drop: Option<unsafe extern "C" fn(ctx: *mut c_void, value: *mut c_void)>,
    pub equal: Option<unsafe extern "C" fn(ctx: *mut c_void, a: *const c_void, b: *const c_void) -> bool>,
    pub hash: Option<unsafe extern "C" fn(ctx: *mut c_void, value: *const c_void, seed: u64) -> u64>,
    pub name: *const c_char,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct cow_vec_cursor {
    pub size: u32,
    pub reserved: u32,
    pub vec: *const cow_vec,
    pub next: usize,
    pub path: [u64; 8],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct cow_map_cursor {
    pub size: u32,
    pub reserved: u32,
    pub map: *const cow_map,
    pub next: usize,
    pub path: [u64; 8],
}

pub type cow_update_fn = Option<unsafe extern "C" fn(ctx: *mut c_void, value: *mut c_void) -> cow_status>;
pub type cow_vec_diff_fn = Option<unsafe extern "C" fn(ctx: *mut c_void, offset: usize, count: usize) -> c_int>;

/// What `cow_map_diff` reports for one key.
pub type cow_map_change_t = u32;
pub const COW_MAP_ADDED: cow_map_change_t = 0;
pub const COW_MAP_REMOVED: cow_map_change_t = 1;
pub const COW_MAP_CHANGED: cow_map_change_t = 2;
pub type cow_map_diff_fn = Option<
    unsafe extern "C" fn(
        ctx: *mut c_void,
        kind: cow_map_change_t,
        key: *const c_void,
        key_len: usize,
        old_value: *const c_void,
        new_value: *const c_void,
    ) -> c_int,
>;

extern "C" {
    // Version and errors
    pub fn cow_version() -> u32;
    pub fn cow_version_string() -> *const c_char;
    pub fn cow_strerror(status: cow_status) -> *const c_char;

    // Memory
    pub fn cow_set_allocator(allocator: *const cow_allocator) -> cow_status;
    pub fn cow_owned_free(owned: *mut cow_owned);

    // Options
    pub fn cow_options_init(options: *mut cow_options);

    // Generic handle operations
    pub fn cow_kind(handle: *const c_void) -> cow_kind_t;
    pub fn cow_clone(handle: *const c_void) -> *mut c_void;
    pub fn cow_release(handle: *mut c_void);
    pub fn cow_make_mut(slot: *mut c_void) -> cow_status;
    pub fn cow_is_shared(handle: *const c_void) -> bool;
    pub fn cow_strong_count(handle: *const c_void) -> u64;
    pub fn cow_ptr_eq(a: *const c_void, b: *const c_void) -> bool;

    // Statistics
    pub fn cow_stats_info_init(info: *mut cow_stats_info);
    /// Since 0.2: the whole struct (`cow_stats_info_init` writes the 0.1 layout).
    pub fn cow_stats_info_init_v2(info: *mut cow_stats_info);
    pub fn cow_stats(handle: *const c_void, out: *mut cow_stats_info) -> cow_status;
    pub fn cow_stats_report(handle: *const c_void, format: u32, out: *mut *mut cow_str) -> cow_status;
    pub fn cow_global_stats(out: *mut cow_global_stats_info) -> cow_status;

    // cow_buf
    pub fn cow_buf_new(out: *mut *mut cow_buf, bytes: *const c_void, len: usize, options: *const cow_options)
        -> cow_status;
    pub fn cow_buf_with_capacity(out: *mut *mut cow_buf, capacity: usize, options: *const cow_options) -> cow_status;
    pub fn cow_buf_clone(buf: *const cow_buf) -> *mut cow_buf;
    pub fn cow_buf_release(buf: *mut cow_buf);
    pub fn cow_buf_len(buf: *const cow_buf) -> usize;
    pub fn cow_buf_data(buf: *const cow_buf) -> *const u8;
    pub fn cow_buf_make_mut(slot: *mut *mut cow_buf, out_data: *mut *mut u8) -> cow_status;
    pub fn cow_buf_append(slot: *mut *mut cow_buf, bytes: *const c_void, len: usize) -> cow_status;
    pub fn cow_buf_insert(slot: *mut *mut cow_buf, at: usize, bytes: *const c_void, len: usize) -> cow_status;
    pub fn cow_buf_erase(slot: *mut *mut cow_buf, at: usize, count: usize) -> cow_status;
    pub fn cow_buf_truncate(slot: *mut *mut cow_buf, new_len: usize) -> cow_status;
    pub fn cow_buf_resize(slot: *mut *mut cow_buf, new_len: usize, fill: u8) -> cow_status;
    pub fn cow_buf_equal(a: *const cow_buf, b: *const cow_buf) -> bool;
    pub fn cow_buf_compare(a: *const cow_buf, b: *const cow_buf) -> c_int;
    pub fn cow_buf_hash(buf: *const cow_buf) -> u64;
    pub fn cow_buf_slice(out: *mut *mut cow_buf, buf: *const cow_buf, offset: usize, len: usize) -> cow_status;
    pub fn cow_buf_into(slot: *mut *mut cow_buf, out: *mut cow_owned) -> cow_status;

    // cow_str
    pub fn cow_str_new(out: *mut *mut cow_str, text: *const c_char, len: usize, options: *const cow_options)
        -> cow_status;
    pub fn cow_str_from_cstr(out: *mut *mut cow_str, text: *const c_char, options: *const cow_options)
        -> cow_status;
    pub fn cow_str_clone(str: *const cow_str) -> *mut cow_str;
    pub fn cow_str_release(str: *mut cow_str);
    pub fn cow_str_len(str: *const cow_str) -> usize;
    pub fn cow_str_data(str: *const cow_str) -> *const c_char;
    pub fn cow_str_cstr(slot: *mut *mut cow_str, out: *mut *const c_char) -> cow_status;
    pub fn cow_str_char_count(str: *const cow_str) -> usize;
    pub fn cow_str_make_mut(slot: *mut *mut cow_str) -> cow_status;
    pub fn cow_str_append(slot: *mut *mut cow_str, text: *const c_char, len: usize) -> cow_status;
    pub fn cow_str_insert(slot: *mut *mut cow_str, at: usize, text: *const c_char, len: usize) -> cow_status;
    pub fn cow_str_erase(slot: *mut *mut cow_str, at: usize, count: usize) -> cow_status;
    pub fn cow_str_truncate(slot: *mut *mut cow_str, new_len: usize) -> cow_status;
    pub fn cow_str_substr(out: *mut *mut cow_str, str: *const cow_str, offset: usize, len: usize) -> cow_status;
    pub fn cow_str_find(
        str: *const cow_str,
        needle: *const c_char,
        needle_len: usize,
        from: usize,
        out_pos: *mut usize,
    ) -> cow_status;
    pub fn cow_str_equal(a: *const cow_str, b: *const cow_str) -> bool;
    pub fn cow_str_compare(a: *const cow_str, b: *const cow_str) -> c_int;
    pub fn cow_str_hash(str: *const cow_str) -> u64;
    pub fn cow_str_into(slot: *mut *mut cow_str, out: *mut cow_owned) -> cow_status;

    // cow_type
    pub fn cow_type_u8() -> *const cow_type;
    pub fn cow_type_u16() -> *const cow_type;
    pub fn cow_type_u32() -> *const cow_type;
    pub fn cow_type_u64() -> *const cow_type;
    pub fn cow_type_i8() -> *const cow_type;
    pub fn cow_type_i16() -> *const cow_type;
    pub fn cow_type_i32() -> *const cow_type;
    pub fn cow_type_i64() -> *const cow_type;
    pub fn cow_type_f32() -> *const cow_type;
    pub fn cow_type_f64() -> *const cow_type;
    pub fn cow_type_ptr() -> *const cow_type;
    pub fn cow_type_handle() -> *const cow_type;
    pub fn cow_type_bytes() -> *const cow_type;
    pub fn cow_type_string() -> *const cow_type;
    pub fn cow_type_init(ty: *mut cow_type, elem_size: usize, elem_align: usize);

    // cow_vec
    pub fn cow_vec_new(out: *mut *mut cow_vec, ty: *const cow_type, options: *const cow_options) -> cow_status;
    pub fn cow_vec_with_capacity(
        out: *mut *mut cow_vec,
        ty: *const cow_type,
        capacity: usize,
        options: *const cow_options,
    ) -> cow_status;
    pub fn cow_vec_from_array(
        out: *mut *mut cow_vec,
        ty: *const cow_type,
        elems: *const c_void,
        count: usize,
        options: *const cow_options,
    ) -> cow_status;
    pub fn cow_vec_clone(vec: *const cow_vec) -> *mut cow_vec;
    pub fn cow_vec_release(vec: *mut cow_vec);
    pub fn cow_vec_len(vec: *const cow_vec) -> usize;
    pub fn cow_vec_type(vec: *const cow_vec) -> *const cow_type;
    pub fn cow_vec_get(vec: *const cow_vec, index: usize) -> *const c_void;
    pub fn cow_vec_get_mut(slot: *mut *mut cow_vec, index: usize, out_elem: *mut *mut c_void) -> cow_status;
    pub fn cow_vec_set(slot: *mut *mut cow_vec, index: usize, elem: *const c_void, out_old: *mut c_void)
        -> cow_status;
    pub fn cow_vec_push(slot: *mut *mut cow_vec, elem: *const c_void) -> cow_status;
    pub fn cow_vec_pop(slot: *mut *mut cow_vec, out_elem: *mut c_void) -> cow_status;
    pub fn cow_vec_insert(slot: *mut *mut cow_vec, index: usize, elem: *const c_void) -> cow_status;
    pub fn cow_vec_erase(slot: *mut *mut cow_vec, index: usize, out_elem: *mut c_void) -> cow_status;
    pub fn cow_vec_extend(slot: *mut *mut cow_vec, elems: *const c_void, count: usize) -> cow_status;
    pub fn cow_vec_reserve(slot: *mut *mut cow_vec, additional: usize) -> cow_status;
    pub fn cow_vec_clear(slot: *mut *mut cow_vec) -> cow_status;
    pub fn cow_vec_truncate(slot: *mut *mut cow_vec, new_len: usize) -> cow_status;
    pub fn cow_vec_data(vec: *const cow_vec, out_data: *mut *const c_void) -> cow_status;
    pub fn cow_vec_make_mut(slot: *mut *mut cow_vec, out_data: *mut *mut c_void) -> cow_status;
    pub fn cow_vec_cursor_init(cursor: *mut cow_vec_cursor, vec: *const cow_vec) -> cow_status;
    pub fn cow_vec_next_span(cursor: *mut cow_vec_cursor, out_data: *mut *const c_void, out_count: *mut usize)
        -> bool;
    pub fn cow_vec_cursor_init_at(cursor: *mut cow_vec_cursor, vec: *const cow_vec, index: usize) -> cow_status;
    pub fn cow_vec_slice(out: *mut *mut cow_vec, vec: *const cow_vec, offset: usize, len: usize) -> cow_status;
    pub fn cow_vec_concat(slot: *mut *mut cow_vec, other: *const cow_vec) -> cow_status;
    pub fn cow_vec_equal(a: *const cow_vec, b: *const cow_vec) -> bool;
    pub fn cow_vec_hash(vec: *const cow_vec) -> u64;
    pub fn cow_vec_diff(
        a: *const cow_vec,
        b: *const cow_vec,
        callback: cow_vec_diff_fn,
        ctx: *mut c_void,
        out_stopped: *mut bool,
    ) -> cow_status;
    pub fn cow_vec_into(slot: *mut *mut cow_vec, out: *mut cow_owned) -> cow_status;

    // cow_map
    pub fn cow_map_new(
        out: *mut *mut cow_map,
        key_type: *const cow_type,
        value_type: *const cow_type,
        options: *const cow_options,
    ) -> cow_status;
    pub fn cow_map_clone(map: *const cow_map) -> *mut cow_map;
    pub fn cow_map_release(map: *mut cow_map);
    pub fn cow_map_len(map: *const cow_map) -> usize;
    pub fn cow_map_key_type(map: *const cow_map) -> *const cow_type;
    pub fn cow_map_value_type(map: *const cow_map) -> *const cow_type;
    pub fn cow_map_get(map: *const cow_map, key: *const c_void, key_len: usize) -> *const c_void;
    pub fn cow_map_contains(map: *const cow_map, key: *const c_void, key_len: usize) -> bool;
    pub fn cow_map_insert(
        slot: *mut *mut cow_map,
        key: *const c_void,
        key_len: usize,
        value: *const c_void,
        out_old: *mut c_void,
        out_replaced: *mut bool,
    ) -> cow_status;
    pub fn cow_map_remove(slot: *mut *mut cow_map, key: *const c_void, key_len: usize, out_value: *mut c_void)
        -> cow_status;
    pub fn cow_map_get_mut(
        slot: *mut *mut cow_map,
        key: *const c_void,
        key_len: usize,
        out_value: *mut *mut c_void,
    ) -> cow_status;
    pub fn cow_map_clear(slot: *mut *mut cow_map) -> cow_status;
    pub fn cow_map_cursor_init(cursor: *mut cow_map_cursor, map: *const cow_map) -> cow_status;
    pub fn cow_map_next(
        cursor: *mut cow_map_cursor,
        out_key: *mut *const c_void,
        out_key_len: *mut usize,
        out_value: *mut *const c_void,
    ) -> bool;
    pub fn cow_map_entry(
        slot: *mut *mut cow_map,
        key: *const c_void,
        key_len: usize,
        init_value: *const c_void,
        out_value: *mut *mut c_void,
        out_inserted: *mut bool,
    ) -> cow_status;
    pub fn cow_map_equal(a: *const cow_map, b: *const cow_map) -> bool;
    pub fn cow_map_hash(map: *const cow_map) -> u64;
    pub fn cow_map_diff(
        a: *const cow_map,
        b: *const cow_map,
        callback: cow_map_diff_fn,
        ctx: *mut c_void,
        out_stopped: *mut bool,
    ) -> cow_status;

    // cow_box
    pub fn cow_box_new(out: *mut *mut cow_box, ty: *const cow_type, value: *const c_void, options: *const cow_options)
        -> cow_status;
    pub fn cow_box_clone(b: *const cow_box) -> *mut cow_box;
    pub fn cow_box_release(b: *mut cow_box);
    pub fn cow_box_get(b: *const cow_box) -> *const c_void;
    pub fn cow_box_type(b: *const cow_box) -> *const cow_type;
    pub fn cow_box_make_mut(slot: *mut *mut cow_box, out_value: *mut *mut c_void) -> cow_status;
    pub fn cow_box_update(slot: *mut *mut cow_box, f: cow_update_fn, ctx: *mut c_void) -> cow_status;
    pub fn cow_box_into(slot: *mut *mut cow_box, out_value: *mut c_void) -> cow_status;
}
