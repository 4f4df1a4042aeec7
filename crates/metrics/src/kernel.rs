//! Kernel two-sample statistics: MMD² (unbiased and biased) with a Gaussian kernel, the energy
//! distance, and seeded, thread-count-independent permutation tests, all streamed over the
//! pooled kernel matrix in blocks with `O((n + m) d)` memory (see the `stream` module).

mod stream;

use crate::error::{MetricsError, Result, check_cloud, check_param, check_same_dim, finite};
use faer::MatRef;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use stream::{Kernel, Pooled, Splits, Sums};

/// Bandwidth `h` of the Gaussian kernel `k(x, y) = exp(−‖x − y‖² / (2h²))`.
///
/// ```
/// use gmdiff_metrics::Bandwidth;
/// assert_ne!(Bandwidth::Median, Bandwidth::Fixed(1.0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bandwidth {
    /// The median heuristic of [`median_bandwidth`]: the median Euclidean (not squared)
    /// distance between distinct points of the pooled sample — over all pairs when there are at
    /// most [`MEDIAN_PAIRS`] of them, else over [`MEDIAN_PAIRS`] pairs drawn with a fixed seed.
    Median,
    /// A given `h > 0`.
    Fixed(f64),
}

/// The number of pairs the median heuristic looks at: `2²¹`.
///
/// A pooled sample of `N` points has `N(N−1)/2` distinct pairs; up to `2²¹` of them (`N ≤ 2048`)
/// [`median_bandwidth`] uses all of them, above it uses `2²¹` pairs drawn uniformly with
/// replacement (16 MB either way).
pub const MEDIAN_PAIRS: usize = 1 << 21;

/// The seed of the pairs drawn by [`median_bandwidth`] for large samples (fixed, so that the
/// bandwidth is a function of the data alone).
const MEDIAN_SEED: u64 = 0x6d65_6469_616e_5f68;

/// Pairs drawn per random stream of the subsampled median.
const MEDIAN_CHUNK: usize = 1 << 14;

/// Relative tolerance of "`T_p ≥ T_obs`" in the permutation tests, against the scale `S` of the
/// statistic (see [`permutation_test`]).
pub const TIE_RTOL: f64 = 1e-12;

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

/// The median of `d` (numpy's convention: the mean of the two middle values for an even count).
fn median(d: &mut [f64]) -> f64 {
    let k = d.len();
    if k % 2 == 1 {
        *d.select_nth_unstable_by(k / 2, f64::total_cmp).1
    } else {
        let (lo, hi, _) = d.select_nth_unstable_by(k / 2, f64::total_cmp);
        let hi = *hi;
        let lo_max = lo.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        0.5 * (lo_max + hi)
    }
}

/// The median-heuristic bandwidth of [`Bandwidth::Median`] for two clouds: the median of the
/// Euclidean distances `‖z_a − z_b‖` between distinct points of the pooled sample
/// `z = (x_1, …, x_n, y_1, …, y_m)`, `N = n + m`.
///
/// * `N(N−1)/2 ≤` [`MEDIAN_PAIRS`] (`N ≤ 2048`): the exact median over all pairs `a < b`
///   (numpy's `median` of the condensed distance matrix).
/// * Larger samples: the exact median of [`MEDIAN_PAIRS`] distances of pairs `(a, b)` drawn
///   uniformly with replacement among the distinct pairs (`a` uniform in `0..N`, `b` uniform in
///   the other `N − 1` points), from `ChaCha8Rng` streams of a fixed seed, so the bandwidth is
///   deterministic and independent of the thread count. Its relative error as an estimate of the
///   all-pairs median is of order `1/√MEDIAN_PAIRS ≈ 7e−4`.
///
/// Memory: at most `8 ·` [`MEDIAN_PAIRS`] bytes (16 MB), whatever `N`. Distances are computed
/// from the coordinate differences.
///
/// Errors with [`MetricsError::InvalidParameter`] when that median is 0 (more than half of the
/// pairs coincide) and [`MetricsError::Overflow`] when it overflows.
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
    let pairs = (nn as u128) * (nn as u128 - 1) / 2;
    let mut d: Vec<f64> = if pairs <= MEDIAN_PAIRS as u128 {
        (0..nn).into_par_iter().flat_map_iter(|a| (a + 1..nn).map(move |b| pooled_sq_dist(x, y, a, b).sqrt())).collect()
    } else {
        let mut d = vec![0.0; MEDIAN_PAIRS];
        d.par_chunks_mut(MEDIAN_CHUNK).enumerate().for_each(|(chunk, out)| {
            let mut rng = ChaCha8Rng::seed_from_u64(MEDIAN_SEED);
            rng.set_stream(chunk as u64);
            for v in out {
                let a = rng.random_range(0..nn as u64) as usize;
                let b = rng.random_range(0..nn as u64 - 1) as usize;
                let b = if b >= a { b + 1 } else { b };
                *v = pooled_sq_dist(x, y, a, b).sqrt();
            }
        });
        d
    };
    let h = median(&mut d);
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

/// How to run the permutation test of [`mmd_test`] and [`energy_test`].
///
/// ```
/// use gmdiff_metrics::PermutationOptions;
/// let o = PermutationOptions { permutations: 200, seed: 7, ..Default::default() };
/// assert!(o.progress.is_none());
/// ```
#[derive(Clone, Copy, Default)]
pub struct PermutationOptions<'a> {
    /// The number `P` of random permutations; 0 computes the statistic alone.
    pub permutations: usize,
    /// The seed of the permutations.
    pub seed: u64,
    /// Called from worker threads as `progress(done, total)` while the kernel blocks are
    /// streamed (`total` blocks of at most 256 × 256 kernel values).
    pub progress: Option<&'a (dyn Fn(u64, u64) + Sync)>,
}

impl std::fmt::Debug for PermutationOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PermutationOptions")
            .field("permutations", &self.permutations)
            .field("seed", &self.seed)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// The result of [`mmd_test`].
#[derive(Debug, Clone, PartialEq)]
pub struct MmdTest {
    /// The unbiased `MMD²_u` of [`mmd2_unbiased`].
    pub mmd2: f64,
    /// The biased `MMD²_b` of [`mmd2_biased`].
    pub mmd2_biased: f64,
    /// The bandwidth `h` used.
    pub bandwidth: f64,
    /// The number `P` of permutations.
    pub permutations: usize,
    /// The permutation p-value of `MMD²_u`, `(1 + #{p : T_p ≥ T_obs}) / (1 + P)`; `None` when
    /// `P = 0`.
    pub p_value: Option<f64>,
    /// The permutation p-value of `MMD²_b`; `None` when `P = 0`.
    pub p_value_biased: Option<f64>,
    /// `MMD²_u` of each permutation (length `P`).
    pub null: Vec<f64>,
    /// `MMD²_b` of each permutation (length `P`).
    pub null_biased: Vec<f64>,
}

/// The result of [`energy_test`].
#[derive(Debug, Clone, PartialEq)]
pub struct EnergyTest {
    /// The squared energy distance `D²` of [`energy_distance_sq`].
    pub distance_sq: f64,
    /// The energy distance `D = sqrt(D²)`.
    pub distance: f64,
    /// The number `P` of permutations.
    pub permutations: usize,
    /// The permutation p-value of `D²`; `None` when `P = 0`.
    pub p_value: Option<f64>,
    /// `D²` of each permutation (length `P`).
    pub null: Vec<f64>,
}

/// The group sums of every split, recovered from the streamed `V`, `σ`, `τ`.
struct SplitSums {
    /// `T_AA = Σ_{a,a' ∈ A} K_aa'`, diagonal included.
    aa: f64,
    /// `T_BB`.
    bb: f64,
    /// `T_AB = Σ_{a ∈ A, b ∈ B} K_ab`.
    ab: f64,
}

/// With `u = 1/n`, `w = 1/m` and `s = u e_A − w e_B`:
/// `V = u²T_AA + w²T_BB − 2uw T_AB`, `σ = sᵀK1 = u T_AA − w T_BB + (u − w) T_AB`,
/// `τ = T_AA + T_BB + 2 T_AB`. Hence `u T_AA + w T_BB = (V + uwτ)/(u + w) =: Q` and
/// `T_AA − T_BB = (2σ − (u − w)τ)/(u + w) =: Δ`.
fn split_sums(v: f64, sigma: f64, tau: f64, n: usize, m: usize) -> SplitSums {
    let (u, w) = (1.0 / n as f64, 1.0 / m as f64);
    let q = (v + u * w * tau) / (u + w);
    let delta = (2.0 * sigma - (u - w) * tau) / (u + w);
    let aa = (q + w * delta) / (u + w);
    let bb = (q - u * delta) / (u + w);
    SplitSums { aa, bb, ab: 0.5 * (tau - aa - bb) }
}

/// Streams the observed split and `P` permutations; returns the split sums of each column, and
/// `V` of each column.
fn run(x: MatRef<'_, f64>, y: MatRef<'_, f64>, kernel: Kernel, options: &PermutationOptions<'_>) -> Result<(Sums, Vec<SplitSums>)> {
    let pool = Pooled::new(x, y)?;
    let splits = Splits::new(pool.n, pool.m, options.permutations, options.seed);
    let sums = stream::stream(&pool, kernel, &splits, options.progress);
    let parts = (0..splits.columns()).map(|p| split_sums(sums.v[p], sums.sigma[p], sums.tau, pool.n, pool.m)).collect();
    Ok((sums, parts))
}

/// The scale `S = Σ_{a,b} |s_a K_ab s_b| = T_AA/n² + T_BB/m² + 2T_AB/(nm)` of a split (`K ≥ 0`).
fn scale(s: &SplitSums, n: usize, m: usize) -> f64 {
    let (u, w) = (1.0 / n as f64, 1.0 / m as f64);
    u * u * s.aa + w * w * s.bb + 2.0 * u * w * s.ab
}

/// `(1 + #{p : T_p ≥ T_obs − TIE_RTOL·S}) / (1 + P)`.
fn p_value(observed: f64, null: &[f64], scale: f64) -> f64 {
    let bar = observed - TIE_RTOL * scale;
    let exceed = null.iter().filter(|&&t| t >= bar).count();
    (1 + exceed) as f64 / (1 + null.len()) as f64
}

/// MMD² with the Gaussian kernel `k(x, y) = exp(−‖x − y‖²/(2h²))`, unbiased and biased, and
/// optionally their permutation tests, in one streamed pass.
///
/// * Unbiased (a U-statistic, can be slightly negative under the null):
///   `MMD²_u = Σ_{i≠i'} k(x_i,x_i')/(n(n−1)) + Σ_{j≠j'} k(y_j,y_j')/(m(m−1)) − 2 Σ_{i,j} k(x_i,y_j)/(nm)`.
/// * Biased (a V-statistic, `≥ 0`, the squared RKHS distance between the two empirical laws):
///   `MMD²_b = Σ_{i,i'} k(x_i,x_i')/n² + Σ_{j,j'} k(y_j,y_j')/m² − 2 Σ_{i,j} k(x_i,y_j)/(nm)`.
///
/// (Gretton et al., *A kernel two-sample test*, JMLR 13 (2012), eqs. (3) and (5).)
///
/// `x` is `n × d`, `y` is `m × d`, `n, m ≥ 2`. The permutation scheme and the p-values are those
/// of [`permutation_test`]. Cost: `(n+m)²/2` kernel values, plus `(n+m)²(P+2)` flops of GEMM for
/// `P` permutations; memory `O((n + m)(d + P/64))` plus `O(256 · P)` per thread — the kernel
/// matrix is never stored. The result is bit-identical for any number of threads.
///
/// Errors: [`MetricsError::Empty`] (fewer than 2 rows or no column), `DimensionMismatch`,
/// `NonFinite` inputs, `InvalidParameter` (bandwidth), [`MetricsError::Overflow`] when squared
/// distances or `1/(2h²)` overflow `f64`.
///
/// ```
/// use faer::Mat;
/// use gmdiff_metrics::{mmd_test, Bandwidth, PermutationOptions};
/// let x = Mat::from_fn(30, 2, |i, k| ((i * 7 + k * 3) % 11) as f64 / 11.0);
/// let y = Mat::from_fn(30, 2, |i, k| 2.0 + ((i * 5 + k) % 13) as f64 / 13.0);
/// let t = mmd_test(x.as_ref(), y.as_ref(), Bandwidth::Fixed(1.0), &PermutationOptions { permutations: 99, seed: 1, progress: None }).unwrap();
/// assert!(t.mmd2_biased > t.mmd2); // V − U = (1 − mean k) terms of order 1/n, positive here
/// assert_eq!(t.p_value, Some(0.01)); // no permutation beats the observed split
/// ```
pub fn mmd_test(x: MatRef<'_, f64>, y: MatRef<'_, f64>, bandwidth: Bandwidth, options: &PermutationOptions<'_>) -> Result<MmdTest> {
    check_two(x, y, 2)?;
    let h = resolve(bandwidth, x, y)?;
    let c = finite("1/(2h²)", 1.0 / (2.0 * h * h))?;
    let (n, m) = (x.nrows(), y.nrows());
    let (sums, parts) = run(x, y, Kernel::Gaussian { c }, options)?;
    // MMD²_u − MMD²_b = T_AA/(n²(n−1)) − 1/(n−1) + (same for B), with T_AA including the n
    // diagonal values k(x, x) = 1.
    let unbiased = |p: usize| {
        let s = &parts[p];
        let (u, w) = (1.0 / n as f64, 1.0 / m as f64);
        sums.v[p] + (s.aa * u * u - 1.0) / (n as f64 - 1.0) + (s.bb * w * w - 1.0) / (m as f64 - 1.0)
    };
    let biased = |p: usize| sums.v[p].max(0.0);
    let mmd2 = finite("MMD²", unbiased(0))?;
    let mmd2_biased = finite("MMD²", biased(0))?;
    let null: Vec<f64> = (1..parts.len()).map(unbiased).collect();
    let null_biased: Vec<f64> = (1..parts.len()).map(biased).collect();
    let s = scale(&parts[0], n, m);
    let tested = options.permutations > 0;
    Ok(MmdTest {
        mmd2,
        mmd2_biased,
        bandwidth: h,
        permutations: options.permutations,
        p_value: tested.then(|| p_value(mmd2, &null, s)),
        p_value_biased: tested.then(|| p_value(mmd2_biased, &null_biased, s)),
        null,
        null_biased,
    })
}

/// The squared energy distance and optionally its permutation test, in one streamed pass.
///
/// `D² = (2/(nm)) Σ_{i,j} ‖x_i − y_j‖ − (1/n²) Σ_{i,i'} ‖x_i − x_i'‖ − (1/m²) Σ_{j,j'} ‖y_j − y_j'‖`
/// (a V-statistic, `≥ 0`; Székely & Rizzo, *Energy statistics*, J. Stat. Plan. Inference 143
/// (2013), eq. (2.1) with the empirical laws). In 1-D, `D` is SciPy's
/// `scipy.stats.energy_distance`.
///
/// `x` is `n × d`, `y` is `m × d`, `n, m ≥ 1`. Cost and memory as in [`mmd_test`]: no
/// `(n+m)²` matrix is stored. Negative rounding noise is clamped: `D² = max(·, 0)`.
///
/// ```
/// use faer::mat;
/// use gmdiff_metrics::{energy_test, PermutationOptions};
/// let x = mat![[0.0], [1.0]];
/// let y = mat![[3.0], [4.0]];
/// let t = energy_test(x.as_ref(), y.as_ref(), &PermutationOptions::default()).unwrap();
/// // 2·mean|x − y| − mean|x − x'| − mean|y − y'| = 2·3 − 0.5 − 0.5.
/// assert!((t.distance_sq - 5.0).abs() < 1e-14);
/// assert_eq!(t.p_value, None);
/// ```
pub fn energy_test(x: MatRef<'_, f64>, y: MatRef<'_, f64>, options: &PermutationOptions<'_>) -> Result<EnergyTest> {
    check_two(x, y, 1)?;
    let (n, m) = (x.nrows(), y.nrows());
    let (sums, parts) = run(x, y, Kernel::Distance, options)?;
    let stat = |p: usize| (-sums.v[p]).max(0.0);
    let distance_sq = finite("energy distance", stat(0))?;
    let null: Vec<f64> = (1..parts.len()).map(stat).collect();
    let s = scale(&parts[0], n, m);
    Ok(EnergyTest {
        distance_sq,
        distance: distance_sq.sqrt(),
        permutations: options.permutations,
        p_value: (options.permutations > 0).then(|| p_value(distance_sq, &null, s)),
        null,
    })
}

/// Unbiased MMD² (a U-statistic) with the Gaussian kernel `k(x, y) = exp(−‖x − y‖²/(2h²))`:
///
/// `MMD²_u = 1/(n(n−1)) Σ_{i≠i'} k(x_i, x_i') + 1/(m(m−1)) Σ_{j≠j'} k(y_j, y_j')
///          − 2/(nm) Σ_{i,j} k(x_i, y_j)`.
///
/// It can be slightly negative when the laws are equal. Needs `n, m ≥ 2`. Returns the value
/// and the bandwidth used. Streamed in blocks, see [`mmd_test`].
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
    let t = mmd_test(x, y, bandwidth, &PermutationOptions::default())?;
    Ok((t.mmd2, t.bandwidth))
}

/// Biased MMD² (a V-statistic, `≥ 0`) with the Gaussian kernel, see [`mmd_test`]:
///
/// `MMD²_b = 1/n² Σ_{i,i'} k(x_i, x_i') + 1/m² Σ_{j,j'} k(y_j, y_j') − 2/(nm) Σ_{i,j} k(x_i, y_j)`.
///
/// Needs `n, m ≥ 2`. Returns the value and the bandwidth used.
///
/// ```
/// use faer::mat;
/// use gmdiff_metrics::{mmd2_biased, Bandwidth};
/// let x = mat![[0.0], [0.0]];
/// let y = mat![[0.0], [0.0]];
/// // Identical samples: MMD²_b = 0 exactly; (MMD²_u would be 1 + 1 − 2 = 0 too).
/// assert_eq!(mmd2_biased(x.as_ref(), y.as_ref(), Bandwidth::Fixed(1.0)).unwrap(), (0.0, 1.0));
/// ```
pub fn mmd2_biased(x: MatRef<'_, f64>, y: MatRef<'_, f64>, bandwidth: Bandwidth) -> Result<(f64, f64)> {
    let t = mmd_test(x, y, bandwidth, &PermutationOptions::default())?;
    Ok((t.mmd2_biased, t.bandwidth))
}

/// Squared energy distance between the two empirical laws (a V-statistic, always `≥ 0`):
///
/// `D² = (2/(nm)) Σ_{i,j} ‖x_i − y_j‖ − (1/n²) Σ_{i,i'} ‖x_i − x_i'‖ − (1/m²) Σ_{j,j'} ‖y_j − y_j'‖`.
///
/// In 1-D, `sqrt(D²)` is SciPy's `scipy.stats.energy_distance(x, y)`. Streamed in blocks, see
/// [`energy_test`].
///
/// ```
/// use faer::mat;
/// let x = mat![[0.0]];
/// let y = mat![[2.0]];
/// assert_eq!(gmdiff_metrics::energy_distance_sq(x.as_ref(), y.as_ref()).unwrap(), 4.0);
/// ```
pub fn energy_distance_sq(x: MatRef<'_, f64>, y: MatRef<'_, f64>) -> Result<f64> {
    Ok(energy_test(x, y, &PermutationOptions::default())?.distance_sq)
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
    /// Biased MMD² ([`mmd2_biased`]).
    Mmd2Biased(Bandwidth),
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

/// Permutation two-sample test: `p = (1 + #{p : T_p ≥ T_obs}) / (1 + P)`, where `T_p` is the
/// statistic after randomly reassigning the pooled points to groups of sizes `n` and `m`.
///
/// * **Permutations.** Permutation `p` (0-based) is a Fisher–Yates shuffle of the pooled
///   indices `0..n+m` (`for i in (1..n+m).rev() { swap(i, uniform(0..=i)) }`, 64-bit draws) from
///   `ChaCha8Rng::seed_from_u64(seed)` with `set_stream(p)`; its first `n` indices form the
///   first group.
/// * **Ties.** `T_p ≥ T_obs` is decided as `T_p ≥ T_obs − TIE_RTOL · S` with [`TIE_RTOL`]
///   `= 1e−12` and `S = T_AA/n² + T_BB/m² + 2T_AB/(nm)` of the observed split (the size of the
///   terms whose rounding errors `T` carries), so that a permutation that reproduces the
///   observed split (or swaps two equal-sized groups) counts as a tie, as in exact arithmetic,
///   whatever the rounding. SciPy's `permutation_test` uses a relative tolerance in the same way.
/// * **Cost.** Nothing of size `(n+m)²` is stored: the statistics of all `P + 1` splits are
///   quadratic forms `s_pᵀ K s_p` of the pooled kernel matrix `K`, accumulated block by block with
///   GEMMs (see [`mmd_test`]). The result is bit-identical for any number of threads, and the
///   observed statistic goes through the same code path as the permuted ones.
///
/// Needs `n, m ≥ 2` and `permutations ≥ 1` ([`mmd_test`] and [`energy_test`] also accept 0).
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
    let options = PermutationOptions { permutations, seed, progress: None };
    // P ≥ 1, so the p-values are present; 1.0 is never used.
    let (statistic, p_value, bandwidth) = match statistic {
        TwoSampleStatistic::Mmd2(bw) => {
            let t = mmd_test(x, y, bw, &options)?;
            (t.mmd2, t.p_value.unwrap_or(1.0), Some(t.bandwidth))
        }
        TwoSampleStatistic::Mmd2Biased(bw) => {
            let t = mmd_test(x, y, bw, &options)?;
            (t.mmd2_biased, t.p_value_biased.unwrap_or(1.0), Some(t.bandwidth))
        }
        TwoSampleStatistic::Energy => {
            let t = energy_test(x, y, &options)?;
            (t.distance_sq, t.p_value.unwrap_or(1.0), None)
        }
    };
    Ok(PermutationTest { statistic, p_value, permutations, bandwidth })
}
