//! Checkpoint "stats": lineage counters, copy rate and the text report.
use libcow::{CowBuf, CowHandle, CowStr, Options, Representation, Strategy};

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

#[test]
fn flat_values_report_their_representation() {
    let a = CowStr::new("flat").unwrap();
    let mut b = a.clone();
    b.push_str("!").unwrap();
    let s = b.stats();
    assert_eq!(s.representation, Representation::Flat);
    assert_eq!(s.nodes_copied, 0); // a flat copy counts in copies only
    assert_eq!(s.switches, 0);
    assert_eq!(s.copies, 1);
}

#[test]
fn the_two_init_functions_write_the_0_1_and_the_0_2_layout() {
    use libcow::ffi;
    use std::mem::size_of;
    // Where the 0.2 fields start, as the C compiler sees cow.h.
    let v2_start = libcow::c_layout::C_LAYOUT
        .iter()
        .find(|(ty, field, _, _)| *ty == "cow_stats_info" && *field == "representation")
        .map(|l| l.2)
        .unwrap();
    let a = CowStr::new("abc").unwrap();
    let _b = a.clone();
    // Sentinels in the 0.2 fields show which of them the library wrote.
    let sentinel = |info: &mut ffi::cow_stats_info| {
        info.representation = 77;
        info.reserved = 77;
        info.nodes_copied = 77;
        info.switches = 77;
    };
    let mut v1 = ffi::cow_stats_info::default();
    unsafe { ffi::cow_stats_info_init(&mut v1) };
    assert_eq!(v1.size as usize, v2_start);
    sentinel(&mut v1);
    assert_eq!(unsafe { ffi::cow_stats(a.as_handle_ptr(), &mut v1) }, ffi::COW_OK);
    assert_eq!(v1.clones, 1);
    assert_eq!((v1.representation, v1.reserved, v1.nodes_copied, v1.switches), (77, 77, 77, 77));

    let mut v2 = ffi::cow_stats_info::default();
    unsafe { ffi::cow_stats_info_init_v2(&mut v2) };
    assert_eq!(v2.size as usize, size_of::<ffi::cow_stats_info>());
    sentinel(&mut v2);
    assert_eq!(unsafe { ffi::cow_stats(a.as_handle_ptr(), &mut v2) }, ffi::COW_OK);
    assert_eq!(v2.clones, 1);
    assert_eq!(
        (v2.representation, v2.reserved, v2.nodes_copied, v2.switches),
        (ffi::COW_REPRESENTATION_FLAT, 0, 0, 0)
    );
}
