//! Whole-map operations: `==` and `Hash` through cow_map_equal and
//! cow_map_hash, diff, and entry, each under a flat (lazy) and a tree
//! (structural) map, against a plain `BTreeMap`.
use libcow::{CowHandle, CowMap, MapChange, Options, Representation, Strategy};
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashSet};
use std::hash::{Hash, Hasher};
use std::ops::ControlFlow;

const STRATEGIES: [Strategy; 2] = [Strategy::Lazy, Strategy::Structural];

fn other(strategy: Strategy) -> Strategy {
    match strategy {
        Strategy::Structural => Strategy::Lazy,
        _ => Strategy::Structural,
    }
}

fn std_hash<T: Hash>(x: &T) -> u64 {
    let mut h = DefaultHasher::new();
    x.hash(&mut h);
    h.finish()
}

fn map_from(model: &BTreeMap<u64, u64>, strategy: Strategy) -> CowMap<u64, u64> {
    let mut m = CowMap::with_options(Options::new(strategy)).unwrap();
    for (k, v) in model {
        m.insert(k, *v).unwrap();
    }
    m
}

/// A change with its key copied: (key, old, new).
type Seen = (u64, Option<u64>, Option<u64>);

/// What diff(a -> b) must report, by key.
fn model_diff(a: &BTreeMap<u64, u64>, b: &BTreeMap<u64, u64>) -> Vec<Seen> {
    let mut out = Vec::new();
    for (k, v) in a {
        match b.get(k) {
            None => out.push((*k, Some(*v), None)),
            Some(w) if w != v => out.push((*k, Some(*v), Some(*w))),
            _ => {}
        }
    }
    for (k, w) in b {
        if !a.contains_key(k) {
            out.push((*k, None, Some(*w)));
        }
    }
    out.sort();
    out
}

/// Every change diff(a -> b) reports, sorted by key; checks that each
/// variant carries what it should.
fn diff(a: &CowMap<u64, u64>, b: &CowMap<u64, u64>) -> Vec<Seen> {
    let mut out = Vec::new();
    let stopped = a
        .diff(b, |c| {
            match c {
                MapChange::Added { .. } => assert!(c.old_value().is_none() && c.new_value().is_some()),
                MapChange::Removed { .. } => assert!(c.old_value().is_some() && c.new_value().is_none()),
                MapChange::Changed { old, new, .. } => assert_ne!(old, new),
            }
            out.push((*c.key(), c.old_value(), c.new_value()));
            ControlFlow::Continue(())
        })
        .unwrap();
    assert!(!stopped);
    out.sort();
    out
}

#[test]
fn eq_hash_and_diff_against_a_btreemap() {
    for strategy in STRATEGIES {
        let model_a: BTreeMap<u64, u64> = (0..3000).map(|k| (k * 11, k)).collect();
        let a = map_from(&model_a, strategy);
        let rep = if strategy == Strategy::Structural { Representation::Tree } else { Representation::Flat };
        assert_eq!(a.stats().representation, rep);
        let mut b = a.clone();
        assert_eq!(a, b);
        assert_eq!(a.entries_hash(), b.entries_hash());
        assert!(diff(&a, &b).is_empty(), "{strategy:?}");

        let mut model_b = model_a.clone();
        for k in [5u64, 100_001, 7] {
            b.insert(&k, k + 1).unwrap();
            model_b.insert(k, k + 1);
        }
        for k in [0u64, 11 * 2999] {
            assert!(b.remove(&k).unwrap().is_some());
            model_b.remove(&k);
        }
        for k in [11u64, 11 * 1500, 11 * 2998] {
            *b.get_mut(&k).unwrap().unwrap() = 999_999;
            model_b.insert(k, 999_999);
        }
        b.insert(&22, 2).unwrap(); // the same value: not a change
        let want = model_diff(&model_a, &model_b);
        assert_eq!(want.len(), 8);
        assert_ne!(a, b, "{strategy:?}");
        assert_ne!(a.entries_hash(), b.entries_hash());
        assert_eq!(diff(&a, &b), want, "{strategy:?}");
        assert_eq!(diff(&b, &a), model_diff(&model_b, &model_a), "{strategy:?}");

        // The same entries in the other representation.
        let c = map_from(&model_b, other(strategy));
        assert_eq!(b, c, "{strategy:?}");
        assert!(b.same_entries(&c));
        assert_eq!(b.entries_hash(), c.entries_hash());
        assert_eq!(std_hash(&b), std_hash(&c));
        assert!(diff(&b, &c).is_empty());
        assert_eq!(diff(&a, &c), want, "{strategy:?}");
        let set: HashSet<CowMap<u64, u64>> = [a.clone(), b.clone(), c.clone()].into_iter().collect();
        assert_eq!(set.len(), 2);

        // Break stops after that change.
        let mut calls = 0;
        assert!(a
            .diff(&c, |_| {
                calls += 1;
                if calls == 2 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
            .unwrap());
        assert_eq!(calls, 2);

        // Against an empty map every key is added.
        let empty = CowMap::<u64, u64>::with_options(Options::new(strategy)).unwrap();
        assert_eq!(diff(&empty, &a), model_diff(&BTreeMap::new(), &model_a));
        assert_ne!(empty, a);
        assert_eq!(empty, CowMap::new().unwrap());
        assert_eq!(empty.entries_hash(), CowMap::<u64, u64>::new().unwrap().entries_hash());
    }
}

#[test]
fn a_panic_in_diff_stops_the_walk_and_is_resumed() {
    for strategy in STRATEGIES {
        let model: BTreeMap<u64, u64> = (0..100).map(|k| (k, k)).collect();
        let a = map_from(&model, strategy);
        let b = CowMap::<u64, u64>::new().unwrap();
        let mut calls = 0;
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            a.diff(&b, |_| {
                calls += 1;
                panic!("stop");
            })
        }));
        assert!(r.is_err());
        assert_eq!(calls, 1);
    }
}

#[test]
fn string_keys_diff_borrowed_keys() {
    for strategy in STRATEGIES {
        let mut a = CowMap::<str, i32>::with_options(Options::new(strategy)).unwrap();
        for (i, w) in ["alpha", "beta", "gamma", "a key longer than thirty-two bytes, stored apart"].iter().enumerate() {
            a.insert(w, i as i32).unwrap();
        }
        let mut b = a.clone();
        b.insert("delta", 9).unwrap();
        b.remove("beta").unwrap();
        *b.entry("a key longer than thirty-two bytes, stored apart", 0).unwrap() += 10;
        let mut got: Vec<(String, Option<i32>, Option<i32>)> = Vec::new();
        a.diff(&b, |c| {
            got.push((c.key().to_string(), c.old_value(), c.new_value()));
            ControlFlow::Continue(())
        })
        .unwrap();
        got.sort();
        assert_eq!(
            got,
            vec![
                ("a key longer than thirty-two bytes, stored apart".to_string(), Some(3), Some(13)),
                ("beta".to_string(), Some(1), None),
                ("delta".to_string(), None, Some(9)),
            ],
            "{strategy:?}"
        );
    }
}

#[test]
fn entry_inserts_then_finds_and_copies_a_shared_map_once() {
    for strategy in STRATEGIES {
        let mut counts = CowMap::<str, u64>::with_options(Options::new(strategy)).unwrap();
        for w in ["a", "b", "a", "c", "a", "b"] {
            *counts.entry(w, 0).unwrap() += 1;
        }
        assert_eq!(counts.len(), 3);
        assert_eq!((counts.get("a"), counts.get("b"), counts.get("c")), (Some(3), Some(2), Some(1)));

        let before = counts.clone();
        let d = counts.entry("d", 40).unwrap(); // inserted into a copy
        assert_eq!(*d, 40);
        *d += 2;
        assert_eq!(counts.get("d"), Some(42));
        assert!(!before.contains_key("d"));
        assert_eq!(before.stats().copies, 1);
        assert_eq!(*counts.entry("d", 0).unwrap(), 42); // found: init unused
        assert_eq!((counts.len(), before.len()), (4, 3));
        assert_eq!(before.stats().copies, 1);

        // A plain model gives the same entries.
        let mut model: BTreeMap<u64, u64> = BTreeMap::new();
        let mut m = CowMap::<u64, u64>::with_options(Options::new(strategy)).unwrap();
        for i in 0..2000u64 {
            let k = (i * 7919) % 500;
            *model.entry(k).or_insert(1000) += i;
            *m.entry(&k, 1000).unwrap() += i;
        }
        assert_eq!(m, map_from(&model, other(strategy)));
        let got: BTreeMap<u64, u64> = m.iter().map(|(k, v)| (*k, *v)).collect();
        assert_eq!(got, model);
    }
}

#[test]
fn float_values_keep_rusts_eq() {
    let mut a = CowMap::<u32, f64>::new().unwrap();
    a.insert(&1, f64::NAN).unwrap();
    let b = a.clone();
    assert!(a.same_entries(&b)); // libcow: NaN == NaN
    assert_ne!(a, b); // Rust: NaN != NaN
    a.insert(&1, 0.0).unwrap();
    let mut c = CowMap::<u32, f64>::new().unwrap();
    c.insert(&1, -0.0).unwrap();
    assert_eq!(a, c);
    assert!(a.same_entries(&c));
    assert_eq!(a.entries_hash(), c.entries_hash());
}
