//! Any bytes as a spectrum file (.npy when it starts with the magic string, text otherwise): an
//! error or a non-empty list of finite, non-negative eigenvalues.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = gmdiff::gaussian::parse_spectrum(data) {
        assert!(!v.is_empty());
        assert!(v.iter().all(|x| x.is_finite() && *x >= 0.0));
    }
});
