//! `CowVec<T>`: a copy-on-write vector of plain values (`cow_vec`).
//!
//! A vector made with [`Strategy::Structural`](crate::Strategy::Structural)
//! is a persistent tree whose elements are not contiguous: `get`, indexing,
//! `iter`, `spans` and every write work for every representation, while
//! `as_slice` answers `None` and `make_mut` `Err(Error::NotContiguous)` for
//! a tree. `slice`, `concat`, `==`, `Hash` and `diff` take flat and tree
//! vectors alike.
use std::any::Any;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::ops::{Bound, ControlFlow, Index, Range, RangeBounds};
use std::os::raw::{c_int, c_void};
use std::panic::{self, AssertUnwindSafe};
use std::ptr::NonNull;

use crate::handle::{clone_handle, edit, make_unique};
use crate::{check, create, ffi, CowHandle, Error, Options, Result};

/// An element type with a built-in libcow descriptor (`cow_type_u8()`...).
///
/// # Safety
/// `cow_type()` must describe exactly `Self`: same size and alignment, and
/// copying its bytes must copy the value.
pub unsafe trait Element: Copy + Send + Sync + 'static {
    fn cow_type() -> *const ffi::cow_type;

    /// True when the descriptor's `equal` is exactly `Self`'s `==` (the
    /// integers). `CowVec`'s `PartialEq` and `Hash` then go through
    /// `cow_vec_equal` and `cow_vec_hash` (copies and shared subtrees
    /// compare without being read); otherwise they go element by element.
    /// Floats answer false: libcow holds `NaN == NaN`, Rust does not.
    ///
    /// # Safety
    /// Setting it to true promises that the descriptor's `equal` agrees with
    /// `PartialEq` for every pair of values.
    const DESCRIPTOR_EQ: bool = false;
}

macro_rules! builtin_element {
    ($exact:expr; $($t:ty => $f:ident),*) => {$(
        unsafe impl Element for $t {
            fn cow_type() -> *const ffi::cow_type {
                unsafe { ffi::$f() }
            }
            const DESCRIPTOR_EQ: bool = $exact;
        }
    )*};
}
builtin_element!(true; u8 => cow_type_u8, u16 => cow_type_u16, u32 => cow_type_u32, u64 => cow_type_u64,
                 i8 => cow_type_i8, i16 => cow_type_i16, i32 => cow_type_i32, i64 => cow_type_i64);
// libcow's float equal: +0.0 == -0.0 and NaN == NaN (not Rust's `==`).
builtin_element!(false; f32 => cow_type_f32, f64 => cow_type_f64);

/// A vector of `T`. Cloning shares the elements; the first write to a
/// shared vector copies them.
pub struct CowVec<T: Element> {
    raw: NonNull<ffi::cow_vec>,
    _elem: PhantomData<T>,
}

// Element types are Send + Sync; the handle is shared as cow.h allows.
unsafe impl<T: Element> Send for CowVec<T> {}
unsafe impl<T: Element> Sync for CowVec<T> {}

impl<T: Element> CowVec<T> {
    pub fn new() -> Result<Self> {
        let raw = create(|out| unsafe { ffi::cow_vec_new(out, T::cow_type(), std::ptr::null()) })?;
        Ok(Self::wrap(raw))
    }

    /// An empty vector with these options, e.g. a tree:
    /// `CowVec::<u64>::new_with_options(Options::new(Strategy::Structural))`.
    pub fn new_with_options(options: Options) -> Result<Self> {
        let o = options.to_ffi();
        let raw = create(|out| unsafe { ffi::cow_vec_new(out, T::cow_type(), &o) })?;
        Ok(Self::wrap(raw))
    }

    pub fn with_capacity(capacity: usize) -> Result<Self> {
        Self::with_capacity_and_options(capacity, Options::default())
    }

    pub fn with_capacity_and_options(capacity: usize, options: Options) -> Result<Self> {
        let o = options.to_ffi();
        let raw = create(|out| unsafe { ffi::cow_vec_with_capacity(out, T::cow_type(), capacity, &o) })?;
        Ok(Self::wrap(raw))
    }

    pub fn from_slice(items: &[T]) -> Result<Self> {
        Self::with_options(items, Options::default())
    }

    /// A vector holding a copy of `items`, created with `options`.
    pub fn with_options(items: &[T], options: Options) -> Result<Self> {
        let o = options.to_ffi();
        let raw = create(|out| unsafe {
            ffi::cow_vec_from_array(out, T::cow_type(), items.as_ptr() as *const c_void, items.len(), &o)
        })?;
        Ok(Self::wrap(raw))
    }

    fn wrap(raw: NonNull<ffi::cow_vec>) -> Self {
        CowVec { raw, _elem: PhantomData }
    }

    /// Takes over a handle.
    ///
    /// # Safety
    /// `raw` must be a valid `cow_vec` handle of `T::cow_type()` elements
    /// whose reference is given away.
    pub unsafe fn from_raw(raw: NonNull<ffi::cow_vec>) -> Self {
        Self::wrap(raw)
    }

    pub fn into_raw(self) -> NonNull<ffi::cow_vec> {
        let raw = self.raw;
        std::mem::forget(self);
        raw
    }

    pub fn as_raw(&self) -> *const ffi::cow_vec {
        self.raw.as_ptr()
    }

    pub fn try_clone(&self) -> Result<Self> {
        Ok(Self::wrap(clone_handle(self.raw)?))
    }

    pub fn len(&self) -> usize {
        unsafe { ffi::cow_vec_len(self.raw.as_ptr()) }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements as one slice when they are stored contiguously (the
    /// lazy, eager and threshold strategies); `None` for a tree, even an
    /// empty one. `get`, indexing, `iter` and `spans` work for both.
    pub fn as_slice(&self) -> Option<&[T]> {
        self.try_as_slice().ok()
    }

    /// `as_slice` with the status: `Err(Error::NotContiguous)` for a tree.
    pub fn try_as_slice(&self) -> Result<&[T]> {
        let mut data: *const c_void = std::ptr::null();
        check(unsafe { ffi::cow_vec_data(self.raw.as_ptr(), &mut data) })?;
        Ok(unsafe { std::slice::from_raw_parts(data as *const T, self.len()) })
    }

    /// A copy of element `index`; `None` when out of range. Every
    /// representation (O(1) flat, O(log n) for a tree).
    pub fn get(&self, index: usize) -> Option<T> {
        self.get_ref(index).copied()
    }

    /// Element `index` in place, borrowed from the vector; `None` when out
    /// of range. Every representation.
    pub fn get_ref(&self, index: usize) -> Option<&T> {
        let p = unsafe { ffi::cow_vec_get(self.raw.as_ptr(), index) } as *const T;
        // cow_vec_get's pointer lives until the next write, which needs &mut self.
        unsafe { p.as_ref() }
    }

    pub fn first(&self) -> Option<T> {
        self.get(0)
    }

    pub fn last(&self) -> Option<T> {
        self.len().checked_sub(1).and_then(|i| self.get(i))
    }

    /// Iterates the elements in order, span by span (every representation);
    /// never copies.
    pub fn iter(&self) -> VecIter<'_, T> {
        VecIter { spans: self.spans(), span: &[], left: self.len() }
    }

    /// Iterates the elements as contiguous slices (`cow_vec_next_span`): one
    /// for a flat vector, one per leaf for a tree, none when empty; each is
    /// non-empty. Never copies.
    pub fn spans(&self) -> Spans<'_, T> {
        let mut cursor = MaybeUninit::<ffi::cow_vec_cursor>::zeroed();
        check(unsafe { ffi::cow_vec_cursor_init(cursor.as_mut_ptr(), self.raw.as_ptr()) })
            .expect("cow_vec_cursor_init failed");
        Spans { cursor: unsafe { cursor.assume_init() }, _vec: PhantomData }
    }

    /// Iterates the elements from `index` on (`cow_vec_cursor_init_at`):
    /// `index == len()` gives an empty iterator, `Err(Error::OutOfRange)`
    /// when `index > len()`. O(1) to start, plus O(log n) to find the first
    /// leaf of a tree.
    pub fn iter_from(&self, index: usize) -> Result<VecIter<'_, T>> {
        let spans = self.spans_from(index)?;
        Ok(VecIter { spans, span: &[], left: self.len() - index })
    }

    /// The contiguous spans from element `index` on: the first one starts at
    /// `index`. `Err(Error::OutOfRange)` when `index > len()`.
    pub fn spans_from(&self, index: usize) -> Result<Spans<'_, T>> {
        let mut cursor = MaybeUninit::<ffi::cow_vec_cursor>::zeroed();
        check(unsafe { ffi::cow_vec_cursor_init_at(cursor.as_mut_ptr(), self.raw.as_ptr(), index) })?;
        Ok(Spans { cursor: unsafe { cursor.assume_init() }, _vec: PhantomData })
    }

    /// The elements in `range` as a new vector with this one's options (a
    /// value of its own). Flat: copies them, O(len). Tree: shares every node
    /// inside the range, O(log n). `Err(Error::OutOfRange)` when the range
    /// is not inside the vector.
    pub fn slice(&self, range: impl RangeBounds<usize>) -> Result<Self> {
        let start = match range.start_bound() {
            Bound::Included(&s) => s,
            Bound::Excluded(&s) => s.checked_add(1).ok_or(Error::OutOfRange)?,
            Bound::Unbounded => 0,
        };
        let end = match range.end_bound() {
            Bound::Included(&e) => e.checked_add(1).ok_or(Error::OutOfRange)?,
            Bound::Excluded(&e) => e,
            Bound::Unbounded => self.len(),
        };
        let len = end.checked_sub(start).ok_or(Error::OutOfRange)?;
        let raw = create(|out| unsafe { ffi::cow_vec_slice(out, self.raw.as_ptr(), start, len) })?;
        Ok(Self::wrap(raw))
    }

    /// Appends the elements of `other` (borrowed, unchanged). Two trees are
    /// joined sharing the nodes of both, O(log n); otherwise `other`'s
    /// elements are copied. The result keeps this vector's representation.
    pub fn concat(&mut self, other: &CowVec<T>) -> Result<()> {
        edit(&mut self.raw, |s| unsafe { ffi::cow_vec_concat(s, other.raw.as_ptr()) })
    }

    /// Whether both hold equal elements in order by the element
    /// descriptor's equal (`cow_vec_equal`; for floats `+0.0 == -0.0` and
    /// `NaN == NaN`). O(1) for clones; trees skip the subtrees they share.
    pub fn same_elements(&self, other: &CowVec<T>) -> bool {
        unsafe { ffi::cow_vec_equal(self.raw.as_ptr(), other.raw.as_ptr()) }
    }

    /// A 64-bit hash of the length and elements (`cow_vec_hash`),
    /// consistent with `same_elements` whatever the representations; stable
    /// within a process only.
    pub fn elements_hash(&self) -> u64 {
        unsafe { ffi::cow_vec_hash(self.raw.as_ptr()) }
    }

    /// Calls `f` with each maximal range of positions where this vector and
    /// `other` differ (by the descriptor's equal), in ascending order;
    /// positions past the end of the shorter one differ. `f` returns
    /// `ControlFlow::Break(())` to stop the walk. Returns whether it was
    /// stopped. Subtrees both versions share are skipped unread. A panic in
    /// `f` stops the walk and is resumed once libcow has returned.
    pub fn diff<F>(&self, other: &CowVec<T>, f: F) -> Result<bool>
    where
        F: FnMut(Range<usize>) -> ControlFlow<()>,
    {
        struct Call<F> {
            f: F,
            panic: Option<Box<dyn Any + Send>>,
        }
        unsafe extern "C" fn trampoline<F: FnMut(Range<usize>) -> ControlFlow<()>>(
            ctx: *mut c_void,
            offset: usize,
            count: usize,
        ) -> c_int {
            let call = &mut *(ctx as *mut Call<F>);
            match panic::catch_unwind(AssertUnwindSafe(|| (call.f)(offset..offset + count))) {
                Ok(ControlFlow::Continue(())) => 0,
                Ok(ControlFlow::Break(())) => 1,
                Err(payload) => {
                    call.panic = Some(payload);
                    1
                }
            }
        }
        let mut call = Call { f, panic: None };
        let mut stopped = false;
        let status = unsafe {
            ffi::cow_vec_diff(
                self.raw.as_ptr(),
                other.raw.as_ptr(),
                Some(trampoline::<F>),
                &mut call as *mut Call<F> as *mut c_void,
                &mut stopped,
            )
        };
        if let Some(payload) = call.panic.take() {
            panic::resume_unwind(payload);
        }
        check(status)?;
        Ok(stopped)
    }

    /// Every range `diff` reports, collected.
    pub fn diff_ranges(&self, other: &CowVec<T>) -> Result<Vec<Range<usize>>> {
        let mut out = Vec::new();
        self.diff(other, |r| {
            out.push(r);
            ControlFlow::Continue(())
        })?;
        Ok(out)
    }

    /// The elements copied into a `Vec` (every representation).
    pub fn to_vec(&self) -> Vec<T> {
        let mut out = Vec::with_capacity(self.len());
        for span in self.spans() {
            out.extend_from_slice(span);
        }
        out
    }

    /// Makes the vector unique (copying if shared) and gives its elements to
    /// write, when they are contiguous. For a tree: `Err(Error::NotContiguous)`
    /// and nothing changes (write through `get_mut` or `set` instead).
    pub fn make_mut(&mut self) -> Result<&mut [T]> {
        let mut data: *mut c_void = std::ptr::null_mut();
        edit(&mut self.raw, |s| unsafe { ffi::cow_vec_make_mut(s, &mut data) })?;
        Ok(unsafe { std::slice::from_raw_parts_mut(data as *mut T, self.len()) })
    }

    /// Makes the vector unique (generic cow_make_mut): for a tree, only its
    /// root is made private.
    pub fn make_unique(&mut self) -> Result<()> {
        make_unique(&mut self.raw)
    }

    /// Makes the vector unique and gives element `index` to write (every
    /// representation: a tree copies only the shared nodes on its path).
    pub fn get_mut(&mut self, index: usize) -> Result<&mut T> {
        let mut p: *mut c_void = std::ptr::null_mut();
        edit(&mut self.raw, |s| unsafe { ffi::cow_vec_get_mut(s, index, &mut p) })?;
        Ok(unsafe { &mut *(p as *mut T) })
    }

    /// Replaces element `index`, returning the old value.
    pub fn set(&mut self, index: usize, value: T) -> Result<T> {
        let mut old = MaybeUninit::<T>::uninit();
        edit(&mut self.raw, |s| unsafe {
            ffi::cow_vec_set(s, index, &value as *const T as *const c_void, old.as_mut_ptr() as *mut c_void)
        })?;
        Ok(unsafe { old.assume_init() })
    }

    pub fn push(&mut self, value: T) -> Result<()> {
        edit(&mut self.raw, |s| unsafe { ffi::cow_vec_push(s, &value as *const T as *const c_void) })
    }

    /// Removes the last element; `None` when empty.
    pub fn pop(&mut self) -> Result<Option<T>> {
        if self.is_empty() {
            return Ok(None);
        }
        let mut out = MaybeUninit::<T>::uninit();
        edit(&mut self.raw, |s| unsafe { ffi::cow_vec_pop(s, out.as_mut_ptr() as *mut c_void) })?;
        Ok(Some(unsafe { out.assume_init() }))
    }

    pub fn insert(&mut self, index: usize, value: T) -> Result<()> {
        edit(&mut self.raw, |s| unsafe { ffi::cow_vec_insert(s, index, &value as *const T as *const c_void) })
    }

    /// Removes element `index` and returns it.
    pub fn remove(&mut self, index: usize) -> Result<T> {
        let mut out = MaybeUninit::<T>::uninit();
        edit(&mut self.raw, |s| unsafe { ffi::cow_vec_erase(s, index, out.as_mut_ptr() as *mut c_void) })?;
        Ok(unsafe { out.assume_init() })
    }

    pub fn extend_from_slice(&mut self, items: &[T]) -> Result<()> {
        edit(&mut self.raw, |s| unsafe { ffi::cow_vec_extend(s, items.as_ptr() as *const c_void, items.len()) })
    }

    pub fn reserve(&mut self, additional: usize) -> Result<()> {
        edit(&mut self.raw, |s| unsafe { ffi::cow_vec_reserve(s, additional) })
    }

    pub fn clear(&mut self) -> Result<()> {
        edit(&mut self.raw, |s| unsafe { ffi::cow_vec_clear(s) })
    }

    pub fn truncate(&mut self, new_len: usize) -> Result<()> {
        edit(&mut self.raw, |s| unsafe { ffi::cow_vec_truncate(s, new_len) })
    }

    /// Moves the elements into a `Vec` and drops the handle.
    pub fn into_vec(self) -> Result<Vec<T>> {
        let mut raw = self.into_raw().as_ptr();
        let mut owned = ffi::cow_owned { data: std::ptr::null_mut(), len: 0, alloc_size: 0, offset: 0 };
        if let Err(e) = check(unsafe { ffi::cow_vec_into(&mut raw, &mut owned) }) {
            unsafe { ffi::cow_vec_release(raw) };
            return Err(e);
        }
        let v = unsafe { std::slice::from_raw_parts(owned.data as *const T, owned.len) }.to_vec();
        // Plain values: nothing to drop one by one.
        unsafe { ffi::cow_owned_free(&mut owned) };
        Ok(v)
    }
}

impl<T: Element> CowHandle for CowVec<T> {
    fn as_handle_ptr(&self) -> *const c_void {
        self.raw.as_ptr() as *const c_void
    }
}

impl<T: Element> Clone for CowVec<T> {
    /// O(1): shares the elements. Panics only when the reference count is
    /// at its limit (or an eager copy runs out of memory): see `try_clone`.
    fn clone(&self) -> Self {
        self.try_clone().expect("cow_clone failed")
    }
}

impl<T: Element> Drop for CowVec<T> {
    fn drop(&mut self) {
        unsafe { ffi::cow_vec_release(self.raw.as_ptr()) }
    }
}

/// Element `index`; panics when out of range, like a slice. Every
/// representation (through `cow_vec_get`).
impl<T: Element> Index<usize> for CowVec<T> {
    type Output = T;
    fn index(&self, index: usize) -> &T {
        match self.get_ref(index) {
            Some(x) => x,
            None => panic!("index out of bounds: the len is {} but the index is {}", self.len(), index),
        }
    }
}

/// Element-wise `==`; through `cow_vec_equal` when `T::DESCRIPTOR_EQ` (the
/// integers), so clones compare in O(1) and trees skip shared subtrees.
impl<T: Element + PartialEq> PartialEq for CowVec<T> {
    fn eq(&self, other: &Self) -> bool {
        if T::DESCRIPTOR_EQ {
            return self.same_elements(other);
        }
        self.len() == other.len() && self.iter().zip(other.iter()).all(|(a, b)| a == b)
    }
}

impl<T: Element + Eq> Eq for CowVec<T> {}

/// Consistent with `==`: `cow_vec_hash` when `T::DESCRIPTOR_EQ` (equal
/// vectors hash alike whatever their representations), else the length and
/// each element.
impl<T: Element + Eq + Hash> Hash for CowVec<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        if T::DESCRIPTOR_EQ {
            state.write_u64(self.elements_hash());
        } else {
            state.write_usize(self.len());
            for x in self {
                x.hash(state);
            }
        }
    }
}

impl<T: Element + PartialEq> PartialEq<[T]> for CowVec<T> {
    fn eq(&self, other: &[T]) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(a, b)| a == b)
    }
}

impl<T: Element + PartialEq> PartialEq<&[T]> for CowVec<T> {
    fn eq(&self, other: &&[T]) -> bool {
        *self == **other
    }
}

impl<T: Element + PartialEq, const N: usize> PartialEq<[T; N]> for CowVec<T> {
    fn eq(&self, other: &[T; N]) -> bool {
        *self == other[..]
    }
}

impl<T: Element + PartialEq> PartialEq<Vec<T>> for CowVec<T> {
    fn eq(&self, other: &Vec<T>) -> bool {
        *self == other[..]
    }
}

impl<T: Element + fmt::Debug> fmt::Debug for CowVec<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a, T: Element> IntoIterator for &'a CowVec<T> {
    type Item = &'a T;
    type IntoIter = VecIter<'a, T>;
    fn into_iter(self) -> VecIter<'a, T> {
        self.iter()
    }
}

/// Iterator over a vector's contiguous spans (`cow_vec_cursor`); see
/// [`CowVec::spans`].
pub struct Spans<'a, T: Element> {
    cursor: ffi::cow_vec_cursor,
    _vec: PhantomData<&'a CowVec<T>>,
}

impl<'a, T: Element> Iterator for Spans<'a, T> {
    type Item = &'a [T];
    fn next(&mut self) -> Option<&'a [T]> {
        let mut data: *const c_void = std::ptr::null();
        let mut count = 0usize;
        if !unsafe { ffi::cow_vec_next_span(&mut self.cursor, &mut data, &mut count) } {
            return None;
        }
        Some(unsafe { std::slice::from_raw_parts(data as *const T, count) })
    }
}

/// Iterator over a vector's elements, span by span; see [`CowVec::iter`].
pub struct VecIter<'a, T: Element> {
    spans: Spans<'a, T>,
    span: &'a [T],
    left: usize,
}

impl<'a, T: Element> Iterator for VecIter<'a, T> {
    type Item = &'a T;
    fn next(&mut self) -> Option<&'a T> {
        loop {
            if let Some((first, rest)) = self.span.split_first() {
                self.span = rest;
                self.left = self.left.saturating_sub(1);
                return Some(first);
            }
            self.span = self.spans.next()?;
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<T: Element> ExactSizeIterator for VecIter<'_, T> {}
