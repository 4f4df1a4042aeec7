//! The exact noisy classifier `p_t(y | x)` of a class-conditional mixture, with its gradient and
//! its Jacobian in closed form.

use crate::classes::ClassConditional;
use crate::error::GuidanceError;
use faer::{Mat, MatRef};
use gmdiff_mixture::Factor;
use rayon::prelude::*;
use std::f64::consts::PI;

/// Rows per parallel block; fixed, so results never depend on the thread count.
const BLOCK: usize = 64;

/// The exact classifier of the diffused model `p_t = Σ_i w_i N(a μ_i, a² Σ_i + b² I)` at one noise
/// level `(a, b)`, with every diffused component factorised once.
///
/// With the log terms `ℓ_i(x) = log w_i − ½ log det Σ_i^t − ½ d log 2π − ½ (x − m_i)ᵀ g_i`,
/// `m_i = a μ_i`, `P_i = (Σ_i^t)⁻¹`, `g_i = P_i (x − m_i)`, the responsibilities
/// `r_i = e^{ℓ_i} / Σ_j e^{ℓ_j}` and the within-class responsibilities
/// `q_i = e^{ℓ_i} / Σ_{j∈I_y} e^{ℓ_j}` (`i ∈ I_y`):
///
/// * `p_t(y | x) = Σ_{i∈I_y} r_i`, computed as `exp(logsumexp_{I_y} ℓ − logsumexp ℓ)`;
/// * `∇_x log p_t(y | x) = ḡ − ḡ_y` with `ḡ = Σ_i r_i g_i`, `ḡ_y = Σ_{i∈I_y} q_i g_i`
///   (because `∇ log p_t = −ḡ` and `∇ log p_t(· | y) = −ḡ_y`);
/// * `∇²_x log p_t(y | x) = Σ_i r_i P_i − Σ_{i∈I_y} q_i P_i + Σ_{i∈I_y} q_i (g_i − ḡ_y)(g_i − ḡ_y)ᵀ
///   − Σ_i r_i (g_i − ḡ)(g_i − ḡ)ᵀ` — the difference of the two mixture Hessians
///   `∇² log p = −E_r[P] + Cov_r(g)`, written with responsibilities only;
/// * its trace `Σ_i (r_i − q_i) tr P_i + Σ_{I_y} q_i ‖g_i − ḡ_y‖² − Σ_i r_i ‖g_i − ḡ‖²`.
///
/// With equal covariances `Σ_i = I` (THEORY §4) the precision terms cancel, `g_i − g_j = a (μ_j − μ_i)`,
/// and for a one-component class the Jacobian is `−a² Cov_{r}(μ) ⪯ 0`.
///
/// ```
/// use gmdiff_guidance::ClassConditional;
/// use gmdiff_process::{GaussianPath, Ou};
/// let m: gmdiff_mixture::GaussianMixture = serde_json::from_str(
///     r#"{"weights":[0.5,0.5],"means":[[-1.0],[1.0]],"covariances":[1.0,1.0]}"#).unwrap();
/// let model = ClassConditional::per_component(m);
/// let at = Ou::new(5.0).unwrap().at(0.5).unwrap();
/// let c = model.classifier(&at).unwrap();
/// let x = faer::mat![[0.3]];
/// // Unit variances stay unit variances under OU: p_t(1 | x) = σ(2 a x).
/// let expected = 1.0 / (1.0 + (-2.0 * at.a * 0.3f64).exp());
/// assert!((c.posterior_batch(x.as_ref()).unwrap()[(0, 1)] - expected).abs() < 1e-15);
/// ```
#[derive(Debug, Clone)]
pub struct NoisyClassifier {
    dim: usize,
    classes: Vec<Vec<usize>>,
    constants: Vec<f64>,
    means: Vec<Vec<f64>>,
    precisions: Vec<Factor>,
    traces: Vec<f64>,
}

/// What one evaluation computes (the log-posterior of the class is always computed).
#[derive(Debug, Clone, Copy, Default)]
struct Want {
    posteriors: bool,
    gradient: bool,
    trace: bool,
    jacobian: bool,
}

/// One block's results.
#[derive(Default)]
struct BlockEval {
    log_posterior: Vec<f64>,
    posteriors: Vec<f64>,
    gradient: Vec<f64>,
    trace: Vec<f64>,
    jacobian: Vec<Mat<f64>>,
}

impl NoisyClassifier {
    pub(crate) fn new(model: &ClassConditional, a: f64, b: f64) -> Result<Self, GuidanceError> {
        let diffused = model.mixture().diffused(a, b)?;
        let d = diffused.dim();
        let log_2pi = (2.0 * PI).ln();
        let mut constants = Vec::with_capacity(diffused.len());
        let mut precisions = Vec::with_capacity(diffused.len());
        for (i, (w, c)) in diffused.weights().iter().zip(diffused.components()).enumerate() {
            if *w == 0.0 {
                constants.push(f64::NEG_INFINITY);
                precisions.push(Factor::Scalar { dim: d, value: 0.0 });
                continue;
            }
            let p = c.covariance().precision().map_err(|e| e.in_component(i))?;
            constants.push(w.ln() - 0.5 * p.log_det_cov - 0.5 * d as f64 * log_2pi);
            precisions.push(p.factor);
        }
        let traces = precisions.iter().map(Factor::trace).collect();
        let means = diffused.components().iter().map(|c| c.mean().to_vec()).collect();
        Ok(Self { dim: d, classes: model.classes().to_vec(), constants, means, precisions, traces })
    }

    /// The dimension `d`.
    pub fn dim(&self) -> usize {
        self.dim
    }
    /// The number of classes.
    pub fn num_classes(&self) -> usize {
        self.classes.len()
    }

    /// `log p_t(y | x_r)` for every row.
    pub fn log_posterior_batch(&self, x: MatRef<'_, f64>, class: usize) -> Result<Vec<f64>, GuidanceError> {
        Ok(self.evaluate(x, class, Want::default())?.log_posterior)
    }

    /// `p_t(y | x_r)` for every row and class, `n × C`; each row sums to one.
    pub fn posterior_batch(&self, x: MatRef<'_, f64>) -> Result<Mat<f64>, GuidanceError> {
        let e = self.evaluate(x, 0, Want { posteriors: true, ..Want::default() })?;
        let c = self.num_classes();
        Ok(Mat::from_fn(x.nrows(), c, |r, y| e.posteriors[r * c + y]))
    }

    /// `∇_x log p_t(y | x_r) = ḡ − ḡ_y` for every row, `n × d`.
    pub fn gradient_batch(&self, x: MatRef<'_, f64>, class: usize) -> Result<Mat<f64>, GuidanceError> {
        let e = self.evaluate(x, class, Want { gradient: true, ..Want::default() })?;
        let d = self.dim;
        Ok(Mat::from_fn(x.nrows(), d, |r, j| e.gradient[r * d + j]))
    }

    /// `∇²_x log p_t(y | x_r)` for every row, each `d × d` and symmetric (see the type docs).
    pub fn jacobian_batch(&self, x: MatRef<'_, f64>, class: usize) -> Result<Vec<Mat<f64>>, GuidanceError> {
        Ok(self.evaluate(x, class, Want { jacobian: true, ..Want::default() })?.jacobian)
    }

    /// `Δ_x log p_t(y | x_r) = tr ∇²_x log p_t(y | x_r)` for every row.
    pub fn jacobian_trace_batch(&self, x: MatRef<'_, f64>, class: usize) -> Result<Vec<f64>, GuidanceError> {
        Ok(self.evaluate(x, class, Want { trace: true, ..Want::default() })?.trace)
    }

    /// The gradient (`n × d`, row-major) and the Jacobian trace together, as the guided score needs.
    pub(crate) fn gradient_and_trace(&self, x: MatRef<'_, f64>, class: usize) -> Result<(Vec<f64>, Vec<f64>), GuidanceError> {
        let e = self.evaluate(x, class, Want { gradient: true, trace: true, ..Want::default() })?;
        Ok((e.gradient, e.trace))
    }

    /// The gradient only, row-major.
    pub(crate) fn gradient_row_major(&self, x: MatRef<'_, f64>, class: usize) -> Result<Vec<f64>, GuidanceError> {
        Ok(self.evaluate(x, class, Want { gradient: true, ..Want::default() })?.gradient)
    }

    fn evaluate(&self, x: MatRef<'_, f64>, class: usize, want: Want) -> Result<BlockEval, GuidanceError> {
        if class >= self.classes.len() {
            return Err(GuidanceError::ClassOutOfRange { class, classes: self.classes.len() });
        }
        if x.ncols() != self.dim {
            return Err(GuidanceError::Mixture(gmdiff_mixture::MixtureError::DimensionMismatch {
                what: "points (columns)".into(),
                expected: self.dim,
                found: x.ncols(),
            }));
        }
        // The gradient and Jacobian of log p_t(y | x) are undefined when π_y = 0 (log 0).
        if (want.gradient || want.trace || want.jacobian) && self.classes[class].iter().all(|&i| self.constants[i] == f64::NEG_INFINITY) {
            return Err(GuidanceError::ZeroClassWeight { class });
        }
        let n = x.nrows();
        let starts: Vec<usize> = (0..n).step_by(BLOCK).collect();
        let blocks =
            starts.into_par_iter().map(|s| self.block(x.subrows(s, BLOCK.min(n - s)), class, want)).collect::<Result<Vec<_>, _>>()?;
        let mut out = BlockEval::default();
        for b in blocks {
            out.log_posterior.extend(b.log_posterior);
            out.posteriors.extend(b.posteriors);
            out.gradient.extend(b.gradient);
            out.trace.extend(b.trace);
            out.jacobian.extend(b.jacobian);
        }
        Ok(out)
    }

    fn block(&self, x: MatRef<'_, f64>, class: usize, want: Want) -> Result<BlockEval, GuidanceError> {
        let (m, d, k) = (x.nrows(), self.dim, self.means.len());
        let mut terms = vec![f64::NEG_INFINITY; m * k];
        let mut g: Vec<Mat<f64>> = Vec::with_capacity(k);
        let mut diff = Mat::zeros(m, d);
        for i in 0..k {
            let mut gi = Mat::zeros(m, d);
            if self.constants[i] == f64::NEG_INFINITY {
                g.push(gi);
                continue;
            }
            for j in 0..d {
                for r in 0..m {
                    let v = x[(r, j)];
                    if !v.is_finite() {
                        return Err(GuidanceError::NonFinite { what: format!("point (column {j})") });
                    }
                    diff[(r, j)] = v - self.means[i][j];
                }
            }
            self.precisions[i].apply_rows(diff.as_ref(), gi.as_mut());
            for r in 0..m {
                let quad: f64 = (0..d).map(|j| diff[(r, j)] * gi[(r, j)]).sum();
                let t = self.constants[i] - 0.5 * quad;
                if !t.is_finite() {
                    return Err(GuidanceError::NonFinite { what: "classifier log term (point too far from the mixture for f64)".into() });
                }
                terms[r * k + i] = t;
            }
            g.push(gi);
        }
        let members = &self.classes[class];
        let mut out = BlockEval::default();
        let mut r_all = vec![0.0; k];
        let mut q = vec![0.0; k];
        let mut gbar = vec![0.0; d];
        let mut gbar_y = vec![0.0; d];
        for row in 0..m {
            let t = &terms[row * k..(row + 1) * k];
            let (lse_all, top) = logsumexp(t.iter().copied());
            let (lse_y, top_y) = logsumexp(members.iter().map(|&i| t[i]));
            out.log_posterior.push(lse_y - lse_all);
            for (i, r) in r_all.iter_mut().enumerate() {
                *r = (t[i] - top).exp() / (lse_all - top).exp();
            }
            if want.posteriors {
                for c in &self.classes {
                    let (l, _) = logsumexp(c.iter().map(|&i| t[i]));
                    out.posteriors.push((l - lse_all).exp());
                }
            }
            if !(want.gradient || want.trace || want.jacobian) {
                continue;
            }
            q.fill(0.0);
            let zy = (lse_y - top_y).exp();
            for &i in members {
                q[i] = (t[i] - top_y).exp() / zy;
            }
            gbar.fill(0.0);
            gbar_y.fill(0.0);
            for i in 0..k {
                for j in 0..d {
                    let gij = g[i][(row, j)];
                    gbar[j] += r_all[i] * gij;
                    gbar_y[j] += q[i] * gij;
                }
            }
            if want.gradient {
                out.gradient.extend((0..d).map(|j| gbar[j] - gbar_y[j]));
            }
            if want.trace {
                let mut tr = 0.0;
                for i in 0..k {
                    let (ri, qi) = (r_all[i], q[i]);
                    if ri == 0.0 && qi == 0.0 {
                        continue;
                    }
                    tr += (ri - qi) * self.traces[i];
                    let (mut c_all, mut c_y) = (0.0, 0.0);
                    for j in 0..d {
                        let gij = g[i][(row, j)];
                        c_all += (gij - gbar[j]).powi(2);
                        c_y += (gij - gbar_y[j]).powi(2);
                    }
                    tr += qi * c_y - ri * c_all;
                }
                out.trace.push(tr);
            }
            if want.jacobian {
                let mut h = Mat::zeros(d, d);
                for i in 0..k {
                    let (ri, qi) = (r_all[i], q[i]);
                    if ri == 0.0 && qi == 0.0 {
                        continue;
                    }
                    self.precisions[i].add_scaled_to(ri - qi, &mut h);
                    for b in 0..d {
                        let (ub, vb) = (g[i][(row, b)] - gbar_y[b], g[i][(row, b)] - gbar[b]);
                        for a in b..d {
                            let (ua, va) = (g[i][(row, a)] - gbar_y[a], g[i][(row, a)] - gbar[a]);
                            h[(a, b)] += qi * ua * ub - ri * va * vb;
                        }
                    }
                }
                for b in 0..d {
                    for a in 0..b {
                        h[(a, b)] = h[(b, a)];
                    }
                }
                out.jacobian.push(h);
            }
        }
        Ok(out)
    }
}

/// `(logsumexp, max)` of finite-or-`−∞` values; `(−∞, −∞)` when all are `−∞`.
fn logsumexp(values: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let top = values.clone().fold(f64::NEG_INFINITY, f64::max);
    if top == f64::NEG_INFINITY {
        return (top, top);
    }
    let s: f64 = values.map(|v| (v - top).exp()).sum();
    (top + s.ln(), top)
}
