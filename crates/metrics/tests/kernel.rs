//! Two-sample statistics: calibration of the permutation test under the null, power, and
//! bit-reproducibility across thread counts.

mod common;

use common::SplitMix;
use faer::Mat;
use gmdiff_metrics::*;

fn gaussian_cloud(rng: &mut SplitMix, n: usize, d: usize, shift: f64) -> Mat<f64> {
    Mat::from_fn(n, d, |_, k| rng.normal() + if k == 0 { shift } else { 0.0 })
}

#[test]
fn permutation_test_is_calibrated_under_the_null() {
    // 300 independent null replications (both samples N(0, I₂), n = m = 20, P = 99). The
    // rejection rate at level 0.05 must fall in the binomial 3-sigma band
    // 0.05 ± 3·sqrt(0.05·0.95/300) = [0.012, 0.088], for both statistics.
    let reps = 300;
    let band = 3.0 * (0.05f64 * 0.95 / reps as f64).sqrt();
    for stat in [TwoSampleStatistic::Mmd2(Bandwidth::Median), TwoSampleStatistic::Energy] {
        let mut rng = SplitMix(123);
        let mut rejections = 0;
        let mut p_sum = 0.0;
        for r in 0..reps {
            let x = gaussian_cloud(&mut rng, 20, 2, 0.0);
            let y = gaussian_cloud(&mut rng, 20, 2, 0.0);
            let t = permutation_test(x.as_ref(), y.as_ref(), stat, 99, r as u64).unwrap();
            if t.p_value <= 0.05 {
                rejections += 1;
            }
            p_sum += t.p_value;
        }
        let rate = rejections as f64 / reps as f64;
        assert!((rate - 0.05).abs() <= band, "{stat:?}: rejection rate {rate} outside 0.05 ± {band}");
        // p-values are (super-)uniform: mean about 0.5 (0.5 + 0.5/(P+1) exactly for continuous data).
        let mean_p = p_sum / reps as f64;
        assert!((mean_p - 0.505).abs() < 3.0 * (1.0 / 12.0f64 / reps as f64).sqrt(), "mean p {mean_p}");
    }
}

#[test]
fn permutation_test_has_power_against_a_shift() {
    let mut rng = SplitMix(9);
    let x = gaussian_cloud(&mut rng, 60, 2, 0.0);
    let y = gaussian_cloud(&mut rng, 60, 2, 1.0);
    for stat in [TwoSampleStatistic::Mmd2(Bandwidth::Median), TwoSampleStatistic::Energy, TwoSampleStatistic::Mmd2(Bandwidth::Fixed(1.0))] {
        let t = permutation_test(x.as_ref(), y.as_ref(), stat, 199, 5).unwrap();
        assert!(t.p_value <= 0.01, "{stat:?}: p = {}", t.p_value);
    }
}

#[test]
fn results_are_bit_identical_for_any_thread_count() {
    let mut rng = SplitMix(4);
    let x = gaussian_cloud(&mut rng, 40, 3, 0.2);
    let y = gaussian_cloud(&mut rng, 50, 3, 0.0);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let t = permutation_test(x.as_ref(), y.as_ref(), TwoSampleStatistic::Mmd2(Bandwidth::Median), 499, 17).unwrap();
            let e = permutation_test(x.as_ref(), y.as_ref(), TwoSampleStatistic::Energy, 499, 17).unwrap();
            let s = w2_sliced_estimate(x.as_ref(), None, y.as_ref(), None, 300, 3).unwrap();
            let (mmd, h) = mmd2_unbiased(x.as_ref(), y.as_ref(), Bandwidth::Median).unwrap();
            let energy = energy_distance_sq(x.as_ref(), y.as_ref()).unwrap().to_bits();
            (
                t.p_value.to_bits(),
                t.statistic.to_bits(),
                e.p_value.to_bits(),
                s.squared.to_bits(),
                s.std_error_squared.to_bits(),
                mmd,
                h,
                energy,
            )
        })
    };
    let one = run(1);
    assert_eq!(one.0, run(2).0);
    assert_eq!(one, run(2));
    assert_eq!(one, run(3));
    // The seed matters; the same seed reproduces.
    let a = permutation_test(x.as_ref(), y.as_ref(), TwoSampleStatistic::Energy, 99, 1).unwrap();
    let b = permutation_test(x.as_ref(), y.as_ref(), TwoSampleStatistic::Energy, 99, 1).unwrap();
    assert_eq!(a, b);
}

#[test]
fn statistics_agree_with_their_definitions() {
    // The permutation test's observed statistic uses the pooled-matrix path; it must equal the
    // direct estimators.
    let mut rng = SplitMix(8);
    let x = gaussian_cloud(&mut rng, 30, 2, 0.5);
    let y = gaussian_cloud(&mut rng, 25, 2, 0.0);
    let (mmd, h) = mmd2_unbiased(x.as_ref(), y.as_ref(), Bandwidth::Median).unwrap();
    let t = permutation_test(x.as_ref(), y.as_ref(), TwoSampleStatistic::Mmd2(Bandwidth::Median), 9, 0).unwrap();
    assert!((t.statistic - mmd).abs() < 1e-13);
    assert_eq!(t.bandwidth, Some(h));
    let e = energy_distance_sq(x.as_ref(), y.as_ref()).unwrap();
    let t = permutation_test(x.as_ref(), y.as_ref(), TwoSampleStatistic::Energy, 9, 0).unwrap();
    assert!((t.statistic - e).abs() < 1e-13);
    // 1-D energy distance: D² = 2 ∫ (F − G)² (Székely), computed here on the merged grid.
    let xs: Vec<f64> = (0..30).map(|i| x[(i, 0)]).collect();
    let ys: Vec<f64> = (0..25).map(|i| y[(i, 0)]).collect();
    let mut grid: Vec<f64> = xs.iter().chain(&ys).copied().collect();
    grid.sort_by(f64::total_cmp);
    let cdf = |v: &[f64], t: f64| v.iter().filter(|&&s| s <= t).count() as f64 / v.len() as f64;
    let integral: f64 = grid.windows(2).map(|w| (cdf(&xs, w[0]) - cdf(&ys, w[0])).powi(2) * (w[1] - w[0])).sum();
    let x1 = Mat::from_fn(30, 1, |i, _| xs[i]);
    let y1 = Mat::from_fn(25, 1, |i, _| ys[i]);
    assert!((energy_distance_sq(x1.as_ref(), y1.as_ref()).unwrap() - 2.0 * integral).abs() < 1e-12);
}

#[test]
fn kernel_inputs_are_validated() {
    let x = faer::mat![[0.0], [1.0]];
    let one = faer::mat![[0.0]];
    let same = faer::mat![[1.0], [1.0]];
    assert!(matches!(mmd2_unbiased(x.as_ref(), one.as_ref(), Bandwidth::Median), Err(MetricsError::Empty { .. })));
    assert!(matches!(mmd2_unbiased(x.as_ref(), x.as_ref(), Bandwidth::Fixed(0.0)), Err(MetricsError::InvalidParameter { .. })));
    assert!(matches!(mmd2_unbiased(x.as_ref(), x.as_ref(), Bandwidth::Fixed(f64::NAN)), Err(MetricsError::InvalidParameter { .. })));
    assert!(matches!(median_bandwidth(same.as_ref(), same.as_ref()), Err(MetricsError::InvalidParameter { .. })));
    assert!(matches!(
        permutation_test(x.as_ref(), x.as_ref(), TwoSampleStatistic::Energy, 0, 0),
        Err(MetricsError::InvalidParameter { .. })
    ));
    let x2 = faer::mat![[0.0, 1.0], [1.0, 0.0]];
    assert!(matches!(energy_distance(x.as_ref(), x2.as_ref()), Err(MetricsError::DimensionMismatch { .. })));
    assert!(matches!(w2_sliced(x.as_ref(), x.as_ref(), 0, 0), Err(MetricsError::InvalidParameter { .. })));
}
