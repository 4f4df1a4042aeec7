//! Total variation of DDPM on an isotropic Gaussian mixture in any dimension, by the isotropic
//! factorisation (THEORY §2, derived; proof in `docs/dimension-free.md`).
//!
//! **Setting.** Target `p = Σ_k π_k N(μ_k, I_d)`; forward chain `X_t = sqrt(α_t) X_{t−1} +
//! sqrt(β_t) W_t`, `ᾱ_t = Π_{j ≤ t} α_j`; DDPM `Y_{t−1} = (Y_t + β_t s̃_t(Y_t))/sqrt(α_t) + sqrt(β_t) Z_t`
//! from `Y_T ∼ N(0, I_d)`, with the exact score `s_t(x) = −x + sqrt(ᾱ_t) Σ_k r_k(x) μ_k` or the
//! perturbed score `s̃_t = (1 + δ) s_t + ε e` ([`ScoreError`]).
//!
//! **Factorisation.** Let `e` span the means (this module needs them collinear: span dimension
//! ≤ 1) and write `y = u e + v`, `v ⊥ e`. The responsibilities depend on `x` only through
//! `u = ⟨x, e⟩`, so each DDPM step maps `u` by the 1-D DDPM of the target `Σ π_k N(c_k, 1)`,
//! `c_k = ⟨μ_k, e⟩`, and `v` by the linear Gaussian recursion `v ← (1 − β(1+δ))/sqrt(α) · v +
//! sqrt(β) z`, with independent noises. The output law is `q_u ⊗ N(0, σ_v² I_{d−1})` and the target
//! `p_u ⊗ N(0, I_{d−1})`. Hence:
//!
//! * if `σ_v² = 1` (always the case for the exact score and for a shift along `e`), TV of the
//!   `d`-dimensional laws **equals** `TV(q_u, p_u)`: `∫∫ |q_u φ − p_u φ| = ∫ |q_u − p_u|`;
//! * otherwise, with `a = TV(q_u, p_u)` and `c = TV(N(0, σ_v² I), N(0, I))` (exact, by the χ² law of
//!   `‖v‖²`), `max(a, c) ≤ TV ≤ a + c − a c` (projection; product coupling).
//!
//! `q_u` is computed by propagating its density on a uniform grid: each step pushes the density
//! forward through the monotone map `f(u) = (u + β s̃(u))/sqrt(α)` (Newton inversion of `f`, cubic
//! interpolation, Jacobian `1/f'`), then convolves with `N(0, β)` (sampled, normalised Gaussian
//! kernel; a variance-matched 3-point kernel when `sqrt(β)` is below the spacing).
//!
//! Errors are [`MetricsError`]s (the module lived in gmdiff-metrics until issue 15 moved this DDPM
//! law engine to the crate of exact laws; the error variants users match on are unchanged).
//!
//! ```
//! use gmdiff_gaussian::{IsotropicDdpm, PropagationGrid, ScoreError};
//! // One component N(μ, I_1000): DDPM stays Gaussian, N(m_0, I), and the TV is that of N(m_0, 1) vs N(|μ|, 1).
//! let mut mu = vec![0.0; 1000];
//! mu[3] = 1.5;
//! let betas = vec![0.2; 12];
//! let ddpm = IsotropicDdpm::new(vec![1.0], vec![mu], betas.clone()).unwrap();
//! let tv = ddpm.tv(ScoreError::default(), PropagationGrid::default()).unwrap();
//! let (mut m, mut ab) = (0.0, betas.iter().map(|b| 1.0 - b).product::<f64>());
//! for b in betas.iter().rev() {
//!     let a: f64 = 1.0 - b;
//!     ab /= a; // ᾱ_{t−1}
//!     m = a.sqrt() * m + b * ab.sqrt() * 1.5;
//! }
//! let exact = gmdiff_metrics::tv_gaussian_1d(m, 1.0, 1.5, 1.0).unwrap();
//! assert!((tv.lower - exact).abs() < 1e-7 && tv.lower == tv.upper);
//! ```

use gmdiff_metrics::{MetricsError, Result, tv_isotropic_gaussians};

/// `Ok` when `value` is finite and `ok`, else [`MetricsError::InvalidParameter`].
fn check_param(name: &'static str, value: f64, ok: bool, reason: &'static str) -> Result<()> {
    gmdiff_process::check_parameter(name, value, |_| ok, reason).map(|_| ()).map_err(|e| MetricsError::InvalidParameter {
        name: e.name,
        value: e.value,
        reason: e.reason,
    })
}

/// A perturbed score `s̃_t = (1 + scale) s_t + shift · e` (`e` the unit direction of the means).
///
/// The shift is an in-span error with `‖s̃ − s‖ = |shift|` everywhere; the scale also perturbs the
/// complement, whose output variance then differs from 1.
///
/// ```
/// use gmdiff_gaussian::ScoreError;
/// assert_eq!(ScoreError::default(), ScoreError { shift: 0.0, scale: 0.0 });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ScoreError {
    /// `ε`: constant shift along `e`.
    pub shift: f64,
    /// `δ`: relative scaling of the whole score, `|δ| < 1`.
    pub scale: f64,
}

/// The grid of the 1-D density propagation: spacing `h` on `[min c_k − margin, max c_k + margin]`.
///
/// ```
/// use gmdiff_gaussian::PropagationGrid;
/// assert_eq!(PropagationGrid::default(), PropagationGrid { spacing: 0.01, margin: 12.0 });
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PropagationGrid {
    /// Grid spacing `h > 0`.
    pub spacing: f64,
    /// Margin beyond the extreme means (the start `N(0, 1)` must fit too), `> 0`.
    pub margin: f64,
}

impl Default for PropagationGrid {
    fn default() -> Self {
        Self { spacing: 0.01, margin: 12.0 }
    }
}

/// DDPM with a discrete chain on an isotropic mixture `Σ π_k N(μ_k, I_d)` with collinear means.
///
/// ```
/// use gmdiff_gaussian::{IsotropicDdpm, PropagationGrid, ScoreError};
/// // ½ N(−2e, I) + ½ N(2e, I) in d = 500, e = (0.6, 0.8, 0, …), 40 steps of β = 0.1.
/// let mut e = vec![0.0; 500];
/// (e[0], e[1]) = (0.6, 0.8);
/// let means = vec![e.iter().map(|v| -2.0 * v).collect(), e.iter().map(|v| 2.0 * v).collect()];
/// let ddpm = IsotropicDdpm::new(vec![0.5, 0.5], means, vec![0.1; 40]).unwrap();
/// // e is taken along the longest mean (the first on ties), here −2e: coordinates (2, −2).
/// assert_eq!(ddpm.coords(), &[2.0, -2.0]);
/// // Exact score: the complement keeps variance 1, so the d-dimensional TV is the in-span TV.
/// assert_eq!(ddpm.complement_variance(0.0), 1.0);
/// let tv = ddpm.tv(ScoreError::default(), PropagationGrid::default()).unwrap();
/// assert!(tv.lower == tv.upper && tv.lower > 0.0 && tv.lower < 0.2);
/// // A scaled score moves the complement too: the TV becomes an interval.
/// let scaled = ddpm.tv(ScoreError { shift: 0.0, scale: 0.05 }, PropagationGrid::default()).unwrap();
/// assert!(scaled.complement > 0.0 && scaled.lower < scaled.upper);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct IsotropicDdpm {
    weights: Vec<f64>,
    /// `ln π_k` (`−∞` for a zero weight), computed once: the propagation evaluates the
    /// responsibilities several times per grid node and step.
    log_weights: Vec<f64>,
    coords: Vec<f64>,
    direction: Vec<f64>,
    betas: Vec<f64>,
}

/// The result of [`IsotropicDdpm::tv`].
#[derive(Debug, Clone, PartialEq)]
pub struct IsotropicTv {
    /// `a = TV(q_u, p_u)` of the in-span laws.
    pub in_span: f64,
    /// `c = TV(N(0, σ_v² I_{d−1}), N(0, I_{d−1}))` of the complement laws (0 when `σ_v² = 1`).
    pub complement: f64,
    /// `σ_v²`, the variance of the output's complement coordinates.
    pub complement_variance: f64,
    /// Lower bound on the `d`-dimensional TV: `max(a, c)` (equal to the TV when `c = 0`).
    pub lower: f64,
    /// Upper bound: `a + c − a c` (equal to the TV when `c = 0`).
    pub upper: f64,
    /// `h Σ q_u − 1`, the mass defect of the propagated density (a numerical diagnostic).
    pub mass_error: f64,
}

/// The propagated in-span density `q_u` on its grid.
#[derive(Debug, Clone, PartialEq)]
pub struct InSpanLaw {
    /// The first grid node.
    pub lo: f64,
    /// The spacing.
    pub spacing: f64,
    /// `q_u` at the nodes `lo + j h`.
    pub density: Vec<f64>,
}

impl InSpanLaw {
    /// `q_u(u)` by 4-point cubic Lagrange interpolation (0 outside the grid).
    ///
    /// ```
    /// use gmdiff_gaussian::InSpanLaw;
    /// let law = InSpanLaw { lo: 0.0, spacing: 1.0, density: vec![0.0, 1.0, 8.0, 27.0, 64.0] };
    /// assert!((law.at(2.5) - 15.625).abs() < 1e-12); // cubics are reproduced exactly
    /// ```
    pub fn at(&self, u: f64) -> f64 {
        cubic(&self.density, (u - self.lo) / self.spacing)
    }
}

/// Cubic Lagrange interpolation of `v` at fractional index `s` (0 outside `[0, n − 1]`).
fn cubic(v: &[f64], s: f64) -> f64 {
    let n = v.len();
    if !(s >= 0.0 && s <= (n - 1) as f64) || n < 4 {
        return if n > 0 && s >= 0.0 && s <= (n - 1) as f64 { v[s.round() as usize] } else { 0.0 };
    }
    let j = (s.floor() as usize).clamp(1, n - 3);
    let x = s - j as f64;
    let (a, b, c, d) = (v[j - 1], v[j], v[j + 1], v[j + 2]);
    // Nodes −1, 0, 1, 2.
    -a * x * (x - 1.0) * (x - 2.0) / 6.0 + b * (x + 1.0) * (x - 1.0) * (x - 2.0) / 2.0 - c * (x + 1.0) * x * (x - 2.0) / 2.0
        + d * (x + 1.0) * x * (x - 1.0) / 6.0
}

impl IsotropicDdpm {
    /// Validates the target and the chain: weights non-negative summing to 1 (to `1e-9`), equal
    /// dimensions, finite values, collinear means (every mean within `1e-10 · max‖μ‖` of the line
    /// through 0 and the longest mean), and `β_t ∈ (0, 1)`.
    pub fn new(weights: Vec<f64>, means: Vec<Vec<f64>>, betas: Vec<f64>) -> Result<Self> {
        if weights.is_empty() || weights.len() != means.len() {
            return Err(MetricsError::DimensionMismatch { what: "weights vs means", expected: means.len(), got: weights.len() });
        }
        let total: f64 = weights.iter().sum();
        for &w in &weights {
            check_param("weights", w, w.is_finite() && w >= 0.0, "must be finite and ≥ 0")?;
        }
        check_param("sum of weights", total, (total - 1.0).abs() <= gmdiff_process::WEIGHT_SUM_TOL, "must be 1 (to 1e-9)")?;
        let d = means[0].len();
        if d == 0 {
            return Err(MetricsError::Empty { what: "means", reason: "dimension 0".into() });
        }
        for m in &means {
            if m.len() != d {
                return Err(MetricsError::DimensionMismatch { what: "means", expected: d, got: m.len() });
            }
            if let Some(index) = m.iter().position(|v| !v.is_finite()) {
                return Err(MetricsError::NonFinite { what: "means", index });
            }
        }
        if betas.is_empty() {
            return Err(MetricsError::Empty { what: "betas", reason: "no steps".into() });
        }
        for &b in &betas {
            check_param("betas", b, b > 0.0 && b < 1.0, "each β_t must lie in (0, 1)")?;
        }
        let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
        let longest = means.iter().map(|m| norm(m)).fold(0.0, f64::max);
        if !longest.is_finite() {
            return Err(MetricsError::Overflow { what: "the norm of the longest mean", value: longest });
        }
        let direction: Vec<f64> = match means.iter().find(|m| norm(m) == longest) {
            Some(m) if longest > 0.0 => m.iter().map(|x| x / longest).collect(),
            _ => (0..d).map(|j| if j == 0 { 1.0 } else { 0.0 }).collect(),
        };
        let mut coords = Vec::with_capacity(means.len());
        for m in &means {
            let c: f64 = m.iter().zip(&direction).map(|(a, b)| a * b).sum();
            let residual = m.iter().zip(&direction).map(|(a, b)| (a - c * b).powi(2)).sum::<f64>().sqrt();
            if residual > 1e-10 * longest.max(f64::MIN_POSITIVE) {
                return Err(MetricsError::InvalidParameter {
                    name: "means",
                    value: residual,
                    reason: "the exact in-span propagation needs collinear means (span dimension ≤ 1)",
                });
            }
            coords.push(c);
        }
        let log_weights = weights.iter().map(|w| w.ln()).collect();
        Ok(Self { weights, log_weights, coords, direction, betas })
    }

    /// The dimension `d`.
    pub fn dim(&self) -> usize {
        self.direction.len()
    }
    /// The unit direction `e` of the means.
    pub fn direction(&self) -> &[f64] {
        &self.direction
    }
    /// The in-span coordinates `c_k = ⟨μ_k, e⟩`.
    pub fn coords(&self) -> &[f64] {
        &self.coords
    }

    /// The in-span target density `p_u(u) = Σ π_k N(u; c_k, 1)`.
    pub fn target_density(&self, u: f64) -> f64 {
        let norm = 1.0 / (2.0 * std::f64::consts::PI).sqrt();
        self.weights.iter().zip(&self.coords).map(|(w, c)| w * norm * (-0.5 * (u - c).powi(2)).exp()).sum()
    }

    /// `(E_r[c], Var_r[c])` under the responsibilities at `u`, time with `ᾱ = ab`.
    fn moments(&self, u: f64, ab: f64) -> (f64, f64) {
        let sab = ab.sqrt();
        let mut top = f64::NEG_INFINITY;
        for ((w, lw), c) in self.weights.iter().zip(&self.log_weights).zip(&self.coords) {
            if *w > 0.0 {
                top = top.max(lw + sab * c * u - 0.5 * ab * c * c);
            }
        }
        let (mut z, mut m1, mut m2) = (0.0, 0.0, 0.0);
        for ((w, lw), c) in self.weights.iter().zip(&self.log_weights).zip(&self.coords) {
            if *w > 0.0 {
                let r = (lw + sab * c * u - 0.5 * ab * c * c - top).exp();
                z += r;
                m1 += r * c;
                m2 += r * c * c;
            }
        }
        let mean = m1 / z;
        (mean, (m2 / z - mean * mean).max(0.0))
    }

    /// The variance `σ_v²` of the complement coordinates of the output: from 1, each step
    /// `σ² ← c_t² σ² + β_t`, `c_t = (1 − β_t (1 + δ))/sqrt(α_t)`, computed as
    /// `e ← c_t² e + β_t δ (β_t (2 + δ) − 2)/(1 − β_t)` for `e = σ² − 1` (exactly 0 when `δ = 0`).
    pub fn complement_variance(&self, scale: f64) -> f64 {
        let mut e = 0.0;
        for &b in self.betas.iter().rev() {
            let c2 = (1.0 - b * (1.0 + scale)).powi(2) / (1.0 - b);
            e = c2 * e + b * scale * (b * (2.0 + scale) - 2.0) / (1.0 - b);
        }
        1.0 + e
    }

    /// Propagates the in-span density of DDPM from `N(0, 1)` through all steps.
    pub fn in_span_law(&self, err: ScoreError, grid: PropagationGrid) -> Result<InSpanLaw> {
        check_param("spacing", grid.spacing, grid.spacing > 0.0 && grid.spacing.is_finite(), "must be finite and > 0")?;
        check_param("margin", grid.margin, grid.margin > 0.0 && grid.margin.is_finite(), "must be finite and > 0")?;
        check_param("shift", err.shift, err.shift.is_finite(), "must be finite")?;
        check_param("scale", err.scale, err.scale.abs() < 1.0, "must satisfy |δ| < 1")?;
        let lo = self.coords.iter().fold(0.0f64, |m, &c| m.min(c)) - grid.margin;
        let hi = self.coords.iter().fold(0.0f64, |m, &c| m.max(c)) + grid.margin;
        let h = grid.spacing;
        let n = ((hi - lo) / h).ceil() as usize + 1;
        if n > 50_000_000 {
            return Err(MetricsError::InvalidParameter { name: "spacing", value: h, reason: "the grid would exceed 5e7 nodes" });
        }
        let nodes: Vec<f64> = (0..n).map(|j| lo + j as f64 * h).collect();
        let norm = 1.0 / (2.0 * std::f64::consts::PI).sqrt();
        let mut q: Vec<f64> = nodes.iter().map(|u| norm * (-0.5 * u * u).exp()).collect();
        let t_max = self.betas.len();
        let mut ab: f64 = self.betas.iter().map(|b| 1.0 - b).product();
        let mut pushed = vec![0.0; n];
        let mut fmap = vec![0.0; n];
        for t in (1..=t_max).rev() {
            let beta = self.betas[t - 1];
            let sa = (1.0 - beta).sqrt();
            let sab = ab.sqrt();
            let k = 1.0 + err.scale;
            let f = |u: f64| {
                let (m, v) = self.moments(u, ab);
                let s = k * (-u + sab * m) + err.shift;
                let ds = k * (-1.0 + ab * v);
                ((u + beta * s) / sa, (1.0 + beta * ds) / sa)
            };
            for (fm, &u) in fmap.iter_mut().zip(&nodes) {
                *fm = f(u).0;
            }
            // Push forward: pushed(z) = q(f⁻¹(z)) / f'(f⁻¹(z)).
            let mut j = 0usize;
            for (i, &z) in nodes.iter().enumerate() {
                if z < fmap[0] || z > fmap[n - 1] {
                    pushed[i] = 0.0;
                    continue;
                }
                while j + 2 < n && fmap[j + 1] < z {
                    j += 1;
                }
                let (f0, f1) = (fmap[j], fmap[j + 1]);
                let mut u = nodes[j] + if f1 > f0 { (z - f0) / (f1 - f0) * h } else { 0.0 };
                let mut deriv = 1.0;
                for _ in 0..4 {
                    let (fu, du) = f(u);
                    if du.is_nan() || du <= 0.0 {
                        return Err(MetricsError::InvalidParameter {
                            name: "betas",
                            value: beta,
                            reason: "the DDPM map is not monotone (β_t (1 + δ) too large)",
                        });
                    }
                    deriv = du;
                    u = (u - (fu - z) / du).clamp(nodes[j], nodes[j + 1]);
                }
                let (_, du) = f(u);
                if du > 0.0 {
                    deriv = du;
                }
                pushed[i] = cubic(&q, (u - lo) / h) / deriv;
            }
            // Convolve with N(0, β).
            let sigma = beta.sqrt();
            if sigma < h {
                let w1 = 0.5 * beta / (h * h);
                let w0 = 1.0 - 2.0 * w1;
                for i in 0..n {
                    let left = if i > 0 { pushed[i - 1] } else { 0.0 };
                    let right = if i + 1 < n { pushed[i + 1] } else { 0.0 };
                    q[i] = w0 * pushed[i] + w1 * (left + right);
                }
            } else {
                let radius = (8.0 * sigma / h).ceil() as usize;
                let mut kernel: Vec<f64> = (0..=radius).map(|m| (-0.5 * (m as f64 * h).powi(2) / beta).exp()).collect();
                let total: f64 = kernel[0] + 2.0 * kernel[1..].iter().sum::<f64>();
                kernel.iter_mut().for_each(|w| *w /= total);
                for (i, qi) in q.iter_mut().enumerate() {
                    let mut acc = kernel[0] * pushed[i];
                    for (m, w) in kernel.iter().enumerate().skip(1) {
                        if i >= m {
                            acc += w * pushed[i - m];
                        }
                        if i + m < n {
                            acc += w * pushed[i + m];
                        }
                    }
                    *qi = acc;
                }
            }
            ab /= 1.0 - beta;
        }
        if let Some(index) = q.iter().position(|v| !v.is_finite()) {
            return Err(MetricsError::NonFinite { what: "propagated density", index });
        }
        Ok(InSpanLaw { lo, spacing: h, density: q })
    }

    /// The TV between the DDPM output and the target in dimension `d` (module docs): exact when the
    /// complement variance is 1, else the interval `[max(a, c), a + c − a c]`.
    pub fn tv(&self, err: ScoreError, grid: PropagationGrid) -> Result<IsotropicTv> {
        let law = self.in_span_law(err, grid)?;
        let h = law.spacing;
        let mut tv = 0.0;
        let mut mass = 0.0;
        for (j, q) in law.density.iter().enumerate() {
            let u = law.lo + j as f64 * h;
            tv += (q - self.target_density(u)).abs();
            mass += q;
        }
        let a = (0.5 * h * tv).min(1.0);
        let var = self.complement_variance(err.scale);
        let c = tv_isotropic_gaussians(self.dim() - 1, var)?;
        Ok(IsotropicTv {
            in_span: a,
            complement: c,
            complement_variance: var,
            lower: a.max(c),
            upper: a + c - a * c,
            mass_error: h * mass - 1.0,
        })
    }
}
