//! Checkpoint "vector": shared on clone, copied on push/set to a shared
//! vector, pop, iteration, in-place writes when unique.
use libcow::{CowHandle, CowVec, Error, Options, Representation, Strategy};
use std::thread;

#[test]
fn clone_shares_and_push_to_a_shared_vector_copies() {
    let a = CowVec::from_slice(&[1i32, 2, 3]).unwrap();
    let mut b = a.clone();
    assert_eq!(a.strong_count(), 2);
    assert_eq!(a.as_slice().unwrap().as_ptr(), b.as_slice().unwrap().as_ptr());
    b.push(4).unwrap();
    assert_eq!(a, [1, 2, 3]);
    assert_eq!(b, [1, 2, 3, 4]);
    assert!(!a.ptr_eq(&b));
    let s = a.stats();
    assert_eq!((s.clones, s.copies, s.bytes_copied), (1, 1, 12));
}

#[test]
fn set_on_a_shared_vector_copies_and_returns_the_old_value() {
    let a = CowVec::from_slice(&[1.5f64, 2.5]).unwrap();
    let mut b = a.clone();
    assert_eq!(b.set(1, 9.0).unwrap(), 2.5);
    assert_eq!(a, [1.5, 2.5]);
    assert_eq!(b.as_slice(), Some(&[1.5, 9.0][..]));
    assert_eq!(b.set(2, 0.0), Err(Error::OutOfRange));
    assert_eq!(a.stats().copies, 1);
}

#[test]
fn unique_writes_happen_in_place() {
    let mut v = CowVec::<u64>::with_capacity(16).unwrap();
    v.push(1).unwrap();
    let data = v.as_slice().unwrap().as_ptr();
    for i in 2..=10 {
        v.push(i).unwrap();
    }
    v.set(0, 100).unwrap();
    *v.get_mut(1).unwrap() += 100;
    v.make_mut().unwrap()[2] = 300;
    assert_eq!(v.as_slice().unwrap().as_ptr(), data, "a unique vector with room must not move");
    assert_eq!(&v.as_slice().unwrap()[..4], &[100, 102, 300, 4]);
    assert_eq!((v[0], v[3], v.first(), v.last()), (100, 4, Some(100), Some(10)));
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
    assert_eq!(v, [5, 10, 40, 50, 60]);
    assert_eq!(v.remove(1).unwrap(), 10);
    v.truncate(2).unwrap();
    assert_eq!(v, vec![5, 40]);
    assert_eq!(v.remove(2), Err(Error::OutOfRange));
    v.clear().unwrap();
    assert_eq!(v.pop().unwrap(), None);
    assert!(v.is_empty());
    assert_eq!(keep, [10, 20, 30], "the clone never sees the writes");
    assert_eq!(keep.stats().copies, 1, "only the first write copied");
}

#[test]
fn iteration() {
    let v = CowVec::from_slice(&(0..1000i64).collect::<Vec<_>>()).unwrap();
    assert_eq!(v.iter().count(), 1000);
    assert_eq!(v.iter().len(), 1000);
    assert_eq!(v.spans().count(), 1, "a flat vector is one span");
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
    assert_eq!(empty.as_slice(), Some(&[][..]));
    assert_eq!(empty.spans().next(), None);
}

#[test]
fn into_vec_moves_the_elements_out() {
    let v = CowVec::from_slice(&[7u16, 8, 9]).unwrap();
    let shared = v.clone();
    assert_eq!(v.into_vec().unwrap(), vec![7, 8, 9]);
    assert_eq!(shared, [7, 8, 9]);
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

#[test]
#[should_panic(expected = "index out of bounds")]
fn indexing_out_of_range_panics() {
    let v = CowVec::from_slice(&[1u8, 2]).unwrap();
    let _ = v[2];
}

const N: u64 = 10_000;

#[test]
fn a_structural_vector_is_a_tree_read_by_index_and_iteration() {
    let mut v = CowVec::<u64>::new_with_options(Options::new(Strategy::Structural)).unwrap();
    assert_eq!(v.stats().representation, Representation::Tree);
    assert_eq!(v.as_slice(), None, "a tree is not contiguous, even when empty");
    assert_eq!(v.try_as_slice(), Err(Error::NotContiguous));
    assert_eq!(v.spans().next(), None);
    for i in 0..N {
        v.push(i * 3).unwrap();
    }
    assert_eq!(v.len(), N as usize);
    assert_eq!(v.stats().representation, Representation::Tree);

    // By index.
    for i in 0..N {
        assert_eq!(v.get(i as usize), Some(i * 3));
        assert_eq!(v[i as usize], i * 3);
    }
    assert_eq!(v.get(N as usize), None);
    assert_eq!(v.get_ref(N as usize), None);
    assert_eq!((v.first(), v.last()), (Some(0), Some((N - 1) * 3)));

    // By iteration: elements in order, several non-empty spans.
    assert_eq!(v.iter().len(), N as usize);
    assert!(v.iter().copied().eq((0..N).map(|i| i * 3)));
    let spans: Vec<&[u64]> = v.spans().collect();
    assert!(spans.len() > 1, "10,000 u64 fill several leaves, got {} span", spans.len());
    assert!(spans.iter().all(|s| !s.is_empty()));
    assert_eq!(spans.iter().map(|s| s.len()).sum::<usize>(), N as usize);
    assert!(spans.concat().into_iter().eq((0..N).map(|i| i * 3)));
    assert_eq!(v.to_vec(), (0..N).map(|i| i * 3).collect::<Vec<_>>());
    assert_eq!(format!("{:?}", CowVec::from_slice(&[1u64, 2]).unwrap()), "[1, 2]");

    // No contiguous access, and make_mut changes nothing.
    assert_eq!(v.as_slice(), None);
    let shared = v.clone();
    assert_eq!(v.make_mut().err(), Some(Error::NotContiguous));
    assert!(v.ptr_eq(&shared));
    assert_eq!(v.stats().copies, 0);
}

#[test]
fn a_structural_vector_edited_after_a_clone_leaves_the_clone_unchanged() {
    let items: Vec<u64> = (0..N).collect();
    let mut v = CowVec::with_options(&items, Options::new(Strategy::Structural)).unwrap();
    let snapshot = v.clone();
    assert!(v.ptr_eq(&snapshot));

    assert_eq!(v.set(5000, 1).unwrap(), 5000);
    *v.get_mut(0).unwrap() = 7;
    v.push(42).unwrap();
    v.insert(1, 99).unwrap();
    assert_eq!(v.remove(9000).unwrap(), 8999);
    assert_eq!(v.pop().unwrap(), Some(42));
    v.extend_from_slice(&[1, 2, 3]).unwrap();
    assert!(!v.ptr_eq(&snapshot));

    let mut expected = items.clone();
    expected[5000] = 1;
    expected[0] = 7;
    expected.insert(1, 99);
    expected.remove(9000);
    expected.extend_from_slice(&[1, 2, 3]);
    assert_eq!(v, expected);
    assert!(v.iter().copied().eq(expected.iter().copied()));
    assert_eq!(snapshot, items, "the clone never sees the writes");
    assert_eq!(snapshot.as_slice(), None);
    assert_eq!(v.stats().representation, Representation::Tree);
    assert_eq!(snapshot.stats().representation, Representation::Tree);
    assert_eq!(v.into_vec().unwrap(), expected);
    assert_eq!(snapshot.into_vec().unwrap(), items);
}

#[test]
fn structural_vectors_from_every_constructor() {
    let tree = Options::new(Strategy::Structural);
    let mut a = CowVec::<i16>::with_capacity_and_options(64, tree).unwrap();
    assert_eq!(a.as_slice(), None);
    a.extend_from_slice(&[4, 5]).unwrap();
    assert_eq!(a, [4, 5]);
    assert_eq!(a.stats().representation, Representation::Tree);
    let b = CowVec::with_options(&[1i16, 2, 3], tree).unwrap();
    assert_eq!((b.as_slice(), b[2]), (None, 3));
    let flat = CowVec::<i16>::new_with_options(Options::new(Strategy::Lazy)).unwrap();
    assert_eq!(flat.as_slice(), Some(&[][..]));
    assert_eq!(flat.stats().representation, Representation::Flat);
}

#[test]
fn an_adaptive_vector_written_after_every_clone_becomes_a_tree() {
    let values: Vec<u64> = (0..1000).collect();
    let mut cur = CowVec::with_options(&values, Options::new(Strategy::Adaptive(1024))).unwrap();
    assert_eq!(cur.stats().representation, Representation::Flat);
    assert!(cur.as_slice().is_some());
    for round in 1..=2u64 {
        let mut next = cur.clone();
        next.set(0, round).unwrap();
        cur = next;
    }
    let st = cur.stats();
    assert_eq!(st.representation, Representation::Tree);
    assert_eq!(st.switches, 1);
    assert_eq!(cur.as_slice(), None);
    assert_eq!(cur.get(0), Some(2));
    assert!(cur.iter().skip(1).copied().eq(1..1000));
}
