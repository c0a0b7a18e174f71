//! `CowBuf`: a copy-on-write byte buffer (`cow_buf`).
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::{Deref, Range};
use std::os::raw::c_void;
use std::ptr::NonNull;

use crate::handle::{clone_handle, edit, make_unique};
use crate::{create, ffi, CowHandle, Options, Result};

/// A byte buffer. Cloning shares the bytes; the first write to a shared
/// buffer copies them.
pub struct CowBuf {
    raw: NonNull<ffi::cow_buf>,
}

// The handle's reference count is atomic and reads never write (cow.h's
// thread-safety contract); writes need `&mut self`, one slot per thread.
unsafe impl Send for CowBuf {}
unsafe impl Sync for CowBuf {}

impl CowBuf {
    /// A buffer holding a copy of `bytes`.
    pub fn new(bytes: &[u8]) -> Result<Self> {
        Self::with_options(bytes, Options::default())
    }

    pub fn with_options(bytes: &[u8], options: Options) -> Result<Self> {
        let o = options.to_ffi();
        let raw = create(|out| unsafe { ffi::cow_buf_new(out, bytes.as_ptr() as *const c_void, bytes.len(), &o) })?;
        Ok(CowBuf { raw })
    }

    /// An empty buffer with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Result<Self> {
        let raw = create(|out| unsafe { ffi::cow_buf_with_capacity(out, capacity, std::ptr::null()) })?;
        Ok(CowBuf { raw })
    }

    /// Takes over a handle (a new reference the caller owned).
    ///
    /// # Safety
    /// `raw` must be a valid `cow_buf` handle whose reference is given away.
    pub unsafe fn from_raw(raw: NonNull<ffi::cow_buf>) -> Self {
        CowBuf { raw }
    }

    /// Gives the handle away without releasing it.
    pub fn into_raw(self) -> NonNull<ffi::cow_buf> {
        let raw = self.raw;
        std::mem::forget(self);
        raw
    }

    pub fn as_raw(&self) -> *const ffi::cow_buf {
        self.raw.as_ptr()
    }

    /// `Clone` that reports failure instead of panicking.
    pub fn try_clone(&self) -> Result<Self> {
        Ok(CowBuf { raw: clone_handle(self.raw)? })
    }

    pub fn as_bytes(&self) -> &[u8] {
        unsafe {
            let len = ffi::cow_buf_len(self.raw.as_ptr());
            // Never NULL for a valid handle, even when empty.
            std::slice::from_raw_parts(ffi::cow_buf_data(self.raw.as_ptr()), len)
        }
    }

    /// Makes the buffer unique (copying if shared) and gives its bytes.
    pub fn make_mut(&mut self) -> Result<&mut [u8]> {
        let mut data: *mut u8 = std::ptr::null_mut();
        edit(&mut self.raw, |slot| unsafe { ffi::cow_buf_make_mut(slot, &mut data) })?;
        Ok(unsafe { std::slice::from_raw_parts_mut(data, ffi::cow_buf_len(self.raw.as_ptr())) })
    }

    /// Makes the buffer unique without asking for its bytes (generic cow_make_mut).
    pub fn make_unique(&mut self) -> Result<()> {
        make_unique(&mut self.raw)
    }

    pub fn extend_from_slice(&mut self, bytes: &[u8]) -> Result<()> {
        edit(&mut self.raw, |s| unsafe { ffi::cow_buf_append(s, bytes.as_ptr() as *const c_void, bytes.len()) })
    }

    pub fn insert_slice(&mut self, at: usize, bytes: &[u8]) -> Result<()> {
        edit(&mut self.raw, |s| unsafe { ffi::cow_buf_insert(s, at, bytes.as_ptr() as *const c_void, bytes.len()) })
    }

    /// Removes the bytes in `range`.
    pub fn erase(&mut self, range: Range<usize>) -> Result<()> {
        let count = range.end.checked_sub(range.start).ok_or(crate::Error::OutOfRange)?;
        edit(&mut self.raw, |s| unsafe { ffi::cow_buf_erase(s, range.start, count) })
    }

    pub fn truncate(&mut self, new_len: usize) -> Result<()> {
        edit(&mut self.raw, |s| unsafe { ffi::cow_buf_truncate(s, new_len) })
    }

    pub fn resize(&mut self, new_len: usize, fill: u8) -> Result<()> {
        edit(&mut self.raw, |s| unsafe { ffi::cow_buf_resize(s, new_len, fill) })
    }

    /// A buffer viewing `range` of this one: O(1), shares the storage.
    pub fn slice(&self, range: Range<usize>) -> Result<CowBuf> {
        let len = range.end.checked_sub(range.start).ok_or(crate::Error::OutOfRange)?;
        let raw = create(|out| unsafe { ffi::cow_buf_slice(out, self.raw.as_ptr(), range.start, len) })?;
        Ok(CowBuf { raw })
    }

    /// Copies the bytes into a `Vec` and drops the handle (inside libcow, a
    /// unique buffer with a storage block of its own hands it over uncopied).
    pub fn into_vec(self) -> Result<Vec<u8>> {
        let mut raw = self.into_raw().as_ptr();
        let mut owned = ffi::cow_owned { data: std::ptr::null_mut(), len: 0, alloc_size: 0, offset: 0 };
        let status = unsafe { ffi::cow_buf_into(&mut raw, &mut owned) };
        if let Err(e) = crate::check(status) {
            unsafe { ffi::cow_buf_release(raw) };
            return Err(e);
        }
        let v = unsafe { std::slice::from_raw_parts(owned.data as *const u8, owned.len) }.to_vec();
        unsafe { ffi::cow_owned_free(&mut owned) };
        Ok(v)
    }
}

impl CowHandle for CowBuf {
    fn as_handle_ptr(&self) -> *const c_void {
        self.raw.as_ptr() as *const c_void
    }
}

impl Clone for CowBuf {
    /// O(1): shares the bytes. Panics only when the reference count is at
    /// its limit (or an eager copy runs out of memory): see `try_clone`.
    fn clone(&self) -> Self {
        self.try_clone().expect("cow_clone failed")
    }
}

impl Drop for CowBuf {
    fn drop(&mut self) {
        unsafe { ffi::cow_buf_release(self.raw.as_ptr()) }
    }
}

impl Deref for CowBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<[u8]> for CowBuf {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl PartialEq for CowBuf {
    fn eq(&self, other: &Self) -> bool {
        unsafe { ffi::cow_buf_equal(self.raw.as_ptr(), other.raw.as_ptr()) }
    }
}
impl Eq for CowBuf {}

impl PartialOrd for CowBuf {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for CowBuf {
    fn cmp(&self, other: &Self) -> Ordering {
        unsafe { ffi::cow_buf_compare(self.raw.as_ptr(), other.raw.as_ptr()) }.cmp(&0)
    }
}

impl Hash for CowBuf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state)
    }
}

impl fmt::Debug for CowBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CowBuf").field(&self.as_bytes()).finish()
    }
}
