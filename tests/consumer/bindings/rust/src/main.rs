//! A program outside the libcow repository, using the `libcow` crate by a
//! path dependency. Exits non-zero when a check fails.
use libcow::{CowHandle, CowMap, CowStr, CowVec, Representation};
use std::process::exit;

fn check(ok: bool, what: &str) {
    if !ok {
        eprintln!("rust consumer: check failed: {what}");
        exit(1);
    }
}

fn main() -> Result<(), libcow::Error> {
    check(libcow::version() == 200, "the loaded libcow is 0.2.0");
    let a = CowStr::new("hello")?;
    let mut b = a.clone();
    check(a.ptr_eq(&b) && a.strong_count() == 2, "a clone shares the text");
    b.push_str(", world")?;
    check(!a.ptr_eq(&b), "a write to a shared value copies");
    check((&*a, &*b) == ("hello", "hello, world"), "both texts");

    let mut v = CowVec::from_slice(&[1u64, 2, 3])?;
    let w = v.clone();
    v.push(4)?;
    check(v == [1, 2, 3, 4] && w == [1, 2, 3], "vector and its snapshot");

    let mut m = CowMap::<str, u32>::new()?;
    m.insert("one", 1)?;
    let snapshot = m.clone();
    m.insert("two", 2)?;
    check(m.len() == 2 && snapshot.len() == 1 && snapshot.get("two").is_none(), "map and its snapshot");

    let s = a.stats();
    check(s.clones == 1 && s.copies == 1, "lineage statistics");
    check(s.representation == Representation::Flat, "flat representation");
    let report = a.stats_report()?;
    check(report.lines().next() == Some("Clones: 1"), "text report");
    println!("rust consumer: ok ({} {})", &*b, libcow::version_string());
    Ok(())
}
