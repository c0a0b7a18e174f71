//! What every handle type shares: reference queries and lineage statistics.
use std::ffi::CStr;
use std::os::raw::c_void;
use std::ptr::NonNull;

use crate::{check, ffi, CowStr, Result};

/// Queries that work on any libcow value.
pub trait CowHandle {
    /// The raw handle (borrowed: do not release it).
    fn as_handle_ptr(&self) -> *const c_void;

    /// Number of handles sharing this value (a snapshot).
    fn strong_count(&self) -> u64 {
        unsafe { ffi::cow_strong_count(self.as_handle_ptr()) }
    }

    /// True exactly when a write through this handle would copy.
    fn is_shared(&self) -> bool {
        unsafe { ffi::cow_is_shared(self.as_handle_ptr()) }
    }

    /// True when both refer to the same representation (shared data).
    fn ptr_eq(&self, other: &Self) -> bool
    where
        Self: Sized,
    {
        unsafe { ffi::cow_ptr_eq(self.as_handle_ptr(), other.as_handle_ptr()) }
    }

    /// Statistics of this value's lineage (the value it was created as and
    /// everything cloned or copied from it).
    fn stats(&self) -> Stats {
        let mut info = ffi::cow_stats_info::default();
        unsafe {
            ffi::cow_stats_info_init_v2(&mut info);
            // Only fails for an invalid handle or a too-small struct: neither can happen here.
            check(ffi::cow_stats(self.as_handle_ptr(), &mut info)).expect("cow_stats failed");
        }
        Stats::from(info)
    }

    /// The text report ("Clones: N", "Copies: N", "Copy rate: P%", ...).
    fn stats_report(&self) -> Result<CowStr> {
        report(self.as_handle_ptr(), ffi::COW_REPORT_TEXT)
    }

    /// The report as one JSON object.
    fn stats_json(&self) -> Result<CowStr> {
        report(self.as_handle_ptr(), ffi::COW_REPORT_JSON)
    }
}

fn report(handle: *const c_void, format: u32) -> Result<CowStr> {
    let raw = crate::create(|out| unsafe { ffi::cow_stats_report(handle, format, out) })?;
    Ok(unsafe { CowStr::from_raw(raw) })
}

/// Lineage statistics (`cow_stats_info`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stats {
    /// False for a value created with statistics off (counters are 0).
    pub enabled: bool,
    pub clones: u64,
    pub copies: u64,
    pub bytes_copied: u64,
    pub memory_saved: u64,
    pub live_handles: u64,
    pub live_values: u64,
    /// copies / clones (0 when there was no clone).
    pub copy_rate: f64,
    /// Current size of this value in bytes.
    pub value_bytes: u64,
    /// How this value (not its lineage) is stored.
    pub representation: Representation,
    /// Tree nodes copied by writes under a private root (0 for flat values);
    /// their bytes are counted in `bytes_copied` too.
    pub nodes_copied: u64,
    /// Switches between representations in the lineage (adaptive values;
    /// 0 for every other strategy).
    pub switches: u64,
}

/// How a value is stored (`cow_stats_info.representation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Representation {
    /// One contiguous block (`COW_REPRESENTATION_FLAT`).
    Flat,
    /// A persistent tree (`COW_REPRESENTATION_TREE`).
    Tree,
    /// A representation this version of the crate does not know.
    Other(u32),
}

impl From<u32> for Representation {
    fn from(r: u32) -> Self {
        match r {
            ffi::COW_REPRESENTATION_FLAT => Representation::Flat,
            ffi::COW_REPRESENTATION_TREE => Representation::Tree,
            other => Representation::Other(other),
        }
    }
}

impl From<ffi::cow_stats_info> for Stats {
    fn from(i: ffi::cow_stats_info) -> Self {
        Stats {
            enabled: i.enabled != 0,
            clones: i.clones,
            copies: i.copies,
            bytes_copied: i.bytes_copied,
            memory_saved: i.memory_saved,
            live_handles: i.live_handles,
            live_values: i.live_values,
            copy_rate: i.copy_rate,
            value_bytes: i.value_bytes,
            representation: Representation::from(i.representation),
            nodes_copied: i.nodes_copied,
            switches: i.switches,
        }
    }
}

/// Process-wide counters (`cow_global_stats_info`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GlobalStats {
    pub live_values: u64,
    pub live_bytes: u64,
    pub live_allocations: u64,
}

/// Values, bytes and blocks alive in libcow right now.
pub fn global_stats() -> GlobalStats {
    let mut g = ffi::cow_global_stats_info {
        size: std::mem::size_of::<ffi::cow_global_stats_info>() as u32,
        ..Default::default()
    };
    check(unsafe { ffi::cow_global_stats(&mut g) }).expect("cow_global_stats failed");
    GlobalStats { live_values: g.live_values, live_bytes: g.live_bytes, live_allocations: g.live_allocations }
}

/// The version of the loaded library as major * 10000 + minor * 100 + patch.
pub fn version() -> u32 {
    unsafe { ffi::cow_version() }
}

/// The version of the loaded library, e.g. "0.1.0".
pub fn version_string() -> &'static str {
    unsafe { CStr::from_ptr(ffi::cow_version_string()) }.to_str().expect("version is ASCII")
}

/// cow_clone for `Clone`: like `Arc`, running out of references (or of
/// memory for an eager copy) is not recoverable there, so it panics;
/// `try_clone` on each type reports it instead.
pub(crate) fn clone_handle<H>(raw: NonNull<H>) -> Result<NonNull<H>> {
    let p = unsafe { ffi::cow_clone(raw.as_ptr() as *const c_void) } as *mut H;
    NonNull::new(p).ok_or_else(|| {
        // NULL: the reference count is at its limit, or an eager copy found no memory.
        if unsafe { ffi::cow_strong_count(raw.as_ptr() as *const c_void) } >= ffi::COW_MAX_REFCOUNT {
            crate::Error::Overflow
        } else {
            crate::Error::OutOfMemory
        }
    })
}

/// The generic cow_make_mut on a typed slot.
pub(crate) fn make_unique<H>(raw: &mut NonNull<H>) -> Result<()> {
    let mut p = raw.as_ptr();
    check(unsafe { ffi::cow_make_mut(&mut p as *mut *mut H as *mut c_void) })?;
    *raw = NonNull::new(p).expect("cow_make_mut left a NULL handle");
    Ok(())
}

/// Runs a slot-taking call on a copy of the handle and stores the result
/// back on success (the C API leaves the slot unchanged on failure anyway).
pub(crate) fn edit<H>(raw: &mut NonNull<H>, f: impl FnOnce(*mut *mut H) -> ffi::cow_status) -> Result<()> {
    let mut p = raw.as_ptr();
    check(f(&mut p))?;
    *raw = NonNull::new(p).expect("libcow left a NULL handle in the slot");
    Ok(())
}
