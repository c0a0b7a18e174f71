//! Whole-vector operations: iteration from an index, slice, concat, `==`
//! and `Hash` through cow_vec_equal and cow_vec_hash, and diff, each under
//! a flat (lazy) and a tree (structural) vector, against a plain `Vec`.
use libcow::{CowHandle, CowVec, Error, Options, Representation, Strategy};
use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::ops::{ControlFlow, Range};

const STRATEGIES: [Strategy; 2] = [Strategy::Lazy, Strategy::Structural];

/// 0, 7, 14, ... as a vector with `strategy`, and as a `Vec`.
fn sevens(n: u64, strategy: Strategy) -> (CowVec<u64>, Vec<u64>) {
    let model: Vec<u64> = (0..n).map(|i| 7 * i).collect();
    (CowVec::with_options(&model, Options::new(strategy)).unwrap(), model)
}

fn representation(strategy: Strategy) -> Representation {
    match strategy {
        Strategy::Structural => Representation::Tree,
        _ => Representation::Flat,
    }
}

fn std_hash<T: Hash>(x: &T) -> u64 {
    let mut h = DefaultHasher::new();
    x.hash(&mut h);
    h.finish()
}

/// The maximal ranges where a and b differ, positions past the shorter one
/// included: what diff must report.
fn model_diff(a: &[u64], b: &[u64]) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = Vec::new();
    for i in 0..a.len().max(b.len()) {
        if a.get(i) == b.get(i) {
            continue;
        }
        match out.last_mut() {
            Some(r) if r.end == i => r.end += 1,
            _ => out.push(i..i + 1),
        }
    }
    out
}

#[test]
fn iter_from_and_spans_from_start_at_an_index() {
    for strategy in STRATEGIES {
        let (v, model) = sevens(3000, strategy);
        for start in [0, 1, 1500, 2047, 2999, 3000] {
            let it = v.iter_from(start).unwrap();
            assert_eq!(it.len(), 3000 - start, "{strategy:?} from {start}");
            assert_eq!(it.copied().collect::<Vec<_>>(), model[start..], "{strategy:?} from {start}");
            let spans: Vec<u64> = v.spans_from(start).unwrap().flatten().copied().collect();
            assert_eq!(spans, model[start..], "{strategy:?} spans from {start}");
        }
        assert_eq!(v.spans_from(1234).unwrap().next().unwrap()[0], 7 * 1234);
        assert_eq!(v.iter_from(3001).err(), Some(Error::OutOfRange), "{strategy:?}");
        assert_eq!(v.spans_from(usize::MAX).err(), Some(Error::OutOfRange), "{strategy:?}");
    }
}

#[test]
fn slice_copies_a_range_into_a_value_of_its_own() {
    for strategy in STRATEGIES {
        let (mut v, model) = sevens(5000, strategy);
        let mut mid = v.slice(1000..3500).unwrap();
        assert_eq!(mid, model[1000..3500], "{strategy:?}");
        assert_eq!(mid.stats().representation, representation(strategy));
        assert!(!mid.ptr_eq(&v));
        assert_eq!(v.slice(..).unwrap(), model);
        assert_eq!(v.slice(4990..).unwrap(), model[4990..]);
        assert_eq!(v.slice(..=9).unwrap(), model[..10]);
        assert!(v.slice(5000..5000).unwrap().is_empty());
        assert_eq!(v.slice(5001..5001).err(), Some(Error::OutOfRange), "{strategy:?}");
        assert_eq!(v.slice(4000..5001).err(), Some(Error::OutOfRange), "{strategy:?}");
        #[allow(clippy::reversed_empty_ranges)]
        let backwards = v.slice(10..5);
        assert_eq!(backwards.err(), Some(Error::OutOfRange));
        // Writes to either stay there.
        mid.set(0, 1).unwrap();
        v.set(1001, 2).unwrap();
        assert_eq!((v[1000], v[1001]), (7000, 2), "{strategy:?}");
        assert_eq!((mid[0], mid[1]), (1, 7 * 1001), "{strategy:?}");
    }
}

#[test]
fn concat_appends_across_representations_and_leaves_the_argument_unchanged() {
    for strategy in STRATEGIES {
        for other_strategy in STRATEGIES {
            let (mut a, model_a) = sevens(3000, strategy);
            let (mut b, mut model_b) = sevens(2000, other_strategy);
            b.set(0, 99).unwrap();
            model_b[0] = 99;
            let before = a.clone();
            a.concat(&b).unwrap();
            let want: Vec<u64> = model_a.iter().chain(&model_b).copied().collect();
            assert_eq!(a, want, "{strategy:?} + {other_strategy:?}");
            assert_eq!(b, model_b);
            assert_eq!(before, model_a, "the clone taken before never sees it");
            assert_eq!(a.stats().representation, representation(strategy));
            // A clone of itself: doubled.
            let again = b.clone();
            b.concat(&again).unwrap();
            let doubled: Vec<u64> = model_b.iter().chain(&model_b).copied().collect();
            assert_eq!(b, doubled, "{other_strategy:?} doubled");
            a.concat(&CowVec::new().unwrap()).unwrap();
            assert_eq!(a.len(), 5000);
        }
    }
}

#[test]
fn eq_and_hash_agree_across_representations() {
    for strategy in STRATEGIES {
        let (v, model) = sevens(4000, strategy);
        let flat = CowVec::from_slice(&model).unwrap();
        let tree = CowVec::with_options(&model, Options::new(Strategy::Structural)).unwrap();
        let mut copy = v.clone();
        for same in [&flat, &tree, &copy] {
            assert_eq!(&v, same, "{strategy:?}");
            assert!(v.same_elements(same));
            assert_eq!(v.elements_hash(), same.elements_hash());
            assert_eq!(std_hash(&v), std_hash(same));
        }
        copy.set(3999, 1).unwrap();
        assert_ne!(v, copy, "{strategy:?}");
        assert!(!v.same_elements(&copy));
        assert_ne!(v.elements_hash(), copy.elements_hash());
        copy.set(3999, 7 * 3999).unwrap();
        assert_eq!(v, copy, "{strategy:?}: equal again after the set back");
        assert_eq!(v.elements_hash(), copy.elements_hash());
        copy.pop().unwrap();
        assert_ne!(v, copy, "a prefix is not equal");
        let empty = CowVec::<u64>::new_with_options(Options::new(strategy)).unwrap();
        assert_eq!(empty, CowVec::<u64>::new().unwrap());
        assert_eq!(empty.elements_hash(), CowVec::<u64>::new().unwrap().elements_hash());

        // As keys: a tree finds what a flat vector put in, and the reverse.
        let mut counts: HashMap<CowVec<u64>, u32> = HashMap::new();
        *counts.entry(flat.clone()).or_default() += 1;
        *counts.entry(tree.clone()).or_default() += 1;
        *counts.entry(v.clone()).or_default() += 1;
        *counts.entry(copy.clone()).or_default() += 1;
        assert_eq!(counts.len(), 2, "{strategy:?}");
        assert_eq!(counts[&v], 3);
        assert_eq!(counts[&copy], 1);
        let set: HashSet<CowVec<u64>> = [tree.clone(), flat.clone()].into_iter().collect();
        assert!(set.contains(&v) && set.len() == 1);
    }
}

#[test]
fn float_vectors_compare_by_rust_eq_and_by_the_descriptor_with_same_elements() {
    for strategy in STRATEGIES {
        let a = CowVec::with_options(&[1.0f64, f64::NAN, 0.0], Options::new(strategy)).unwrap();
        let b = CowVec::from_slice(&[1.0f64, f64::NAN, -0.0]).unwrap();
        assert_ne!(a, b, "{strategy:?}: NaN != NaN under PartialEq");
        assert!(a.same_elements(&b), "{strategy:?}: libcow's equal holds NaN == NaN, 0.0 == -0.0");
        assert_eq!(a.elements_hash(), b.elements_hash());
        assert!(a.diff_ranges(&b).unwrap().is_empty());
        let c = CowVec::from_slice(&[1.0f64, 2.0, 0.0]).unwrap();
        assert_eq!(a.diff_ranges(&c).unwrap(), vec![1..2]);
    }
}

#[test]
fn diff_reports_the_ranges_where_two_versions_differ_and_stops() {
    for strategy in STRATEGIES {
        let (a, model_a) = sevens(5000, strategy);
        let mut b = a.clone();
        let mut model_b = model_a.clone();
        for i in [3, 4, 5, 2600, 4998, 4999] {
            b.set(i, 1).unwrap();
            model_b[i] = 1;
        }
        b.extend_from_slice(&[8, 9]).unwrap();
        model_b.extend_from_slice(&[8, 9]);
        let want = model_diff(&model_a, &model_b);
        assert_eq!(want, vec![3..6, 2600..2601, 4998..5002]);
        assert_eq!(a.diff_ranges(&b).unwrap(), want, "{strategy:?}");
        assert_eq!(b.diff_ranges(&a).unwrap(), want, "{strategy:?} reversed");

        // Against the other representation of the same elements.
        let other = match strategy {
            Strategy::Structural => Strategy::Lazy,
            _ => Strategy::Structural,
        };
        let c = CowVec::with_options(&model_b, Options::new(other)).unwrap();
        assert_eq!(a.diff_ranges(&c).unwrap(), want, "{strategy:?} against {other:?}");
        let mut calls = 0;
        assert!(!b.diff(&c, |_| {
            calls += 1;
            ControlFlow::Continue(())
        })
        .unwrap());
        assert_eq!(calls, 0, "equal elements: no range");

        // Break stops after that range and reports it.
        let mut seen = Vec::new();
        let stopped = a
            .diff(&b, |r| {
                seen.push(r);
                if seen.len() == 2 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
            .unwrap();
        assert!(stopped);
        assert_eq!(seen, want[..2]);

        // Against an empty vector every position differs.
        assert_eq!(a.diff_ranges(&CowVec::new().unwrap()).unwrap(), vec![0..5000]);
    }
}

#[test]
fn a_panic_in_the_diff_callback_stops_the_walk_and_reaches_the_caller() {
    for strategy in STRATEGIES {
        let (a, _) = sevens(100, strategy);
        let mut b = a.clone();
        b.set(10, 0).unwrap();
        b.set(50, 0).unwrap();
        let mut calls = 0;
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            a.diff(&b, |_| {
                calls += 1;
                panic!("stop here");
            })
        }));
        let payload = result.expect_err("the panic must reach the caller");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"stop here"));
        assert_eq!(calls, 1, "{strategy:?}: no call after the panic");
        assert_eq!(a.diff_ranges(&b).unwrap(), vec![10..11, 50..51]);
    }
}
