//! A certified enclosure `[lower, upper] ∋ L = sup_{‖x‖ ≤ R} ‖∇² log p(x)‖₂` by branch and bound.
//!
//! Notation: `P_i = S_i⁻¹`, `g_i = P_i (x − m_i)` (affine in `x`), `r_i` the responsibilities,
//! `ḡ = Σ r_i g_i`, `Ā = Σ r_i P_i`, `d_i = g_i − ḡ`, `C = Σ r_i d_i d_iᵀ`. Then
//! `H = ∇² log p = Σ_i r_i (−P_i + d_i d_iᵀ) = C − Ā`, and (derived in `docs/smoothness.md`, tested
//! against finite differences) its derivatives are
//! `T_abc = ∂_c H_ab = Σ_i r_i [P̃_ab d_c + P̃_ac d_b + P̃_bc d_a − d_a d_b d_c]_i` and
//! `Q_abcz = ∂_z T_abc = Σ_i r_i [d_a d_b d_c d_z + P̃_ab P̃_cz + P̃_ac P̃_bz + P̃_az P̃_bc − (six P̃_·· d_· d_· terms)]_i
//! − (C_ab C_cz + C_ac C_bz + C_az C_bc)`, `P̃_i = P_i − Ā` (cumulants of `g_I`, `I ∼ r`).
//!
//! **Box bound** ([`CertifiedHessian::box_bound`]), on `X = c + [−h, h]`, in outward-rounded
//! interval arithmetic ([`crate::interval`]):
//!
//! 1. responsibilities: `u_ij = ℓ_j − ℓ_i` is quadratic, `u_ij(c + δ) = u_ij(c) + (g_i − g_j)(c)·δ +
//!    ½ δᵀ(P_i − P_j)δ`, so its range is enclosed exactly up to the quadratic term, and
//!    `r_i = 1 / (1 + Σ_{j≠i} e^{u_ij})` is monotone in each `u_ij` (`k ≤ 16`; above, the
//!    individual log-weights `ℓ_i(X)` and an `O(k)` softmax);
//! 2. convex combinations `Σ_i r_i v_i` by the exact linear programme over
//!    `{r_i ∈ r_i(X), Σ r_i = 1}` ([`crate::interval::weighted_range`], rigorous by duality);
//! 3. six upper bounds of `‖H‖₂` over the box, tried from the cheapest, stopping once one is small
//!    enough for the search ([`BoxBound`]):
//!    * *Popoviciu* (the box form of [`crate::lipschitz_bound`]): `λ_max(H) ≤ ¼ max sup ‖g_i − g_j‖²`
//!      over the components that may be present;
//!    * *rank one*: `ḡḡᵀ ⪰ ḡμᵀ + μḡᵀ − μμᵀ` for any point `μ`, so `H ⪯ Σ r_i (−P_i + (g_i − μ)(g_i − μ)ᵀ)`
//!      and `λ_max(H) ≤ Σ r_i λ_max(−P_i + (g_i − μ)(g_i − μ)ᵀ)` (a linear programme in `r`; `μ = ḡ(c)`
//!      and the midpoint of the two most likely components' `g`); `−λ_min(H) ≤ Σ r_i λ_max(P_i)`;
//!      a component with `r_i ≤ 10⁻⁹` over the box takes the cheap `λ_max(−P_i + (g_i − μ)(g_i − μ)ᵀ)
//!      ≤ ‖g_i − μ‖²` (as `−P_i ⪯ 0`) instead of a spectrum;
//!    * *covariance*: `λ_max(H) ≤ λ_max(C − A_low)` with `C = Σ_{i<j} r_i r_j (g_i − g_j)(g_i − g_j)ᵀ`,
//!      `r_i r_j ≤ ¼ (r_i + r_j)²`, and `Ā ⪰ A_low = Σ r_i^lo P_i + (Σ (r_i − r_i^lo) λ_min(P_i)) I`;
//!    * *mean value*: `H(X) ⊆ H(c) + [−Δ, Δ]`, `Δ_ab = Σ_z h_z sup_X |T_abz|`;
//!    * *second order*: `H(c + δ) = H(c) + T(c)[δ] + R`, `|R_ab| ≤ ½ Σ h_z h_y sup_X |Q_abzy|`, bounded
//!      by a 2 × 2 block around the top (bottom) eigenvector of `H(c)`: the first-order coupling
//!      enters squared, divided by the eigenvalue gap;
//!    * *vertex*: `λ_max(Σ r_i N_i)` (rank-one relaxation without summing eigenvalues) is convex in
//!      `r`, so its maximum over the responsibilities' polytope is at a vertex; the four most likely
//!      components are enumerated (`d ≤ 16`, as the mean-value form; the second order: `d ≤ 8`).
//!
//! Spectral bounds of a symmetric interval matrix `[M − N, M + N]` use a computed eigendecomposition
//! `M ≈ VΛVᵀ`: `λ_max ≤ λ_top (1 ± ‖VᵀV − I‖_F) + ‖|M − VΛVᵀ| + N‖₂`, the residuals evaluated in
//! `f64` with Higham's a-priori error bound, the last norm by a Collatz–Wielandt bound
//! `max_a (Nv)_a / v_a` (any positive `v`).
//!
//! **Lower bounds** are rigorous too: at a point `x` of the ball, `‖H(x)‖₂ ≥ |vᵀH(x)v| / ‖v‖²` for
//! the computed top eigenvector `v`, with `H(x)` an interval matrix.
//!
//! **Parameters.** The bounds hold for the mixture whose `f64` weights, means and covariances are
//! given. `P_i` is enclosed from the computed inverse `P̃_i` by the residual `E = I − P̃_i S_i`:
//! `‖S_i⁻¹ − P̃_i‖₂ ≤ ‖E‖ ‖P̃_i‖ / (1 − ‖E‖)`; `log det S_i` from the Cholesky factor `L̃` by the
//! residual `F = S_i − L̃L̃ᵀ`: `|log det S_i − 2 Σ log L̃_jj| ≤ d γ / (1 − γ)`,
//! `γ = ‖F‖ ‖S_i⁻¹‖ / (1 − ‖F‖ ‖S_i⁻¹‖)` (Frobenius norms, upward rounded).

// Dense small-matrix kernels index several arrays with the same row/column indices.
#![allow(clippy::needless_range_loop)]

use crate::covariance::Covariance;
use crate::error::MixtureError;
use crate::interval::{Iv, add_up, div_up, dn, mul_dn, mul_up, sqrt_up, up, weighted_range};
use crate::linalg;
use crate::mixture::GaussianMixture;
use crate::smoothness::{Progress, SearchOptions, SmoothnessError, ascend, hessian_norms};
use faer::Mat;
use rayon::prelude::*;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

/// The mixture's parameters, enclosed rigorously, and interval bounds on its log-density Hessian.
///
/// Components with zero weight are dropped (their responsibility is identically 0). The common
/// constant `−(d/2) log 2π` is dropped from the log-weights (it cancels in the responsibilities).
///
/// ```
/// use gmdiff_mixture::{CertifiedHessian, GaussianMixture};
/// let m: GaussianMixture = serde_json::from_str(
///     r#"{"weights":[0.5,0.5],"means":[[-2.0],[2.0]],"covariances":[1.0,1.0]}"#).unwrap();
/// let c = CertifiedHessian::new(&m).unwrap();
/// // At x = 0, H = −1 + 4 = 3 (r = ½ each, g = ±2).
/// let (lo, hi) = c.point_bounds(&[0.0]).unwrap();
/// assert!(lo <= 3.0 && 3.0 <= hi && hi - lo < 1e-12);
/// // On [−0.1, 0.1] the supremum is 3, at 0.
/// let b = c.box_bound(&[-0.1], &[0.1]).unwrap();
/// assert!(b.upper >= 3.0 && b.upper < 3.3);
/// ```
#[derive(Debug, Clone)]
pub struct CertifiedHessian {
    d: usize,
    /// `log w_i − ½ log det S_i`.
    log_c: Vec<Iv>,
    means: Vec<Vec<f64>>,
    /// `P_i`, row-major `d × d`.
    prec: Vec<Vec<Iv>>,
    /// `|P_i|` entrywise (upper bounds).
    prec_mag: Vec<Vec<f64>>,
    /// `|P_i − P_j|` entrywise (upper bounds), index `i k + j`, when `k ≤ PAIRWISE_MAX_K`.
    diff_mag: Vec<Vec<f64>>,
    /// `≥ ‖P_i − P_j‖₂`, index `i k + j`, when `k ≤ PAIRWISE_MAX_K`.
    diff_norm: Vec<f64>,
    /// `≥ ‖P_i m_i − P_j m_j‖`, index `i k + j`, when `k ≤ PAIRWISE_MAX_K`.
    shift_gap: Vec<f64>,
    /// `≥ λ_max(P_i)`.
    lam_max: Vec<f64>,
    /// `≤ λ_min(P_i)`, and `≥ 0`.
    lam_min: Vec<f64>,
}

/// Components whose responsibility over a box is at most this get cheap eigenvalue bounds in the
/// rank-one and vertex forms (`|g_i(c) − μ|²` instead of a spectrum).
const NEGLIGIBLE: f64 = 1e-9;

/// One component's rank-one term over a box (see [`CertifiedHessian::rank_one_terms`]).
struct RankOne {
    /// `N_i(c)`, row-major (empty for a negligible component).
    n: Vec<Iv>,
    /// `2 |g_i(c) − μ| ε_i + ε_i²`.
    slack: f64,
    /// `≥ λ_max(N_i(c)) + slack`.
    top: f64,
}

/// Above this dimension the box bound uses only the rank-one and covariance forms (the
/// mean-value and vertex forms cost `O(k d³)` and `O(2^4 k d³)` per box).
const DERIVATIVE_MAX_D: usize = 16;

/// Above this dimension the second-order form (fourth derivatives, `O(k d⁴)` per box) is skipped.
const SECOND_ORDER_MAX_D: usize = 8;

/// The vertex bound enumerates the polytope of responsibilities over at most this many components
/// (`m 2^m` vertices at most).
const VERTEX_MAX_ACTIVE: usize = 4;

/// Up to this many components the responsibilities over a box come from the pairwise log-ratios
/// (`O(k² d²)`, tighter); above, from the individual log-weights (`O(k d²)`).
const PAIRWISE_MAX_K: usize = 16;

/// The rigorous upper bounds of [`CertifiedHessian::box_bound`] on `sup_{x ∈ X} ‖∇² log p(x)‖₂`, one
/// per form (see the module docs); a form skipped because a cheaper one was already enough is `∞`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoxBound {
    /// The smallest of the forms below.
    pub upper: f64,
    /// Popoviciu's inequality on the ball part of the box: `λ_max(H) ≤ ¼ max_{i,j} sup ‖g_i − g_j‖²`
    /// over the components that may be present, `−λ_min(H) ≤ Σ r_i λ_max(P_i)`.
    pub popoviciu: f64,
    /// Rank-one relaxation in the responsibilities, summed eigenvalues (a linear programme).
    pub rank_one: f64,
    /// `max(Σ r_i λ_max(P_i), λ_max(C − A_low))`, `C` in pairwise form.
    pub covariance: f64,
    /// Rank-one relaxation, maximised over the vertices of the responsibilities' polytope.
    pub vertex: f64,
    /// First-order mean-value form `H(c) + [−Δ, Δ]`, `Δ_ab = Σ_z h_z sup|T_abz|`.
    pub mean_value: f64,
    /// Second-order block form around the extreme eigenvalues of `H(c)`.
    pub second_order: f64,
    /// The coordinate whose half-width contributes most to `Δ` (the one to bisect); the widest
    /// coordinate when the first-order form was not computed.
    pub split_axis: usize,
}

/// The illegible-but-rigorous case: a residual too large to enclose `S_i⁻¹` or `log det S_i`.
fn ill_conditioned(component: usize, residual: f64) -> SmoothnessError {
    SmoothnessError::IllConditioned { component, residual }
}

/// Encloses `S⁻¹` (row-major) and `log det S` of one covariance.
fn certify_covariance(cov: &Covariance, component: usize) -> Result<(Vec<Iv>, Iv), SmoothnessError> {
    let d = cov.dim();
    let singular = || SmoothnessError::Mixture(MixtureError::SingularCovariance { component });
    let diagonal = |v: &[f64]| -> Result<(Vec<Iv>, Iv), SmoothnessError> {
        let mut p = vec![Iv::point(0.0); d * d];
        let mut logdet = Iv::point(0.0);
        for (a, &va) in v.iter().enumerate() {
            if !(va > 0.0 && (1.0 / va).is_finite()) {
                return Err(singular());
            }
            p[a * d + a] = Iv::point(va).recip_pos();
            logdet = logdet.add(Iv::ln_point(va));
        }
        Ok((p, logdet))
    };
    match cov {
        Covariance::Isotropic { dim, variance } => diagonal(&vec![*variance; *dim]),
        Covariance::Diagonal(v) => diagonal(v),
        Covariance::Full(s) => {
            let l = linalg::cholesky(s.as_ref()).ok_or_else(singular)?;
            let pt = linalg::spd_inverse(l.as_ref());
            let point = |m: &Mat<f64>, a: usize, b: usize| Iv::point(m[(a, b)]);
            // ‖I − P̃ S‖_F, ‖P̃‖_F.
            let (mut e2, mut p2) = (0.0, 0.0);
            for a in 0..d {
                for b in 0..d {
                    let mut acc = Iv::point(if a == b { 1.0 } else { 0.0 });
                    for c in 0..d {
                        acc = acc.sub(point(&pt, a, c).mul(point(s, c, b)));
                    }
                    e2 = add_up(e2, mul_up(acc.mag(), acc.mag()));
                    p2 = add_up(p2, mul_up(pt[(a, b)].abs(), pt[(a, b)].abs()));
                }
            }
            let (eps, pf) = (sqrt_up(e2), sqrt_up(p2));
            if !(eps < 0.5 && pf.is_finite()) {
                return Err(ill_conditioned(component, eps));
            }
            let rho = div_up(mul_up(eps, pf), dn(1.0 - eps));
            let p: Vec<Iv> = (0..d * d).map(|ab| Iv::point(pt[(ab / d, ab % d)]).add(Iv::sym(rho))).collect();
            // log det S = 2 Σ log L̃_jj + log det(I + G), ‖G‖ ≤ γ.
            let mut logdet = Iv::point(0.0);
            for j in 0..d {
                logdet = logdet.add(Iv::ln_point(l[(j, j)]));
            }
            logdet = logdet.scale(2.0);
            let mut f2 = 0.0;
            for a in 0..d {
                for b in 0..d {
                    let mut acc = point(s, a, b);
                    for c in 0..=a.min(b) {
                        acc = acc.sub(point(&l, a, c).mul(point(&l, b, c)));
                    }
                    f2 = add_up(f2, mul_up(acc.mag(), acc.mag()));
                }
            }
            let inv_norm = add_up(pf, rho);
            let pphi = mul_up(sqrt_up(f2), inv_norm);
            if pphi.is_nan() || pphi >= 0.25 {
                return Err(ill_conditioned(component, pphi));
            }
            let gamma = div_up(pphi, dn(1.0 - pphi));
            let slack = div_up(mul_up(d as f64, gamma), dn(1.0 - gamma));
            Ok((p, logdet.add(Iv::sym(slack))))
        }
    }
}

/// Scratch space of one box evaluation.
#[derive(Default)]
struct Scratch {
    order: Vec<usize>,
    vals: Vec<Iv>,
}

/// The softmax of interval log-weights: `r_i = e^{ℓ_i} / Σ_j e^{ℓ_j}`, each end bounded with the
/// numerator at that end and the other terms at the opposite one. `O(k)`.
fn softmax(l: &[Iv]) -> Vec<Iv> {
    let top = l.iter().map(|x| x.hi).fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<Iv> = l.iter().map(|x| x.sub(Iv::point(top)).exp()).collect();
    let (mut s_lo, mut s_hi) = (0.0f64, 0.0f64);
    for x in &e {
        s_lo = dn(s_lo + x.lo);
        s_hi = add_up(s_hi, x.hi);
    }
    e.iter()
        .map(|x| {
            // Σ_{j≠i} e_j ∈ [s_lo − e_i.lo, s_hi − e_i.hi] (the sums are bounds of the full sums).
            let others_hi = up(s_hi - x.hi).max(0.0);
            let others_lo = dn(s_lo - x.lo).max(0.0);
            let lo = if x.lo > 0.0 { dn(x.lo / up(x.lo + others_hi)).max(0.0) } else { 0.0 };
            let hi = if x.hi > 0.0 { div_up(x.hi, dn(x.hi + others_lo)).min(1.0) } else { 0.0 };
            Iv { lo, hi }
        })
        .collect()
}

/// Upper bound of the spectral norm of a symmetric non-negative matrix (Collatz–Wielandt: for any
/// positive `v`, `ρ(N) ≤ max_a (N v)_a / v_a`; `v` from a few power iterations).
fn perron_upper(n: &[f64], d: usize) -> f64 {
    if n.iter().any(|x| !x.is_finite()) {
        return f64::INFINITY;
    }
    let mut v = vec![1.0; d];
    for _ in 0..8 {
        let w: Vec<f64> = (0..d).map(|a| (0..d).map(|b| n[a * d + b] * v[b]).sum()).collect();
        let m = w.iter().copied().fold(0.0f64, f64::max);
        if !(m > 0.0 && m.is_finite()) {
            break;
        }
        v = w.iter().map(|x| (x / m).max(1e-3)).collect();
    }
    (0..d).map(|a| div_up((0..d).fold(0.0, |s, b| add_up(s, mul_up(n[a * d + b], v[b]))), v[a])).fold(0.0, f64::max)
}

/// Eigenvalues and eigenvectors (column `j` of the row-major `v`) of a small symmetric matrix by
/// cyclic Jacobi rotations; larger matrices go to faer. Only their accuracy, never the rigour of the
/// bounds built on them, depends on this (residuals are enclosed).
fn symmetric_eigen(m: &[f64], d: usize) -> Option<(Vec<f64>, Vec<f64>)> {
    if d > JACOBI_MAX_D {
        let (values, vectors) = linalg::symmetric_eigen(Mat::from_fn(d, d, |a, b| m[a * d + b]).as_ref())?;
        return Some((values, (0..d * d).map(|ab| vectors[(ab / d, ab % d)]).collect()));
    }
    let mut a = m.to_vec();
    let mut v = vec![0.0; d * d];
    (0..d).for_each(|i| v[i * d + i] = 1.0);
    let scale = a.iter().map(|x| x * x).sum::<f64>();
    for _ in 0..50 {
        let off: f64 = (0..d).flat_map(|p| (0..d).filter(move |&q| q != p).map(move |q| (p, q))).map(|(p, q)| a[p * d + q].powi(2)).sum();
        if off <= 1e-28 * scale || off == 0.0 {
            break;
        }
        for p in 0..d {
            for q in (p + 1)..d {
                let apq = a[p * d + q];
                if apq == 0.0 {
                    continue;
                }
                let theta = (a[q * d + q] - a[p * d + p]) / (2.0 * apq);
                // t = sign(θ) / (|θ| + sqrt(θ² + 1)), |t| ≤ 1 (1/(2θ) for huge |θ|).
                let t = if theta == 0.0 {
                    1.0
                } else if theta.abs() > 1e150 {
                    0.5 / theta
                } else {
                    theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt())
                };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let sn = t * c;
                for r in 0..d {
                    let (arp, arq) = (a[r * d + p], a[r * d + q]);
                    a[r * d + p] = c * arp - sn * arq;
                    a[r * d + q] = sn * arp + c * arq;
                }
                for r in 0..d {
                    let (apr, aqr) = (a[p * d + r], a[q * d + r]);
                    a[p * d + r] = c * apr - sn * aqr;
                    a[q * d + r] = sn * apr + c * aqr;
                }
                for r in 0..d {
                    let (vrp, vrq) = (v[r * d + p], v[r * d + q]);
                    v[r * d + p] = c * vrp - sn * vrq;
                    v[r * d + q] = sn * vrp + c * vrq;
                }
            }
        }
    }
    let values: Vec<f64> = (0..d).map(|i| a[i * d + i]).collect();
    values.iter().all(|x| x.is_finite()).then_some((values, v))
}

/// Above this dimension [`symmetric_eigen`] uses faer instead of Jacobi rotations.
const JACOBI_MAX_D: usize = 8;

/// The 24 orderings of four indices (with repeats when indices coincide).
fn permutations4(a: usize, b: usize, c: usize, z: usize) -> impl Iterator<Item = (usize, usize, usize, usize)> {
    let v = [a, b, c, z];
    (0..24usize).map(move |n| {
        let mut idx = [0usize, 1, 2, 3];
        let mut m = n;
        for i in (1..4).rev() {
            idx.swap(i, m % (i + 1));
            m /= i + 1;
        }
        (v[idx[0]], v[idx[1]], v[idx[2]], v[idx[3]])
    })
}

/// Rigorous bounds on the spectrum of every symmetric matrix in an interval matrix.
#[derive(Debug, Clone, Copy)]
struct Spectrum {
    /// `≥ λ_max(H)` for every member `H`.
    lmax: f64,
    /// `≤ λ_min(H)` for every member `H`.
    lmin: f64,
    /// `≤ ‖H‖₂` for every member `H`.
    norm_lower: f64,
}

impl Spectrum {
    /// `≥ ‖H‖₂ = max(λ_max, −λ_min)` for every member.
    fn norm_upper(self) -> f64 {
        self.lmax.max(-self.lmin)
    }
}

/// `γ_n = n u / (1 − n u)`, `u = 2⁻⁵³`, rounded up: the relative error bound of an `n`-operation
/// floating-point product-sum (Higham, *Accuracy and Stability of Numerical Algorithms*, §3.1).
fn gamma(n: usize) -> f64 {
    let nu = up(n as f64 * (f64::EPSILON / 2.0));
    up(nu / dn(1.0 - nu))
}

/// Rigorous spectral bounds over the symmetric interval matrix `h` (row-major, lower triangle
/// read). With the midpoint `M ≈ VΛVᵀ` computed, `e ≥ ‖VᵀV − I‖_F` and `p ≥ ‖|M − VΛVᵀ| + rad h‖₂`:
/// for a unit `u`, `w = Vᵀu` has `‖w‖² ∈ [1 − e, 1 + e]`, so `uᵀHu ≤ λ_top ‖w‖² + p` and
/// `uᵀHu ≥ λ_bottom ‖w‖² − p`. The residuals `VᵀV − I` and `M − VΛVᵀ` are evaluated in `f64` and
/// bounded by the a-priori error bound `|fl(Σ_j Π_j) − Σ_j Π_j| ≤ γ_n Σ_j |Π_j|` (Higham, eq. 3.4;
/// `n` = terms + factors, doubled for the rounding of the bound itself, plus an underflow term).
/// The lower bound of the norm is `min_{H ∈ h} |vᵀHv| / ‖v‖²` for the computed eigenvector `v` of
/// largest `|λ|` (interval arithmetic).
fn spectrum(h: &[Iv], d: usize) -> Spectrum {
    let unknown = Spectrum { lmax: f64::INFINITY, lmin: f64::NEG_INFINITY, norm_lower: 0.0 };
    if h.iter().any(|x| !(x.lo.is_finite() && x.hi.is_finite())) {
        return unknown;
    }
    let at = |a: usize, b: usize| h[a.max(b) * d + a.min(b)];
    let mid: Vec<f64> = (0..d * d)
        .map(|ab| {
            let x = at(ab / d, ab % d);
            0.5 * x.lo + 0.5 * x.hi
        })
        .collect();
    let Some((values, vectors)) = symmetric_eigen(&mid, d) else {
        return unknown;
    };
    let g = gamma(2 * d + 8);
    let tiny = (2 * d + 8) as f64 * f64::MIN_POSITIVE;
    let mut e2 = 0.0;
    for j in 0..d {
        for l in 0..=j {
            let (mut acc, mut mag) = (if j == l { -1.0 } else { 0.0 }, if j == l { 1.0 } else { 0.0 });
            for a in 0..d {
                let p = vectors[a * d + j] * vectors[a * d + l];
                acc += p;
                mag += p.abs();
            }
            let t = add_up(acc.abs(), add_up(mul_up(g, mag), tiny));
            let t = mul_up(t, t);
            e2 = add_up(e2, if j == l { t } else { mul_up(2.0, t) });
        }
    }
    let e = sqrt_up(e2);
    let mut n = vec![0.0; d * d];
    for a in 0..d {
        for b in 0..=a {
            let m = mid[a * d + b];
            let x = at(a, b);
            let rad = up(x.hi - m).max(up(m - x.lo)).max(0.0);
            let (mut acc, mut mag) = (m, m.abs());
            for (j, &lam) in values.iter().enumerate() {
                let p = vectors[a * d + j] * lam * vectors[b * d + j];
                acc -= p;
                mag += p.abs();
            }
            let t = add_up(add_up(acc.abs(), add_up(mul_up(g, mag), tiny)), rad);
            n[a * d + b] = t;
            n[b * d + a] = t;
        }
    }
    let p = perron_upper(&n, d);
    let stretch = Iv { lo: dn(1.0 - e), hi: add_up(1.0, e) };
    let top = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let bottom = values.iter().copied().fold(f64::INFINITY, f64::min);
    let lmax = add_up(Iv::point(top).mul(stretch).hi, p);
    let lmin = dn(Iv::point(bottom).mul(stretch).lo - p);
    let big = (0..d).max_by(|&a, &b| values[a].abs().total_cmp(&values[b].abs())).expect("d ≥ 1");
    let v = |a: usize| Iv::point(vectors[a * d + big]);
    let mut q = Iv::point(0.0);
    let mut n2 = Iv::point(0.0);
    for a in 0..d {
        n2 = n2.add(v(a).sqr());
        for b in 0..d {
            q = q.add(v(a).mul(v(b)).mul(at(a, b)));
        }
    }
    let norm_lower = if n2.hi > 0.0 { dn(q.mig() / n2.hi).max(0.0) } else { 0.0 };
    Spectrum { lmax, lmin, norm_lower }
}

/// The second-order block bound: `H(c + δ) = H(c) + T(c)[δ] + R(δ)` with
/// `|R_ab| ≤ Δ₂_ab = ½ Σ_{z,y} h_z h_y sup_X |Q_abzy|` (Taylor with integral remainder, `Q` the
/// fourth derivative). Take the computed eigenvector `q` of `H(c)` for its largest eigenvalue. For a
/// unit `u = αq + w`, `w ⊥ q`: `uᵀHu ≤ α² a + 2|α| ‖w‖ β + ‖w‖² λ₂`, hence
/// `λ_max(H) ≤ λ_max([[a, β], [β, λ₂]])`, with
/// * `a ≥ qᵀH(c)q + Σ_z h_z |qᵀT_z(c)q| + |q|ᵀΔ₂|q|` (`qᵀT_z(c)q = ∂_z λ_max` to first order),
/// * `β ≥ ‖(I − qqᵀ)H(c)q‖ + ‖(Σ_z h_z |T_z(c)| + Δ₂)|q|‖` (the coupling),
/// * `λ₂ ≥ λ_max(H(c) − s qqᵀ) + ‖Σ_z h_z |T_z(c)| + Δ₂‖₂` (`H(c) − s qqᵀ` equals `H(c)` on `q⊥`;
///   `s = λ_max − λ_min` of `H(c)` deflates the top eigenvalue).
///
/// The coupling enters as `β² / (a − λ₂)`: near a separated extreme eigenvalue the excess over
/// the true supremum is second order in the box size. `−λ_min` likewise, with `−H`. `tc` is
/// `T(c)`, `delta2` is `Δ₂`; all in outward-rounded intervals.
fn block_bound(hc: &[Iv], tc: &[Iv], delta2: &[f64], h: &[f64], d: usize) -> f64 {
    if hc.iter().chain(tc).any(|x| !(x.lo.is_finite() && x.hi.is_finite())) || delta2.iter().any(|x| !x.is_finite()) {
        return f64::INFINITY;
    }
    let mid: Vec<f64> = hc.iter().map(|x| 0.5 * x.lo + 0.5 * x.hi).collect();
    let Some((values, vectors)) = symmetric_eigen(&mid, d) else {
        return f64::INFINITY;
    };
    // |E| ≤ N = Σ_z h_z |T_z(c)| + Δ₂ entrywise, E = H(c + δ) − H(c).
    let mut n = delta2.to_vec();
    for ab in 0..d * d {
        for (z, &hz) in h.iter().enumerate() {
            n[ab] = add_up(n[ab], mul_up(tc[ab * d + z].mag(), hz));
        }
    }
    let e_norm = perron_upper(&n, d);
    let top = (0..d).max_by(|&a, &b| values[a].total_cmp(&values[b])).expect("d ≥ 1");
    let bottom = (0..d).min_by(|&a, &b| values[a].total_cmp(&values[b])).expect("d ≥ 1");
    let spread = values[top] - values[bottom];
    let mut worst = f64::NEG_INFINITY;
    for (sign, j) in [(1.0, top), (-1.0, bottom)] {
        // Bound λ_max(sign · H); q is column j, not exactly unit: divide by ‖q‖².
        let q: Vec<Iv> = (0..d).map(|a| Iv::point(vectors[a * d + j])).collect();
        let n2 = q.iter().fold(Iv::point(0.0), |acc, x| acc.add(x.sqr()));
        if n2.lo.is_nan() || n2.lo <= 0.0 {
            return f64::INFINITY;
        }
        let inv_n2 = n2.recip_pos();
        let inv_norm = Iv { lo: dn(1.0 / sqrt_up(n2.hi)), hi: up(1.0 / dn(n2.lo.sqrt())) };
        let hq: Vec<Iv> = (0..d).map(|a| (0..d).fold(Iv::point(0.0), |acc, b| acc.add(hc[a * d + b].scale(sign).mul(q[b])))).collect();
        let qhq = (0..d).fold(Iv::point(0.0), |acc, a| acc.add(q[a].mul(hq[a]))).mul(inv_n2);
        let qabs: Vec<f64> = q.iter().map(|x| x.mag()).collect();
        // Linear term: Σ_z h_z |qᵀT_z(c)q|; remainder |q|ᵀΔ₂|q|.
        let mut a_up = qhq.hi;
        for (z, &hz) in h.iter().enumerate() {
            let mut qtq = Iv::point(0.0);
            for a in 0..d {
                for b in 0..d {
                    qtq = qtq.add(q[a].mul(q[b]).mul(tc[(a * d + b) * d + z]));
                }
            }
            a_up = add_up(a_up, mul_up(qtq.mul(inv_n2).mag(), hz));
        }
        let mut quad = 0.0;
        for a in 0..d {
            for b in 0..d {
                quad = add_up(quad, mul_up(mul_up(qabs[a], qabs[b]), delta2[a * d + b]));
            }
        }
        a_up = add_up(a_up, mul_up(quad, inv_n2.hi));
        // β.
        let resid = (0..d).fold(0.0, |acc, a| add_up(acc, hq[a].sub(qhq.mul(q[a])).mul(inv_norm).sqr().hi));
        let nq = (0..d).fold(0.0, |acc, a| {
            let x = (0..d).fold(0.0, |s, b| add_up(s, mul_up(n[a * d + b], qabs[b])));
            add_up(acc, mul_up(x, x))
        });
        let beta = add_up(sqrt_up(resid), mul_up(sqrt_up(nq), inv_norm.hi));
        // λ₂.
        let coef = Iv::point(spread).mul(inv_n2);
        let deflated: Vec<Iv> = (0..d * d).map(|ab| hc[ab].scale(sign).sub(coef.mul(q[ab / d]).mul(q[ab % d]))).collect();
        let lam2 = add_up(spectrum(&deflated, d).lmax, e_norm);
        // λ_max([[a, β], [β, λ₂]]) = (a + λ₂)/2 + sqrt(((a − λ₂)/2)² + β²).
        let half_sum = Iv::point(a_up).add(Iv::point(lam2)).scale(0.5);
        let half_gap = Iv::point(a_up).sub(Iv::point(lam2)).scale(0.5);
        let root = sqrt_up(add_up(half_gap.sqr().hi, mul_up(beta, beta)));
        worst = worst.max(add_up(half_sum.hi, root));
    }
    if worst.is_nan() { f64::INFINITY } else { worst }
}

impl CertifiedHessian {
    /// Encloses the parameters of `p` (see the module docs); errors for singular covariances and
    /// for residuals too large to certify ([`SmoothnessError::IllConditioned`]).
    pub fn new(p: &GaussianMixture) -> Result<Self, SmoothnessError> {
        let d = p.dim();
        let mut out = CertifiedHessian {
            d,
            log_c: Vec::new(),
            means: Vec::new(),
            prec: Vec::new(),
            prec_mag: Vec::new(),
            diff_mag: Vec::new(),
            diff_norm: Vec::new(),
            shift_gap: Vec::new(),
            lam_max: Vec::new(),
            lam_min: Vec::new(),
        };
        for (i, (w, c)) in p.weights().iter().zip(p.components()).enumerate() {
            if *w == 0.0 {
                continue;
            }
            let (prec, logdet) = certify_covariance(c.covariance(), i)?;
            out.log_c.push(Iv::ln_point(*w).sub(logdet.scale(0.5)));
            out.prec_mag.push(prec.iter().map(|x| x.mag()).collect());
            let sp = spectrum(&prec, d);
            out.lam_max.push(sp.lmax);
            out.lam_min.push(sp.lmin.max(0.0));
            out.prec.push(prec);
            out.means.push(c.mean().to_vec());
        }
        let k = out.means.len();
        if k <= PAIRWISE_MAX_K {
            // g_i(0) = −P_i m_i.
            let g0 = out.at_point(&vec![0.0; d]).1;
            for i in 0..k {
                for j in 0..k {
                    let diff: Vec<Iv> = out.prec[i].iter().zip(&out.prec[j]).map(|(a, b)| a.sub(*b)).collect();
                    out.diff_norm.push(if i == j { 0.0 } else { spectrum(&diff, d).norm_upper() });
                    out.shift_gap.push(sqrt_up((0..d).fold(0.0, |acc, a| add_up(acc, g0[i * d + a].sub(g0[j * d + a]).sqr().hi))));
                    out.diff_mag.push(diff.iter().map(|x| x.mag()).collect());
                }
            }
        }
        Ok(out)
    }

    /// The dimension `d`.
    pub fn dim(&self) -> usize {
        self.d
    }

    fn check(&self, x: &[f64]) -> Result<(), SmoothnessError> {
        if x.len() != self.d {
            return Err(MixtureError::DimensionMismatch { what: "point or box".into(), expected: self.d, found: x.len() }.into());
        }
        if let Some(&value) = x.iter().find(|v| !v.is_finite()) {
            return Err(MixtureError::NonFinite { what: "point or box corner".into(), value }.into());
        }
        Ok(())
    }

    /// `ℓ_i(c)` (without `−(d/2) log 2π`) and `g_i(c) = P_i (c − m_i)` (`k × d`, row-major).
    fn at_point(&self, c: &[f64]) -> (Vec<Iv>, Vec<Iv>) {
        let d = self.d;
        let k = self.means.len();
        let mut l = Vec::with_capacity(k);
        let mut g = Vec::with_capacity(k * d);
        let mut e = vec![Iv::point(0.0); d];
        for i in 0..k {
            for b in 0..d {
                e[b] = Iv::point(c[b]).sub(Iv::point(self.means[i][b]));
            }
            let mut q = Iv::point(0.0);
            for a in 0..d {
                let mut ga = Iv::point(0.0);
                for b in 0..d {
                    ga = ga.add(self.prec[i][a * d + b].mul(e[b]));
                }
                q = q.add(e[a].mul(ga));
                g.push(ga);
            }
            l.push(self.log_c[i].sub(q.scale(0.5)));
        }
        (l, g)
    }

    /// `H = Σ_i r_i (−P_i + d_i d_iᵀ)` as an interval matrix, from `r` and the deviations `dev`.
    fn hessian_from(&self, r: &[Iv], dev: &[Iv], s: &mut Scratch) -> Vec<Iv> {
        let d = self.d;
        let k = r.len();
        let mut h = vec![Iv::point(0.0); d * d];
        for a in 0..d {
            for b in 0..=a {
                s.vals.clear();
                for i in 0..k {
                    let outer = if a == b { dev[i * d + a].sqr() } else { dev[i * d + a].mul(dev[i * d + b]) };
                    s.vals.push(outer.sub(self.prec[i][a * d + b]));
                }
                let x = weighted_range(r, &s.vals, &mut s.order);
                h[a * d + b] = x;
                h[b * d + a] = x;
            }
        }
        h
    }

    /// `Ā = Σ_i r_i P_i` (row-major), each entry by the linear programme over `r`.
    fn mean_precision(&self, r: &[Iv], s: &mut Scratch) -> Vec<Iv> {
        let d = self.d;
        let mut abar = vec![Iv::point(0.0); d * d];
        for a in 0..d {
            for b in 0..=a {
                s.vals.clear();
                s.vals.extend(self.prec.iter().map(|p| p[a * d + b]));
                let x = weighted_range(r, &s.vals, &mut s.order);
                abar[a * d + b] = x;
                abar[b * d + a] = x;
            }
        }
        abar
    }

    /// `ḡ_a = Σ r_i g_ia` for every `a`, and the deviations `g_i − ḡ`.
    fn deviations(&self, r: &[Iv], g: &[Iv], s: &mut Scratch) -> Vec<Iv> {
        let d = self.d;
        let k = r.len();
        let mut dev = g.to_vec();
        for a in 0..d {
            s.vals.clear();
            s.vals.extend((0..k).map(|i| g[i * d + a]));
            let gbar = weighted_range(r, &s.vals, &mut s.order);
            for i in 0..k {
                dev[i * d + a] = g[i * d + a].sub(gbar);
            }
        }
        dev
    }

    /// The responsibilities over the box `c + [−h, h]` from the pairwise log-ratios
    /// `u_ij = ℓ_j − ℓ_i`: `u_ij(c + δ) = u_ij(c) + (g_i(c) − g_j(c))·δ + ½ δᵀ(P_i − P_j)δ` exactly,
    /// so `u_ij(X) ⊆ u_ij(c) ± (Σ_z |g_i(c) − g_j(c)|_z h_z + ½ hᵀ|P_i − P_j|h)`, and
    /// `r_i = 1 / (1 + Σ_{j≠i} e^{u_ij})` is decreasing in every `u_ij`.
    fn softmax_pairwise(&self, lc: &[Iv], gc: &[Iv], h: &[f64]) -> Vec<Iv> {
        let d = self.d;
        let k = lc.len();
        let mut s_lo = vec![0.0f64; k];
        let mut s_hi = vec![0.0f64; k];
        for i in 0..k {
            for j in (i + 1)..k {
                let lin = (0..d).fold(0.0, |acc, z| add_up(acc, mul_up(gc[i * d + z].sub(gc[j * d + z]).mag(), h[z])));
                let m = &self.diff_mag[i * k + j];
                let mut quad = 0.0;
                for a in 0..d {
                    for b in 0..d {
                        quad = add_up(quad, mul_up(mul_up(m[a * d + b], h[a]), h[b]));
                    }
                }
                let u = lc[j].sub(lc[i]).add(Iv::sym(add_up(lin, mul_up(0.5, quad))));
                let (e, f) = (u.exp(), Iv { lo: -u.hi, hi: -u.lo }.exp());
                s_lo[i] = dn(s_lo[i] + e.lo);
                s_hi[i] = add_up(s_hi[i], e.hi);
                s_lo[j] = dn(s_lo[j] + f.lo);
                s_hi[j] = add_up(s_hi[j], f.hi);
            }
        }
        (0..k).map(|i| Iv { lo: dn(1.0 / up(1.0 + s_hi[i])).max(0.0), hi: up(1.0 / dn(1.0 + s_lo[i].max(0.0))).min(1.0) }).collect()
    }

    /// The Hessian at a point as an interval matrix (row-major), enclosing the exact `∇² log p(x)`.
    fn hessian_at(&self, x: &[f64], s: &mut Scratch) -> Vec<Iv> {
        let (l, g) = self.at_point(x);
        let r = softmax(&l);
        let dev = self.deviations(&r, &g, s);
        self.hessian_from(&r, &dev, s)
    }

    /// Rigorous `(lower, upper)` bounds of `‖∇² log p(x)‖₂` at the point `x`.
    pub fn point_bounds(&self, x: &[f64]) -> Result<(f64, f64), SmoothnessError> {
        self.check(x)?;
        let sp = spectrum(&self.hessian_at(x, &mut Scratch::default()), self.d);
        Ok((sp.norm_lower, sp.norm_upper()))
    }

    /// A rigorous upper bound of `sup_{x ∈ X} ‖∇² log p(x)‖₂` over the box `X = [lo, hi]`
    /// (`lo ≤ hi` coordinatewise, finite), see the module docs.
    pub fn box_bound(&self, lo: &[f64], hi: &[f64]) -> Result<BoxBound, SmoothnessError> {
        self.check(lo)?;
        self.check(hi)?;
        if let Some(a) = (0..self.d).find(|&a| lo[a] > hi[a]) {
            return Err(SmoothnessError::InvalidOption { name: "box (lo > hi)", value: lo[a] - hi[a], reason: "need lo ≤ hi" });
        }
        Ok(self.box_bound_unchecked(lo, hi, f64::INFINITY, f64::NEG_INFINITY, &mut Scratch::default()).0)
    }

    /// `T_abc = ∂_c H_ab = Σ_i r_i [(P_i − Ā)_ab d_ic + (P_i − Ā)_ac d_ib + (P_i − Ā)_bc d_ia − d_ia d_ib d_ic]`
    /// as intervals (`d × d × d`, index `(a d + b) d + c`, symmetric), from enclosures of the
    /// responsibilities `r`, the deviations `dev = g − ḡ` and `Ā = Σ r_i P_i`.
    fn third_derivative(&self, r: &[Iv], dev: &[Iv], abar: &[Iv], s: &mut Scratch) -> Vec<Iv> {
        let d = self.d;
        let k = r.len();
        let mut t = vec![Iv::point(0.0); d * d * d];
        let pa = |i: usize, a: usize, b: usize| self.prec[i][a * d + b].sub(abar[a * d + b]);
        for a in 0..d {
            for b in 0..=a {
                for c in 0..=b {
                    s.vals.clear();
                    for i in 0..k {
                        let (da, db, dc) = (dev[i * d + a], dev[i * d + b], dev[i * d + c]);
                        let cube = if a == c { da.cube() } else { da.mul(db).mul(dc) };
                        s.vals.push(pa(i, a, b).mul(dc).add(pa(i, a, c).mul(db)).add(pa(i, b, c).mul(da)).sub(cube));
                    }
                    let x = weighted_range(r, &s.vals, &mut s.order);
                    for (p, q, u) in [(a, b, c), (a, c, b), (b, a, c), (b, c, a), (c, a, b), (c, b, a)] {
                        t[(p * d + q) * d + u] = x;
                    }
                }
            }
        }
        t
    }

    /// `Q_abcz = ∂_z T_abc = Σ_i r_i [d_a d_b d_c d_z + P̃_ab P̃_cz + P̃_ac P̃_bz + P̃_az P̃_bc
    /// − (P̃_ab d_c d_z + P̃_ac d_b d_z + P̃_az d_b d_c + P̃_bc d_a d_z + P̃_bz d_a d_c + P̃_cz d_a d_b)]_i
    /// − (C_ab C_cz + C_ac C_bz + C_az C_bc)`, with `P̃_i = P_i − Ā`, `d_i = g_i − ḡ`,
    /// `C = Σ r_i d_i d_iᵀ` (the fourth cumulant of `g_I`, `I ∼ r`, and its mixed terms with `P_I`;
    /// derived in `docs/smoothness.md`). Intervals `d⁴`, index `((a d + b) d + c) d + z`, symmetric.
    fn fourth_derivative(&self, r: &[Iv], dev: &[Iv], abar: &[Iv], s: &mut Scratch) -> Vec<Iv> {
        let d = self.d;
        let k = r.len();
        let mut cm = vec![Iv::point(0.0); d * d];
        for a in 0..d {
            for b in 0..=a {
                s.vals.clear();
                s.vals.extend((0..k).map(|i| if a == b { dev[i * d + a].sqr() } else { dev[i * d + a].mul(dev[i * d + b]) }));
                let x = weighted_range(r, &s.vals, &mut s.order);
                cm[a * d + b] = x;
                cm[b * d + a] = x;
            }
        }
        let pt = |i: usize, a: usize, b: usize| self.prec[i][a * d + b].sub(abar[a * d + b]);
        let c2 = |a: usize, b: usize| cm[a * d + b];
        let mut q = vec![Iv::point(0.0); d * d * d * d];
        for a in 0..d {
            for b in 0..=a {
                for c in 0..=b {
                    for z in 0..=c {
                        s.vals.clear();
                        for i in 0..k {
                            let (da, db, dc, dz) = (dev[i * d + a], dev[i * d + b], dev[i * d + c], dev[i * d + z]);
                            let quartic = if a == z { da.sqr().sqr() } else { da.mul(db).mul(dc).mul(dz) };
                            let pp = pt(i, a, b).mul(pt(i, c, z)).add(pt(i, a, c).mul(pt(i, b, z))).add(pt(i, a, z).mul(pt(i, b, c)));
                            let pdd = pt(i, a, b)
                                .mul(dc.mul(dz))
                                .add(pt(i, a, c).mul(db.mul(dz)))
                                .add(pt(i, a, z).mul(db.mul(dc)))
                                .add(pt(i, b, c).mul(da.mul(dz)))
                                .add(pt(i, b, z).mul(da.mul(dc)))
                                .add(pt(i, c, z).mul(da.mul(db)));
                            s.vals.push(quartic.add(pp).sub(pdd));
                        }
                        let cc = c2(a, b).mul(c2(c, z)).add(c2(a, c).mul(c2(b, z))).add(c2(a, z).mul(c2(b, c)));
                        let x = weighted_range(r, &s.vals, &mut s.order).sub(cc);
                        for (p0, p1, p2, p3) in permutations4(a, b, c, z) {
                            q[((p0 * d + p1) * d + p2) * d + p3] = x;
                        }
                    }
                }
            }
        }
        q
    }

    /// Popoviciu's inequality per box (the box form of [`crate::lipschitz_bound`]): `H ⪯ C` and
    /// `vᵀCv = Var_r(vᵀg) ≤ ¼ (max_{i,j} vᵀ(g_i − g_j))²` over the components with `r_i^hi > 0`;
    /// on `X ∩ {‖x‖ ≤ R}`, `‖δ‖ ≤ ρ = min(‖h‖, ‖c‖ + R)`, so
    /// `‖g_i − g_j‖ ≤ min(‖g_i(c) − g_j(c)‖ + ‖P_i − P_j‖₂ ρ, ‖P_i m_i − P_j m_j‖ + ‖P_i − P_j‖₂ R)`
    /// (`k ≤ PAIRWISE_MAX_K`; above, the diameter
    /// bound `2 max_i (‖g_i(c) − z‖ + ‖P_i‖₂ ρ)`, `z = g_0(c)`). With `−λ_min(H) ≤ Σ r_i λ_max(P_i)`.
    fn popoviciu_bound(&self, r: &[Iv], gc: &[Iv], c: &[f64], h: &[f64], radius: f64, s: &mut Scratch) -> f64 {
        let d = self.d;
        let k = r.len();
        s.vals.clear();
        s.vals.extend(self.lam_max.iter().map(|&x| Iv::point(x)));
        let minus = weighted_range(r, &s.vals, &mut s.order).hi;
        let hn = sqrt_up(h.iter().fold(0.0, |acc, &x| add_up(acc, mul_up(x, x))));
        let cn = sqrt_up(c.iter().fold(0.0, |acc, &x| add_up(acc, mul_up(x.abs(), x.abs()))));
        let rho = hn.min(add_up(cn, radius));
        let dist = |i: usize, j: usize| sqrt_up((0..d).fold(0.0, |acc, a| add_up(acc, gc[i * d + a].sub(gc[j * d + a]).sqr().hi)));
        let active: Vec<usize> = (0..k).filter(|&i| r[i].hi > 0.0).collect();
        let diameter = if active.len() < 2 {
            0.0
        } else if k <= PAIRWISE_MAX_K {
            let mut worst = 0.0f64;
            for (p, &i) in active.iter().enumerate() {
                for &j in &active[p + 1..] {
                    let n = self.diff_norm[i * k + j];
                    let local = add_up(dist(i, j), mul_up(n, rho));
                    let global = add_up(self.shift_gap[i * k + j], mul_up(n, radius));
                    worst = worst.max(local.min(global));
                }
            }
            worst
        } else {
            let z = active[0];
            let far = active.iter().fold(0.0f64, |m, &i| m.max(add_up(dist(i, z), mul_up(self.lam_max[i], rho))));
            mul_up(2.0, far)
        };
        minus.max(mul_up(0.25, mul_up(diameter, diameter)))
    }

    /// `N_i(c) = −P_i + (g_i(c) − μ)(g_i(c) − μ)ᵀ` (interval matrices, built only for components
    /// with `r_i^hi > NEGLIGIBLE`), the slack `2 |g_i(c) − μ| ε_i + ε_i² ≥ λ_max(N_i(x)) − λ_max(N_i(c))`
    /// over the box, `ε_i = ‖|P_i| h‖`, and `top_i ≥ λ_max(N_i(c)) + slack_i`: from the spectrum, or
    /// for a negligible component the cheap `|g_i(c) − μ|² + slack_i` (as `−P_i ⪯ 0`).
    fn rank_one_terms(&self, r: &[Iv], gc: &[Iv], mu: &[f64], h: &[f64]) -> Vec<RankOne> {
        let d = self.d;
        (0..self.means.len())
            .map(|i| {
                let e2 = (0..d).fold(0.0, |acc, a| {
                    let x = (0..d).fold(0.0, |t, b| add_up(t, mul_up(self.prec_mag[i][a * d + b], h[b])));
                    add_up(acc, mul_up(x, x))
                });
                let eps = sqrt_up(e2);
                let dev: Vec<Iv> = (0..d).map(|a| gc[i * d + a].sub(Iv::point(mu[a]))).collect();
                let len2 = dev.iter().fold(0.0, |acc, x| add_up(acc, x.sqr().hi));
                let slack = add_up(mul_up(2.0, mul_up(sqrt_up(len2), eps)), mul_up(eps, eps));
                if r[i].hi <= NEGLIGIBLE {
                    return RankOne { n: Vec::new(), slack, top: add_up(len2, slack) };
                }
                let mut n = vec![Iv::point(0.0); d * d];
                for a in 0..d {
                    for b in 0..=a {
                        let outer = if a == b { dev[a].sqr() } else { dev[a].mul(dev[b]) };
                        let x = outer.sub(self.prec[i][a * d + b]);
                        n[a * d + b] = x;
                        n[b * d + a] = x;
                    }
                }
                let top = add_up(spectrum(&n, d).lmax, slack);
                RankOne { n, slack, top }
            })
            .collect()
    }

    /// The rank-one relaxation in `r`: for any point `μ`, `ḡḡᵀ ⪰ ḡμᵀ + μḡᵀ − μμᵀ`, so (as `Σ r_i = 1`)
    /// `H ⪯ Σ_i r_i N_i(x)` and `λ_max(H) ≤ Σ_i r_i (λ_max(N_i(c)) + slack_i)`, a linear programme
    /// over the responsibilities; with `−λ_min(H) ≤ Σ_i r_i λ_max(P_i)` (as `−H ⪯ Σ r_i P_i`), a bound
    /// of `‖H‖₂`. Exact at the middle of a two-component ridge when `μ` is the midpoint of the two
    /// `g`'s. `μ = ḡ(c)` here.
    fn rank_one_bound(&self, r: &[Iv], gc: &[Iv], mu: &[f64], h: &[f64], s: &mut Scratch) -> f64 {
        s.vals.clear();
        s.vals.extend(self.lam_max.iter().map(|&x| Iv::point(x)));
        let minus = weighted_range(r, &s.vals, &mut s.order).hi;
        let values: Vec<Iv> = self.rank_one_terms(r, gc, mu, h).into_iter().map(|t| Iv::point(t.top)).collect();
        minus.max(weighted_range(r, &values, &mut s.order).hi)
    }

    /// The rank-one relaxation without summing eigenvalues: `λ_max(Σ_i r_i (N_i(c) + slack_i I))` is
    /// convex in `r`, so its supremum over `{r_i ∈ r_i(X), Σ r_i = 1}` is attained at a vertex of that
    /// polytope. The `VERTEX_MAX_ACTIVE` components of largest `r_i^hi` are enumerated (each vertex
    /// has all of them but one at a bound, the last one fixed by the sum, as an interval); the
    /// others add `Σ_j r_j^hi max(0, λ_max(N_j(c)) + slack_j)` and loosen the sum to
    /// `[1 − Σ_j r_j^hi, 1]`. With `−λ_min(H) ≤ Σ r_i λ_max(P_i)`.
    fn vertex_bound(&self, r: &[Iv], gc: &[Iv], mu: &[f64], h: &[f64]) -> f64 {
        let d = self.d;
        let k = r.len();
        let mut order: Vec<usize> = (0..k).filter(|&i| r[i].hi > 0.0).collect();
        order.sort_by(|&a, &b| r[b].hi.total_cmp(&r[a].hi).then(a.cmp(&b)));
        let active: Vec<usize> = order.iter().copied().take(VERTEX_MAX_ACTIVE).filter(|&i| r[i].hi > NEGLIGIBLE).collect();
        let terms = self.rank_one_terms(r, gc, mu, h);
        let mut extra = 0.0;
        let mut rest_mass = 0.0;
        for &j in order.iter().filter(|j| !active.contains(j)) {
            extra = add_up(extra, mul_up(r[j].hi, terms[j].top.max(0.0)));
            rest_mass = add_up(rest_mass, r[j].hi);
        }
        let sum_lo = dn(1.0 - rest_mass);
        let m = active.len();
        let mut worst = f64::NEG_INFINITY;
        let mut eval = |weights: &[Iv]| {
            let mut acc = vec![Iv::point(0.0); d * d];
            for (w, &i) in weights.iter().zip(&active) {
                for ab in 0..d * d {
                    let entry = if ab / d == ab % d { terms[i].n[ab].add(Iv::point(terms[i].slack)) } else { terms[i].n[ab] };
                    acc[ab] = acc[ab].add(w.mul(entry));
                }
            }
            worst = worst.max(spectrum(&acc, d).lmax);
        };
        let bound = |i: usize, up_end: bool| Iv::point(if up_end { r[i].hi } else { r[i].lo });
        for mask in 0..(1usize << m) {
            // All active at a bound.
            let w: Vec<Iv> = (0..m).map(|p| bound(active[p], mask >> p & 1 == 1)).collect();
            let total = w.iter().fold(Iv::point(0.0), |acc, x| acc.add(*x));
            if total.hi >= sum_lo && total.lo <= 1.0 {
                eval(&w);
            }
            // One free coordinate f, the others at the bounds given by the mask bits (bit f ignored).
            for f in 0..m {
                if mask >> f & 1 == 1 {
                    continue;
                }
                let others = (0..m).filter(|&p| p != f).fold(Iv::point(0.0), |acc, p| acc.add(bound(active[p], mask >> p & 1 == 1)));
                for target in [sum_lo, 1.0] {
                    let rf = Iv::point(target).sub(others);
                    let (lo_f, hi_f) = (r[active[f]].lo, r[active[f]].hi);
                    if rf.hi < lo_f || rf.lo > hi_f {
                        continue;
                    }
                    let clipped = Iv { lo: rf.lo.max(lo_f), hi: rf.hi.min(hi_f) };
                    let w: Vec<Iv> = (0..m).map(|p| if p == f { clipped } else { bound(active[p], mask >> p & 1 == 1) }).collect();
                    eval(&w);
                }
            }
        }
        let minus = {
            let values: Vec<Iv> = self.lam_max.iter().map(|&x| Iv::point(x)).collect();
            weighted_range(r, &values, &mut Vec::new()).hi
        };
        minus.max(add_up(worst, extra))
    }

    /// `max(Σ r_i λ_max(P_i), λ_max(C − A_low))` over the box: `−H = A − C ⪯ A = Σ r_i P_i`; and
    /// `A ⪰ A_low = Σ r_i^lo P_i + (Σ_i (r_i − r_i^lo) λ_min(P_i)) I` (the bracket bounded below by a
    /// linear programme over the responsibilities), so `λ_max(H) ≤ λ_max(C − A_low)` with the
    /// pairwise form `C = Σ_{i<j} r_i r_j (g_i − g_j)(g_i − g_j)ᵀ`, `r_i r_j ≤ ¼ (r_i + r_j)²`
    /// (`k ≤ PAIRWISE_MAX_K`; above, `C = Σ r_i d_i d_iᵀ`).
    fn covariance_bound(&self, r: &[Iv], gc: &[Iv], dev: &[Iv], h: &[f64], s: &mut Scratch) -> f64 {
        let d = self.d;
        let k = r.len();
        s.vals.clear();
        s.vals.extend(self.lam_max.iter().map(|&x| Iv::point(x)));
        let minus = weighted_range(r, &s.vals, &mut s.order).hi;
        let mut m = vec![Iv::point(0.0); d * d];
        if k <= PAIRWISE_MAX_K {
            let mut delta = vec![Iv::point(0.0); d];
            for i in 0..k {
                for j in (i + 1)..k {
                    let pair = add_up(r[i].hi, r[j].hi).min(1.0);
                    let w = r[i].mul(r[j]);
                    let w = Iv { lo: w.lo.max(0.0), hi: w.hi.min(mul_up(0.25, mul_up(pair, pair))) };
                    if w.hi == 0.0 {
                        continue;
                    }
                    let dm = &self.diff_mag[i * k + j];
                    for a in 0..d {
                        let spread = (0..d).fold(0.0, |acc, b| add_up(acc, mul_up(dm[a * d + b], h[b])));
                        delta[a] = gc[i * d + a].sub(gc[j * d + a]).add(Iv::sym(spread));
                    }
                    for a in 0..d {
                        for b in 0..=a {
                            let outer = if a == b { delta[a].sqr() } else { delta[a].mul(delta[b]) };
                            m[a * d + b] = m[a * d + b].add(w.mul(outer));
                        }
                    }
                }
            }
        } else {
            for a in 0..d {
                for b in 0..=a {
                    s.vals.clear();
                    s.vals.extend((0..k).map(|i| if a == b { dev[i * d + a].sqr() } else { dev[i * d + a].mul(dev[i * d + b]) }));
                    m[a * d + b] = weighted_range(r, &s.vals, &mut s.order);
                }
            }
        }
        s.vals.clear();
        s.vals.extend(self.lam_min.iter().map(|&x| Iv::point(x)));
        let lp = weighted_range(r, &s.vals, &mut s.order).lo;
        let fixed = r.iter().zip(&self.lam_min).fold(0.0, |acc, (x, &l)| add_up(acc, mul_up(x.lo, l)));
        let floor = dn(lp - fixed).max(0.0);
        for a in 0..d {
            for b in 0..=a {
                let mut low = Iv::point(if a == b { floor } else { 0.0 });
                for i in 0..k {
                    if r[i].lo > 0.0 {
                        low = low.add(self.prec[i][a * d + b].scale(r[i].lo));
                    }
                }
                let x = m[a * d + b].sub(low);
                m[a * d + b] = x;
                m[b * d + a] = x;
            }
        }
        minus.max(spectrum(&m, d).lmax)
    }

    /// The box bound, the rigorous lower bound `≤ ‖H(c)‖₂` at the centre `c` (whose interval
    /// Hessian is computed on the way), and `c`. The forms are tried from the cheapest; once the
    /// bound is `≤ enough`, the others are skipped (their fields stay `∞`).
    fn box_bound_unchecked(&self, lo: &[f64], hi: &[f64], radius: f64, enough: f64, s: &mut Scratch) -> (BoxBound, f64, Vec<f64>) {
        let d = self.d;
        let k = self.means.len();
        let c: Vec<f64> = (0..d).map(|a| (0.5 * lo[a] + 0.5 * hi[a]).clamp(lo[a], hi[a])).collect();
        let h: Vec<f64> = (0..d).map(|a| up(c[a] - lo[a]).max(up(hi[a] - c[a])).max(0.0)).collect();
        let widest = (0..d).max_by(|&a, &b| h[a].total_cmp(&h[b]).then(b.cmp(&a))).expect("d ≥ 1");
        let (lc, gc) = self.at_point(&c);
        // Centre.
        let rc = softmax(&lc);
        let devc = self.deviations(&rc, &gc, s);
        let hc = self.hessian_from(&rc, &devc, s);
        let centre_lower = spectrum(&hc, d).norm_lower;
        let mut b = BoxBound {
            upper: f64::INFINITY,
            popoviciu: f64::INFINITY,
            rank_one: f64::INFINITY,
            covariance: f64::INFINITY,
            vertex: f64::INFINITY,
            mean_value: f64::INFINITY,
            second_order: f64::INFINITY,
            split_axis: widest,
        };
        let done = |b: &mut BoxBound| {
            let forms = [b.popoviciu, b.rank_one, b.covariance, b.vertex, b.mean_value, b.second_order];
            b.upper = forms.iter().map(|&x| if x.is_nan() { f64::INFINITY } else { x }).fold(f64::INFINITY, f64::min);
            b.upper <= enough
        };
        // Responsibilities over the box.
        let rx = if k <= PAIRWISE_MAX_K {
            self.softmax_pairwise(&lc, &gc, &h)
        } else {
            let lx: Vec<Iv> = (0..k)
                .map(|i| {
                    let lin = (0..d).fold(0.0, |acc, a| add_up(acc, mul_up(gc[i * d + a].mag(), h[a])));
                    let mut quad = 0.0;
                    for a in 0..d {
                        for b in 0..d {
                            quad = add_up(quad, mul_up(mul_up(self.prec_mag[i][a * d + b], h[a]), h[b]));
                        }
                    }
                    lc[i].add(Iv { lo: -add_up(lin, mul_up(0.5, quad)), hi: lin })
                })
                .collect();
            softmax(&lx)
        };
        b.popoviciu = self.popoviciu_bound(&rx, &gc, &c, &h, radius, s);
        if done(&mut b) {
            return (b, centre_lower, c);
        }
        let mu = gbar_mid(&rc, &gc, d);
        b.rank_one = self.rank_one_bound(&rx, &gc, &mu, &h, s);
        if k >= 2 {
            // μ = the midpoint of the g's of the two components of largest r^hi.
            let mut order: Vec<usize> = (0..k).collect();
            order.sort_by(|&a, &bb| rx[bb].hi.total_cmp(&rx[a].hi).then(a.cmp(&bb)));
            let (i, j) = (order[0], order[1]);
            let mu2: Vec<f64> =
                (0..d).map(|a| 0.25 * (gc[i * d + a].lo + gc[i * d + a].hi + gc[j * d + a].lo + gc[j * d + a].hi)).collect();
            b.rank_one = b.rank_one.min(self.rank_one_bound(&rx, &gc, &mu2, &h, s));
        }
        if done(&mut b) {
            return (b, centre_lower, c);
        }
        // Ā(X) and the deviations d_i(X).
        let abar = self.mean_precision(&rx, s);
        let mut devx = vec![Iv::point(0.0); k * d];
        for a in 0..d {
            s.vals.clear();
            s.vals.extend((0..k).map(|i| gc[i * d + a]));
            let gbar0 = weighted_range(&rx, &s.vals, &mut s.order);
            for i in 0..k {
                let spread = (0..d).fold(0.0, |acc, bb| add_up(acc, mul_up(self.prec[i][a * d + bb].sub(abar[a * d + bb]).mag(), h[bb])));
                devx[i * d + a] = gc[i * d + a].sub(gbar0).add(Iv::sym(spread));
            }
        }
        b.covariance = self.covariance_bound(&rx, &gc, &devx, &h, s);
        if done(&mut b) {
            return (b, centre_lower, c);
        }
        if d > DERIVATIVE_MAX_D {
            return (b, centre_lower, c);
        }
        // First order: Δ_ab = Σ_z h_z sup|T_abz(X)|; each axis' share of Δ chooses the split.
        let t = self.third_derivative(&rx, &devx, &abar, s);
        let mut delta = vec![0.0; d * d];
        let mut share = vec![0.0; d];
        for ab in 0..d * d {
            for (z, &hz) in h.iter().enumerate() {
                let term = mul_up(t[ab * d + z].mag(), hz);
                delta[ab] = add_up(delta[ab], term);
                share[z] = add_up(share[z], term);
            }
        }
        if share.iter().all(|x| x.is_finite()) && share.iter().any(|&x| x > 0.0) {
            b.split_axis = (0..d).max_by(|&a, &bb| share[a].total_cmp(&share[bb]).then(bb.cmp(&a))).expect("d ≥ 1");
        }
        let widened: Vec<Iv> = hc.iter().zip(&delta).map(|(x, &r)| x.add(Iv::sym(r))).collect();
        b.mean_value = spectrum(&widened, d).norm_upper();
        if done(&mut b) {
            return (b, centre_lower, c);
        }
        b.vertex = self.vertex_bound(&rx, &gc, &mu, &h);
        if done(&mut b) || d > SECOND_ORDER_MAX_D {
            return (b, centre_lower, c);
        }
        // Second order: T(c) and Q(X).
        let abar_c = self.mean_precision(&rc, s);
        let tc = self.third_derivative(&rc, &devc, &abar_c, s);
        let q4 = self.fourth_derivative(&rx, &devx, &abar, s);
        let mut delta2 = vec![0.0; d * d];
        for ab in 0..d * d {
            for (z, &hz) in h.iter().enumerate() {
                for (y, &hy) in h.iter().enumerate() {
                    delta2[ab] = add_up(delta2[ab], mul_up(mul_up(q4[(ab * d + z) * d + y].mag(), hz), hy));
                }
            }
            delta2[ab] = mul_up(0.5, delta2[ab]);
        }
        b.second_order = block_bound(&hc, &tc, &delta2, &h, d);
        done(&mut b);
        (b, centre_lower, c)
    }
}

/// The midpoint of the enclosure of `ḡ(c) = Σ r_i(c) g_i(c)` (a point; any point is admissible
/// where it is used).
fn gbar_mid(rc: &[Iv], gc: &[Iv], d: usize) -> Vec<f64> {
    (0..d)
        .map(|a| rc.iter().enumerate().map(|(i, r)| (0.5 * r.lo + 0.5 * r.hi) * (0.5 * gc[i * d + a].lo + 0.5 * gc[i * d + a].hi)).sum())
        .collect()
}

/// Options of [`lipschitz_enclosure`]. Results depend only on these (and the mixture), never on the
/// number of threads, unless a `time_limit` stops the search.
///
/// ```
/// use gmdiff_mixture::EnclosureOptions;
/// let o = EnclosureOptions::default();
/// assert_eq!((o.ratio, o.max_boxes, o.time_limit, o.batch), (1.05, 1_000_000, None, 64));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct EnclosureOptions {
    /// Stop when `upper ≤ ratio · lower` (must be `> 1`).
    pub ratio: f64,
    /// At most this many boxes are bounded (the root counts as one).
    pub max_boxes: usize,
    /// Optional wall-clock limit, checked between batches (makes the result timing-dependent).
    pub time_limit: Option<Duration>,
    /// Boxes bisected per batch (their children are bounded in parallel).
    pub batch: usize,
    /// Iterations of each local ascent that raises the lower bound.
    pub ascent_iterations: usize,
    /// Extra starting points for the lower bound (projected onto the ball).
    pub starts: Vec<Vec<f64>>,
}

impl Default for EnclosureOptions {
    /// Ratio 1.05, 10⁶ boxes, no time limit, batches of 64, ascents of 100 iterations, no starts.
    fn default() -> Self {
        Self { ratio: 1.05, max_boxes: 1_000_000, time_limit: None, batch: 64, ascent_iterations: 100, starts: Vec::new() }
    }
}

/// Why [`lipschitz_enclosure`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnclosureStop {
    /// `upper ≤ ratio · lower`.
    Converged,
    /// `max_boxes` boxes were bounded.
    BoxBudget,
    /// The time limit passed.
    TimeLimit,
}

impl EnclosureStop {
    /// `"converged"`, `"box_budget"` or `"time_limit"`.
    pub fn as_str(self) -> &'static str {
        match self {
            EnclosureStop::Converged => "converged",
            EnclosureStop::BoxBudget => "box_budget",
            EnclosureStop::TimeLimit => "time_limit",
        }
    }
}

/// The certified enclosure `lower ≤ L = sup_{‖x‖ ≤ R} ‖∇² log p(x)‖₂ ≤ upper`, with its certificate.
#[derive(Debug, Clone, PartialEq)]
pub struct LipschitzEnclosure {
    /// Rigorous lower bound: `‖∇² log p(argmax)‖₂ ≥ lower`, and `‖argmax‖ ≤ R`.
    pub lower: f64,
    /// Rigorous upper bound on the supremum over the ball.
    pub upper: f64,
    /// The point of the ball where the lower bound is attained.
    pub argmax: Vec<f64>,
    /// `‖∇² log p(argmax)‖₂` by the library's (floating-point) Hessian.
    pub value_at_argmax: f64,
    /// Boxes bounded (the root included).
    pub boxes: usize,
    /// Boxes left in the queue when the search stopped (each with an upper bound above `lower`).
    pub remaining_boxes: usize,
    /// The largest upper bound among them (`None` when the queue is empty).
    pub largest_remaining_upper: Option<f64>,
    /// Local ascents run for the lower bound.
    pub ascents: usize,
    /// The target `upper / lower` of the options.
    pub target_ratio: f64,
    /// Why the search stopped.
    pub stop: EnclosureStop,
    /// `stop == Converged`, i.e. `upper ≤ target_ratio · lower`.
    pub converged: bool,
    /// Wall-clock time.
    pub elapsed: Duration,
    /// The radius `R`.
    pub radius: f64,
}

impl LipschitzEnclosure {
    /// `upper / lower` (∞ when `lower = 0`).
    pub fn ratio(&self) -> f64 {
        if self.lower > 0.0 { self.upper / self.lower } else { f64::INFINITY }
    }
}

/// One box of the queue.
#[derive(Debug)]
struct Entry {
    upper: f64,
    id: u64,
    lo: Vec<f64>,
    hi: Vec<f64>,
    axis: usize,
}

impl PartialEq for Entry {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == std::cmp::Ordering::Equal
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Entry {
    /// Largest upper bound first; ties: the older box.
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.upper.total_cmp(&o.upper).then(o.id.cmp(&self.id))
    }
}

/// `‖x‖² ≤ R²`, decided rigorously (upward-rounded `‖x‖²` against downward-rounded `R²`).
fn in_ball(x: &[f64], r2_dn: f64) -> bool {
    x.iter().fold(0.0, |s, &v| add_up(s, mul_up(v.abs(), v.abs()))) <= r2_dn
}

/// A point of the ball close to the radial projection of `x`.
fn into_ball(x: &[f64], radius: f64, r2_dn: f64) -> Vec<f64> {
    if in_ball(x, r2_dn) {
        return x.to_vec();
    }
    let norm = x.iter().map(|v| v * v).sum::<f64>().sqrt();
    let mut s = if norm > 0.0 { radius / norm } else { 0.0 };
    loop {
        let y: Vec<f64> = x.iter().map(|v| v * s).collect();
        if in_ball(&y, r2_dn) || s == 0.0 {
            return y;
        }
        s *= 1.0 - 1e-15;
    }
}

/// Shrinks the box `[lo, hi]` to a box that still contains its intersection with the ball
/// `‖x‖² ≤ R²` (`r2_up ≥ R²`): on that intersection `x_a² ≤ R² − Σ_{b≠a} min_{[lo_b, hi_b]} x_b²`.
/// Returns false when the intersection is empty. Rounding is outward (the result may only be
/// larger than the exact contraction).
fn contract_to_ball(lo: &mut [f64], hi: &mut [f64], r2_up: f64) -> bool {
    let d = lo.len();
    let near = |l: f64, h: f64| {
        if l > 0.0 {
            l
        } else if h < 0.0 {
            -h
        } else {
            0.0
        }
    };
    for _ in 0..2 {
        let sq: Vec<f64> = (0..d)
            .map(|a| {
                let t = near(lo[a], hi[a]);
                mul_dn(t, t)
            })
            .collect();
        let total = sq.iter().fold(0.0, |acc, &x| dn(acc + x));
        if total > r2_up {
            return false;
        }
        for a in 0..d {
            // Σ_{b≠a} sq_b ≥ total − sq_a, rounded down.
            let others = dn(total - sq[a]).max(0.0);
            let room = up(r2_up - others);
            if room < 0.0 {
                return false;
            }
            let t = sqrt_up(room);
            if t < hi[a] {
                hi[a] = t;
            }
            if -t > lo[a] {
                lo[a] = -t;
            }
            if lo[a] > hi[a] {
                return false;
            }
        }
    }
    true
}

/// The best rigorous lower bound found so far.
struct Best {
    lower: f64,
    x: Vec<f64>,
}

/// The certified enclosure of `L = sup_{‖x‖ ≤ R} ‖∇² log p(x)‖₂` by best-first branch and bound.
///
/// The queue starts with the box `[−R, R]^d`. Each batch takes the `batch` boxes of largest upper
/// bound ([`CertifiedHessian::box_bound`]), bisects each along its `split_axis`, and bounds the
/// children in parallel; boxes entirely outside the ball are dropped, as are boxes whose upper
/// bound is at most the current lower bound. Lower bounds: the rigorous `‖H(c)‖₂` lower bound at
/// every box centre in the ball (centres outside are projected), the means, `starts` and the
/// origin, and a local ascent (the one of [`crate::lipschitz_estimate`]) from every new best point,
/// certified at its end point. The search stops when `upper = max(largest queued upper bound,
/// lower) ≤ ratio · lower`, or at the box budget or time limit; the enclosure is rigorous in all
/// three cases (see the module docs for the box bounds and for the rounding).
///
/// `d ≤ 4` is the intended range: the number of boxes grows like `(R / h)^d`, so in higher
/// dimension expect the budget to stop the search with a wide (still rigorous) enclosure.
///
/// Errors: a negative or non-finite radius, `ratio ≤ 1`, `max_boxes` or `batch` = 0, starts of the
/// wrong dimension ([`SmoothnessError::InvalidOption`], [`SmoothnessError::Mixture`]); singular or
/// ill-conditioned components.
///
/// ```
/// use gmdiff_mixture::{EnclosureOptions, GaussianMixture, lipschitz_enclosure};
/// let m: GaussianMixture = serde_json::from_str(
///     r#"{"weights":[0.5,0.5],"means":[[-2.0],[2.0]],"covariances":[1.0,1.0]}"#).unwrap();
/// // N(±2, 1): the supremum of |H| = |−1 + 4 r(1 − r)| is 3, at 0.
/// let e = lipschitz_enclosure(&m, 5.0, &EnclosureOptions::default()).unwrap();
/// assert!(e.converged && e.lower <= 3.0 && 3.0 <= e.upper && e.upper <= 1.05 * e.lower);
/// ```
pub fn lipschitz_enclosure(p: &GaussianMixture, radius: f64, opts: &EnclosureOptions) -> Result<LipschitzEnclosure, SmoothnessError> {
    lipschitz_enclosure_with_progress(p, radius, opts, &|_| {})
}

/// [`lipschitz_enclosure`], reporting progress (`stage = "enclosure"`, boxes bounded out of
/// `max_boxes`, the current `[lower, upper]` in `note`) after every batch.
pub fn lipschitz_enclosure_with_progress(
    p: &GaussianMixture,
    radius: f64,
    opts: &EnclosureOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<LipschitzEnclosure, SmoothnessError> {
    let started = Instant::now();
    if !(radius.is_finite() && radius >= 0.0) {
        return Err(SmoothnessError::InvalidOption { name: "radius", value: radius, reason: "must be finite and ≥ 0" });
    }
    if !(opts.ratio > 1.0 && opts.ratio.is_finite()) {
        return Err(SmoothnessError::InvalidOption { name: "ratio", value: opts.ratio, reason: "must be finite and > 1" });
    }
    if opts.max_boxes == 0 {
        return Err(SmoothnessError::InvalidOption { name: "max_boxes", value: 0.0, reason: "must be ≥ 1" });
    }
    if opts.batch == 0 {
        return Err(SmoothnessError::InvalidOption { name: "batch", value: 0.0, reason: "must be ≥ 1" });
    }
    let cert = CertifiedHessian::new(p)?;
    for s in &opts.starts {
        cert.check(s)?;
    }
    let density = p.density()?;
    let d = p.dim();
    let (r2_dn, r2_up) = (mul_dn(radius, radius), mul_up(radius, radius));
    let ascent_opts = SearchOptions { radius: Some(radius), iterations: opts.ascent_iterations, ..SearchOptions::default() };
    let scale = cert.prec_mag.iter().flat_map(|m| (0..d).map(move |a| m[a * d + a])).fold(0.0f64, f64::max).recip().sqrt();
    let mut ascents = 0usize;
    // Certifies `x` (in the ball) and keeps it when it improves the lower bound.
    let certify = |x: Vec<f64>, best: &mut Best, scratch: &mut Scratch| {
        let lower = spectrum(&cert.hessian_at(&x, scratch), d).norm_lower;
        if lower > best.lower {
            *best = Best { lower, x };
            true
        } else {
            false
        }
    };
    // Local ascent from `x`; the end point is certified.
    let climb = |x: Vec<f64>, best: &mut Best, ascents: &mut usize, scratch: &mut Scratch| -> Result<(), SmoothnessError> {
        let f0 = hessian_norms(&density, Mat::from_fn(1, d, |_, j| x[j]).as_ref())?[0];
        let (_, y, _) = ascend(&density, x, f0, scale, &ascent_opts, &|_| {})?;
        *ascents += 1;
        certify(into_ball(&y, radius, r2_dn), best, scratch);
        Ok(())
    };
    let mut scratch = Scratch::default();
    let mut best = Best { lower: 0.0, x: vec![0.0; d] };
    // Seeds: the starts, the means and the origin; ascents from the best four.
    let mut seeds: Vec<Vec<f64>> = opts.starts.iter().chain(&cert.means).map(|s| into_ball(s, radius, r2_dn)).collect();
    seeds.push(vec![0.0; d]);
    let mut seed_values: Vec<(f64, usize)> =
        seeds.iter().enumerate().map(|(i, s)| (spectrum(&cert.hessian_at(s, &mut scratch), d).norm_lower, i)).collect();
    seed_values.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, i) in seed_values.iter().take(4) {
        certify(seeds[i].clone(), &mut best, &mut scratch);
        climb(seeds[i].clone(), &mut best, &mut ascents, &mut scratch)?;
    }
    // The root box.
    let mut heap = BinaryHeap::new();
    let root_lo = vec![-radius; d];
    let root_hi = vec![radius; d];
    let (root, _, _) = cert.box_bound_unchecked(&root_lo, &root_hi, radius, opts.ratio * best.lower, &mut scratch);
    let mut boxes = 1usize;
    let mut next_id = 1u64;
    heap.push(Entry { upper: root.upper, id: 0, lo: root_lo, hi: root_hi, axis: root.split_axis });
    // Boxes that cannot be bisected further in f64 keep their bound here.
    let mut frozen = f64::NEG_INFINITY;
    let stop = loop {
        let top = heap.peek().map_or(f64::NEG_INFINITY, |e| e.upper);
        let upper = top.max(frozen).max(best.lower);
        progress(Progress {
            stage: "enclosure",
            done: boxes as u64,
            total: opts.max_boxes as u64,
            note: format!("[{:.4e}, {:.4e}]", best.lower, upper),
        });
        if upper <= opts.ratio * best.lower {
            break EnclosureStop::Converged;
        }
        if boxes + 2 > opts.max_boxes {
            break EnclosureStop::BoxBudget;
        }
        if opts.time_limit.is_some_and(|t| started.elapsed() >= t) {
            break EnclosureStop::TimeLimit;
        }
        // Bisect the `batch` boxes of largest upper bound (within the budget).
        let take = opts.batch.min((opts.max_boxes - boxes) / 2).max(1);
        // (id, lo, hi, the parent's upper bound: a child's supremum is at most its parent's).
        let mut children: Vec<(u64, Vec<f64>, Vec<f64>, f64)> = Vec::with_capacity(2 * take);
        for _ in 0..take {
            let Some(e) = heap.pop() else { break };
            let axis = (0..d).map(|j| (e.axis + j) % d).find(|&a| {
                let m = 0.5 * e.lo[a] + 0.5 * e.hi[a];
                m > e.lo[a] && m < e.hi[a]
            });
            let Some(a) = axis else {
                frozen = frozen.max(e.upper);
                continue;
            };
            let m = 0.5 * e.lo[a] + 0.5 * e.hi[a];
            let (mut lo2, mut hi1) = (e.lo.clone(), e.hi.clone());
            lo2[a] = m;
            hi1[a] = m;
            for (mut lo, mut hi) in [(e.lo, hi1), (lo2, e.hi)] {
                if contract_to_ball(&mut lo, &mut hi, r2_up) {
                    children.push((next_id, lo, hi, e.upper));
                }
                next_id += 1;
            }
        }
        let enough = opts.ratio * best.lower;
        let bounded: Vec<(BoxBound, f64, Vec<f64>)> = children
            .par_iter()
            .map_init(Scratch::default, |s, (_, lo, hi, _)| {
                let (b, lower, c) = cert.box_bound_unchecked(lo, hi, radius, enough, s);
                if in_ball(&c, r2_dn) {
                    (b, lower, c)
                } else {
                    let y = into_ball(&c, radius, r2_dn);
                    let lower = spectrum(&cert.hessian_at(&y, s), d).norm_lower;
                    (b, lower, y)
                }
            })
            .collect();
        boxes += children.len();
        // The best new centre improves the lower bound? Then climb from it.
        let mut candidate: Option<(f64, Vec<f64>)> = None;
        for ((id, lo, hi, parent), (b, lower, c)) in children.into_iter().zip(bounded) {
            if lower > best.lower && candidate.as_ref().is_none_or(|(v, _)| lower > *v) {
                candidate = Some((lower, c));
            }
            let upper = b.upper.min(parent);
            if upper > best.lower {
                heap.push(Entry { upper, id, lo, hi, axis: b.split_axis });
            }
        }
        if let Some((lower, c)) = candidate {
            best = Best { lower, x: c.clone() };
            climb(c, &mut best, &mut ascents, &mut scratch)?;
        }
    };
    let largest_remaining_upper = heap.peek().map(|e| e.upper).filter(|_| !heap.is_empty());
    let upper = largest_remaining_upper.unwrap_or(f64::NEG_INFINITY).max(frozen).max(best.lower);
    let value_at_argmax = hessian_norms(&density, Mat::from_fn(1, d, |_, j| best.x[j]).as_ref())?[0];
    Ok(LipschitzEnclosure {
        lower: best.lower,
        upper,
        argmax: best.x,
        value_at_argmax,
        boxes,
        remaining_boxes: heap.len(),
        largest_remaining_upper,
        ascents,
        target_ratio: opts.ratio,
        stop,
        converged: stop == EnclosureStop::Converged,
        elapsed: started.elapsed(),
        radius,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// A 3-D, 3-component mixture with full, diagonal and isotropic covariances.
    fn mixture() -> GaussianMixture {
        serde_json::from_str(
            r#"{"weights":[0.3,0.5,0.2],
                "means":[[0.0,0.5,-0.4],[1.2,-0.3,0.2],[-0.7,-0.8,0.9]],
                "covariances":[[[0.6,0.2,0.1],[0.2,0.5,-0.1],[0.1,-0.1,0.7]],[0.4,0.9,0.3],0.5]}"#,
        )
        .unwrap()
    }

    fn mid(x: Iv) -> f64 {
        0.5 * x.lo + 0.5 * x.hi
    }

    /// `T(x)` and `Q(x)` at a point (intervals of width ~ rounding).
    fn derivatives(c: &CertifiedHessian, x: &[f64]) -> (Vec<Iv>, Vec<Iv>) {
        let mut s = Scratch::default();
        let (l, g) = c.at_point(x);
        let r = softmax(&l);
        let dev = c.deviations(&r, &g, &mut s);
        let abar = c.mean_precision(&r, &mut s);
        (c.third_derivative(&r, &dev, &abar, &mut s), c.fourth_derivative(&r, &dev, &abar, &mut s))
    }

    #[test]
    fn third_derivative_is_the_finite_difference_of_the_library_hessian() {
        // Independent route: central differences (step 1e-4, error O(1e-8 |Q|)) of the Hessian of
        // `MixtureDensity::hessian`, which is itself tested against differences of log p.
        let m = mixture();
        let cert = CertifiedHessian::new(&m).unwrap();
        let density = m.density().unwrap();
        let eps = 1e-4;
        for x in [[0.3, 0.1, -0.2], [0.8, -0.5, 0.4], [-0.4, -0.2, 0.6], [2.0, 1.0, -1.0]] {
            let (t, _) = derivatives(&cert, &x);
            for z in 0..3 {
                let (mut xp, mut xm) = (x, x);
                xp[z] += eps;
                xm[z] -= eps;
                let (hp, hm) = (density.hessian(&xp).unwrap(), density.hessian(&xm).unwrap());
                for a in 0..3 {
                    for b in 0..3 {
                        let fd = (hp[(a, b)] - hm[(a, b)]) / (2.0 * eps);
                        let iv = t[(a * 3 + b) * 3 + z];
                        assert!(iv.hi - iv.lo < 1e-10, "{iv:?}");
                        assert!((mid(iv) - fd).abs() < 1e-6 * (1.0 + fd.abs()), "T[{a}{b}{z}] at {x:?}: {} vs {fd}", mid(iv));
                    }
                }
            }
        }
    }

    #[test]
    fn fourth_derivative_is_the_finite_difference_of_the_third() {
        let m = mixture();
        let cert = CertifiedHessian::new(&m).unwrap();
        let eps = 1e-4;
        for x in [[0.3, 0.1, -0.2], [0.8, -0.5, 0.4], [-0.4, -0.2, 0.6]] {
            let (_, q) = derivatives(&cert, &x);
            for y in 0..3 {
                let (mut xp, mut xm) = (x, x);
                xp[y] += eps;
                xm[y] -= eps;
                let (tp, tm) = (derivatives(&cert, &xp).0, derivatives(&cert, &xm).0);
                for abc in 0..27 {
                    let fd = (mid(tp[abc]) - mid(tm[abc])) / (2.0 * eps);
                    let v = mid(q[abc * 3 + y]);
                    assert!((v - fd).abs() < 1e-6 * (1.0 + fd.abs()), "Q[{abc},{y}] at {x:?}: {v} vs {fd}");
                }
            }
        }
    }

    #[test]
    fn responsibilities_over_a_box_contain_the_pointwise_ones() {
        // Reference: the library's responsibilities at random points of random boxes (f64, so a
        // 1e-13 absolute allowance for their own rounding).
        let m = mixture();
        let cert = CertifiedHessian::new(&m).unwrap();
        let density = m.density().unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for _ in 0..200 {
            let c: Vec<f64> = (0..3).map(|_| rng.random_range(-3.0..3.0)).collect();
            let h: Vec<f64> = (0..3).map(|_| rng.random_range(0.0..0.5)).collect();
            let (l, g) = cert.at_point(&c);
            let pairwise = cert.softmax_pairwise(&l, &g, &h);
            let lx: Vec<Iv> = (0..3)
                .map(|i| {
                    let lin: f64 = (0..3).map(|a| g[i * 3 + a].mag() * h[a]).sum::<f64>() * (1.0 + 1e-12);
                    let quad: f64 = (0..9).map(|ab| cert.prec_mag[i][ab] * h[ab / 3] * h[ab % 3]).sum::<f64>() * (1.0 + 1e-12);
                    l[i].add(Iv { lo: -lin - 0.5 * quad, hi: lin })
                })
                .collect();
            let single = softmax(&lx);
            for _ in 0..20 {
                let x: Vec<f64> = (0..3).map(|a| c[a] + h[a] * rng.random_range(-1.0..=1.0)).collect();
                let r = density.responsibilities(&x).unwrap();
                for i in 0..3 {
                    for iv in [pairwise[i], single[i]] {
                        assert!(iv.lo - 1e-13 <= r[i] && r[i] <= iv.hi + 1e-13, "r_{i} = {} ∉ {iv:?}", r[i]);
                    }
                }
            }
        }
    }

    #[test]
    fn spectrum_bounds_every_member() {
        // Members of random symmetric interval matrices; eigenvalues by faer (not the Jacobi
        // rotations used inside `spectrum`).
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for d in 1..=6 {
            for _ in 0..40 {
                let mut h = vec![Iv::point(0.0); d * d];
                for a in 0..d {
                    for b in 0..=a {
                        let m: f64 = rng.random_range(-5.0..5.0);
                        let r: f64 = if rng.random::<f64>() < 0.3 { 0.0 } else { rng.random_range(0.0..0.5) };
                        h[a * d + b] = Iv { lo: m - r, hi: m + r };
                        h[b * d + a] = h[a * d + b];
                    }
                }
                let sp = spectrum(&h, d);
                for _ in 0..30 {
                    let mut x = Mat::zeros(d, d);
                    for a in 0..d {
                        for b in 0..=a {
                            let v = rng.random_range(h[a * d + b].lo..=h[a * d + b].hi);
                            x[(a, b)] = v;
                            x[(b, a)] = v;
                        }
                    }
                    let (values, _) = linalg::symmetric_eigen(x.as_ref()).unwrap();
                    let norm = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                    assert!(sp.lmin <= values[0] && values[d - 1] <= sp.lmax, "d={d}: {values:?} ⊄ [{}, {}]", sp.lmin, sp.lmax);
                    assert!(sp.norm_lower <= norm, "d={d}: norm {norm} < lower {}", sp.norm_lower);
                }
            }
        }
        // A point matrix: the bounds are tight to rounding (diag(3, −1) rotated by 30°).
        let (c, s) = (0.5f64.sqrt() * 3f64.sqrt() / 2f64.sqrt(), 0.5);
        let m = [3.0 * c * c - s * s, 4.0 * c * s, 4.0 * c * s, 3.0 * s * s - c * c];
        let sp = spectrum(&m.map(Iv::point), 2);
        assert!((sp.lmax - 3.0).abs() < 1e-13 && (sp.lmin + 1.0).abs() < 1e-13 && (sp.norm_lower - 3.0).abs() < 1e-13, "{sp:?}");
    }

    #[test]
    fn weighted_range_matches_vertex_enumeration() {
        // The exact range of Σ r_j v_j over {r ∈ box, Σ r = 1} is attained at vertices (all r_j at
        // a bound but one); enumerate them.
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for k in 1..=5 {
            for _ in 0..50 {
                let raw: Vec<f64> = (0..k).map(|_| rng.random_range(0.05..1.0)).collect();
                let total: f64 = raw.iter().sum();
                let r: Vec<Iv> = raw
                    .iter()
                    .map(|x| {
                        let c = x / total;
                        Iv { lo: (c - rng.random_range(0.0..0.3)).max(0.0), hi: (c + rng.random_range(0.0..0.3)).min(1.0) }
                    })
                    .collect();
                let v: Vec<Iv> = (0..k).map(|_| Iv::point(rng.random_range(-3.0..3.0))).collect();
                let w = weighted_range(&r, &v, &mut Vec::new());
                let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
                for f in 0..k {
                    for mask in 0..(1usize << k) {
                        let mut x: Vec<f64> = (0..k).map(|j| if mask >> j & 1 == 1 { r[j].hi } else { r[j].lo }).collect();
                        x[f] = 1.0 - (0..k).filter(|&j| j != f).map(|j| x[j]).sum::<f64>();
                        if x[f] >= r[f].lo - 1e-15 && x[f] <= r[f].hi + 1e-15 {
                            let s: f64 = (0..k).map(|j| x[j] * v[j].lo).sum();
                            lo = lo.min(s);
                            hi = hi.max(s);
                        }
                    }
                }
                assert!(w.lo <= lo + 1e-12 && w.hi >= hi - 1e-12, "{w:?} vs [{lo}, {hi}]");
                assert!((w.lo - lo).abs() < 1e-12 && (w.hi - hi).abs() < 1e-12, "not tight: {w:?} vs [{lo}, {hi}]");
            }
        }
    }

    #[test]
    fn contraction_keeps_the_ball_part_of_the_box() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        for _ in 0..500 {
            let d = rng.random_range(1..=4);
            let mut lo: Vec<f64> = (0..d).map(|_| rng.random_range(-3.0..3.0)).collect();
            let mut hi: Vec<f64> = lo.iter().map(|l| l + rng.random_range(0.0..2.0)).collect();
            let (lo0, hi0) = (lo.clone(), hi.clone());
            let kept = contract_to_ball(&mut lo, &mut hi, 4.0);
            for _ in 0..200 {
                let x: Vec<f64> = (0..d).map(|a| rng.random_range(lo0[a]..=hi0[a])).collect();
                if x.iter().map(|v| v * v).sum::<f64>() <= 4.0 {
                    assert!(kept && (0..d).all(|a| lo[a] <= x[a] && x[a] <= hi[a]), "{x:?} lost from {lo0:?}–{hi0:?}");
                }
            }
        }
    }

    #[test]
    fn certified_parameters_contain_the_exact_ones() {
        // S = [[4, 2], [2, 2]]: S⁻¹ = [[0.5, −0.5], [−0.5, 1]] and det S = 4, all exact in f64.
        let m: GaussianMixture =
            serde_json::from_str(r#"{"weights":[1.0],"means":[[0.0,0.0]],"covariances":[[[4.0,2.0],[2.0,2.0]]]}"#).unwrap();
        let c = CertifiedHessian::new(&m).unwrap();
        for (iv, exact) in c.prec[0].iter().zip([0.5, -0.5, -0.5, 1.0]) {
            assert!(iv.lo <= exact && exact <= iv.hi && iv.hi - iv.lo < 1e-14, "{iv:?} vs {exact}");
        }
        // log c = log 1 − ½ log 4.
        let l = c.log_c[0];
        assert!(l.lo <= -(2f64.ln()) + 1e-16 && -(2f64.ln()) - 1e-16 <= l.hi && l.hi - l.lo < 1e-14, "{l:?}");
        // A single Gaussian: the Hessian is −S⁻¹ everywhere, ‖·‖ = the largest eigenvalue of S⁻¹.
        let top = (3.0 + 5f64.sqrt()) / 4.0;
        let b = c.box_bound(&[-1.0, -1.0], &[2.0, 0.5]).unwrap();
        assert!(b.upper >= top && b.upper < top * (1.0 + 1e-12), "{b:?}");
    }
}
