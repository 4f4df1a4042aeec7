//! Agreement with POT, SciPy and numpy on deterministic clouds.
//!
//! The peer numbers below were produced by `tests/peer/pot_fixtures.py` with POT 0.9.7.post1,
//! numpy 2.4.6 and SciPy 1.17.1 (`python pot_fixtures.py`); the clouds are regenerated here bit
//! for bit by `common::cloud`, so no data file is needed. None of these clouds was used while
//! developing the solver (held out).

use crate::common;

use common::{cloud, rel, weights};
use gmdiff_metrics::*;

/// (n, m, d, seed_x, seed_y, POT emd2 W2 uniform, POT emd2 W2 weighted, POT Bures of np.cov fits)
type ExactCase = (usize, usize, usize, usize, usize, f64, f64, f64);
const EXACT: [ExactCase; 7] = [
    (40, 40, 2, 1, 2, 0.5372783357528086, 0.6164076282798158, 0.3787847560304819),
    (57, 31, 3, 3, 4, 0.9309640450489665, 0.9287645627393755, 0.5576461926894994),
    (200, 200, 2, 5, 6, 0.42995302571245614, 0.41733792503296324, 0.3741549523097226),
    (150, 260, 5, 7, 8, 1.3761785293199307, 1.3768593752646323, 0.5907745333184435),
    (300, 300, 1, 9, 10, 0.27337945383790047, 0.2881851059397089, 0.27205083374986844),
    (333, 500, 2, 11, 12, 0.39408196273432966, 0.39132364936719144, 0.36030634965978753),
    (64, 64, 8, 13, 14, 3.300128897982984, 3.3742736606529715, 1.1513499438923278),
];

#[test]
fn exact_w2_matches_pot_emd2_to_1e9_relative() {
    let mut worst = 0.0f64;
    for &(n, m, d, sx, sy, w2, w2w, _) in &EXACT {
        let x = cloud(n, d, sx);
        let y = cloud(m, d, sy);
        let mine = w2_exact(x.as_ref(), y.as_ref()).unwrap();
        let (a, b) = (weights(n, sx), weights(m, sy));
        let mine_w = w2_exact_weighted(x.as_ref(), Some(&a), y.as_ref(), Some(&b)).unwrap();
        worst = worst.max(rel(mine, w2)).max(rel(mine_w, w2w));
        assert!(rel(mine, w2) < 1e-9, "uniform ({n}, {m}, {d}): {mine} vs POT {w2}");
        assert!(rel(mine_w, w2w) < 1e-9, "weighted ({n}, {m}, {d}): {mine_w} vs POT {w2w}");
    }
    eprintln!("worst relative deviation from POT emd2: {worst:e}");
}

#[test]
fn bures_of_fitted_gaussians_matches_pot_to_1e6() {
    let mut worst = 0.0f64;
    for &(n, m, d, sx, sy, _, _, bures) in &EXACT {
        let x = cloud(n, d, sx);
        let y = cloud(m, d, sy);
        let mine = bures_w2_fitted(x.as_ref(), y.as_ref()).unwrap();
        worst = worst.max((mine - bures).abs());
        assert!((mine - bures).abs() < 1e-6 * bures.max(1.0), "({n}, {m}, {d}): {mine} vs POT {bures}");
        assert!(rel(mine, bures) < 1e-10, "({n}, {m}, {d}): {mine} vs POT {bures}");
    }
    eprintln!("worst absolute deviation from POT's Bures W2: {worst:e}");
}

#[test]
fn sliced_w2_agrees_with_pot_within_monte_carlo_error() {
    // (n, m, d, sx, sy, POT sliced W2 with 10,000 projections, POT standard error of the mean of W2²)
    let cases = [
        (300, 400, 2, 21, 22, 0.2584286710560343, 0.0004528464250983387),
        (250, 250, 5, 23, 24, 0.2876543733943694, 0.0007257225219190902),
    ];
    for (n, m, d, sx, sy, pot, pot_se) in cases {
        let x = cloud(n, d, sx);
        let y = cloud(m, d, sy);
        let e = w2_sliced_estimate(x.as_ref(), None, y.as_ref(), None, 10_000, 0).unwrap();
        // Independent direction draws: compare the squared values with both errors combined.
        let z = (e.squared - pot * pot).abs() / (e.std_error_squared.powi(2) + pot_se * pot_se).sqrt();
        eprintln!("sliced ({n}, {m}, {d}): ours {} ± {}, POT {} ± {pot_se}, z = {z:.2}", e.squared, e.std_error_squared, pot * pot);
        assert!(z < 4.0, "({n}, {m}, {d}): ours {} ± {}, POT {} ± {pot_se}, z = {z}", e.squared, e.std_error_squared, pot * pot);
        // Our error estimate is of the same size as POT's (same law of directions).
        assert!(e.std_error_squared / pot_se > 0.8 && e.std_error_squared / pot_se < 1.25);
    }
}

#[test]
fn one_dimensional_w2_and_energy_match_pot_and_scipy() {
    let x = cloud(90, 1, 31);
    let y = cloud(130, 1, 32);
    let xs: Vec<f64> = (0..90).map(|i| x[(i, 0)]).collect();
    let ys: Vec<f64> = (0..130).map(|i| y[(i, 0)]).collect();
    let (a, b) = (weights(90, 31), weights(130, 32));
    assert!(rel(w2_1d(&xs, None, &ys, None).unwrap(), 0.24479434788857407) < 1e-12);
    assert!(rel(w2_1d(&xs, Some(&a), &ys, Some(&b)).unwrap(), 0.23410001765524954) < 1e-12);
    // The 1-D W2 is also the exact solver's answer (the north-west corner on sorted orders).
    assert!(rel(w2_exact(x.as_ref(), y.as_ref()).unwrap(), 0.24479434788857407) < 1e-12);
    assert!(rel(energy_distance(x.as_ref(), y.as_ref()).unwrap(), 0.22182177827229285) < 1e-12);
}

#[test]
fn mmd_and_energy_match_numpy() {
    let x = cloud(60, 3, 41);
    let y = cloud(45, 3, 42);
    let h = median_bandwidth(x.as_ref(), y.as_ref()).unwrap();
    assert!(rel(h, 1.9086752321436808) < 1e-14);
    let (mmd, h2) = mmd2_unbiased(x.as_ref(), y.as_ref(), Bandwidth::Median).unwrap();
    assert_eq!(h, h2);
    assert!(rel(mmd, 0.013508745907385045) < 1e-10, "{mmd}");
    let e = energy_distance_sq(x.as_ref(), y.as_ref()).unwrap();
    assert!(rel(e, 0.13005266322508025) < 1e-12, "{e}");
}
