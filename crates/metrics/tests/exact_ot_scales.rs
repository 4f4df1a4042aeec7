//! The exact W2 when a few costs are huge next to the matched ones (far clusters, outliers), at
//! separations from 1e0 to 1e15, against independent exact assignments.
//!
//! Before the per-arc optimality rule, the network simplex declared optimality once every
//! reduced cost was above `−1e-14 · max C`: with two clusters 1e7 apart (`max C = 1e14`) reduced
//! costs of order 1 passed, and W2 came out 17.6 % too high.

use crate::hungarian;

use faer::Mat;
use gmdiff_metrics::{EmdOptions, ot_sq_euclidean};
use hungarian::assignment;
use proptest::prelude::*;

/// Unit round-off of f64.
const U: f64 = f64::EPSILON / 2.0;

/// SplitMix64, for the point layouts drawn from a proptest seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, k: u64) -> u64 {
        self.next() % k
    }
    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `n` points on the integer lattice: clusters at `sep · z` (`z ∈ {−1, 0, 1, 2}^d`, cluster 0 at
/// the origin), integer offsets in `[−spread, spread]`, and with probability 1/8 a point sits
/// alone at a far outlier position `sep · z'`. Every coordinate is an integer of magnitude
/// `≤ 2·10^15 + 1000 < 2^53`, hence exact in f64.
fn lattice_cloud(rng: &mut Rng, n: usize, d: usize, centres: &[Vec<i64>], sep: i64, spread: i64) -> Vec<Vec<i64>> {
    (0..n)
        .map(|_| {
            if rng.below(8) == 0 {
                (0..d).map(|_| sep * (rng.below(4) as i64 - 1)).collect()
            } else {
                let c = &centres[rng.below(centres.len() as u64) as usize];
                (0..d).map(|k| c[k] + rng.below(2 * spread as u64 + 1) as i64 - spread).collect()
            }
        })
        .collect()
}

/// `Σ_t (p_t − q_t)²`, summed in coordinate order like the solver.
fn sq_dist(p: &[f64], q: &[f64]) -> f64 {
    p.iter().zip(q).map(|(a, b)| (a - b) * (a - b)).sum()
}

fn to_mat(p: &[Vec<i64>], d: usize) -> Mat<f64> {
    Mat::from_fn(p.len(), d, |i, k| p[i][k] as f64)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Exact W2² on lattice clouds equals `(1/n) · min_σ Σ_i ‖x_i − y_σ(i)‖²` computed in exact
    /// i128 integer arithmetic (squared distances up to ~1.6e31, sums below 2^127) by the
    /// Hungarian method of `hungarian/mod.rs`.
    ///
    /// Tolerance `32u ≈ 3.6e-15` relative, from the error budget of our f64 value: the f64 costs
    /// differ from the exact integers by at most `3u` relative (`d ≤ 3`: each square and each of
    /// the two additions rounds once; differences of integers below 2^53 are exact), so the f64
    /// optimum is within `3u` of the exact one; the simplex certificate bounds the excess of its
    /// plan by `20u · OPT + τ` (`τ < 1e-20 · OPT` here); the double-double sum of `Σ f C` and the
    /// final division round twice; the comparison itself rounds twice. `3 + 20 + 2 + 2 ≤ 32`.
    #[test]
    fn lattice_w2_equals_an_exact_integer_assignment(
        d in 1usize..=3, n in 2usize..=36, k in 0u32..=15, clusters in 1usize..=3,
        spread in prop::sample::select(vec![1i64, 10, 1000]), seed in any::<u64>(),
    ) {
        let sep = 10i64.pow(k);
        let mut rng = Rng(seed);
        let mut centres = vec![vec![0i64; d]];
        while centres.len() < clusters {
            centres.push((0..d).map(|_| sep * (rng.below(4) as i64 - 1)).collect());
        }
        let x = lattice_cloud(&mut rng, n, d, &centres, sep, spread);
        let y = lattice_cloud(&mut rng, n, d, &centres, sep, spread);
        let exact = |i: usize, j: usize| -> i128 { (0..d).map(|t| { let e = (x[i][t] - y[j][t]) as i128; e * e }).sum() };
        let (total, _) = assignment::<i128>(n, exact);
        let want = total as f64 / n as f64;
        let plan = ot_sq_euclidean(to_mat(&x, d).as_ref(), None, to_mat(&y, d).as_ref(), None, EmdOptions::default()).unwrap();
        let err = (plan.cost - want).abs();
        prop_assert!(err <= 32.0 * U * want, "sep 1e{k}, d {d}, n {n}: W2² {} vs exact {want} (rel {:e})", plan.cost, err / want);
    }

    /// Weighted clouds (the solver's `f64`-mass path) on the same lattices: weights `k_i / 32`
    /// (exact dyadic numbers, random multiplicities `k_i ≥ 1` summing to 32). With integer masses
    /// the transportation polytope has integral vertices, so the optimum equals the uniform
    /// 32 × 32 assignment between the clouds with each point repeated `k_i` times, solved exactly
    /// in i128 as above; W2² = that total / 32. Tolerance `32u`, as above.
    #[test]
    fn weighted_lattice_w2_equals_the_expanded_assignment(
        d in 1usize..=3, nx in 2usize..=12, ny in 2usize..=12, k in 0u32..=15, clusters in 1usize..=3, seed in any::<u64>(),
    ) {
        let sep = 10i64.pow(k);
        let mut rng = Rng(seed);
        let mut centres = vec![vec![0i64; d]];
        while centres.len() < clusters {
            centres.push((0..d).map(|_| sep * (rng.below(4) as i64 - 1)).collect());
        }
        let x = lattice_cloud(&mut rng, nx, d, &centres, sep, 10);
        let y = lattice_cloud(&mut rng, ny, d, &centres, sep, 10);
        // Random multiplicities ≥ 1 summing to 32.
        let mut mult = |n: usize| -> Vec<usize> {
            let mut m = vec![1usize; n];
            for _ in n..32 {
                m[rng.below(n as u64) as usize] += 1;
            }
            m
        };
        let (mx, my) = (mult(nx), mult(ny));
        let expand = |p: &[Vec<i64>], m: &[usize]| -> Vec<Vec<i64>> { p.iter().zip(m).flat_map(|(q, &c)| std::iter::repeat_n(q.clone(), c)).collect() };
        let (ex, ey) = (expand(&x, &mx), expand(&y, &my));
        let exact = |i: usize, j: usize| -> i128 { (0..d).map(|t| { let e = (ex[i][t] - ey[j][t]) as i128; e * e }).sum() };
        let (total, _) = assignment::<i128>(32, exact);
        let want = total as f64 / 32.0;
        let (wx, wy): (Vec<f64>, Vec<f64>) = (mx.iter().map(|&c| c as f64 / 32.0).collect(), my.iter().map(|&c| c as f64 / 32.0).collect());
        let plan = ot_sq_euclidean(to_mat(&x, d).as_ref(), Some(&wx), to_mat(&y, d).as_ref(), Some(&wy), EmdOptions::default()).unwrap();
        let err = (plan.cost - want).abs();
        prop_assert!(err <= 32.0 * U * want, "sep 1e{k}: W2² {} vs exact {want} (rel {:e})", plan.cost, err / want);
    }

    /// Two balanced far clusters with real-valued offsets (the shape of issue 14's case), at
    /// separations 1e4 to 1e15. Crossing between clusters costs at least `(sep − 2·spread·√3)² / N`
    /// `≥ 2e6` while the within-cluster matchings cost at most `N · 12 · spread² ≤ 6e4`, so the
    /// optimum never crosses and W2² is the sum of the two within-cluster assignments, divided by
    /// `N`. The far cluster is translated back by `sep` exactly (Sterbenz: its coordinates lie in
    /// `[sep/2, 2 sep]`), so its costs are the same f64 numbers; each cluster is then solved by
    /// the f64 Hungarian method on costs of order 1, where nothing huge is nearby.
    ///
    /// Tolerance `1e-12` relative: the two routes see the same f64 costs; the f64 Hungarian's
    /// potentials carry a rounding of at most `n · u · max C` per augmentation (`n ≤ 25`,
    /// `max C ≤ 1200`, `OPT ≥ 1e-6` from the drawn offsets), far below it.
    #[test]
    fn far_clusters_w2_equals_per_cluster_assignments(
        d in 1usize..=3, half in 2usize..=25, k in 4u32..=15,
        spread in prop::sample::select(vec![0.01f64, 1.0, 10.0]), seed in any::<u64>(),
    ) {
        let sep = 10f64.powi(k as i32);
        let mut rng = Rng(seed);
        let mut cloud = |far: bool| -> Vec<Vec<f64>> {
            (0..half).map(|_| (0..d).map(|t| spread * (2.0 * rng.uniform() - 1.0) + if far && t == 0 { sep } else { 0.0 }).collect()).collect()
        };
        let (xa, xb, ya, yb) = (cloud(false), cloud(true), cloud(false), cloud(true));
        let shift = |p: &[Vec<f64>]| -> Vec<Vec<f64>> { p.iter().map(|q| q.iter().enumerate().map(|(t, &v)| if t == 0 { v - sep } else { v }).collect()).collect() };
        let (xbs, ybs) = (shift(&xb), shift(&yb));
        let (ca, _) = assignment::<f64>(half, |i, j| sq_dist(&xa[i], &ya[j]));
        let (cb, _) = assignment::<f64>(half, |i, j| sq_dist(&xbs[i], &ybs[j]));
        let want = (ca + cb) / (2 * half) as f64;
        let stack = |a: &[Vec<f64>], b: &[Vec<f64>]| Mat::from_fn(2 * half, d, |i, t| if i < half { a[i][t] } else { b[i - half][t] });
        let plan = ot_sq_euclidean(stack(&xa, &xb).as_ref(), None, stack(&ya, &yb).as_ref(), None, EmdOptions::default()).unwrap();
        prop_assert!((plan.cost - want).abs() <= 1e-12 * want, "sep 1e{k}: W2² {} vs {want}", plan.cost);
        // No mass crosses between the clusters.
        prop_assert!(plan.entries.iter().all(|&(i, j, _)| (i < half) == (j < half)));
    }
}
