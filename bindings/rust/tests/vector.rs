//! Checkpoint "vector": shared on clone, copied on push/set to a shared
//! vector, pop, iteration, in-place writes when unique.
use libcow::{CowHandle, CowVec, Error};
use std::thread;

#[test]
fn clone_shares_and_push_to_a_shared_vector_copies() {
    let a = CowVec::from_slice(&[1i32, 2, 3]).unwrap();
    let mut b = a.clone();
    assert_eq!(a.strong_count(), 2);
    assert_eq!(a.as_ptr(), b.as_ptr());
    b.push(4).unwrap();
    assert_eq!(&*a, &[1, 2, 3]);
    assert_eq!(&*b, &[1, 2, 3, 4]);
    assert!(!a.ptr_eq(&b));
    let s = a.stats();
    assert_eq!((s.clones, s.copies, s.bytes_copied), (1, 1, 12));
}

#[test]
fn set_on_a_shared_vector_copies_and_returns_the_old_value() {
    let a = CowVec::from_slice(&[1.5f64, 2.5]).unwrap();
    let mut b = a.clone();
    assert_eq!(b.set(1, 9.0).unwrap(), 2.5);
    assert_eq!(&*a, &[1.5, 2.5]);
    assert_eq!(&*b, &[1.5, 9.0]);
    assert_eq!(b.set(2, 0.0), Err(Error::OutOfRange));
    assert_eq!(a.stats().copies, 1);
}

#[test]
fn unique_writes_happen_in_place() {
    let mut v = CowVec::<u64>::with_capacity(16).unwrap();
    v.push(1).unwrap();
    let data = v.as_ptr();
    for i in 2..=10 {
        v.push(i).unwrap();
    }
    v.set(0, 100).unwrap();
    *v.get_mut(1).unwrap() += 100;
    v.make_mut().unwrap()[2] = 300;
    assert_eq!(v.as_ptr(), data, "a unique vector with room must not move");
    assert_eq!(&v[..4], &[100, 102, 300, 4]);
    assert_eq!(v.stats().copies, 0);
}

#[test]
fn pop_insert_remove_truncate_clear() {
    let mut v = CowVec::from_slice(&[10u8, 20, 30]).unwrap();
    let keep = v.clone();
    assert_eq!(v.pop().unwrap(), Some(30));
    assert_eq!(v.pop().unwrap(), Some(20));
    v.insert(0, 5).unwrap();
    v.extend_from_slice(&[40, 50, 60]).unwrap();
    assert_eq!(&*v, &[5, 10, 40, 50, 60]);
    assert_eq!(v.remove(1).unwrap(), 10);
    v.truncate(2).unwrap();
    assert_eq!(&*v, &[5, 40]);
    assert_eq!(v.remove(2), Err(Error::OutOfRange));
    v.clear().unwrap();
    assert_eq!(v.pop().unwrap(), None);
    assert!(v.is_empty());
    assert_eq!(&*keep, &[10, 20, 30], "the clone never sees the writes");
    assert_eq!(keep.stats().copies, 1, "only the first write copied");
}

#[test]
fn iteration() {
    let v = CowVec::from_slice(&(0..1000i64).collect::<Vec<_>>()).unwrap();
    assert_eq!(v.iter().count(), 1000);
    assert_eq!(v.iter().sum::<i64>(), 999 * 1000 / 2);
    let mut n = 0;
    for (i, x) in (&v).into_iter().enumerate() {
        assert_eq!(*x, i as i64);
        n += 1;
    }
    assert_eq!(n, 1000);
    assert_eq!(v.get(999), Some(999));
    assert_eq!(v.get(1000), None);
    let empty = CowVec::<f32>::new().unwrap();
    assert_eq!(empty.iter().next(), None);
    assert_eq!(empty.len(), 0);
    let mut data: *const std::os::raw::c_void = std::ptr::null();
    assert_eq!(unsafe { libcow::ffi::cow_vec_data(empty.as_raw(), &mut data) }, 0);
    assert!(!data.is_null(), "an empty vector still gives a data pointer");
}

#[test]
fn into_vec_moves_the_elements_out() {
    let v = CowVec::from_slice(&[7u16, 8, 9]).unwrap();
    let shared = v.clone();
    assert_eq!(v.into_vec().unwrap(), vec![7, 8, 9]);
    assert_eq!(&*shared, &[7, 8, 9]);
    assert_eq!(shared.strong_count(), 1);
}

#[test]
fn threads_clone_read_and_write_vectors() {
    let a = CowVec::from_slice(&[1u32; 100]).unwrap();
    let results: Vec<CowVec<u32>> = thread::scope(|s| {
        let writers: Vec<_> = (0..10)
            .map(|i| {
                let mut mine = a.clone();
                let shared = &a;
                s.spawn(move || {
                    assert_eq!(shared.iter().sum::<u32>(), 100);
                    mine.push(i).unwrap();
                    mine
                })
            })
            .collect();
        writers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r.len(), 101);
        assert_eq!(r.get(100), Some(i as u32));
    }
    assert_eq!(a.len(), 100);
    assert_eq!(a.stats().copies, 10);
}
