//! Kernel two-sample statistics: unbiased MMD² with a Gaussian kernel, the energy distance, and
//! seeded, thread-count-independent permutation tests.

use crate::error::{MetricsError, Result, check_cloud, check_param, check_same_dim, finite};
use faer::MatRef;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

/// Bandwidth `h` of the Gaussian kernel `k(x, y) = exp(−‖x − y‖² / (2h²))`.
///
/// ```
/// use gmdiff_metrics::Bandwidth;
/// assert_ne!(Bandwidth::Median, Bandwidth::Fixed(1.0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bandwidth {
    /// The median heuristic: `h = median{‖z_a − z_b‖ : a < b}` over all distinct pairs of the
    /// pooled sample `z = (x_1, …, x_n, y_1, …, y_m)` — Euclidean distances, not squared; for an
    /// even number of pairs the mean of the two middle values (numpy's `median`).
    Median,
    /// A given `h > 0`.
    Fixed(f64),
}

fn sq_dist(x: MatRef<'_, f64>, i: usize, y: MatRef<'_, f64>, j: usize) -> f64 {
    (0..x.ncols()).map(|k| (x[(i, k)] - y[(j, k)]) * (x[(i, k)] - y[(j, k)])).sum()
}

/// Row `a` of the pooled sample `(x; y)`.
fn pooled_sq_dist(x: MatRef<'_, f64>, y: MatRef<'_, f64>, a: usize, b: usize) -> f64 {
    let n = x.nrows();
    match (a < n, b < n) {
        (true, true) => sq_dist(x, a, x, b),
        (true, false) => sq_dist(x, a, y, b - n),
        (false, true) => sq_dist(y, a - n, x, b),
        (false, false) => sq_dist(y, a - n, y, b - n),
    }
}

fn check_two(x: MatRef<'_, f64>, y: MatRef<'_, f64>, min_rows: usize) -> Result<()> {
    check_cloud("x", x, min_rows)?;
    check_cloud("y", y, min_rows)?;
    check_same_dim("y", x, y)
}

/// The median-heuristic bandwidth of [`Bandwidth::Median`] for two clouds.
///
/// Errors with [`MetricsError::InvalidParameter`] when that median is 0 (more than half of the
/// pooled pairs coincide).
///
/// ```
/// use faer::mat;
/// let x = mat![[0.0], [1.0]];
/// let y = mat![[3.0]];
/// // Pairwise distances 1, 3, 2 → median 2.
/// assert_eq!(gmdiff_metrics::median_bandwidth(x.as_ref(), y.as_ref()).unwrap(), 2.0);
/// ```
pub fn median_bandwidth(x: MatRef<'_, f64>, y: MatRef<'_, f64>) -> Result<f64> {
    check_two(x, y, 1)?;
    let nn = x.nrows() + y.nrows();
    let mut d: Vec<f64> = (0..nn).into_par_iter().flat_map_iter(|a| (a + 1..nn).map(move |b| pooled_sq_dist(x, y, a, b).sqrt())).collect();
    let k = d.len();
    let h = if k % 2 == 1 {
        *d.select_nth_unstable_by(k / 2, f64::total_cmp).1
    } else {
        let (lo, hi, _) = d.select_nth_unstable_by(k / 2, f64::total_cmp);
        let hi = *hi;
        let lo_max = lo.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        0.5 * (lo_max + hi)
    };
    finite("median pairwise distance", h)?;
    if h <= 0.0 {
        return Err(MetricsError::InvalidParameter {
            name: "bandwidth",
            value: h,
            reason: "the median pooled pairwise distance is 0; pass Bandwidth::Fixed",
        });
    }
    Ok(h)
}

fn resolve(bw: Bandwidth, x: MatRef<'_, f64>, y: MatRef<'_, f64>) -> Result<f64> {
    match bw {
        Bandwidth::Median => median_bandwidth(x, y),
        Bandwidth::Fixed(h) => check_param("bandwidth", h, h > 0.0, "must be finite and > 0"),
    }
}

/// A two-sample statistic computed from the pooled pairwise matrix.
#[derive(Clone, Copy)]
enum Kind {
    /// Gaussian kernel values with bandwidth h (diagonal zeroed); unbiased MMD².
    Mmd,
    /// Euclidean distances; V-statistic energy distance.
    Energy,
}

/// The pooled `N × N` matrix (row-major) of kernel values (diagonal set to 0) or distances.
fn pooled_matrix(x: MatRef<'_, f64>, y: MatRef<'_, f64>, kind: Kind, h: f64) -> Vec<f64> {
    let nn = x.nrows() + y.nrows();
    let mut g = vec![0.0; nn * nn];
    g.par_chunks_mut(nn).enumerate().for_each(|(a, row)| {
        for (b, v) in row.iter_mut().enumerate() {
            if a != b {
                let s = pooled_sq_dist(x, y, a, b);
                *v = match kind {
                    Kind::Mmd => (-s / (2.0 * h * h)).exp(),
                    Kind::Energy => s.sqrt(),
                };
            }
        }
    });
    g
}

/// The statistic for the split "label 0 = first sample" given by `in_x[a]` (1.0 or 0.0).
fn split_statistic(g: &[f64], row_sums: &[f64], in_x: &[f64], n: usize, m: usize, kind: Kind) -> f64 {
    let nn = n + m;
    let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
    for a in 0..nn {
        let row = &g[a * nn..(a + 1) * nn];
        let rx: f64 = row.iter().zip(in_x).map(|(v, w)| v * w).sum();
        let ry = row_sums[a] - rx;
        if in_x[a] == 1.0 {
            sxx += rx;
            sxy += ry;
        } else {
            syy += ry;
        }
    }
    let (nf, mf) = (n as f64, m as f64);
    match kind {
        Kind::Mmd => sxx / (nf * (nf - 1.0)) + syy / (mf * (mf - 1.0)) - 2.0 * sxy / (nf * mf),
        Kind::Energy => 2.0 * sxy / (nf * mf) - sxx / (nf * nf) - syy / (mf * mf),
    }
}

/// Unbiased MMD² (a U-statistic) with the Gaussian kernel `k(x, y) = exp(−‖x − y‖²/(2h²))`:
///
/// `MMD²_u = 1/(n(n−1)) Σ_{i≠i'} k(x_i, x_i') + 1/(m(m−1)) Σ_{j≠j'} k(y_j, y_j')
///          − 2/(nm) Σ_{i,j} k(x_i, y_j)`.
///
/// It can be slightly negative when the laws are equal. Needs `n, m ≥ 2`. Returns the value
/// and the bandwidth used.
///
/// ```
/// use faer::mat;
/// use gmdiff_metrics::{mmd2_unbiased, Bandwidth};
/// let x = mat![[0.0], [0.1], [0.2]];
/// let y = mat![[5.0], [5.1], [5.2]];
/// let (v, h) = mmd2_unbiased(x.as_ref(), y.as_ref(), Bandwidth::Fixed(1.0)).unwrap();
/// assert_eq!(h, 1.0);
/// assert!(v > 1.9 && v < 2.0); // ≈ k_xx + k_yy ≈ 2 when the samples are far apart
/// ```
pub fn mmd2_unbiased(x: MatRef<'_, f64>, y: MatRef<'_, f64>, bandwidth: Bandwidth) -> Result<(f64, f64)> {
    check_two(x, y, 2)?;
    let h = resolve(bandwidth, x, y)?;
    let (n, m) = (x.nrows(), y.nrows());
    let c = 1.0 / (2.0 * h * h);
    let k = |s: f64| (-s * c).exp();
    let sxx: f64 = (0..n).into_par_iter().map(|i| (0..n).filter(|&t| t != i).map(|t| k(sq_dist(x, i, x, t))).sum::<f64>()).sum();
    let syy: f64 = (0..m).into_par_iter().map(|j| (0..m).filter(|&t| t != j).map(|t| k(sq_dist(y, j, y, t))).sum::<f64>()).sum();
    let sxy: f64 = (0..n).into_par_iter().map(|i| (0..m).map(|j| k(sq_dist(x, i, y, j))).sum::<f64>()).sum();
    let (nf, mf) = (n as f64, m as f64);
    Ok((finite("MMD²", sxx / (nf * (nf - 1.0)) + syy / (mf * (mf - 1.0)) - 2.0 * sxy / (nf * mf))?, h))
}

/// Squared energy distance between the two empirical laws (a V-statistic, always `≥ 0`):
///
/// `D² = (2/(nm)) Σ_{i,j} ‖x_i − y_j‖ − (1/n²) Σ_{i,i'} ‖x_i − x_i'‖ − (1/m²) Σ_{j,j'} ‖y_j − y_j'‖`.
///
/// In 1-D, `sqrt(D²)` is SciPy's `scipy.stats.energy_distance(x, y)`.
///
/// ```
/// use faer::mat;
/// let x = mat![[0.0]];
/// let y = mat![[2.0]];
/// assert_eq!(gmdiff_metrics::energy_distance_sq(x.as_ref(), y.as_ref()).unwrap(), 4.0);
/// ```
pub fn energy_distance_sq(x: MatRef<'_, f64>, y: MatRef<'_, f64>) -> Result<f64> {
    check_two(x, y, 1)?;
    let (n, m) = (x.nrows(), y.nrows());
    // The points as contiguous rows (d ≥ 1, checked above), so the O(n²) loop runs on slices.
    // Row sums in parallel, then a sequential sum: bit-identical at any thread count (a rayon
    // `sum` would add in an order that depends on how the work was split).
    let d = x.ncols();
    let flat = |a: MatRef<'_, f64>| -> Vec<f64> { (0..a.nrows()).flat_map(|i| (0..d).map(move |k| a[(i, k)])).collect() };
    let (xf, yf) = (flat(x), flat(y));
    let rows = |a: &[f64], b: &[f64]| -> f64 {
        let dist = |p: &[f64], q: &[f64]| p.iter().zip(q).map(|(u, v)| (u - v) * (u - v)).sum::<f64>().sqrt();
        let r: Vec<f64> = a.par_chunks(d).map(|p| b.chunks(d).map(|q| dist(p, q)).sum::<f64>()).collect();
        r.iter().sum()
    };
    let (sxx, syy, sxy) = (rows(&xf, &xf), rows(&yf, &yf), rows(&xf, &yf));
    let (nf, mf) = (n as f64, m as f64);
    Ok(finite("energy distance", 2.0 * sxy / (nf * mf) - sxx / (nf * nf) - syy / (mf * mf))?.max(0.0))
}

/// Energy distance `D = sqrt(D²)`, see [`energy_distance_sq`] (SciPy's convention in 1-D).
///
/// ```
/// use faer::mat;
/// let x = mat![[0.0], [1.0]];
/// let y = mat![[0.0], [1.0]];
/// assert_eq!(gmdiff_metrics::energy_distance(x.as_ref(), y.as_ref()).unwrap(), 0.0);
/// ```
pub fn energy_distance(x: MatRef<'_, f64>, y: MatRef<'_, f64>) -> Result<f64> {
    Ok(energy_distance_sq(x, y)?.sqrt())
}

/// Which statistic a [`permutation_test`] uses.
///
/// ```
/// use gmdiff_metrics::{Bandwidth, TwoSampleStatistic};
/// let s = TwoSampleStatistic::Mmd2(Bandwidth::Median);
/// assert_ne!(s, TwoSampleStatistic::Energy);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TwoSampleStatistic {
    /// Unbiased MMD² ([`mmd2_unbiased`]); the bandwidth is fixed once from the pooled sample
    /// (the median heuristic is permutation invariant).
    Mmd2(Bandwidth),
    /// Squared energy distance ([`energy_distance_sq`]).
    Energy,
}

/// The outcome of a permutation test.
///
/// ```
/// let r = gmdiff_metrics::PermutationTest { statistic: 0.1, p_value: 0.5, permutations: 99, bandwidth: None };
/// assert!(r.p_value > 0.05);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PermutationTest {
    /// The observed statistic.
    pub statistic: f64,
    /// `(1 + #{p : T_p ≥ T_obs}) / (1 + P)`.
    pub p_value: f64,
    /// The number of permutations `P`.
    pub permutations: usize,
    /// The kernel bandwidth, for MMD.
    pub bandwidth: Option<f64>,
}

/// A uniformly random permutation of `0..len` by Fisher–Yates with portable 64-bit draws.
fn shuffled(len: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let mut v: Vec<usize> = (0..len).collect();
    for i in (1..len).rev() {
        let j = rng.random_range(0..=i as u64) as usize;
        v.swap(i, j);
    }
    v
}

/// Permutation two-sample test: `p = (1 + #{p : T_p ≥ T_obs}) / (1 + P)`, where `T_p` is the
/// statistic after randomly reassigning the pooled points to groups of sizes `n` and `m`.
///
/// Permutation `p` (0-based) draws from its own stream,
/// `ChaCha8Rng::seed_from_u64(seed)` with `set_stream(p)`, and the `T_p` are computed in
/// parallel with rayon, so the p-value is bit-identical for any thread count. The pooled
/// `(n+m)²` matrix of kernel values (or distances) is built once; each permutation then costs
/// `O((n+m)²)`. The observed statistic is evaluated by the same code path, so ties count
/// consistently.
///
/// ```
/// use faer::Mat;
/// use gmdiff_metrics::{permutation_test, Bandwidth, TwoSampleStatistic};
/// let x = Mat::from_fn(20, 1, |i, _| i as f64 / 20.0);
/// let y = Mat::from_fn(20, 1, |i, _| 3.0 + i as f64 / 20.0);
/// let r = permutation_test(x.as_ref(), y.as_ref(), TwoSampleStatistic::Energy, 99, 1).unwrap();
/// assert!((r.p_value - 0.01).abs() < 1e-15); // nothing beats the observed split
/// ```
pub fn permutation_test(
    x: MatRef<'_, f64>,
    y: MatRef<'_, f64>,
    statistic: TwoSampleStatistic,
    permutations: usize,
    seed: u64,
) -> Result<PermutationTest> {
    check_two(x, y, 2)?;
    if permutations == 0 {
        return Err(MetricsError::InvalidParameter { name: "permutations", value: 0.0, reason: "need at least one permutation" });
    }
    let (n, m) = (x.nrows(), y.nrows());
    let nn = n + m;
    let (kind, h) = match statistic {
        TwoSampleStatistic::Mmd2(bw) => (Kind::Mmd, Some(resolve(bw, x, y)?)),
        TwoSampleStatistic::Energy => (Kind::Energy, None),
    };
    let g = pooled_matrix(x, y, kind, h.unwrap_or(1.0));
    let row_sums: Vec<f64> = g.chunks(nn).map(|r| r.iter().sum()).collect();
    let mut labels = vec![0.0; nn];
    labels[..n].iter_mut().for_each(|v| *v = 1.0);
    let observed = finite("two-sample statistic", split_statistic(&g, &row_sums, &labels, n, m, kind))?;
    let exceed: usize = (0..permutations)
        .into_par_iter()
        .map(|p| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(p as u64);
            let perm = shuffled(nn, &mut rng);
            let mut lab = vec![0.0; nn];
            for &a in &perm[..n] {
                lab[a] = 1.0;
            }
            usize::from(split_statistic(&g, &row_sums, &lab, n, m, kind) >= observed)
        })
        .sum();
    Ok(PermutationTest { statistic: observed, p_value: (1 + exceed) as f64 / (1 + permutations) as f64, permutations, bandwidth: h })
}
