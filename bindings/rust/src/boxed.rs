//! `CowBox<T>`: one copy-on-write value of any `Clone` type (`cow_box`), a
//! generic `Cow<T>` shared through libcow.
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::mem::{self, MaybeUninit};
use std::ops::Deref;
use std::os::raw::c_void;
use std::panic::{self, AssertUnwindSafe};
use std::ptr::{self, NonNull};
use std::sync::Mutex;

use crate::handle::{clone_handle, edit, make_unique};
use crate::{check, create, ffi, CowHandle, Error, Options, Result};

/// One value of `T` behind a libcow handle. Cloning the box shares the
/// value; the first write to a shared box clones it with `T::clone` (called
/// by libcow through the type's copy callback), and libcow drops it with
/// `T`'s `Drop`. Values are moved with memcpy, which is how Rust moves.
pub struct CowBox<T: Clone + 'static> {
    raw: NonNull<ffi::cow_box>,
    _value: PhantomData<T>,
}

// Like Arc<T>: other threads read the value and may drop or clone it.
unsafe impl<T: Clone + Send + Sync + 'static> Send for CowBox<T> {}
unsafe impl<T: Clone + Send + Sync + 'static> Sync for CowBox<T> {}

// cow.h: a cow_type must outlive every value using it. One descriptor per
// Rust type, made on first use and kept for the life of the process.
static TYPES: Mutex<Option<HashMap<TypeId, usize>>> = Mutex::new(None);

fn type_of<T: Clone + 'static>() -> *const ffi::cow_type {
    let mut types = TYPES.lock().unwrap_or_else(|e| e.into_inner());
    let addr = *types.get_or_insert_with(HashMap::new).entry(TypeId::of::<T>()).or_insert_with(|| {
        let mut t = MaybeUninit::<ffi::cow_type>::zeroed();
        // libcow wants a size of at least one byte that is a multiple of the
        // alignment: a zero-sized T occupies `align` unused bytes.
        let align = mem::align_of::<T>();
        unsafe { ffi::cow_type_init(t.as_mut_ptr(), mem::size_of::<T>().max(align), align) };
        let mut t = unsafe { t.assume_init() };
        t.copy = Some(copy_value::<T>);
        t.drop = Some(drop_value::<T>);
        // A byte literal, not c"...": that needs Rust 1.77 and Debian 12 has 1.63.
        t.name = b"rust CowBox value\0".as_ptr() as *const _;
        Box::into_raw(Box::new(t)) as usize
    });
    addr as *const ffi::cow_type
}

// A panicking Clone must not unwind into C: it fails the copy instead
// (the write then returns Error::Callback and changes nothing).
unsafe extern "C" fn copy_value<T: Clone>(_ctx: *mut c_void, dst: *mut c_void, src: *const c_void) -> ffi::cow_status {
    match panic::catch_unwind(AssertUnwindSafe(|| (*(src as *const T)).clone())) {
        Ok(v) => {
            ptr::write(dst as *mut T, v);
            ffi::COW_OK
        }
        Err(_) => ffi::COW_ECALLBACK,
    }
}

unsafe extern "C" fn drop_value<T>(_ctx: *mut c_void, value: *mut c_void) {
    if panic::catch_unwind(AssertUnwindSafe(|| ptr::drop_in_place(value as *mut T))).is_err() {
        // Unwinding through C is undefined; a panicking Drop ends the process.
        std::process::abort();
    }
}

impl<T: Clone + 'static> CowBox<T> {
    pub fn new(value: T) -> Result<Self> {
        Self::with_options(value, Options::default())
    }

    pub fn with_options(value: T, options: Options) -> Result<Self> {
        let o = options.to_ffi();
        // cow_box_new copies the value in (one T::clone); ours is then dropped.
        let raw =
            create(|out| unsafe { ffi::cow_box_new(out, type_of::<T>(), &value as *const T as *const c_void, &o) })?;
        Ok(CowBox { raw, _value: PhantomData })
    }

    pub fn as_raw(&self) -> *const ffi::cow_box {
        self.raw.as_ptr()
    }

    pub fn try_clone(&self) -> Result<Self> {
        Ok(CowBox { raw: clone_handle(self.raw)?, _value: PhantomData })
    }

    pub fn get(&self) -> &T {
        unsafe { &*(ffi::cow_box_get(self.raw.as_ptr()) as *const T) }
    }

    /// Makes the box unique (cloning the value if shared) and gives it.
    pub fn make_mut(&mut self) -> Result<&mut T> {
        let mut p: *mut c_void = ptr::null_mut();
        edit(&mut self.raw, |s| unsafe { ffi::cow_box_make_mut(s, &mut p) })?;
        Ok(unsafe { &mut *(p as *mut T) })
    }

    pub fn make_unique(&mut self) -> Result<()> {
        make_unique(&mut self.raw)
    }

    /// Edits a unique value with `f` (cow_box_update). When `f` fails on a
    /// shared box, the copy made for it is discarded and the box keeps its
    /// old value; a panic in `f` is resumed after libcow returns.
    pub fn update<F>(&mut self, f: F) -> Result<()>
    where
        F: FnOnce(&mut T) -> Result<()>,
    {
        struct Call<T, F> {
            f: Option<F>,
            error: Option<Error>,
            panic: Option<Box<dyn Any + Send>>,
            _t: PhantomData<T>,
        }
        unsafe extern "C" fn trampoline<T, F: FnOnce(&mut T) -> Result<()>>(
            ctx: *mut c_void,
            value: *mut c_void,
        ) -> ffi::cow_status {
            let call = &mut *(ctx as *mut Call<T, F>);
            let f = call.f.take().expect("update callback called twice");
            match panic::catch_unwind(AssertUnwindSafe(|| f(&mut *(value as *mut T)))) {
                Ok(Ok(())) => ffi::COW_OK,
                Ok(Err(e)) => {
                    call.error = Some(e);
                    // Whatever the error says, the update must fail.
                    match e.status() {
                        ffi::COW_OK => ffi::COW_ECALLBACK,
                        s => s,
                    }
                }
                Err(payload) => {
                    call.panic = Some(payload);
                    ffi::COW_ECALLBACK
                }
            }
        }
        let mut call = Call::<T, F> { f: Some(f), error: None, panic: None, _t: PhantomData };
        let ctx = &mut call as *mut Call<T, F> as *mut c_void;
        let result = edit(&mut self.raw, |s| unsafe { ffi::cow_box_update(s, Some(trampoline::<T, F>), ctx) });
        if let Some(payload) = call.panic.take() {
            panic::resume_unwind(payload);
        }
        match (result, call.error) {
            (Err(_), Some(e)) => Err(e),
            (r, _) => r,
        }
    }

    /// Moves the value out (no copy when unique; a shared box's value is
    /// cloned) and drops the handle.
    pub fn into_inner(self) -> Result<T> {
        let mut raw = self.raw.as_ptr();
        mem::forget(self);
        let mut out = MaybeUninit::<T>::uninit();
        if let Err(e) = check(unsafe { ffi::cow_box_into(&mut raw, out.as_mut_ptr() as *mut c_void) }) {
            unsafe { ffi::cow_box_release(raw) };
            return Err(e);
        }
        Ok(unsafe { out.assume_init() })
    }
}

impl<T: Clone + 'static> CowHandle for CowBox<T> {
    fn as_handle_ptr(&self) -> *const c_void {
        self.raw.as_ptr() as *const c_void
    }
}

impl<T: Clone + 'static> Clone for CowBox<T> {
    /// O(1): shares the value. Panics only when the reference count is at
    /// its limit (or an eager copy fails): see `try_clone`.
    fn clone(&self) -> Self {
        self.try_clone().expect("cow_clone failed")
    }
}

impl<T: Clone + 'static> Drop for CowBox<T> {
    fn drop(&mut self) {
        unsafe { ffi::cow_box_release(self.raw.as_ptr()) }
    }
}

impl<T: Clone + 'static> Deref for CowBox<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.get()
    }
}

impl<T: Clone + PartialEq + 'static> PartialEq for CowBox<T> {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl<T: Clone + fmt::Debug + 'static> fmt::Debug for CowBox<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CowBox").field(self.get()).finish()
    }
}
