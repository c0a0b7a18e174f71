//! `CowStr`: copy-on-write UTF-8 text (`cow_str`).
use std::cmp::Ordering;
use std::ffi::CStr;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::{Deref, Range};
use std::os::raw::{c_char, c_void};
use std::ptr::NonNull;

use crate::handle::{clone_handle, edit};
use crate::{check, create, ffi, CowHandle, Error, Options, Result};

/// UTF-8 text. Cloning shares it; the first write to a shared string copies
/// it. Offsets are in bytes and must fall on character boundaries.
pub struct CowStr {
    raw: NonNull<ffi::cow_str>,
}

// See CowBuf: atomic reference count, reads never write.
unsafe impl Send for CowStr {}
unsafe impl Sync for CowStr {}

impl CowStr {
    pub fn new(text: &str) -> Result<Self> {
        Self::with_options(text, Options::default())
    }

    pub fn with_options(text: &str, options: Options) -> Result<Self> {
        let o = options.to_ffi();
        let raw = create(|out| unsafe { ffi::cow_str_new(out, text.as_ptr() as *const c_char, text.len(), &o) })?;
        Ok(CowStr { raw })
    }

    /// Validates `bytes` as UTF-8 in libcow (`Error::InvalidUtf8` otherwise).
    pub fn from_utf8(bytes: &[u8]) -> Result<Self> {
        let raw = create(|out| unsafe {
            ffi::cow_str_new(out, bytes.as_ptr() as *const c_char, bytes.len(), std::ptr::null())
        })?;
        Ok(CowStr { raw })
    }

    /// Takes over a handle.
    ///
    /// # Safety
    /// `raw` must be a valid `cow_str` handle whose reference is given away.
    pub unsafe fn from_raw(raw: NonNull<ffi::cow_str>) -> Self {
        CowStr { raw }
    }

    pub fn into_raw(self) -> NonNull<ffi::cow_str> {
        let raw = self.raw;
        std::mem::forget(self);
        raw
    }

    pub fn as_raw(&self) -> *const ffi::cow_str {
        self.raw.as_ptr()
    }

    pub fn try_clone(&self) -> Result<Self> {
        Ok(CowStr { raw: clone_handle(self.raw)? })
    }

    pub fn as_str(&self) -> &str {
        unsafe {
            let len = ffi::cow_str_len(self.raw.as_ptr());
            let bytes = std::slice::from_raw_parts(ffi::cow_str_data(self.raw.as_ptr()) as *const u8, len);
            // libcow validates every input: its strings are always UTF-8.
            std::str::from_utf8_unchecked(bytes)
        }
    }

    /// Number of Unicode code points, O(n).
    pub fn char_count(&self) -> usize {
        unsafe { ffi::cow_str_char_count(self.raw.as_ptr()) }
    }

    /// A NUL-terminated view (a substring may first become a private copy).
    pub fn as_c_str(&mut self) -> Result<&CStr> {
        let mut p: *const c_char = std::ptr::null();
        edit(&mut self.raw, |s| unsafe { ffi::cow_str_cstr(s, &mut p) })?;
        Ok(unsafe { CStr::from_ptr(p) })
    }

    pub fn make_unique(&mut self) -> Result<()> {
        edit(&mut self.raw, |s| unsafe { ffi::cow_str_make_mut(s) })
    }

    pub fn push_str(&mut self, text: &str) -> Result<()> {
        edit(&mut self.raw, |s| unsafe { ffi::cow_str_append(s, text.as_ptr() as *const c_char, text.len()) })
    }

    pub fn insert_str(&mut self, at: usize, text: &str) -> Result<()> {
        edit(&mut self.raw, |s| unsafe { ffi::cow_str_insert(s, at, text.as_ptr() as *const c_char, text.len()) })
    }

    /// Removes the bytes in `range` (character boundaries).
    pub fn erase(&mut self, range: Range<usize>) -> Result<()> {
        let count = range.end.checked_sub(range.start).ok_or(Error::OutOfRange)?;
        edit(&mut self.raw, |s| unsafe { ffi::cow_str_erase(s, range.start, count) })
    }

    pub fn truncate(&mut self, new_len: usize) -> Result<()> {
        edit(&mut self.raw, |s| unsafe { ffi::cow_str_truncate(s, new_len) })
    }

    /// A string for the bytes in `range`: O(1), shares the storage.
    pub fn substr(&self, range: Range<usize>) -> Result<CowStr> {
        let len = range.end.checked_sub(range.start).ok_or(Error::OutOfRange)?;
        let raw = create(|out| unsafe { ffi::cow_str_substr(out, self.raw.as_ptr(), range.start, len) })?;
        Ok(CowStr { raw })
    }

    /// Byte offset of `needle` at or after `from`; `None` when absent.
    pub fn find(&self, needle: &str, from: usize) -> Result<Option<usize>> {
        let mut pos = 0usize;
        let status = unsafe {
            ffi::cow_str_find(self.raw.as_ptr(), needle.as_ptr() as *const c_char, needle.len(), from, &mut pos)
        };
        match Error::from_status(status) {
            None => Ok(Some(pos)),
            Some(Error::NotFound) => Ok(None),
            Some(e) => Err(e),
        }
    }

    /// Moves the text into a `String` and drops the handle.
    pub fn into_string(self) -> Result<String> {
        let mut raw = self.into_raw().as_ptr();
        let mut owned = ffi::cow_owned { data: std::ptr::null_mut(), len: 0, alloc_size: 0, offset: 0 };
        if let Err(e) = check(unsafe { ffi::cow_str_into(&mut raw, &mut owned) }) {
            unsafe { ffi::cow_str_release(raw) };
            return Err(e);
        }
        let bytes = unsafe { std::slice::from_raw_parts(owned.data as *const u8, owned.len) };
        let s = String::from(unsafe { std::str::from_utf8_unchecked(bytes) });
        unsafe { ffi::cow_owned_free(&mut owned) };
        Ok(s)
    }
}

impl CowHandle for CowStr {
    fn as_handle_ptr(&self) -> *const c_void {
        self.raw.as_ptr() as *const c_void
    }
}

impl Clone for CowStr {
    /// O(1): shares the text. Panics only when the reference count is at
    /// its limit (or an eager copy runs out of memory): see `try_clone`.
    fn clone(&self) -> Self {
        self.try_clone().expect("cow_clone failed")
    }
}

impl Drop for CowStr {
    fn drop(&mut self) {
        unsafe { ffi::cow_str_release(self.raw.as_ptr()) }
    }
}

impl Deref for CowStr {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for CowStr {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for CowStr {
    fn eq(&self, other: &Self) -> bool {
        unsafe { ffi::cow_str_equal(self.raw.as_ptr(), other.raw.as_ptr()) }
    }
}
impl Eq for CowStr {}

impl PartialEq<str> for CowStr {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}
impl PartialEq<&str> for CowStr {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialOrd for CowStr {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for CowStr {
    fn cmp(&self, other: &Self) -> Ordering {
        unsafe { ffi::cow_str_compare(self.raw.as_ptr(), other.raw.as_ptr()) }.cmp(&0)
    }
}

impl Hash for CowStr {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl fmt::Display for CowStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for CowStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}
