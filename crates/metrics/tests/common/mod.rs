//! Shared helpers for the integration tests: the deterministic clouds of `peer/pot_fixtures.py`.
#![allow(dead_code)]

use faer::Mat;

const P: [f64; 12] = [2.0, 3.0, 5.0, 7.0, 11.0, 13.0, 17.0, 19.0, 23.0, 29.0, 31.0, 37.0];

/// The closed-form Weyl-sequence cloud of `peer/pot_fixtures.py::cloud`, bit for bit (only IEEE
/// `+`, `*`, `floor` and `sqrt`, evaluated in the same order).
pub fn cloud(n: usize, d: usize, seed: usize) -> Mat<f64> {
    Mat::from_fn(n, d, |i, k| {
        let a = P[(k + 2 * seed) % 12].sqrt();
        let b = P[(k + 2 * seed + 5) % 12].sqrt();
        let t = (i + 1) as f64 * a + 0.1 * seed as f64;
        let u = t - t.floor();
        let s = (i + 1) as f64 * b + 0.3 * k as f64;
        let w = s - s.floor();
        let z = 2.0 * w - 1.0;
        let sign = if k % 2 == 0 { 1.0 } else { -1.0 };
        (2.0 * u - 1.0) + 0.8 * z * z * z * (k + 1) as f64 + 0.25 * seed as f64 * sign
    })
}

/// `peer/pot_fixtures.py::weights`: `1 + frac((i+1)·√7 + 0.01·seed)`, normalised (the sum may
/// differ from numpy's pairwise sum in the last bits, well inside the 1e-9 weight tolerance).
pub fn weights(n: usize, seed: usize) -> Vec<f64> {
    let w: Vec<f64> = (0..n)
        .map(|i| {
            let t = (i + 1) as f64 * 7f64.sqrt() + 0.01 * seed as f64;
            t - t.floor() + 1.0
        })
        .collect();
    let s: f64 = w.iter().sum();
    w.iter().map(|v| v / s).collect()
}

/// A small deterministic generator for property-style tests without proptest (SplitMix64).
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Standard normal by Box–Muller.
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

pub fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(f64::MIN_POSITIVE)
}
