//! `CowMap<K, V>`: a copy-on-write hash map (`cow_map`).
//!
//! A map made with [`Strategy::Structural`](crate::Strategy::Structural) is
//! a persistent hash trie; every call works for both representations, and
//! `==`, `Hash` and `diff` take flat and tree maps alike.
use std::any::Any;
use std::collections::hash_map::DefaultHasher;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::ops::ControlFlow;
use std::os::raw::{c_int, c_void};
use std::panic::{self, AssertUnwindSafe};
use std::ptr::NonNull;

use crate::handle::{clone_handle, edit, make_unique};
use crate::{check, create, ffi, CowHandle, Element, Error, Options, Result};

/// A key type with a built-in libcow descriptor: fixed-size integers, or
/// variable-length `str` (validated UTF-8) and `[u8]` stored inside the map.
///
/// # Safety
/// `key_type()` must describe `Self`; `key_bytes` must give what libcow
/// expects for that type, and `from_raw` must rebuild a reference from it.
pub unsafe trait MapKey: Send + Sync + 'static {
    fn key_type() -> *const ffi::cow_type;
    /// (pointer, length) as cow_map_* take them.
    fn key_bytes(&self) -> (*const c_void, usize);
    /// # Safety
    /// `(ptr, len)` must come from the map for this key type.
    unsafe fn from_raw<'a>(ptr: *const c_void, len: usize) -> &'a Self;
}

macro_rules! fixed_key {
    ($($t:ty => $f:ident),*) => {$(
        unsafe impl MapKey for $t {
            fn key_type() -> *const ffi::cow_type {
                unsafe { ffi::$f() }
            }
            fn key_bytes(&self) -> (*const c_void, usize) {
                (self as *const $t as *const c_void, std::mem::size_of::<$t>())
            }
            unsafe fn from_raw<'a>(ptr: *const c_void, _len: usize) -> &'a Self {
                &*(ptr as *const $t)
            }
        }
    )*};
}
fixed_key!(u8 => cow_type_u8, u16 => cow_type_u16, u32 => cow_type_u32, u64 => cow_type_u64,
           i8 => cow_type_i8, i16 => cow_type_i16, i32 => cow_type_i32, i64 => cow_type_i64);

unsafe impl MapKey for str {
    fn key_type() -> *const ffi::cow_type {
        unsafe { ffi::cow_type_string() }
    }
    fn key_bytes(&self) -> (*const c_void, usize) {
        (self.as_ptr() as *const c_void, self.len())
    }
    unsafe fn from_raw<'a>(ptr: *const c_void, len: usize) -> &'a Self {
        // cow_type_string() keys are validated UTF-8.
        std::str::from_utf8_unchecked(std::slice::from_raw_parts(ptr as *const u8, len))
    }
}

unsafe impl MapKey for [u8] {
    fn key_type() -> *const ffi::cow_type {
        unsafe { ffi::cow_type_bytes() }
    }
    fn key_bytes(&self) -> (*const c_void, usize) {
        (self.as_ptr() as *const c_void, self.len())
    }
    unsafe fn from_raw<'a>(ptr: *const c_void, len: usize) -> &'a Self {
        std::slice::from_raw_parts(ptr as *const u8, len)
    }
}

/// A hash map from `K` (`u64`, `str`, `[u8]`, ...) to plain values `V`.
/// Cloning shares the entries; the first write to a shared map copies them.
/// Iteration order is unspecified.
pub struct CowMap<K: MapKey + ?Sized, V: Element> {
    raw: NonNull<ffi::cow_map>,
    _types: PhantomData<(Box<K>, V)>,
}

unsafe impl<K: MapKey + ?Sized, V: Element> Send for CowMap<K, V> {}
unsafe impl<K: MapKey + ?Sized, V: Element> Sync for CowMap<K, V> {}

impl<K: MapKey + ?Sized, V: Element> CowMap<K, V> {
    pub fn new() -> Result<Self> {
        Self::with_options(Options::default())
    }

    pub fn with_options(options: Options) -> Result<Self> {
        let o = options.to_ffi();
        let raw = create(|out| unsafe { ffi::cow_map_new(out, K::key_type(), V::cow_type(), &o) })?;
        Ok(Self::wrap(raw))
    }

    fn wrap(raw: NonNull<ffi::cow_map>) -> Self {
        CowMap { raw, _types: PhantomData }
    }

    /// Takes over a handle.
    ///
    /// # Safety
    /// `raw` must be a valid `cow_map` handle with `K::key_type()` keys and
    /// `V::cow_type()` values whose reference is given away.
    pub unsafe fn from_raw(raw: NonNull<ffi::cow_map>) -> Self {
        Self::wrap(raw)
    }

    pub fn into_raw(self) -> NonNull<ffi::cow_map> {
        let raw = self.raw;
        std::mem::forget(self);
        raw
    }

    pub fn as_raw(&self) -> *const ffi::cow_map {
        self.raw.as_ptr()
    }

    pub fn try_clone(&self) -> Result<Self> {
        Ok(Self::wrap(clone_handle(self.raw)?))
    }

    pub fn len(&self) -> usize {
        unsafe { ffi::cow_map_len(self.raw.as_ptr()) }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, key: &K) -> Option<V> {
        let (k, n) = key.key_bytes();
        let p = unsafe { ffi::cow_map_get(self.raw.as_ptr(), k, n) } as *const V;
        if p.is_null() {
            None
        } else {
            Some(unsafe { *p })
        }
    }

    pub fn contains_key(&self, key: &K) -> bool {
        let (k, n) = key.key_bytes();
        unsafe { ffi::cow_map_contains(self.raw.as_ptr(), k, n) }
    }

    /// Inserts or replaces; returns the replaced value.
    pub fn insert(&mut self, key: &K, value: V) -> Result<Option<V>> {
        let (k, n) = key.key_bytes();
        let mut old = MaybeUninit::<V>::uninit();
        let mut replaced = false;
        edit(&mut self.raw, |s| unsafe {
            ffi::cow_map_insert(
                s,
                k,
                n,
                &value as *const V as *const c_void,
                old.as_mut_ptr() as *mut c_void,
                &mut replaced,
            )
        })?;
        Ok(if replaced { Some(unsafe { old.assume_init() }) } else { None })
    }

    /// Removes `key`; returns its value, `None` when absent (then nothing
    /// is copied, even when the map is shared).
    pub fn remove(&mut self, key: &K) -> Result<Option<V>> {
        let (k, n) = key.key_bytes();
        let mut out = MaybeUninit::<V>::uninit();
        match edit(&mut self.raw, |s| unsafe { ffi::cow_map_remove(s, k, n, out.as_mut_ptr() as *mut c_void) }) {
            Ok(()) => Ok(Some(unsafe { out.assume_init() })),
            Err(Error::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Makes the map unique and gives the value for `key` to write.
    pub fn get_mut(&mut self, key: &K) -> Result<Option<&mut V>> {
        let (k, n) = key.key_bytes();
        let mut p: *mut c_void = std::ptr::null_mut();
        match edit(&mut self.raw, |s| unsafe { ffi::cow_map_get_mut(s, k, n, &mut p) }) {
            Ok(()) => Ok(Some(unsafe { &mut *(p as *mut V) })),
            Err(Error::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Finds `key`, inserting `init` when it is absent, and gives its value
    /// to write (`cow_map_entry`): one call where `insert` then `get_mut`
    /// would copy a shared map twice (a tree copies one path).
    pub fn entry(&mut self, key: &K, init: V) -> Result<&mut V> {
        let (k, n) = key.key_bytes();
        let mut p: *mut c_void = std::ptr::null_mut();
        edit(&mut self.raw, |s| unsafe {
            ffi::cow_map_entry(s, k, n, &init as *const V as *const c_void, &mut p, std::ptr::null_mut())
        })?;
        Ok(unsafe { &mut *(p as *mut V) })
    }

    pub fn make_unique(&mut self) -> Result<()> {
        make_unique(&mut self.raw)
    }

    pub fn clear(&mut self) -> Result<()> {
        edit(&mut self.raw, |s| unsafe { ffi::cow_map_clear(s) })
    }

    /// Whether both hold the same keys with equal values by the value
    /// descriptor's equal (`cow_map_equal`; for floats `+0.0 == -0.0` and
    /// `NaN == NaN`), whatever the representations. O(1) for clones; two
    /// trees skip the subtrees they share.
    pub fn same_entries(&self, other: &CowMap<K, V>) -> bool {
        unsafe { ffi::cow_map_equal(self.raw.as_ptr(), other.raw.as_ptr()) }
    }

    /// A 64-bit hash of the entries (`cow_map_hash`), independent of their
    /// order and of the representation, consistent with `same_entries`;
    /// stable within a process only.
    pub fn entries_hash(&self) -> u64 {
        unsafe { ffi::cow_map_hash(self.raw.as_ptr()) }
    }

    /// Calls `f` once for each key added (in `other` only), removed (in this
    /// map only) or changed (values differ by the descriptor's equal) from
    /// this map to `other`, in unspecified order. `f` returns
    /// `ControlFlow::Break(())` to stop the walk. Returns whether it was
    /// stopped. Two trees that share structure skip what they share. A
    /// panic in `f` stops the walk and is resumed once libcow has returned.
    pub fn diff<F>(&self, other: &CowMap<K, V>, f: F) -> Result<bool>
    where
        F: FnMut(MapChange<'_, K, V>) -> ControlFlow<()>,
    {
        struct Call<F> {
            f: F,
            panic: Option<Box<dyn Any + Send>>,
        }
        unsafe extern "C" fn trampoline<K, V, F>(
            ctx: *mut c_void,
            kind: ffi::cow_map_change_t,
            key: *const c_void,
            key_len: usize,
            old_value: *const c_void,
            new_value: *const c_void,
        ) -> c_int
        where
            K: MapKey + ?Sized,
            V: Element,
            F: FnMut(MapChange<'_, K, V>) -> ControlFlow<()>,
        {
            let call = &mut *(ctx as *mut Call<F>);
            let key = K::from_raw(key, key_len);
            let change = match kind {
                ffi::COW_MAP_ADDED => MapChange::Added { key, new: *(new_value as *const V) },
                ffi::COW_MAP_REMOVED => MapChange::Removed { key, old: *(old_value as *const V) },
                _ => MapChange::Changed { key, old: *(old_value as *const V), new: *(new_value as *const V) },
            };
            match panic::catch_unwind(AssertUnwindSafe(|| (call.f)(change))) {
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
            ffi::cow_map_diff(
                self.raw.as_ptr(),
                other.raw.as_ptr(),
                Some(trampoline::<K, V, F>),
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

    /// The entries in unspecified order.
    pub fn iter(&self) -> MapIter<'_, K, V> {
        let mut cursor = MaybeUninit::<ffi::cow_map_cursor>::zeroed();
        check(unsafe { ffi::cow_map_cursor_init(cursor.as_mut_ptr(), self.raw.as_ptr()) })
            .expect("cow_map_cursor_init failed");
        MapIter { cursor: unsafe { cursor.assume_init() }, _map: PhantomData }
    }
}

/// One key that differs between two maps, as `CowMap::diff` reports it:
/// the key (borrowed for the call) and the values, copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MapChange<'a, K: ?Sized, V> {
    /// In the other map only.
    Added { key: &'a K, new: V },
    /// In this map only.
    Removed { key: &'a K, old: V },
    /// In both, with values that are not equal.
    Changed { key: &'a K, old: V, new: V },
}

impl<'a, K: ?Sized, V: Copy> MapChange<'a, K, V> {
    pub fn key(&self) -> &'a K {
        match *self {
            MapChange::Added { key, .. } | MapChange::Removed { key, .. } | MapChange::Changed { key, .. } => key,
        }
    }

    /// The value in this map (`None` when added).
    pub fn old_value(&self) -> Option<V> {
        match *self {
            MapChange::Added { .. } => None,
            MapChange::Removed { old, .. } | MapChange::Changed { old, .. } => Some(old),
        }
    }

    /// The value in the other map (`None` when removed).
    pub fn new_value(&self) -> Option<V> {
        match *self {
            MapChange::Removed { .. } => None,
            MapChange::Added { new, .. } | MapChange::Changed { new, .. } => Some(new),
        }
    }
}

/// Same keys with equal values; through `cow_map_equal` when
/// `V::DESCRIPTOR_EQ` (integer values), so clones compare in O(1) and trees
/// skip the subtrees they share. Float values keep Rust's `==`.
impl<K: MapKey + ?Sized, V: Element + PartialEq> PartialEq for CowMap<K, V> {
    fn eq(&self, other: &Self) -> bool {
        if V::DESCRIPTOR_EQ {
            return self.same_entries(other);
        }
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k).map_or(false, |w| w == *v))
    }
}

impl<K: MapKey + ?Sized, V: Element + Eq> Eq for CowMap<K, V> {}

/// Consistent with `==`: `cow_map_hash` when `V::DESCRIPTOR_EQ` (equal maps
/// hash alike whatever their representations), else the length and an
/// order-independent sum of the entries' hashes.
impl<K: MapKey + ?Sized + Hash, V: Element + Eq + Hash> Hash for CowMap<K, V> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        if V::DESCRIPTOR_EQ {
            state.write_u64(self.entries_hash());
        } else {
            let mut sum = 0u64;
            for (k, v) in self {
                let mut h = DefaultHasher::new();
                k.hash(&mut h);
                v.hash(&mut h);
                sum = sum.wrapping_add(h.finish());
            }
            state.write_usize(self.len());
            state.write_u64(sum);
        }
    }
}

impl<K: MapKey + ?Sized, V: Element> CowHandle for CowMap<K, V> {
    fn as_handle_ptr(&self) -> *const c_void {
        self.raw.as_ptr() as *const c_void
    }
}

impl<K: MapKey + ?Sized, V: Element> Clone for CowMap<K, V> {
    /// O(1): shares the entries. Panics only when the reference count is at
    /// its limit (or an eager copy runs out of memory): see `try_clone`.
    fn clone(&self) -> Self {
        self.try_clone().expect("cow_clone failed")
    }
}

impl<K: MapKey + ?Sized, V: Element> Drop for CowMap<K, V> {
    fn drop(&mut self) {
        unsafe { ffi::cow_map_release(self.raw.as_ptr()) }
    }
}

impl<K: MapKey + ?Sized + fmt::Debug, V: Element + fmt::Debug> fmt::Debug for CowMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<'a, K: MapKey + ?Sized, V: Element> IntoIterator for &'a CowMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = MapIter<'a, K, V>;
    fn into_iter(self) -> MapIter<'a, K, V> {
        self.iter()
    }
}

/// Iterator over a map's entries (`cow_map_cursor`); never copies.
pub struct MapIter<'a, K: MapKey + ?Sized, V: Element> {
    cursor: ffi::cow_map_cursor,
    _map: PhantomData<&'a CowMap<K, V>>,
}

impl<'a, K: MapKey + ?Sized, V: Element> Iterator for MapIter<'a, K, V> {
    type Item = (&'a K, &'a V);
    fn next(&mut self) -> Option<(&'a K, &'a V)> {
        let mut key: *const c_void = std::ptr::null();
        let mut key_len = 0usize;
        let mut value: *const c_void = std::ptr::null();
        if !unsafe { ffi::cow_map_next(&mut self.cursor, &mut key, &mut key_len, &mut value) } {
            return None;
        }
        Some(unsafe { (K::from_raw(key, key_len), &*(value as *const V)) })
    }
}
