//! Checkpoint "threads": clones and reads from many threads at once, and
//! writers that each get a private copy.
use libcow::{CowBuf, CowHandle, CowStr};
use std::thread;

#[test]
fn ten_threads_cloning() {
    let a = CowStr::new("shared by ten threads").unwrap();
    thread::scope(|s| {
        for _ in 0..10 {
            s.spawn(|| {
                for _ in 0..1000 {
                    let c = a.clone();
                    assert!(c.ptr_eq(&a));
                }
            });
        }
    });
    assert_eq!(a.strong_count(), 1);
    let st = a.stats();
    assert_eq!((st.clones, st.copies), (10_000, 0));
}

#[test]
fn twenty_threads_reading() {
    let a = CowBuf::new(&(0..=255u8).collect::<Vec<_>>()).unwrap();
    let handles: Vec<_> = (0..20)
        .map(|i| {
            let mine = a.clone(); // moved into the thread: Send
            let shared = &a;
            (i, mine, shared)
        })
        .collect();
    thread::scope(|s| {
        for (i, mine, shared) in handles {
            s.spawn(move || {
                for _ in 0..100 {
                    assert_eq!(mine.len(), 256);
                    assert_eq!(mine[i], i as u8);
                    assert_eq!(shared.iter().map(|&b| b as u32).sum::<u32>(), 255 * 128);
                    assert!(mine.ptr_eq(shared));
                }
            });
        }
    });
    assert_eq!(a.strong_count(), 1);
    assert_eq!(a.stats().copies, 0);
}

#[test]
fn ten_threads_writing_get_private_copies() {
    let a = CowStr::new("base").unwrap();
    let results: Vec<CowStr> = thread::scope(|s| {
        let workers: Vec<_> = (0..10)
            .map(|i| {
                let mut mine = a.clone();
                s.spawn(move || {
                    mine.push_str(&format!("-{i}")).unwrap();
                    assert_eq!(mine, format!("base-{i}").as_str());
                    assert!(!mine.is_shared());
                    mine
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    assert_eq!(a, "base");
    assert_eq!(a.strong_count(), 1);
    for (i, r) in results.iter().enumerate() {
        assert_eq!(*r, format!("base-{i}").as_str());
        assert!(!r.ptr_eq(&a));
    }
    let st = a.stats();
    assert_eq!((st.clones, st.copies, st.live_values), (10, 10, 11));
}
