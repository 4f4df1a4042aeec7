//! Two-sample statistics: calibration of the permutation test under the null, power, and
//! bit-reproducibility across thread counts.

use crate::common;

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

// ---------------------------------------------------------------------------------------------
// The streamed statistics against direct O(N²) evaluations of their definitions.
// ---------------------------------------------------------------------------------------------

/// Neumaier-compensated summation, so that the reference sums are accurate to about one rounding
/// of the result, far below the tolerances used against the streamed (blocked) sums.
#[derive(Default)]
struct Acc {
    s: f64,
    c: f64,
}

impl Acc {
    fn add(&mut self, v: f64) {
        let t = self.s + v;
        self.c += if self.s.abs() >= v.abs() { (self.s - t) + v } else { (v - t) + self.s };
        self.s = t;
    }
    fn value(&self) -> f64 {
        self.s + self.c
    }
}

/// Row `a` of the pooled sample `(x; y)`.
fn pooled_row(x: &Mat<f64>, y: &Mat<f64>, a: usize) -> Vec<f64> {
    let n = x.nrows();
    (0..x.ncols()).map(|k| if a < n { x[(a, k)] } else { y[(a - n, k)] }).collect()
}

/// The group sums of a split straight from the definition: `(T_AA, T_BB, T_AB)` over ordered
/// pairs with the diagonal excluded, for the kernel `f` of the squared distance `Σ (u − v)²`.
fn direct_sums(x: &Mat<f64>, y: &Mat<f64>, in_a: &[bool], f: &dyn Fn(f64) -> f64) -> (f64, f64, f64) {
    let nn = x.nrows() + y.nrows();
    let rows: Vec<Vec<f64>> = (0..nn).map(|a| pooled_row(x, y, a)).collect();
    let (mut aa, mut bb, mut ab) = (Acc::default(), Acc::default(), Acc::default());
    for a in 0..nn {
        for b in 0..nn {
            if a == b {
                continue;
            }
            let d2: f64 = rows[a].iter().zip(&rows[b]).map(|(u, v)| (u - v) * (u - v)).sum();
            let k = f(d2);
            match (in_a[a], in_a[b]) {
                (true, true) => aa.add(k),
                (false, false) => bb.add(k),
                (true, false) => ab.add(k),
                (false, true) => {}
            }
        }
    }
    (aa.value(), bb.value(), ab.value())
}

/// Direct `(MMD²_u, MMD²_b, scale S)` of a split with the Gaussian kernel of bandwidth `h`.
fn direct_mmd(x: &Mat<f64>, y: &Mat<f64>, in_a: &[bool], h: f64) -> (f64, f64, f64) {
    let (aa, bb, ab) = direct_sums(x, y, in_a, &|d2| (-d2 / (2.0 * h * h)).exp());
    let n = in_a.iter().filter(|&&t| t).count() as f64;
    let m = in_a.len() as f64 - n;
    let u = aa / (n * (n - 1.0)) + bb / (m * (m - 1.0)) - 2.0 * ab / (n * m);
    // k(z, z) = 1 on the diagonal.
    let v = (aa + n) / (n * n) + (bb + m) / (m * m) - 2.0 * ab / (n * m);
    let s = (aa + n) / (n * n) + (bb + m) / (m * m) + 2.0 * ab / (n * m);
    (u, v, s)
}

/// Direct `(D², scale S)` of a split for the energy distance.
fn direct_energy(x: &Mat<f64>, y: &Mat<f64>, in_a: &[bool]) -> (f64, f64) {
    let (aa, bb, ab) = direct_sums(x, y, in_a, &|d2| d2.sqrt());
    let n = in_a.iter().filter(|&&t| t).count() as f64;
    let m = in_a.len() as f64 - n;
    (2.0 * ab / (n * m) - aa / (n * n) - bb / (m * m), aa / (n * n) + bb / (m * m) + 2.0 * ab / (n * m))
}

fn observed_split(n: usize, m: usize) -> Vec<bool> {
    (0..n + m).map(|a| a < n).collect()
}

/// Permutation `p` as documented on `permutation_test`, re-implemented here: Fisher–Yates on
/// `0..N` from `ChaCha8Rng::seed_from_u64(seed)` with `set_stream(p)`; the first `n` form group A.
fn permuted_split(n: usize, m: usize, seed: u64, p: usize) -> Vec<bool> {
    use rand::{RngExt, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(p as u64);
    let mut perm: Vec<usize> = (0..n + m).collect();
    for i in (1..n + m).rev() {
        let j = rng.random_range(0..=i as u64) as usize;
        perm.swap(i, j);
    }
    let mut in_a = vec![false; n + m];
    perm[..n].iter().for_each(|&a| in_a[a] = true);
    in_a
}

fn opts(permutations: usize, seed: u64) -> PermutationOptions<'static> {
    PermutationOptions { permutations, seed, progress: None }
}

#[test]
fn streamed_mmd_and_energy_equal_their_definitions() {
    // Sizes inside one 256-row block, across several blocks (N = 601: two full blocks and a
    // partial one), and very unbalanced; d = 1 (many recomputed near pairs) to 9. The reference
    // is the O(N²) definition with compensated sums; the tolerance is 1e-12 relative to the
    // scale S = T_AA/n² + T_BB/m² + 2T_AB/(nm) of the terms (the statistic itself can be 1e-4 of
    // S, and any evaluation order moves it by about ε·S).
    let mut rng = SplitMix(77);
    for &(n, m, d, shift, h) in &[
        (2, 2, 1, 0.0, 0.7),
        (2, 37, 3, 0.5, 1.0),
        (37, 2, 3, 0.0, 2.0),
        (40, 35, 9, 0.3, 3.0),
        (331, 270, 4, 0.2, 1.5),
        (5, 300, 1, 1.0, 0.4),
    ] {
        let x = gaussian_cloud(&mut rng, n, d, shift);
        let y = gaussian_cloud(&mut rng, m, d, 0.0);
        let split = observed_split(n, m);
        let t = mmd_test(x.as_ref(), y.as_ref(), Bandwidth::Fixed(h), &opts(0, 0)).unwrap();
        let (u, v, s) = direct_mmd(&x, &y, &split, h);
        assert!((t.mmd2 - u).abs() <= 1e-12 * s, "({n}, {m}, {d}): MMD²_u {} vs {u} (S = {s})", t.mmd2);
        assert!((t.mmd2_biased - v).abs() <= 1e-12 * s, "({n}, {m}, {d}): MMD²_b {} vs {v}", t.mmd2_biased);
        assert_eq!((t.p_value, t.null.len()), (None, 0));
        let e = energy_test(x.as_ref(), y.as_ref(), &opts(0, 0)).unwrap();
        let (e2, se) = direct_energy(&x, &y, &split);
        assert!((e.distance_sq - e2).abs() <= 1e-12 * se, "({n}, {m}, {d}): D² {} vs {e2} (S = {se})", e.distance_sq);
        assert_eq!(e.distance, e.distance_sq.sqrt());
        // Far apart: the statistics are of the order of S, so this is also 1e-12 relative to the value.
        let y_far = Mat::from_fn(m, d, |j, k| y[(j, k)] + 6.0);
        let t = mmd_test(x.as_ref(), y_far.as_ref(), Bandwidth::Fixed(h), &opts(0, 0)).unwrap();
        let (u, v, _) = direct_mmd(&x, &y_far, &split, h);
        assert!((t.mmd2 - u).abs() <= 1e-12 * u.abs() && (t.mmd2_biased - v).abs() <= 1e-12 * v, "{} vs {u}", t.mmd2);
        let (e2, _) = direct_energy(&x, &y_far, &split);
        let e = energy_distance_sq(x.as_ref(), y_far.as_ref()).unwrap();
        assert!((e - e2).abs() <= 1e-12 * e2, "{e} vs {e2}");
    }
}

#[test]
fn streamed_kernels_stay_accurate_far_from_the_origin_and_at_small_bandwidths() {
    // Clouds at 1e6 + O(1) with near-duplicate pairs, and a bandwidth far below the spread:
    // ‖x‖² + ‖y‖² − 2x·y alone would cancel ~1e12 → 1 here; centring and the recomputation of
    // close pairs keep 1e-12 against the direct definition (whose differences are exact here by
    // Sterbenz' lemma).
    let mut rng = SplitMix(5);
    let (n, m, d) = (180, 150, 3);
    let mut x = Mat::from_fn(n, d, |_, _| 1e6 + rng.normal());
    let y = Mat::from_fn(m, d, |_, _| 1e6 + 0.3 + rng.normal());
    for i in 0..30 {
        for k in 0..d {
            x[(i + 100, k)] = x[(i, k)] + 1e-7 * rng.normal();
        }
    }
    let split = observed_split(n, m);
    for h in [0.02, 0.3, 5.0] {
        let t = mmd_test(x.as_ref(), y.as_ref(), Bandwidth::Fixed(h), &opts(0, 0)).unwrap();
        let (u, v, s) = direct_mmd(&x, &y, &split, h);
        assert!((t.mmd2 - u).abs() <= 1e-12 * s && (t.mmd2_biased - v).abs() <= 1e-12 * s, "h = {h}: {} vs {u}", t.mmd2);
    }
    let e = energy_test(x.as_ref(), y.as_ref(), &opts(0, 0)).unwrap();
    let (e2, se) = direct_energy(&x, &y, &split);
    assert!((e.distance_sq - e2).abs() <= 1e-12 * se, "{} vs {e2}", e.distance_sq);
}

/// The direct-route p-value: a permutation counts when its directly computed statistic exceeds
/// the observed one by more than 1e-9·S, or when it is the observed split itself (the same group
/// A, or the swapped groups when n = m, both exact ties in exact arithmetic). Asserts that no
/// other permutation falls within 1e-9·S of the observed value, so this count is unambiguous.
fn direct_p_value(observed: f64, null: &[(f64, bool)], s: f64) -> f64 {
    let mut count = 0;
    for &(t, tie) in null {
        if tie {
            count += 1;
        } else {
            assert!((t - observed).abs() > 1e-9 * s, "a near-tie that is not an exact tie: {t} vs {observed}");
            count += usize::from(t > observed);
        }
    }
    (1 + count) as f64 / (1 + null.len()) as f64
}

#[test]
fn permutation_p_values_equal_the_direct_route() {
    // n = m = 3 has only 20 splits, so about a tenth of the permutations reproduce the observed
    // split or its mirror (exact ties); (41, 30) is one block; (300, 210) spans two blocks.
    let mut rng = SplitMix(21);
    for &(n, m, d, shift, perms, seed) in &[(3, 3, 2, 0.8, 199, 4), (41, 30, 3, 0.25, 120, 9), (300, 210, 2, 0.1, 40, 1)] {
        let x = gaussian_cloud(&mut rng, n, d, shift);
        let y = gaussian_cloud(&mut rng, m, d, 0.0);
        let h = median_bandwidth(x.as_ref(), y.as_ref()).unwrap();
        let t = mmd_test(x.as_ref(), y.as_ref(), Bandwidth::Median, &opts(perms, seed)).unwrap();
        let e = energy_test(x.as_ref(), y.as_ref(), &opts(perms, seed)).unwrap();
        assert_eq!(t.bandwidth, h);
        let obs = observed_split(n, m);
        let (u0, v0, s) = direct_mmd(&x, &y, &obs, h);
        let (e0, se) = direct_energy(&x, &y, &obs);
        let (mut nu, mut nv, mut ne) = (vec![], vec![], vec![]);
        let mut ties = 0;
        for p in 0..perms {
            let split = permuted_split(n, m, seed, p);
            let tie = split == obs || (n == m && split.iter().zip(&obs).all(|(a, b)| a != b));
            ties += usize::from(tie);
            let (u, v, _) = direct_mmd(&x, &y, &split, h);
            let (e2, _) = direct_energy(&x, &y, &split);
            // Each permuted statistic of the streamed route is the direct one.
            assert!((t.null[p] - u).abs() <= 1e-12 * s, "perm {p}: {} vs {u}", t.null[p]);
            assert!((t.null_biased[p] - v.max(0.0)).abs() <= 1e-12 * s);
            assert!((e.null[p] - e2.max(0.0)).abs() <= 1e-12 * se, "perm {p}: {} vs {e2}", e.null[p]);
            nu.push((u, tie));
            nv.push((v.max(0.0), tie));
            ne.push((e2.max(0.0), tie));
        }
        if n == 3 {
            assert!(ties >= 10, "expected exact ties among {perms} permutations of 20 splits, got {ties}");
        }
        assert_eq!(t.p_value, Some(direct_p_value(u0, &nu, s)), "({n}, {m}) unbiased");
        assert_eq!(t.p_value_biased, Some(direct_p_value(v0.max(0.0), &nv, s)), "({n}, {m}) biased");
        assert_eq!(e.p_value, Some(direct_p_value(e0.max(0.0), &ne, se)), "({n}, {m}) energy");
        // permutation_test reports the same p-values.
        let pt = permutation_test(x.as_ref(), y.as_ref(), TwoSampleStatistic::Mmd2Biased(Bandwidth::Median), perms, seed).unwrap();
        assert_eq!((pt.statistic, Some(pt.p_value)), (t.mmd2_biased, t.p_value_biased));
    }
}

#[test]
fn streamed_results_are_bit_identical_for_any_thread_count() {
    // N = 700 (three blocks), so the per-block partial sums are reduced across units.
    let mut rng = SplitMix(31);
    let x = gaussian_cloud(&mut rng, 400, 4, 0.1);
    let y = gaussian_cloud(&mut rng, 300, 4, 0.0);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            (
                mmd_test(x.as_ref(), y.as_ref(), Bandwidth::Median, &opts(60, 3)).unwrap(),
                energy_test(x.as_ref(), y.as_ref(), &opts(60, 3)).unwrap(),
            )
        })
    };
    let one = run(1);
    let bits = |r: &(MmdTest, EnergyTest)| {
        let mut v: Vec<u64> = [r.0.mmd2, r.0.mmd2_biased, r.0.bandwidth, r.1.distance_sq].iter().map(|t| t.to_bits()).collect();
        v.extend(r.0.null.iter().chain(&r.0.null_biased).chain(&r.1.null).map(|t| t.to_bits()));
        v
    };
    for threads in [2, 3, 4] {
        assert_eq!(bits(&one), bits(&run(threads)), "{threads} threads");
    }
}

#[test]
fn the_subsampled_median_is_deterministic_and_close_to_the_exact_one() {
    // N = 2400 > 2048: 2,878,800 pairs, so the bandwidth is the median of 2^21 sampled pairs.
    // Its relative standard error is 1/(2 f(M) M √K) (f the density of the distances at their
    // median M); for these clouds f(M)·M ≈ 0.6, i.e. ≈ 6e-4: 5e-3 is ~8 standard errors. The
    // reference is the exact median over all pairs, by sorting.
    let mut rng = SplitMix(8);
    let x = gaussian_cloud(&mut rng, 1300, 3, 0.5);
    let y = gaussian_cloud(&mut rng, 1100, 3, 0.0);
    let nn = 2400;
    let mut all = Vec::with_capacity(nn * (nn - 1) / 2);
    for a in 0..nn {
        let ra = pooled_row(&x, &y, a);
        for b in a + 1..nn {
            let rb = pooled_row(&x, &y, b);
            all.push(ra.iter().zip(&rb).map(|(u, v)| (u - v) * (u - v)).sum::<f64>().sqrt());
        }
    }
    all.sort_by(f64::total_cmp);
    let exact = 0.5 * (all[all.len() / 2 - 1] + all[all.len() / 2]);
    let h = median_bandwidth(x.as_ref(), y.as_ref()).unwrap();
    assert!((h - exact).abs() <= 5e-3 * exact, "{h} vs {exact}");
    assert_ne!(h, exact); // it is a sample median
    let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
    assert_eq!(pool.install(|| median_bandwidth(x.as_ref(), y.as_ref()).unwrap()).to_bits(), h.to_bits());
    // Below the threshold it is the exact median (N = 2048: 2,096,128 ≤ 2^21 pairs).
    let (xs, ys) = (x.subrows(0, 1024).to_owned(), y.subrows(0, 1024).to_owned());
    let mut small = Vec::new();
    for a in 0..2048 {
        let ra = pooled_row(&xs, &ys, a);
        for b in a + 1..2048 {
            small.push(pooled_row(&xs, &ys, b).iter().zip(&ra).map(|(u, v)| (u - v) * (u - v)).sum::<f64>().sqrt());
        }
    }
    small.sort_by(f64::total_cmp);
    let exact_small = 0.5 * (small[small.len() / 2 - 1] + small[small.len() / 2]);
    assert_eq!(median_bandwidth(xs.as_ref(), ys.as_ref()).unwrap(), exact_small);
}

#[test]
fn progress_reaches_its_total() {
    use std::sync::atomic::{AtomicU64, Ordering};
    let mut rng = SplitMix(2);
    let x = gaussian_cloud(&mut rng, 500, 2, 0.0);
    let y = gaussian_cloud(&mut rng, 300, 2, 0.0);
    let (done, total, calls) = (AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0));
    let f = |d: u64, t: u64| {
        done.fetch_max(d, Ordering::Relaxed);
        total.store(t, Ordering::Relaxed);
        calls.fetch_add(1, Ordering::Relaxed);
    };
    let o = PermutationOptions { permutations: 5, seed: 0, progress: Some(&f) };
    let with = mmd_test(x.as_ref(), y.as_ref(), Bandwidth::Fixed(1.0), &o).unwrap();
    // 800 points: 4 blocks of 256 rows, 4·5/2 = 10 block pairs, one call each.
    assert_eq!((done.into_inner(), total.into_inner(), calls.into_inner()), (10, 10, 10));
    assert_eq!(with, mmd_test(x.as_ref(), y.as_ref(), Bandwidth::Fixed(1.0), &opts(5, 0)).unwrap());
}

#[test]
fn streamed_inputs_are_validated() {
    let x = faer::mat![[0.0], [1.0]];
    let one = faer::mat![[0.0]];
    assert!(matches!(mmd_test(x.as_ref(), one.as_ref(), Bandwidth::Median, &opts(0, 0)), Err(MetricsError::Empty { .. })));
    assert!(matches!(mmd2_biased(one.as_ref(), x.as_ref(), Bandwidth::Median), Err(MetricsError::Empty { .. })));
    // 1/(2h²) overflows f64.
    assert!(matches!(mmd_test(x.as_ref(), x.as_ref(), Bandwidth::Fixed(1e-160), &opts(0, 0)), Err(MetricsError::Overflow { .. })));
    // Squared distances overflow (centred norms 1e400).
    let huge = faer::mat![[1e200], [-1e200]];
    assert!(matches!(mmd_test(huge.as_ref(), x.as_ref(), Bandwidth::Fixed(1.0), &opts(0, 0)), Err(MetricsError::Overflow { .. })));
    assert!(matches!(energy_test(huge.as_ref(), x.as_ref(), &opts(3, 0)), Err(MetricsError::Overflow { .. })));
    // Entries near f64::MAX are centred without overflowing the mean: distances 1e300 overflow
    // only when squared.
    let big = faer::mat![[1e300], [1e300]];
    assert!(matches!(energy_test(big.as_ref(), x.as_ref(), &opts(0, 0)), Err(MetricsError::Overflow { .. })));
    // One point per sample is fine for the energy distance.
    let e = energy_test(one.as_ref(), faer::mat![[3.0]].as_ref(), &opts(0, 0)).unwrap();
    // D² = 2·|0 − 3| − 0 − 0.
    assert_eq!((e.distance_sq, e.distance), (6.0, 6f64.sqrt()));
    let x2 = faer::mat![[0.0, 1.0], [1.0, 0.0]];
    assert!(matches!(energy_test(x.as_ref(), x2.as_ref(), &opts(0, 0)), Err(MetricsError::DimensionMismatch { .. })));
    let nan = faer::mat![[0.0], [f64::NAN]];
    assert!(matches!(mmd_test(nan.as_ref(), x.as_ref(), Bandwidth::Fixed(1.0), &opts(0, 0)), Err(MetricsError::NonFinite { .. })));
}
