//! Checkpoint "generic": a copy-on-write box for any Clone type; make_mut
//! copies a shared value once, into_inner moves it out.
use libcow::{CowBox, CowHandle, Error};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[derive(Debug)]
struct Counted {
    name: String,
    items: Vec<u32>,
    clones: Arc<AtomicUsize>,
    drops: Arc<AtomicUsize>,
}

impl Clone for Counted {
    fn clone(&self) -> Self {
        self.clones.fetch_add(1, Ordering::SeqCst);
        Counted {
            name: self.name.clone(),
            items: self.items.clone(),
            clones: self.clones.clone(),
            drops: self.drops.clone(),
        }
    }
}
impl PartialEq for Counted {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.items == other.items
    }
}
impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

fn counted(name: &str) -> (Counted, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let clones = Arc::new(AtomicUsize::new(0));
    let drops = Arc::new(AtomicUsize::new(0));
    (Counted { name: name.into(), items: vec![1, 2, 3], clones: clones.clone(), drops: drops.clone() }, clones, drops)
}

#[test]
fn make_mut_copies_a_shared_value_once() {
    let (v, clones, drops) = counted("config");
    let a = CowBox::new(v).unwrap();
    let after_new = clones.load(Ordering::SeqCst);
    let mut b = a.clone();
    assert_eq!(a.strong_count(), 2);
    assert_eq!(clones.load(Ordering::SeqCst), after_new, "cloning the box must not clone the value");
    b.make_mut().unwrap().items.push(4);
    b.make_mut().unwrap().name.push_str("-b");
    assert_eq!(clones.load(Ordering::SeqCst), after_new + 1, "one copy for two writes");
    assert_eq!(a.items, vec![1, 2, 3]);
    assert_eq!(b.items, vec![1, 2, 3, 4]);
    assert_eq!((a.name.as_str(), b.name.as_str()), ("config", "config-b"));
    let before = drops.load(Ordering::SeqCst);
    drop(a);
    drop(b);
    assert_eq!(drops.load(Ordering::SeqCst), before + 2, "libcow drops both values with Drop");
}

#[test]
fn unique_make_mut_edits_in_place() {
    let mut a = CowBox::new([0u64; 8]).unwrap();
    let p = a.get() as *const [u64; 8];
    a.make_mut().unwrap()[3] = 3;
    assert_eq!(a.get() as *const [u64; 8], p);
    assert_eq!(a[3], 3);
    assert_eq!(a.stats().copies, 0);
}

#[test]
fn into_inner_moves_when_unique_and_clones_when_shared() {
    let (v, clones, _drops) = counted("x");
    let a = CowBox::new(v).unwrap();
    let c0 = clones.load(Ordering::SeqCst);
    let b = a.clone();
    let from_shared = b.into_inner().unwrap();
    assert_eq!(clones.load(Ordering::SeqCst), c0 + 1, "a shared box's value is cloned out");
    let from_unique = a.into_inner().unwrap();
    assert_eq!(clones.load(Ordering::SeqCst), c0 + 1, "a unique box's value is moved out");
    assert_eq!(from_shared, from_unique);
}

#[test]
fn update_and_its_failure() {
    let a = CowBox::new(String::from("v1")).unwrap();
    let mut b = a.clone();
    b.update(|s| {
        s.push_str("-edited");
        Ok(())
    })
    .unwrap();
    assert_eq!((a.as_str(), b.as_str()), ("v1", "v1-edited"));

    let mut c = a.clone();
    let r = c.update(|s| {
        s.clear();
        Err(Error::NotFound)
    });
    assert_eq!(r, Err(Error::NotFound));
    assert_eq!(c.as_str(), "v1", "a failed update of a shared box keeps the old value");
    assert!(c.ptr_eq(&a));
}

#[test]
fn a_panicking_clone_fails_the_write_cleanly() {
    #[derive(Debug)]
    struct Grumpy(u32);
    impl Clone for Grumpy {
        fn clone(&self) -> Self {
            panic!("no clone today");
        }
    }
    let a = CowBox::new(Grumpy(1)).map(|b| b.0).unwrap_err();
    // cow_box_new copies the value in, so even creating one fails.
    assert_eq!(a, Error::Callback);
}

#[test]
fn boxes_cross_threads() {
    let a = CowBox::new(vec![0u8; 64]).unwrap();
    std::thread::scope(|s| {
        for i in 0..10u8 {
            let mut mine = a.clone();
            s.spawn(move || {
                mine.make_mut().unwrap()[0] = i;
                assert_eq!(mine[0], i);
            });
        }
    });
    assert_eq!(a[0], 0);
    assert_eq!(a.stats().copies, 10);
}

// Zero-sized and over-aligned types are boxes too (libcow wants a size that
// is a multiple of the alignment, at least one byte).
#[derive(Clone, Debug, PartialEq)]
#[repr(align(8))]
struct Marker;

#[test]
fn zero_sized_values_box() {
    let unit = CowBox::new(()).expect("box of ()");
    assert_eq!(*unit.get(), ());
    let mut marker = CowBox::new(Marker).expect("box of an aligned zero-sized type");
    let other = marker.clone();
    marker.update(|_| Ok(())).expect("update");
    assert_eq!(*other.get(), Marker);
}

#[test]
fn an_update_that_fails_with_any_error_fails() {
    let mut b = CowBox::new(1u32).expect("box");
    let r = b.update(|v| {
        *v = 2;
        Err(Error::Unknown(0))
    });
    assert!(r.is_err());
}
