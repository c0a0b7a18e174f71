//! Checkpoint "stats": lineage counters, copy rate and the text report.
use libcow::{CowBuf, CowHandle, CowStr, Options, Strategy};

#[test]
fn clones_copies_and_copy_rate() {
    let text = "x".repeat(1000);
    let a = CowStr::new(&text).unwrap();
    let b = a.clone();
    let mut c = a.clone();
    c.push_str("!").unwrap();
    let s = a.stats();
    assert!(s.enabled);
    assert_eq!(s.clones, 2);
    assert_eq!(s.copies, 1);
    assert_eq!(s.bytes_copied, 1000);
    assert_eq!(s.copy_rate, 0.5);
    assert_eq!(s.live_handles, 3);
    assert_eq!(s.live_values, 2);
    assert_eq!(s.value_bytes, 1000);
    assert_eq!(s.memory_saved, 1000); // (2 clones - 1 copy) * 1000 bytes
    // Every member of the lineage reports the same counters.
    assert_eq!(b.stats().clones, 2);
    assert_eq!(c.stats().copies, 1);
    assert_eq!(c.stats().value_bytes, 1001);
}

#[test]
fn report_lines() {
    let a = CowBuf::new(&[0u8; 2048]).unwrap();
    let _b = a.clone();
    let _c = a.clone();
    let mut d = a.clone();
    d.make_mut().unwrap()[0] = 1;
    let report = a.stats_report().unwrap();
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(lines[0], "Clones: 3");
    assert_eq!(lines[1], "Copies: 1");
    assert_eq!(lines[2], "Copy rate: 33.3%");
    assert_eq!(lines[3], "Bytes copied: 2048");
    assert_eq!(lines[4], "Memory saved: 4096 bytes (0.00 MB)");
    assert_eq!(lines[5], "Live handles: 4");
    let json = a.stats_json().unwrap();
    assert!(json.starts_with('{') && json.ends_with('}'), "{json}");
    assert!(json.contains("\"clones\":3"), "{json}");
    assert!(json.contains("\"copies\":1"), "{json}");
}

#[test]
fn statistics_can_be_turned_off() {
    let a = CowStr::with_options("quiet", Options { strategy: Strategy::Lazy, stats: false }).unwrap();
    let mut b = a.clone();
    b.push_str("!").unwrap();
    let s = a.stats();
    assert!(!s.enabled);
    assert_eq!((s.clones, s.copies, s.copy_rate), (0, 0, 0.0));
    assert_eq!(s.value_bytes, 5);
}

#[test]
fn copy_rate_is_zero_without_clones() {
    let a = CowStr::new("alone").unwrap();
    let s = a.stats();
    assert_eq!((s.clones, s.copies, s.copy_rate, s.live_handles), (0, 0, 0.0, 1));
    assert!(a.stats_report().unwrap().starts_with("Clones: 0\nCopies: 0\nCopy rate: 0.0%\n"));
}
