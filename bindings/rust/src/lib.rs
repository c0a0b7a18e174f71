//! Safe Rust bindings to libcow: copy-on-write values behind a stable C ABI.
//!
//! Every type here owns one libcow handle. `Clone` is `cow_clone` (O(1), the
//! data is shared), `Drop` releases the handle, reads borrow the data
//! (`Deref` to `[u8]` or `str`; a `CowVec` is read through `get`, indexing
//! and iterators, since a tree's elements are not contiguous), and writes
//! take `&mut self`: a write to a shared value first makes a private copy
//! (like `Arc::make_mut`), a write to a unique value happens in place.
//! Failures come back as [`Error`].
//!
//! ```no_run
//! use libcow::{CowHandle, CowStr};
//! let a = CowStr::new("hello").unwrap();
//! let mut b = a.clone(); // shares the text
//! assert_eq!(a.strong_count(), 2);
//! b.push_str(" world").unwrap(); // b gets a private copy
//! assert_eq!((&*a, &*b), ("hello", "hello world"));
//! ```
//!
//! The raw declarations of `cow.h` are in [`ffi`].

pub mod ffi;

mod boxed;
mod buf;
mod handle;
mod map;
mod str;
mod vec;

pub use crate::boxed::CowBox;
pub use crate::buf::CowBuf;
pub use crate::handle::{global_stats, version, version_string, CowHandle, GlobalStats, Representation, Stats};
pub use crate::map::{CowMap, MapChange, MapIter, MapKey};
pub use crate::str::CowStr;
pub use crate::vec::{CowVec, Element, Spans, VecIter};

use std::ffi::CStr;
use std::fmt;

// The README's example runs as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// The C layout of cow.h's structs as measured by the C compiler in
/// build.rs; `tests/layout.rs` compares it with [`ffi`].
#[doc(hidden)]
pub mod c_layout {
    include!(concat!(env!("OUT_DIR"), "/c_layout.rs"));
}

/// A libcow failure status (`cow_status` other than `COW_OK`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Error {
    /// COW_EINVAL: invalid argument (NULL, bad flag, not a char boundary).
    InvalidArgument,
    /// COW_ETYPE: a handle of the wrong type.
    WrongType,
    /// COW_ERANGE: index or offset out of range.
    OutOfRange,
    /// COW_ENOTFOUND: key or substring not found.
    NotFound,
    /// COW_EUTF8: input is not valid UTF-8.
    InvalidUtf8,
    /// COW_EOVERFLOW: size or reference count would overflow.
    Overflow,
    /// COW_ENOMEM: allocation failed.
    OutOfMemory,
    /// COW_EBUSY: not allowed while libcow values are alive.
    Busy,
    /// COW_ENOTCONTIGUOUS: the value is not stored contiguously.
    NotContiguous,
    /// COW_EUNSUPPORTED: option or strategy not supported by this version.
    Unsupported,
    /// COW_ECALLBACK: a user callback (e.g. a `Clone` that panicked) failed.
    Callback,
    /// A status this crate does not know (a newer libcow).
    Unknown(i32),
}

/// `Result` with libcow's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// The error for a status, or `None` for `COW_OK`.
    pub fn from_status(status: ffi::cow_status) -> Option<Error> {
        Some(match status {
            ffi::COW_OK => return None,
            ffi::COW_EINVAL => Error::InvalidArgument,
            ffi::COW_ETYPE => Error::WrongType,
            ffi::COW_ERANGE => Error::OutOfRange,
            ffi::COW_ENOTFOUND => Error::NotFound,
            ffi::COW_EUTF8 => Error::InvalidUtf8,
            ffi::COW_EOVERFLOW => Error::Overflow,
            ffi::COW_ENOMEM => Error::OutOfMemory,
            ffi::COW_EBUSY => Error::Busy,
            ffi::COW_ENOTCONTIGUOUS => Error::NotContiguous,
            ffi::COW_EUNSUPPORTED => Error::Unsupported,
            ffi::COW_ECALLBACK => Error::Callback,
            other => Error::Unknown(other),
        })
    }

    /// The `cow_status` code of this error.
    pub fn status(self) -> ffi::cow_status {
        match self {
            Error::InvalidArgument => ffi::COW_EINVAL,
            Error::WrongType => ffi::COW_ETYPE,
            Error::OutOfRange => ffi::COW_ERANGE,
            Error::NotFound => ffi::COW_ENOTFOUND,
            Error::InvalidUtf8 => ffi::COW_EUTF8,
            Error::Overflow => ffi::COW_EOVERFLOW,
            Error::OutOfMemory => ffi::COW_ENOMEM,
            Error::Busy => ffi::COW_EBUSY,
            Error::NotContiguous => ffi::COW_ENOTCONTIGUOUS,
            Error::Unsupported => ffi::COW_EUNSUPPORTED,
            Error::Callback => ffi::COW_ECALLBACK,
            Error::Unknown(s) => s,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // cow_strerror never returns NULL and its strings are static.
        let text = unsafe { CStr::from_ptr(ffi::cow_strerror(self.status())) };
        f.write_str(&text.to_string_lossy())
    }
}

impl std::error::Error for Error {}

/// Turns a status into a `Result`.
pub(crate) fn check(status: ffi::cow_status) -> Result<()> {
    match Error::from_status(status) {
        None => Ok(()),
        Some(e) => Err(e),
    }
}

/// How a value is shared (`cow_strategy_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// Copy on the first write to a shared value (the default).
    Lazy,
    /// `clone` copies at once; a write copies only a value that shares its
    /// storage with a slice.
    Eager,
    /// Eager while the value is smaller than this many bytes, else lazy.
    Threshold(u64),
    /// A persistent tree (`COW_STRATEGY_STRUCTURAL`): a write to a shared
    /// value copies only the nodes on its path. For `CowVec` (its elements
    /// are then not contiguous: see [`CowVec::as_slice`]); other kinds
    /// answer `Error::Unsupported`.
    Structural,
    /// Flat or tree, chosen at each copy a write makes from how the
    /// lineage is used (`COW_STRATEGY_ADAPTIVE`), for `CowVec` and `CowMap`.
    /// The value is the size floor in bytes below which a value stays flat
    /// (0: the library's default, 64 KiB). Read such vectors by index or
    /// by spans: `as_slice` fails while the value is a tree.
    Adaptive(u64),
}

/// Options for the `*_with_options` constructors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    pub strategy: Strategy,
    /// Keep lineage statistics (true by default).
    pub stats: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { strategy: Strategy::Lazy, stats: true }
    }
}

impl Options {
    /// These options with this strategy and statistics on.
    pub fn new(strategy: Strategy) -> Self {
        Options { strategy, ..Options::default() }
    }

    pub(crate) fn to_ffi(self) -> ffi::cow_options {
        let mut o = ffi::cow_options { size: 0, strategy: 0, threshold_bytes: 0, flags: 0, reserved: 0 };
        unsafe { ffi::cow_options_init(&mut o) };
        let (strategy, threshold) = match self.strategy {
            Strategy::Lazy => (ffi::COW_STRATEGY_LAZY, 0),
            Strategy::Eager => (ffi::COW_STRATEGY_EAGER, 0),
            Strategy::Threshold(t) => (ffi::COW_STRATEGY_THRESHOLD, t),
            Strategy::Structural => (ffi::COW_STRATEGY_STRUCTURAL, 0),
            Strategy::Adaptive(floor) => (ffi::COW_STRATEGY_ADAPTIVE, floor),
        };
        o.strategy = strategy;
        o.threshold_bytes = threshold;
        if !self.stats {
            o.flags |= ffi::COW_OPT_NO_STATS;
        }
        o
    }
}

/// Calls a `cow_x_new`-style constructor and returns the handle it stored.
pub(crate) fn create<H>(f: impl FnOnce(*mut *mut H) -> ffi::cow_status) -> Result<std::ptr::NonNull<H>> {
    let mut out: *mut H = std::ptr::null_mut();
    check(f(&mut out))?;
    Ok(std::ptr::NonNull::new(out).expect("libcow returned COW_OK without a handle"))
}
