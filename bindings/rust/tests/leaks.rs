//! One test on its own (libcow's allocator and live counters are process
//! wide): every wrapper releases what it owns, on success and on failure,
//! and the raw FFI can install an allocator.
use libcow::ffi;
use libcow::*;
use std::os::raw::c_void;
use std::sync::atomic::{AtomicUsize, Ordering};

static ALLOCS: AtomicUsize = AtomicUsize::new(0);
static FREES: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" fn counting_malloc(_ctx: *mut c_void, n: usize) -> *mut c_void {
    ALLOCS.fetch_add(1, Ordering::SeqCst);
    std::alloc::alloc(std::alloc::Layout::from_size_align(n, 64).unwrap()) as *mut c_void
}
unsafe extern "C" fn counting_realloc(_ctx: *mut c_void, p: *mut c_void, old: usize, n: usize) -> *mut c_void {
    std::alloc::realloc(p as *mut u8, std::alloc::Layout::from_size_align(old, 64).unwrap(), n) as *mut c_void
}
unsafe extern "C" fn counting_free(_ctx: *mut c_void, p: *mut c_void, n: usize) {
    FREES.fetch_add(1, Ordering::SeqCst);
    std::alloc::dealloc(p as *mut u8, std::alloc::Layout::from_size_align(n, 64).unwrap())
}

fn exercise_everything() {
    let s = CowStr::new("leak check").unwrap();
    let mut t = s.clone();
    t.push_str("!").unwrap();
    let _ = t.substr(0..4).unwrap().into_string().unwrap();
    assert!(t.erase(3..100).is_err());
    let _ = s.stats_report().unwrap();

    let b = CowBuf::new(b"bytes").unwrap();
    let _ = b.slice(1..3).unwrap().into_vec().unwrap();
    let _ = b.clone().into_vec().unwrap();

    let mut v = CowVec::from_slice(&[1u32, 2, 3]).unwrap();
    let w = v.clone();
    v.push(4).unwrap();
    let _ = w.clone().into_vec().unwrap();
    assert!(v.remove(10).is_err());

    let mut tree = CowVec::<u64>::new_with_options(Options::new(Strategy::Structural)).unwrap();
    for i in 0..5000 {
        tree.push(i).unwrap();
    }
    let snapshot = tree.clone();
    tree.set(10, 0).unwrap();
    tree.insert(2500, 1).unwrap();
    assert!(tree.make_mut().is_err());
    let _ = snapshot.clone().into_vec().unwrap();
    let _ = tree.spans().count();

    let mut m = CowMap::<str, u64>::new().unwrap();
    m.insert("a", 1).unwrap();
    let mut n = m.clone();
    n.insert("b", 2).unwrap();
    assert_eq!(n.remove("zzz").unwrap(), None);

    let x = CowBox::new(vec![String::from("boxed"); 3]).unwrap();
    let mut y = x.clone();
    y.make_mut().unwrap().push(String::from("more"));
    let _ = y.into_inner().unwrap();
    let mut z = x.clone();
    assert!(z.update(|_| Err(Error::Busy)).is_err());
}

#[test]
fn nothing_leaks_and_the_allocator_is_replaceable() {
    let start = global_stats();
    exercise_everything();
    let end = global_stats();
    assert_eq!(end, start, "every libcow value and block must be freed");

    let alloc = ffi::cow_allocator {
        size: std::mem::size_of::<ffi::cow_allocator>() as u32,
        reserved: 0,
        ctx: std::ptr::null_mut(),
        malloc_fn: Some(counting_malloc),
        realloc_fn: Some(counting_realloc),
        free_fn: Some(counting_free),
    };
    assert_eq!(unsafe { ffi::cow_set_allocator(&alloc) }, ffi::COW_OK);
    let s = CowStr::new("through my allocator").unwrap();
    assert!(ALLOCS.load(Ordering::SeqCst) > 0);
    assert_eq!(unsafe { ffi::cow_set_allocator(std::ptr::null()) }, ffi::COW_EBUSY, "values are alive");
    drop(s);
    assert_eq!(ALLOCS.load(Ordering::SeqCst), FREES.load(Ordering::SeqCst));
    assert_eq!(unsafe { ffi::cow_set_allocator(std::ptr::null()) }, ffi::COW_OK);
}
