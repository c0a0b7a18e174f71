//! Checkpoint "map": insert/remove/contains/iteration, copy on the first
//! write to a shared map, u64 and string keys.
use libcow::{CowHandle, CowMap};
use std::collections::BTreeMap;

#[test]
fn insert_get_contains_remove() {
    let mut m = CowMap::<u64, f64>::new().unwrap();
    assert_eq!(m.insert(&1, 1.5).unwrap(), None);
    assert_eq!(m.insert(&2, 2.5).unwrap(), None);
    assert_eq!(m.insert(&1, 10.0).unwrap(), Some(1.5));
    assert_eq!(m.len(), 2);
    assert_eq!(m.get(&1), Some(10.0));
    assert!(m.contains_key(&2));
    assert!(!m.contains_key(&3));
    assert_eq!(m.remove(&2).unwrap(), Some(2.5));
    assert_eq!(m.remove(&2).unwrap(), None);
    assert_eq!(m.len(), 1);
    *m.get_mut(&1).unwrap().unwrap() += 1.0;
    assert_eq!(m.get(&1), Some(11.0));
    assert!(m.get_mut(&99).unwrap().is_none());
    m.clear().unwrap();
    assert!(m.is_empty());
}

#[test]
fn string_keys() {
    let mut m = CowMap::<str, i32>::new().unwrap();
    for (i, w) in ["alpha", "beta", "gamma", ""].iter().enumerate() {
        m.insert(w, i as i32).unwrap();
    }
    assert_eq!(m.get("gamma"), Some(2));
    assert_eq!(m.get(""), Some(3));
    assert_eq!(m.get("delta"), None);
    let collected: BTreeMap<String, i32> = m.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    let expected: BTreeMap<String, i32> =
        [("alpha", 0), ("beta", 1), ("gamma", 2), ("", 3)].iter().map(|(k, v)| (k.to_string(), *v)).collect();
    assert_eq!(collected, expected);

    let mut raw = CowMap::<[u8], u8>::new().unwrap();
    raw.insert(&[0xff, 0x00][..], 1).unwrap(); // not UTF-8: fine for byte keys
    assert_eq!(raw.get(&[0xff, 0x00][..]), Some(1));
}

#[test]
fn write_to_a_shared_map_copies_and_the_other_is_unchanged() {
    let mut a = CowMap::<u64, u64>::new().unwrap();
    for k in 0..100 {
        a.insert(&k, k * k).unwrap();
    }
    let mut b = a.clone();
    assert!(a.ptr_eq(&b));
    assert_eq!(b.remove(&1000).unwrap(), None);
    assert!(a.ptr_eq(&b), "removing an absent key must not copy");
    b.insert(&5, 0).unwrap();
    b.remove(&6).unwrap();
    assert!(!a.ptr_eq(&b));
    assert_eq!(a.get(&5), Some(25));
    assert_eq!(a.get(&6), Some(36));
    assert_eq!(b.get(&5), Some(0));
    assert_eq!(b.get(&6), None);
    assert_eq!((a.len(), b.len()), (100, 99));
    assert_eq!(a.stats().copies, 1);
}

#[test]
fn iteration_visits_every_entry_once() {
    let mut m = CowMap::<i32, i32>::new().unwrap();
    for k in -50..50 {
        m.insert(&k, -k).unwrap();
    }
    let mut seen = [false; 100];
    for (k, v) in &m {
        assert_eq!(*v, -*k);
        let i = (*k + 50) as usize;
        assert!(!seen[i], "key {k} seen twice");
        seen[i] = true;
    }
    assert!(seen.iter().all(|&s| s));
}
