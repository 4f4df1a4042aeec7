//! Shared helpers: the per-eigenvalue variance recurrences of THEORY §3 (Pierret–Galerne), written
//! out by hand as an independent oracle for the generic step code.
#![allow(dead_code)]

use gmdiff_process::{ForwardProcess, VpLinear};

/// β̃(t) = β(t)/2 and B̃(t) = B(t)/2 of the default VP process.
pub fn bt(t: f64) -> f64 {
    0.5 * VpLinear::default().beta(t)
}
pub fn big_bt(t: f64) -> f64 {
    0.5 * VpLinear::default().integrated_beta(t)
}
/// λ_i(t) = e^{−2B̃_t} λ + 1 − e^{−2B̃_t}.
pub fn lam_t(lam: f64, t: f64) -> f64 {
    let e = (-2.0 * big_bt(t)).exp();
    e * lam + 1.0 - e
}

/// The THEORY §3 recurrence of `scheme` for one eigenvalue: N = steps + 1 grid points
/// t_k = (T − ε) k / (N − 1) in reverse time; returns the output variance.
pub fn recurrence(scheme: &str, lam: f64, steps: usize, eps: f64, exact_start: bool) -> f64 {
    let t_rev: Vec<f64> = (0..=steps).map(|k| (1.0 - eps) * k as f64 / steps as f64).collect();
    let delta = t_rev[1] - t_rev[0];
    let mut v = if exact_start { lam_t(lam, 1.0) } else { 1.0 };
    let a = |s: f64| bt(s) * (1.0 - 1.0 / lam_t(lam, s));
    for k in 0..steps {
        let (tk, tk1) = (1.0 - t_rev[k], 1.0 - t_rev[k + 1]);
        let l = lam_t(lam, tk);
        let b = bt(tk);
        v = match scheme {
            "em" => (1.0 + delta * b * (1.0 - 2.0 / l)).powi(2) * v + 2.0 * delta * b,
            "ei" => {
                let db = big_bt(tk) - big_bt(tk1);
                let g1 = db.exp() - 1.0;
                let g2 = ((2.0 * db).exp() - 1.0) / 2.0;
                (1.0 + g1 * (1.0 - 2.0 / l)).powi(2) * v + 2.0 * g2
            }
            "ddpm" => {
                let bk = 2.0 * delta * b;
                (1.0 - bk / l).powi(2) / (1.0 - bk) * v + bk
            }
            "euler" => (1.0 + delta * a(tk)).powi(2) * v,
            "heun" => {
                let (ak, ak1) = (a(tk), a(tk1));
                (1.0 + delta / 2.0 * ak + delta / 2.0 * ak1 * (1.0 + delta * ak)).powi(2) * v
            }
            "rk4" => {
                let c1 = a(tk);
                let c2 = a(tk - delta / 2.0) * (1.0 + delta / 2.0 * c1);
                let c3 = a(tk - delta / 2.0) * (1.0 + delta / 2.0 * c2);
                let c4 = a(tk1) * (1.0 + delta * c3);
                (1.0 + delta / 6.0 * (c1 + 2.0 * c2 + 2.0 * c3 + c4)).powi(2) * v
            }
            _ => panic!("unknown scheme {scheme}"),
        };
    }
    v
}

/// A deterministic pseudo-random number in [0, 1) (splitmix64), for spectra in tests.
pub fn unit(i: u64) -> f64 {
    let mut z = i.wrapping_add(0x9E3779B97F4A7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}
