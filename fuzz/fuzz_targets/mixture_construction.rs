//! Arbitrary numbers into the checked constructors: every step either returns a typed error or a
//! valid object, and evaluation of a valid mixture never panics and never returns NaN.
#![no_main]
use faer::Mat;
use gmdiff::mixture::{Covariance, Gaussian, GaussianMixture};
use libfuzzer_sys::fuzz_target;

fn floats(data: &[u8]) -> Vec<f64> {
    data.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap())).collect()
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let (d, k, kind) = (1 + data[0] as usize % 4, 1 + data[1] as usize % 4, data[2] % 3);
    let v = floats(&data[3..]);
    let mut it = v.iter().copied().cycle();
    if v.is_empty() {
        return;
    }
    let mut next = || it.next().unwrap();
    let mut components = Vec::new();
    let mut weights = Vec::new();
    for _ in 0..k {
        let mean: Vec<f64> = (0..d).map(|_| next()).collect();
        let cov = match kind {
            0 => Covariance::isotropic(d, next()),
            1 => Covariance::diagonal((0..d).map(|_| next()).collect()),
            _ => Covariance::full(Mat::from_fn(d, d, |_, _| next())),
        };
        weights.push(next());
        if let Ok(g) = cov.and_then(|c| Gaussian::new(mean, c)) {
            components.push(g);
        }
    }
    if components.len() != k {
        return;
    }
    if let Ok(m) = GaussianMixture::new(weights, components) {
        let x: Vec<f64> = (0..d).map(|_| next()).collect();
        let (a, b) = (next(), next());
        if let Ok(p) = m.diffused(a, b).and_then(|q| q.density()) {
            if let Ok(lp) = p.logpdf(&x) {
                assert!(!lp.is_nan(), "NaN log-density");
            }
            if let Ok(s) = p.score(&x) {
                assert!(s.iter().all(|v| !v.is_nan()), "NaN score");
            }
        }
    }
});
