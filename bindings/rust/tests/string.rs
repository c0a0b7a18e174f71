//! Checkpoint "string": text and bytes shared on clone, copied on the first
//! write to a shared value, written in place when unique.
use libcow::{CowBuf, CowHandle, CowStr, Error};

#[test]
fn clone_shares_the_text() {
    let a = CowStr::new("hello").unwrap();
    let b = a.clone();
    assert_eq!(a.strong_count(), 2);
    assert_eq!(b.strong_count(), 2);
    assert!(a.ptr_eq(&b));
    assert!(a.is_shared());
    assert_eq!(a.as_ptr(), b.as_ptr(), "a clone must not copy the bytes");
    assert_eq!(a.stats().copies, 0);
    drop(b);
    assert_eq!(a.strong_count(), 1);
    assert!(!a.is_shared());
}

#[test]
fn write_to_a_shared_string_copies_and_leaves_the_other_unchanged() {
    let a = CowStr::new("hello").unwrap();
    let mut b = a.clone();
    b.push_str(" world").unwrap();
    assert_eq!(a, "hello");
    assert_eq!(b, "hello world");
    assert!(!a.ptr_eq(&b));
    assert_ne!(a.as_ptr(), b.as_ptr());
    assert_eq!((a.strong_count(), b.strong_count()), (1, 1));
    let s = a.stats();
    assert_eq!((s.clones, s.copies, s.bytes_copied), (1, 1, 5));
}

#[test]
fn unique_write_happens_in_place() {
    let mut s = CowStr::new("hello, world").unwrap();
    let data = s.as_ptr();
    s.truncate(5).unwrap();
    s.erase(1..3).unwrap();
    s.insert_str(1, "el").unwrap();
    assert_eq!(s, "hello");
    assert_eq!(s.as_ptr(), data, "a unique string must be edited in place");
    s.make_unique().unwrap();
    assert_eq!(s.as_ptr(), data);
    assert_eq!(s.stats().copies, 0);
}

#[test]
fn buffer_unique_writes_keep_the_storage() {
    let mut b = CowBuf::with_capacity(64).unwrap();
    b.extend_from_slice(b"abc").unwrap();
    let data = b.as_ptr();
    b.extend_from_slice(b"def").unwrap();
    b.insert_slice(0, b"_").unwrap();
    assert_eq!(&*b, b"_abcdef");
    assert_eq!(b.as_ptr(), data);
    let bytes = b.make_mut().unwrap();
    bytes[0] = b'!';
    assert_eq!(bytes.as_ptr(), data);
    assert_eq!(&*b, b"!abcdef");
    assert_eq!(b.stats().copies, 0);
}

#[test]
fn buffer_make_mut_on_a_shared_buffer_copies() {
    let a = CowBuf::new(&[1, 2, 3, 4]).unwrap();
    let mut b = a.clone();
    let bytes = b.make_mut().unwrap();
    bytes[0] = 9;
    assert_eq!(&*a, &[1, 2, 3, 4]);
    assert_eq!(&*b, &[9, 2, 3, 4]);
    b.resize(6, 7).unwrap();
    b.erase(1..3).unwrap();
    assert_eq!(&*b, &[9, 4, 7, 7]);
    assert!(a < b);
    assert_eq!(a.stats().copies, 1);
    assert_eq!(b.into_vec().unwrap(), vec![9, 4, 7, 7]);
}

#[test]
fn substr_and_slice_share_storage_until_written() {
    let s = CowStr::new("copy on write").unwrap();
    let mut word = s.substr(5..7).unwrap();
    assert_eq!(word, "on");
    assert!(word.is_shared() && s.is_shared());
    assert_eq!(word.as_ptr(), s.as_ptr().wrapping_add(5));
    word.push_str("ce").unwrap();
    assert_eq!(word, "once");
    assert_eq!(s, "copy on write");
    assert!(!word.is_shared());

    let b = CowBuf::new(b"0123456789").unwrap();
    let part = b.slice(2..5).unwrap();
    assert_eq!(&*part, b"234");
    assert_eq!(part.as_ptr(), b.as_ptr().wrapping_add(2));
}

#[test]
fn text_queries() {
    let mut s = CowStr::new("héllo wörld").unwrap();
    assert_eq!(s.len(), 13);
    assert_eq!(s.char_count(), 11);
    assert_eq!(s.find("wö", 0).unwrap(), Some(7));
    assert_eq!(s.find("xyz", 0).unwrap(), None);
    assert_eq!(s.find("l", 100), Err(Error::OutOfRange));
    assert_eq!(s.as_c_str().unwrap().to_str().unwrap(), "héllo wörld");
    assert_eq!(s.clone().into_string().unwrap(), "héllo wörld");
    assert_eq!(format!("{s}"), "héllo wörld");
}

#[test]
fn failed_writes_change_nothing() {
    assert_eq!(CowStr::from_utf8(&[0x68, 0xc3]).unwrap_err(), Error::InvalidUtf8);
    assert_eq!(CowStr::from_utf8(&[0xed, 0xa0, 0x80]).unwrap_err(), Error::InvalidUtf8);
    let a = CowStr::new("é!").unwrap();
    let mut b = a.clone();
    // Offset 1 is inside "é": not a character boundary.
    assert_eq!(b.erase(1..2), Err(Error::InvalidArgument));
    assert_eq!(b.truncate(10), Err(Error::OutOfRange));
    assert!(b.ptr_eq(&a), "a failed write must not copy");
    assert_eq!(b, "é!");
    assert_eq!(a.stats().copies, 0);
    assert_eq!(Error::InvalidUtf8.to_string(), unsafe {
        std::ffi::CStr::from_ptr(libcow::ffi::cow_strerror(libcow::ffi::COW_EUTF8)).to_str().unwrap()
    });
}

#[test]
fn eager_strategy_copies_at_clone() {
    use libcow::{Options, Strategy};
    let a = CowStr::with_options("eager", Options { strategy: Strategy::Eager, stats: true }).unwrap();
    let b = a.clone();
    assert!(!a.ptr_eq(&b));
    assert_eq!(a.strong_count(), 1);
    assert_eq!(a.stats().copies, 1);
    assert_eq!(b, "eager");
}
