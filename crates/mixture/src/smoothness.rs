//! Smoothness of a Gaussian mixture's score: the Lipschitz constant `L = sup ‖∇² log p(x)‖₂` over a
//! ball (a numerical lower estimate and a rigorous upper bound) and the second moment `E‖x‖²`.
//!
//! These are the two quantities that Liang, Shi, Song, Zhou (arXiv 2405.16418) feed into the DDPM,
//! DPOM and DPUM guarantees (THEORY §1). Every function takes the law at the time of interest, i.e.
//! the diffused mixture `p_t = Σ_i w_i N(m_i, S_i)` with `m_i = a_t μ_i`, `S_i = a_t² Σ_i + b_t² I`
//! (use [`GaussianMixture::diffused`]); [`smoothness`] does the diffusion for you.
//!
//! **The bound** ([`lipschitz_bound`], proof in `docs/smoothness.md`). Write `P_i = S_i⁻¹`,
//! `g_i(x) = P_i (x − m_i)`, `r_i(x)` the responsibilities, so that
//! `H(x) = ∇² log p(x) = −A(x) + C(x)` with `A = Σ_i r_i P_i ⪰ 0` and
//! `C = Σ_i r_i (g_i − ḡ)(g_i − ḡ)ᵀ ⪰ 0` (THEORY §1, derived). Then `−A ⪯ H ⪯ C`, so for any unit `v`,
//! `|vᵀ H v| ≤ max(vᵀ A v, vᵀ C v)` and
//!
//! * `vᵀ A v ≤ max_i λ_max(P_i)` (a convex combination),
//! * `vᵀ C v = Var_{i∼r}(vᵀ g_i) ≤ ¼ (max_i vᵀg_i − min_i vᵀg_i)² ≤ ¼ max_{i,j} ‖g_i − g_j‖²`
//!   (Popoviciu's inequality), and on the ball `‖x‖ ≤ R`, since `g_i − g_j = (P_i − P_j) x − (P_i m_i − P_j m_j)`,
//!   `‖g_i − g_j‖ ≤ D_ij = ‖P_i − P_j‖₂ R + ‖P_i m_i − P_j m_j‖`.
//!
//! Hence `L ≤ max( max_i λ_max(P_i), ¼ max_{i,j} D_ij² )`. When every `P_i` is equal (isotropic
//! diffusion of equal covariances, for instance) `D_ij` does not depend on `R` and the bound holds
//! on all of `R^d`. It is never larger than THEORY's `max_i 1/λ_min(S_i) + max_i ‖g_i‖²` (also
//! returned, as [`LipschitzBound::theory_bound`]) because `D_ij ≤ G_i + G_j` with
//! `G_i = ‖P_i‖ (R + ‖m_i‖) ≥ sup_ball ‖g_i‖`.
//!
//! **The estimate** ([`lipschitz_estimate`]) is the largest `‖H(x)‖₂` found by a multi-start search
//! (samples of `p`, the means `m_i`, points on segments between means, all projected onto the ball),
//! refined by monotone projected gradient ascent with finite-difference gradients of `‖H‖₂`. It is a
//! value attained at a point, hence a lower bound on `L` up to rounding, with no statement of how far
//! below `L` it is: [`crate::lipschitz_enclosure`] certifies `L ∈ [lower, upper]` (branch and bound
//! with rigorous box bounds), and [`smoothness_with`] reports it beside the estimate and the bound.
//!
//! ```
//! use gmdiff_mixture::{GaussianMixture, lipschitz_bound, lipschitz_estimate, SearchOptions};
//! let m: GaussianMixture = serde_json::from_str(
//!     r#"{"weights":[0.5,0.5],"means":[[-2.0],[2.0]],"covariances":[[[1.0]],[[1.0]]]}"#).unwrap();
//! // N(±2, 1): at x = 0, H = −1 + Var(g) = −1 + 4, and 3 is the supremum.
//! let est = lipschitz_estimate(&m, &SearchOptions { radius: Some(5.0), ..SearchOptions::default() }).unwrap();
//! let bound = lipschitz_bound(&m, Some(5.0)).unwrap();
//! assert!((est.value - 3.0).abs() < 1e-9);
//! assert!(bound.value >= est.value && (bound.value - 4.0).abs() < 1e-10);
//! ```

use crate::density::MixtureDensity;
use crate::enclosure::{EnclosureOptions, LipschitzEnclosure, lipschitz_enclosure_with_progress};
use crate::error::MixtureError;
use crate::linalg;
use crate::mixture::GaussianMixture;
use faer::{Mat, MatRef};
use rand::RngExt;
use rayon::prelude::*;
use thiserror::Error;

/// Errors of the smoothness computations.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SmoothnessError {
    /// The mixture could not be factorised or evaluated.
    #[error(transparent)]
    Mixture(#[from] MixtureError),
    /// An option is out of range.
    #[error("invalid option `{name}` = {value}: {reason}")]
    InvalidOption {
        /// The option.
        name: &'static str,
        /// Its value.
        value: f64,
        /// What is admissible.
        reason: &'static str,
    },
    /// No finite bound on all of `R^d`: the precisions differ, so a radius is needed.
    #[error("the components' precisions differ, so the bound needs a finite radius R (the covariance term grows like R²)")]
    NeedsRadius,
    /// An eigenvalue computation failed or produced a non-finite value.
    #[error("spectral norm: {0}")]
    Spectral(String),
    /// A covariance too ill-conditioned for the certified enclosure: the rigorous residual bound of
    /// its computed inverse or log-determinant is too large (≥ 0.5, resp. ≥ 0.25).
    #[error("covariance of component {component} is too ill-conditioned to certify its inverse (residual bound {residual})")]
    IllConditioned {
        /// Component index.
        component: usize,
        /// The residual bound.
        residual: f64,
    },
}

/// A progress report of a long computation: `done` of `total` units of `stage`, and a short
/// human-readable `note` (for a progress bar).
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// `"search"` ([`lipschitz_estimate_with_progress`]) or `"enclosure"` ([`crate::lipschitz_enclosure_with_progress`]).
    pub stage: &'static str,
    /// Units done.
    pub done: u64,
    /// Units in all (the stage may stop earlier, for instance when the enclosure converges).
    pub total: u64,
    /// For instance the current enclosure.
    pub note: String,
}

/// The spectral norm `‖H‖₂ = max_i |λ_i(H)|` of a symmetric matrix (lower triangle read).
///
/// `d ≤ 2` uses the closed form `|(h₁₁ + h₂₂)/2| + sqrt(((h₁₁ − h₂₂)/2)² + h₂₁²)`; larger `d` a
/// symmetric eigenvalue decomposition.
///
/// ```
/// use gmdiff_mixture::symmetric_spectral_norm;
/// let h = faer::mat![[1.0, 2.0], [2.0, -3.0]]; // eigenvalues −1 ± 2√2
/// assert!((symmetric_spectral_norm(h.as_ref()).unwrap() - (1.0 + 2.0 * 2f64.sqrt())).abs() < 1e-14);
/// ```
pub fn symmetric_spectral_norm(h: MatRef<'_, f64>) -> Result<f64, SmoothnessError> {
    let d = h.nrows();
    if h.ncols() != d {
        return Err(SmoothnessError::Spectral(format!("matrix is {} × {}, not square", d, h.ncols())));
    }
    let norm = match d {
        0 => 0.0,
        1 => h[(0, 0)].abs(),
        2 => {
            let mid = 0.5 * (h[(0, 0)] + h[(1, 1)]);
            let half = 0.5 * (h[(0, 0)] - h[(1, 1)]);
            mid.abs() + half.hypot(h[(1, 0)])
        }
        _ => {
            let (values, _) = linalg::symmetric_eigen(h).ok_or_else(|| SmoothnessError::Spectral("eigen decomposition failed".into()))?;
            values.iter().fold(0.0f64, |m, v| m.max(v.abs()))
        }
    };
    if norm.is_finite() { Ok(norm) } else { Err(SmoothnessError::Spectral(format!("non-finite norm {norm}"))) }
}

/// Relative margin added to [`LipschitzBound::value`] to cover floating-point rounding (a single
/// Gaussian's bound is attained exactly, and the estimate and the bound are computed by different
/// routes).
pub const BOUND_ROUNDING_MARGIN: f64 = 1e-12;

/// The rigorous upper bound on `L = sup_{‖x‖ ≤ R} ‖∇² log p(x)‖₂` of the module docs, and its parts.
///
/// `value = max(precision_term, covariance_term) · (1 + 10⁻¹²)` (the factor is
/// [`BOUND_ROUNDING_MARGIN`]) with `precision_term = max_i λ_max(P_i)` and
/// `covariance_term = ¼ max_{i,j} (‖P_i − P_j‖₂ R + ‖P_i m_i − P_j m_j‖)²`.
#[derive(Debug, Clone, PartialEq)]
pub struct LipschitzBound {
    /// The bound `max(precision_term, covariance_term) · (1 + BOUND_ROUNDING_MARGIN)`.
    pub value: f64,
    /// `max_i λ_max(P_i) = max_i 1/λ_min(S_i)`, which bounds `‖Σ r_i P_i‖`.
    pub precision_term: f64,
    /// `¼ max_{i,j} D_ij²`, which bounds the covariance part `C(x)` on the ball (Popoviciu).
    pub covariance_term: f64,
    /// THEORY §1's cruder bound `max_i λ_max(P_i) + max_i G_i²`, `G_i = λ_max(P_i)(R + ‖m_i‖)`;
    /// `None` on all of `R^d`.
    pub theory_bound: Option<f64>,
    /// The radius `R` (`None`: all of `R^d`).
    pub radius: Option<f64>,
}

/// The components with positive weight, as dense precisions `P_i`, means `m_i` and `P_i m_i`.
struct Active {
    precisions: Vec<Mat<f64>>,
    means: Vec<Vec<f64>>,
    shifted: Vec<Vec<f64>>,
    top: Vec<f64>,
}

fn active_components(p: &GaussianMixture) -> Result<Active, SmoothnessError> {
    let mut out = Active { precisions: Vec::new(), means: Vec::new(), shifted: Vec::new(), top: Vec::new() };
    for (i, (w, c)) in p.weights().iter().zip(p.components()).enumerate() {
        if *w == 0.0 {
            continue;
        }
        let prec = c.covariance().precision().map_err(|e| e.in_component(i))?.factor.to_dense();
        let d = prec.nrows();
        let m = c.mean().to_vec();
        let pm: Vec<f64> = (0..d).map(|a| (0..d).map(|b| prec[(a, b)] * m[b]).sum()).collect();
        let smallest = c.covariance().eigenvalues().first().copied().unwrap_or(0.0);
        if smallest.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
            return Err(MixtureError::SingularCovariance { component: i }.into());
        }
        out.top.push(1.0 / smallest);
        out.precisions.push(prec);
        out.means.push(m);
        out.shifted.push(pm);
    }
    Ok(out)
}

fn check_radius(radius: Option<f64>) -> Result<(), SmoothnessError> {
    match radius {
        Some(r) if !(r.is_finite() && r >= 0.0) => {
            Err(SmoothnessError::InvalidOption { name: "radius", value: r, reason: "must be finite and ≥ 0" })
        }
        _ => Ok(()),
    }
}

/// The rigorous bound on the score's Lipschitz constant over `‖x‖ ≤ R` (or `R^d` when
/// `radius = None`, which needs equal precisions, else [`SmoothnessError::NeedsRadius`]).
///
/// Cost `O(k² d³)` for full covariances (`O(k² d)` for `d ≤ 2`). Proof: module docs and
/// `docs/smoothness.md`.
///
/// ```
/// use gmdiff_mixture::{GaussianMixture, lipschitz_bound};
/// let m: GaussianMixture = serde_json::from_str(
///     r#"{"weights":[0.5,0.5],"means":[[0.0],[0.0]],"covariances":[[[1.0]],[[4.0]]]}"#).unwrap();
/// // P = 1 and 1/4: D = (1 − 1/4) R, so with R = 2 the covariance term is ¼ (1.5)² = 0.5625.
/// let b = lipschitz_bound(&m, Some(2.0)).unwrap();
/// assert_eq!((b.precision_term, b.covariance_term), (1.0, 0.5625));
/// assert!((b.value - 1.0).abs() < 1e-11);
/// assert!(lipschitz_bound(&m, None).is_err());
/// ```
pub fn lipschitz_bound(p: &GaussianMixture, radius: Option<f64>) -> Result<LipschitzBound, SmoothnessError> {
    check_radius(radius)?;
    let act = active_components(p)?;
    let k = act.precisions.len();
    let d = p.dim();
    let precision_term = act.top.iter().fold(0.0f64, |m, &v| m.max(v));
    // Pairs (i, j), i < j, in parallel over i; each row's maximum is exact and the final max is
    // order-independent, so the result does not depend on the thread count.
    let per_row: Vec<Result<(f64, f64), SmoothnessError>> = (0..k)
        .into_par_iter()
        .map(|i| {
            let mut worst = 0.0f64;
            let mut worst_prec_gap = 0.0f64;
            let mut diff = Mat::zeros(d, d);
            for j in (i + 1)..k {
                for b in 0..d {
                    for a in 0..d {
                        diff[(a, b)] = act.precisions[i][(a, b)] - act.precisions[j][(a, b)];
                    }
                }
                let gap = symmetric_spectral_norm(diff.as_ref())?;
                let shift: f64 = (0..d).map(|a| (act.shifted[i][a] - act.shifted[j][a]).powi(2)).sum::<f64>().sqrt();
                let dij = match radius {
                    Some(r) => gap * r + shift,
                    None => shift,
                };
                worst = worst.max(dij);
                worst_prec_gap = worst_prec_gap.max(gap);
            }
            Ok((worst, worst_prec_gap))
        })
        .collect();
    let mut diameter = 0.0f64;
    let mut prec_gap = 0.0f64;
    for r in per_row {
        let (a, b) = r?;
        diameter = diameter.max(a);
        prec_gap = prec_gap.max(b);
    }
    if radius.is_none() && prec_gap > 0.0 {
        return Err(SmoothnessError::NeedsRadius);
    }
    let covariance_term = 0.25 * diameter * diameter;
    let theory_bound = radius.map(|r| {
        let g = act.top.iter().zip(&act.means).map(|(t, m)| t * (r + m.iter().map(|v| v * v).sum::<f64>().sqrt())).fold(0.0f64, f64::max);
        precision_term + g * g
    });
    // The terms are computed in floating point (eigenvalues, inverses); a relative margin of
    // `BOUND_ROUNDING_MARGIN` keeps the bound above values of ‖H‖ computed to rounding accuracy.
    let value = precision_term.max(covariance_term) * (1.0 + BOUND_ROUNDING_MARGIN);
    if !value.is_finite() {
        return Err(SmoothnessError::Spectral(format!("the bound overflowed ({value})")));
    }
    Ok(LipschitzBound { value, precision_term, covariance_term, theory_bound, radius })
}

/// Options of the multi-start search of [`lipschitz_estimate`].
///
/// ```
/// use gmdiff_mixture::SearchOptions;
/// let o = SearchOptions { radius: Some(4.0), samples: 500, ..SearchOptions::default() };
/// assert_eq!((o.refine, o.iterations, o.max_pairs), (24, 150, 256));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchOptions {
    /// Search the ball `‖x‖ ≤ R` (`None`: all of `R^d`, no projection).
    pub radius: Option<f64>,
    /// Exact samples of `p` used as starts; with a radius, as many again uniform in the ball (even
    /// indices) and on its sphere (odd indices).
    pub samples: usize,
    /// At most this many pairs of means (all pairs when there are fewer; otherwise each mean with
    /// its nearest other mean, then seeded random pairs).
    pub max_pairs: usize,
    /// Interior points per segment between two means.
    pub points_per_segment: usize,
    /// Number of best starts refined by gradient ascent.
    pub refine: usize,
    /// Ascent iterations per refined start.
    pub iterations: usize,
    /// Seed of the samples and of the random pairs.
    pub seed: u64,
}

impl Default for SearchOptions {
    /// `R^d`, 2000 samples, 256 pairs × 9 points, 24 refined starts × 150 iterations, seed 0.
    fn default() -> Self {
        Self { radius: None, samples: 2000, max_pairs: 256, points_per_segment: 9, refine: 24, iterations: 150, seed: 0 }
    }
}

/// The result of [`lipschitz_estimate`]: a value of `‖∇² log p‖₂` attained at `argmax`.
#[derive(Debug, Clone, PartialEq)]
pub struct LipschitzEstimate {
    /// `‖∇² log p(argmax)‖₂`, the largest value found.
    pub value: f64,
    /// Where it was found (inside the ball).
    pub argmax: Vec<f64>,
    /// The largest value among the starts, before refinement.
    pub best_start: f64,
    /// Hessian evaluations used.
    pub hessian_evaluations: usize,
}

/// `‖∇² log p(x_r)‖₂` for every row `x_r`.
///
/// ```
/// use gmdiff_mixture::{GaussianMixture, hessian_norms};
/// let m: GaussianMixture = serde_json::from_str(
///     r#"{"weights":[1.0],"means":[[0.0, 0.0]],"covariances":[[[2.0, 0.0],[0.0, 0.5]]]}"#).unwrap();
/// let n = hessian_norms(&m.density().unwrap(), faer::mat![[1.0, 1.0]].as_ref()).unwrap();
/// assert!((n[0] - 2.0).abs() < 1e-15); // a Gaussian: ‖Σ⁻¹‖ everywhere
/// ```
pub fn hessian_norms(density: &MixtureDensity, x: MatRef<'_, f64>) -> Result<Vec<f64>, SmoothnessError> {
    density.hessian_batch(x)?.iter().map(|h| symmetric_spectral_norm(h.as_ref())).collect()
}

fn project(x: &mut [f64], radius: Option<f64>) {
    if let Some(r) = radius {
        let norm = x.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm > r {
            let s = r / norm;
            x.iter_mut().for_each(|v| *v *= s);
        }
    }
}

/// A numerical lower estimate of `L = sup ‖∇² log p‖₂` over the ball (see the module docs).
///
/// Starts: `samples` exact samples of `p`, (with a radius) `samples` points uniform in the ball and on
/// its sphere, the means, `points_per_segment` points on each chosen segment between two means; all
/// projected onto the ball. The `refine` best starts are refined by
/// projected gradient ascent on `f(x) = ‖∇² log p(x)‖₂` with central finite-difference gradients
/// (step `10⁻⁴ ℓ`, `ℓ = sqrt(min_i λ_min(S_i))`; on the sphere, the tangential part of an outward
/// gradient), a step that grows by 1.5 on success; on failure a compass search (`x ± step e_a`)
/// and, if that fails too, half the step; only improving moves are accepted; the result is the best value seen. Deterministic and
/// independent of the thread count.
///
/// ```
/// use gmdiff_mixture::{GaussianMixture, lipschitz_estimate, SearchOptions};
/// let m: GaussianMixture = serde_json::from_str(
///     r#"{"weights":[0.3,0.7],"means":[[-1.0, 0.0],[2.0, 1.0]],"covariances":[0.5, [0.4, 1.0]]}"#).unwrap();
/// let e = lipschitz_estimate(&m, &SearchOptions { radius: Some(4.0), ..SearchOptions::default() }).unwrap();
/// assert!(e.value >= e.best_start && e.argmax.iter().map(|v| v * v).sum::<f64>() <= 16.0 + 1e-12);
/// ```
pub fn lipschitz_estimate(p: &GaussianMixture, opts: &SearchOptions) -> Result<LipschitzEstimate, SmoothnessError> {
    lipschitz_estimate_with_progress(p, opts, &|_| {})
}

/// [`lipschitz_estimate`], reporting progress (`stage = "search"`; units: ascent iterations, out of
/// `refine × iterations`) from the refinement threads.
pub fn lipschitz_estimate_with_progress(
    p: &GaussianMixture,
    opts: &SearchOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<LipschitzEstimate, SmoothnessError> {
    check_radius(opts.radius)?;
    let density = p.density()?;
    let act = active_components(p)?;
    let d = p.dim();
    // Starts.
    let mut starts: Vec<Vec<f64>> = Vec::new();
    let samples = p.sample(opts.samples, opts.seed);
    for r in 0..samples.nrows() {
        starts.push((0..d).map(|j| samples[(r, j)]).collect());
    }
    if let Some(r) = opts.radius {
        // The supremum often sits on the sphere (where responsibilities switch between components of
        // different precisions): as many starts uniform in the ball and uniform on the sphere.
        for i in 0..opts.samples {
            let mut rng = gmdiff_process::particle_rng(opts.seed ^ 0x5eed_ba11, i as u64);
            let dir: Vec<f64> = (0..d).map(|_| rng.sample(rand_distr::StandardNormal)).collect();
            let len = dir.iter().map(|v| v * v).sum::<f64>().sqrt();
            let u: f64 = rng.random();
            let rad = if i % 2 == 0 { r * u.powf(1.0 / d as f64) } else { r };
            if len > 0.0 {
                starts.push(dir.iter().map(|v| v * rad / len).collect());
            }
        }
    }
    starts.extend(act.means.iter().cloned());
    for (i, j) in choose_pairs(&act.means, opts.max_pairs, opts.seed) {
        for s in 1..=opts.points_per_segment {
            let u = s as f64 / (opts.points_per_segment + 1) as f64;
            starts.push((0..d).map(|a| (1.0 - u) * act.means[i][a] + u * act.means[j][a]).collect());
        }
    }
    for s in &mut starts {
        project(s, opts.radius);
    }
    let x = Mat::from_fn(starts.len(), d, |r, j| starts[r][j]);
    let values = hessian_norms(&density, x.as_ref())?;
    let mut evaluations = starts.len();
    let mut order: Vec<usize> = (0..starts.len()).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
    let best_start = values[order[0]];
    let scale = act.top.iter().fold(0.0f64, |m, &v| m.max(v)).recip().sqrt();
    let refine = opts.refine.max(1).min(starts.len());
    let total = (refine * opts.iterations) as u64;
    let done = std::sync::atomic::AtomicU64::new(0);
    let tick = |n: u64| {
        let now = done.fetch_add(n, std::sync::atomic::Ordering::Relaxed) + n;
        progress(Progress { stage: "search", done: now, total, note: format!("{refine} ascents") });
    };
    let refined: Vec<Result<Ascent, SmoothnessError>> = order
        .iter()
        .take(refine)
        .copied()
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|s| ascend(&density, starts[s].clone(), values[s], scale, opts, &tick))
        .collect();
    let mut best = (best_start, starts[order[0]].clone());
    for r in refined {
        let (v, x, evals) = r?;
        evaluations += evals;
        if v > best.0 {
            best = (v, x);
        }
    }
    Ok(LipschitzEstimate { value: best.0, argmax: best.1, best_start, hessian_evaluations: evaluations })
}

/// The end of one ascent: value, point, Hessian evaluations.
type Ascent = (f64, Vec<f64>, usize);

/// Monotone projected gradient ascent on `‖H‖₂` from `x` (value `fx`), `opts.iterations` at most;
/// `tick(n)` is told of every iteration done (and of the skipped ones when it stops early).
pub(crate) fn ascend(
    density: &MixtureDensity,
    mut x: Vec<f64>,
    mut fx: f64,
    scale: f64,
    opts: &SearchOptions,
    tick: &(dyn Fn(u64) + Sync),
) -> Result<Ascent, SmoothnessError> {
    let d = x.len();
    let fd = 1e-4 * scale;
    let mut step = 0.1 * scale;
    let mut evals = 0;
    let mut iteration = 0;
    while iteration < opts.iterations {
        iteration += 1;
        tick(1);
        if step < 1e-9 * scale {
            break;
        }
        let probes = Mat::from_fn(2 * d, d, |r, j| {
            let (axis, sign) = (r / 2, if r % 2 == 0 { 1.0 } else { -1.0 });
            x[j] + if j == axis { sign * fd } else { 0.0 }
        });
        let f = hessian_norms(density, probes.as_ref())?;
        evals += 2 * d;
        let mut grad: Vec<f64> = (0..d).map(|a| (f[2 * a] - f[2 * a + 1]) / (2.0 * fd)).collect();
        // On the sphere with an outward gradient, follow its tangential part (the projected gradient).
        if let Some(r) = opts.radius {
            let norm2: f64 = x.iter().map(|v| v * v).sum();
            let radial: f64 = x.iter().zip(&grad).map(|(x, g)| x * g).sum();
            if norm2 >= r * r * (1.0 - 1e-12) && radial > 0.0 && norm2 > 0.0 {
                grad.iter_mut().zip(&x).for_each(|(g, x)| *g -= radial / norm2 * x);
            }
        }
        let gnorm = grad.iter().map(|g| g * g).sum::<f64>().sqrt();
        if !(gnorm > 0.0 && gnorm.is_finite()) {
            break;
        }
        let mut trial: Vec<f64> = x.iter().zip(&grad).map(|(x, g)| x + step * g / gnorm).collect();
        project(&mut trial, opts.radius);
        let ft = hessian_norms(density, Mat::from_fn(1, d, |_, j| trial[j]).as_ref())?[0];
        evals += 1;
        if ft > fx {
            x = trial;
            fx = ft;
            step *= 1.5;
            continue;
        }
        // ‖H‖₂ has kinks (eigenvalue crossings) where a finite-difference gradient misleads: fall
        // back to a compass search, the 2d moves x ± step e_a, before shrinking the step.
        let mut compass: Vec<Vec<f64>> = (0..2 * d)
            .map(|r| {
                let mut y = x.clone();
                y[r / 2] += if r % 2 == 0 { step } else { -step };
                project(&mut y, opts.radius);
                y
            })
            .collect();
        let fc = hessian_norms(density, Mat::from_fn(2 * d, d, |r, j| compass[r][j]).as_ref())?;
        evals += 2 * d;
        let (best, &fb) = fc.iter().enumerate().fold((0, &f64::NEG_INFINITY), |b, (i, v)| if *v > *b.1 { (i, v) } else { b });
        if fb > fx {
            x = compass.swap_remove(best);
            fx = fb;
        } else {
            step *= 0.5;
        }
    }
    if iteration < opts.iterations {
        tick((opts.iterations - iteration) as u64);
    }
    Ok((fx, x, evals))
}

/// Pairs of means for the segment starts: all pairs when `k(k−1)/2 ≤ max_pairs`; otherwise each
/// mean with its nearest other mean, then seeded random pairs, up to `max_pairs`.
fn choose_pairs(means: &[Vec<f64>], max_pairs: usize, seed: u64) -> Vec<(usize, usize)> {
    let k = means.len();
    if k < 2 || max_pairs == 0 {
        return Vec::new();
    }
    if k * (k - 1) / 2 <= max_pairs {
        return (0..k).flat_map(|i| ((i + 1)..k).map(move |j| (i, j))).collect();
    }
    let dist = |i: usize, j: usize| means[i].iter().zip(&means[j]).map(|(a, b)| (a - b).powi(2)).sum::<f64>();
    let mut pairs: Vec<(usize, usize)> = (0..k)
        .map(|i| {
            let j = (0..k).filter(|&j| j != i).min_by(|&a, &b| dist(i, a).total_cmp(&dist(i, b))).expect("k ≥ 2");
            (i.min(j), i.max(j))
        })
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    pairs.truncate(max_pairs);
    let mut rng = gmdiff_process::particle_rng(seed, u64::MAX);
    while pairs.len() < max_pairs {
        let i = rng.random_range(0..k);
        let j = rng.random_range(0..k);
        if i != j {
            pairs.push((i.min(j), i.max(j)));
        }
    }
    pairs
}

/// `max_i (‖m_i‖² + tr S_i)`, an upper bound on `E‖x‖² = Σ_i w_i (‖m_i‖² + tr S_i)` that does not
/// depend on the number of components or on the weights.
///
/// ```
/// use gmdiff_mixture::{GaussianMixture, second_moment_bound};
/// let m: GaussianMixture = serde_json::from_str(
///     r#"{"weights":[0.5,0.5],"means":[[1.0],[3.0]],"covariances":[[[1.0]],[[1.0]]]}"#).unwrap();
/// assert_eq!((m.second_moment(), second_moment_bound(&m)), (6.0, 10.0));
/// ```
pub fn second_moment_bound(p: &GaussianMixture) -> f64 {
    p.components().iter().map(|c| c.mean().iter().map(|v| v * v).sum::<f64>() + c.covariance().trace()).fold(0.0f64, f64::max)
}

/// Everything [`smoothness`] reports at one time `t`.
#[derive(Debug, Clone, PartialEq)]
pub struct Smoothness {
    /// [`lipschitz_estimate`] of `p_t`.
    pub lipschitz_estimate: f64,
    /// Where the estimate is attained.
    pub argmax: Vec<f64>,
    /// [`lipschitz_bound`] of `p_t`.
    pub lipschitz_bound: LipschitzBound,
    /// [`crate::lipschitz_enclosure`] of `p_t` on the ball, when asked for ([`smoothness_with`]).
    pub enclosure: Option<LipschitzEnclosure>,
    /// The exact `E‖x_t‖² = Σ_i w_i (a² ‖μ_i‖² + a² tr Σ_i + b² d)` (THEORY §1).
    pub second_moment: f64,
    /// [`second_moment_bound`] of `p_t`.
    pub second_moment_bound: f64,
}

/// The smoothness of the diffused law `p_t` of `x_t = a x_0 + b z`, `x_0 ∼ p` (the closure lemma):
/// estimate and bound of the score's Lipschitz constant on the search ball, exact second moment.
/// No certified enclosure (`enclosure = None`); [`smoothness_with`] adds it.
///
/// ```
/// use gmdiff_mixture::{GaussianMixture, SearchOptions, smoothness};
/// let m: GaussianMixture = serde_json::from_str(
///     r#"{"weights":[0.5,0.5],"means":[[-2.0],[2.0]],"covariances":[[[1.0]],[[1.0]]]}"#).unwrap();
/// let s = smoothness(&m, 0.6, 0.8, &SearchOptions { radius: Some(3.0), ..Default::default() }).unwrap();
/// // p_t = ½ N(±1.2, 1): E‖x_t‖² = 1.44 + 1. H = −1 + 5.76 r(1−r) lies in [−1, 0.44], so the
/// // supremum of |H| on the ball is close to 1, attained on the sphere ‖x‖ = 3.
/// assert!((s.second_moment - 2.44).abs() < 1e-12);
/// assert!(s.lipschitz_estimate > 0.99 && s.lipschitz_estimate <= 1.0);
/// assert!((s.lipschitz_bound.value - 1.44).abs() < 1e-10);
/// ```
pub fn smoothness(p: &GaussianMixture, a: f64, b: f64, opts: &SearchOptions) -> Result<Smoothness, SmoothnessError> {
    smoothness_with(p, a, b, opts, None, &|_| {})
}

/// [`smoothness`], plus (when `enclosure` is given) the certified enclosure of the Lipschitz
/// constant on the ball `‖x‖ ≤ opts.radius`, started from the estimate's argmax; `progress` hears
/// from both stages.
///
/// Errors: those of [`smoothness`] and [`crate::lipschitz_enclosure`]; an enclosure without a
/// radius is [`SmoothnessError::InvalidOption`] (`radius`).
///
/// ```
/// use gmdiff_mixture::{EnclosureOptions, GaussianMixture, SearchOptions, smoothness_with};
/// let m: GaussianMixture = serde_json::from_str(
///     r#"{"weights":[0.5,0.5],"means":[[-2.0],[2.0]],"covariances":[1.0,1.0]}"#).unwrap();
/// let opts = SearchOptions { radius: Some(3.0), ..Default::default() };
/// let s = smoothness_with(&m, 0.6, 0.8, &opts, Some(&EnclosureOptions::default()), &|_| {}).unwrap();
/// let e = s.enclosure.unwrap();
/// assert!(e.lower <= s.lipschitz_estimate * (1.0 + 1e-12) && s.lipschitz_estimate <= e.upper);
/// assert!(e.upper <= s.lipschitz_bound.value * (1.0 + 1e-9));
/// ```
pub fn smoothness_with(
    p: &GaussianMixture,
    a: f64,
    b: f64,
    opts: &SearchOptions,
    enclosure: Option<&EnclosureOptions>,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Smoothness, SmoothnessError> {
    let pt = p.diffused(a, b)?;
    if enclosure.is_some() && opts.radius.is_none() {
        return Err(SmoothnessError::InvalidOption {
            name: "radius",
            value: f64::INFINITY,
            reason: "the certified enclosure needs a finite ball",
        });
    }
    let est = lipschitz_estimate_with_progress(&pt, opts, progress)?;
    let bound = lipschitz_bound(&pt, opts.radius)?;
    let enclosure = match (enclosure, opts.radius) {
        (Some(e), Some(r)) => {
            let mut e = e.clone();
            e.starts.push(est.argmax.clone());
            Some(lipschitz_enclosure_with_progress(&pt, r, &e, progress)?)
        }
        _ => None,
    };
    Ok(Smoothness {
        lipschitz_estimate: est.value,
        argmax: est.argmax,
        lipschitz_bound: bound,
        enclosure,
        second_moment: pt.second_moment(),
        second_moment_bound: second_moment_bound(&pt),
    })
}
