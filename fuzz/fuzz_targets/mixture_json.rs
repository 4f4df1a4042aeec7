//! Any bytes as mixture JSON: parsing either fails with an error or yields a valid mixture whose
//! density, where it exists, evaluates without panicking at its own mean.
#![no_main]
use gmdiff::mixture::GaussianMixture;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = serde_json::from_slice::<GaussianMixture>(data) {
        let mean = m.mean();
        if let Ok(p) = m.diffused(0.8, 0.6).and_then(|q| q.density()) {
            let _ = p.logpdf(&mean);
            let _ = p.score(&mean);
        }
        let back: GaussianMixture = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
    }
});
