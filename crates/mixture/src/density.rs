//! The factorised mixture density: log-density, score, Hessian and responsibilities, batched.
use faer::prelude::{Reborrow, ReborrowMut};

use crate::covariance::Factor;
use crate::error::{MixtureError, check_finite};
use faer::{Mat, MatMut, MatRef};
use rayon::prelude::*;

/// A Gaussian mixture `p(x) = Σ_i w_i N(x; μ_i, Σ_i)` with every `Σ_i` factorised once:
/// the precisions `P_i = Σ_i⁻¹` and the constants `c_i = log w_i − ½ log det Σ_i − ½ d log 2π`.
///
/// With `g_i(x) = P_i (x − μ_i)` and the responsibilities `r_i(x) ∝ w_i N(x; μ_i, Σ_i)`:
///
/// * `log p(x) = logsumexp_i (c_i − ½ (x − μ_i)ᵀ g_i)`,
/// * `∇ log p(x) = −Σ_i r_i g_i =: −ḡ`,
/// * `∇² log p(x) = −Σ_i r_i P_i + Σ_i r_i (g_i − ḡ)(g_i − ḡ)ᵀ` (THEORY §1),
/// * `Δ log p(x) = tr ∇² log p = −Σ_i r_i tr P_i + Σ_i r_i ‖g_i‖² − ‖ḡ‖²`.
///
/// **Far points.** Where every component is far (`min_i (x − μ_i)ᵀ P_i (x − μ_i) > 2²¹`, or a
/// quadratic form overflows `f64`, as for `N(0, 1)` at `x = 1e160`) the row is recomputed by a
/// slower route that never forms an overflowing quantity: with `x` and the means divided by a
/// power of two `s`, the log-ratios `ℓ_i − ℓ_j` come from
/// `q_i − q_j = s·(μ_j − μ_i)ᵀ P_i (e_i + e_j) + s²·e_jᵀ (P_i − P_j) e_j` (`e_i = (x − μ_i)/s`),
/// which is exact where `P_i = P_j`, and the differences `g_i − g_j` from
/// `s·(P_i − P_j) e_j + P_i (μ_j − μ_i)`. So the score of one component is exactly `−P (x − μ)`
/// (`−1e160` for `N(0, 1)` at `1e160`), and `log p(x)` below `−f64::MAX` is returned as `−∞` (the
/// IEEE rounding of the true value) rather than an error.
///
/// Batched forms take one point per row. Rows are processed in fixed blocks (one GEMM per
/// component and block for full covariances), with a running ("online") logsumexp so that no
/// `k × n × d` intermediate is stored; blocks run in parallel with rayon, and every row's result
/// is independent of the thread count.
///
/// ```
/// use gmdiff_mixture::GaussianMixture;
/// let m: GaussianMixture = serde_json::from_str(
///     r#"{"weights":[0.5,0.5],"means":[[-1.0],[1.0]],"covariances":[[[1.0]],[[1.0]]]}"#).unwrap();
/// let p = m.density().unwrap();
/// // By symmetry the score vanishes at 0, and the density is the N(±1, 1) average.
/// assert!(p.score(&[0.0]).unwrap()[0].abs() < 1e-15);
/// let expected = (-0.5f64).exp() / (2.0 * std::f64::consts::PI).sqrt();
/// assert!((p.logpdf(&[0.0]).unwrap() - expected.ln()).abs() < 1e-14);
/// ```
#[derive(Debug, Clone)]
pub struct MixtureDensity {
    dim: usize,
    constants: Vec<f64>,
    means: Vec<Vec<f64>>,
    precisions: Vec<Factor>,
    precision_traces: Vec<f64>,
}

/// What a batched evaluation should compute.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Request {
    /// `log p(x)`.
    pub logpdf: bool,
    /// `∇ log p(x)`.
    pub score: bool,
    /// `Δ log p(x) = tr ∇² log p(x)`.
    pub laplacian: bool,
    /// `r_i(x)`, `n × k`.
    pub responsibilities: bool,
}

/// The results of [`MixtureDensity::evaluate`]; a field is filled when it was requested.
#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    /// `log p(x_r)`, length `n`.
    pub logpdf: Option<Vec<f64>>,
    /// `∇ log p(x_r)`, `n × d`.
    pub score: Option<Mat<f64>>,
    /// `Δ log p(x_r)`, length `n`.
    pub laplacian: Option<Vec<f64>>,
    /// `r_i(x_r)`, `n × k`.
    pub responsibilities: Option<Mat<f64>>,
}

/// Rows per evaluation block in dimension `d`: large enough for an efficient GEMM, small enough to
/// stay in cache. 128, or 256 from `d = 256` on (the score at `n = 2000, d = 512, k = 4`: 49 ms
/// against 56 ms with 128; at `d = 32` 128 is 6 % faster). Both divide the solvers'
/// 2048-particle blocks, which rely on it for their bit-identity with a whole-batch run.
fn block_rows(d: usize) -> usize {
    if d >= 256 { 256 } else { 128 }
}

impl MixtureDensity {
    pub(crate) fn from_parts(dim: usize, constants: Vec<f64>, means: Vec<Vec<f64>>, precisions: Vec<Factor>) -> Self {
        let precision_traces = precisions.iter().map(Factor::trace).collect();
        Self { dim, constants, means, precisions, precision_traces }
    }

    /// The dimension `d`.
    pub fn dim(&self) -> usize {
        self.dim
    }
    /// The number of components `k`.
    pub fn components(&self) -> usize {
        self.means.len()
    }

    /// Evaluates the requested quantities on a batch `x` (`n × d`, one point per row).
    pub fn evaluate(&self, x: MatRef<'_, f64>, request: Request) -> Result<Evaluation, MixtureError> {
        self.check_points(x)?;
        let n = x.nrows();
        let (d, k) = (self.dim, self.components());
        let rows = block_rows(d);
        let mut logpdf = vec![0.0; n];
        let mut score = request.score.then(|| Mat::zeros(n, d));
        let mut laplacian = request.laplacian.then(|| vec![0.0; n]);
        let mut resp = request.responsibilities.then(|| Mat::zeros(n, k));
        let score_blocks = split_rows(score.as_mut().map(|m| m.as_mut()), n, rows);
        let resp_blocks = split_rows(resp.as_mut().map(|m| m.as_mut()), n, rows);
        let lap_blocks: Vec<Option<&mut [f64]>> = match laplacian.as_mut() {
            Some(v) => v.chunks_mut(rows).map(Some).collect(),
            None => (0..n.div_ceil(rows)).map(|_| None).collect(),
        };
        let jobs: Vec<_> = logpdf
            .chunks_mut(rows)
            .zip(score_blocks)
            .zip(resp_blocks)
            .zip(lap_blocks)
            .enumerate()
            .map(|(b, (((lp, s), r), l))| (b, lp, s, r, l))
            .collect();
        jobs.into_par_iter().try_for_each_init(
            || Workspace::new(rows, d),
            |ws, (b, lp, s, r, l)| {
                let x = x.subrows(b * rows, lp.len());
                self.block(x, ws, BlockOut { logpdf: lp, want_logpdf: true, score: s, laplacian: l, log_terms: r })
            },
        )?;
        Ok(Evaluation { logpdf: request.logpdf.then_some(logpdf), score, laplacian, responsibilities: resp })
    }

    /// `log p(x_r)` for every row.
    pub fn logpdf_batch(&self, x: MatRef<'_, f64>) -> Result<Vec<f64>, MixtureError> {
        Ok(self.evaluate(x, Request { logpdf: true, ..Request::default() })?.logpdf.expect("requested"))
    }
    /// `∇ log p(x_r)` for every row, as an `n × d` matrix.
    pub fn score_batch(&self, x: MatRef<'_, f64>) -> Result<Mat<f64>, MixtureError> {
        Ok(self.evaluate(x, Request { score: true, ..Request::default() })?.score.expect("requested"))
    }
    /// `Δ log p(x_r)` for every row.
    pub fn laplacian_batch(&self, x: MatRef<'_, f64>) -> Result<Vec<f64>, MixtureError> {
        Ok(self.evaluate(x, Request { laplacian: true, ..Request::default() })?.laplacian.expect("requested"))
    }
    /// The responsibilities `r_i(x_r)`, `n × k`; each row sums to one.
    pub fn responsibilities_batch(&self, x: MatRef<'_, f64>) -> Result<Mat<f64>, MixtureError> {
        Ok(self.evaluate(x, Request { responsibilities: true, ..Request::default() })?.responsibilities.expect("requested"))
    }

    /// Writes `∇ log p(x_r)` into row `r` of `out`, in parallel over row blocks.
    pub fn score_batch_into(&self, x: MatRef<'_, f64>, out: MatMut<'_, f64>) -> Result<(), MixtureError> {
        self.check_points(x)?;
        if out.nrows() != x.nrows() || out.ncols() != self.dim {
            return Err(MixtureError::DimensionMismatch { what: "score output rows".into(), expected: x.nrows(), found: out.nrows() });
        }
        let (n, rows) = (x.nrows(), block_rows(self.dim));
        let blocks = split_rows(Some(out), n, rows);
        blocks.into_par_iter().enumerate().try_for_each_init(
            || (Workspace::new(rows, self.dim), vec![0.0; rows]),
            |(ws, lp), (b, s)| {
                let x = x.subrows(b * rows, s.as_ref().map_or(0, |s| s.nrows()));
                let m = x.nrows();
                self.block(x, ws, BlockOut { logpdf: &mut lp[..m], want_logpdf: false, score: s, laplacian: None, log_terms: None })
            },
        )
    }

    /// The Hessian `∇² log p(x_r)` of every row, each `d × d` and symmetric.
    pub fn hessian_batch(&self, x: MatRef<'_, f64>) -> Result<Vec<Mat<f64>>, MixtureError> {
        self.check_points(x)?;
        let (d, k) = (self.dim, self.components());
        let r = self.responsibilities_batch(x)?;
        let hessians: Vec<Mat<f64>> = (0..x.nrows())
            .into_par_iter()
            .map(|row| {
                let mut g = Mat::zeros(k, d);
                let mut diff = Mat::zeros(1, d);
                let mut qmin = f64::INFINITY;
                for i in 0..k {
                    for j in 0..d {
                        diff[(0, j)] = x[(row, j)] - self.means[i][j];
                    }
                    self.precisions[i].apply_rows(diff.as_ref(), g.as_mut().subrows_mut(i, 1));
                    if self.constants[i] > f64::NEG_INFINITY {
                        let q: f64 = (0..d).map(|j| diff[(0, j)] * g[(i, j)]).sum();
                        qmin = if q.is_finite() { qmin.min(q) } else { f64::INFINITY };
                    }
                }
                if qmin > FAR_QUAD {
                    return self.far_hessian(&(0..d).map(|j| x[(row, j)]).collect::<Vec<_>>());
                }
                let gbar: Vec<f64> = (0..d).map(|j| (0..k).map(|i| r[(row, i)] * g[(i, j)]).sum()).collect();
                let mut h = Mat::zeros(d, d);
                for i in 0..k {
                    let ri = r[(row, i)];
                    if ri == 0.0 {
                        continue;
                    }
                    self.precisions[i].add_scaled_to(-ri, &mut h);
                    for b in 0..d {
                        let cb = ri * (g[(i, b)] - gbar[b]);
                        for a in b..d {
                            h[(a, b)] += cb * (g[(i, a)] - gbar[a]);
                        }
                    }
                }
                symmetrise_lower(&mut h);
                Ok(h)
            })
            .collect::<Result<_, MixtureError>>()?;
        for h in &hessians {
            for j in 0..d {
                check_finite(|| "Hessian of the log-density (‖Σ⁻¹(x − μ)‖² overflows f64)".into(), h.col(j).iter().copied())?;
            }
        }
        Ok(hessians)
    }

    /// `∇² log p(x) = −Σ_i r_i P_i + Σ_i r_i v_i v_iᵀ`, `v_i = g_i − ḡ`, by the far-point route.
    fn far_hessian(&self, x: &[f64]) -> Result<Mat<f64>, MixtureError> {
        let f = self.far_point(x)?;
        let d = self.dim;
        let mut h = Mat::zeros(d, d);
        for (i, (v, &ri)) in self.far_spread(&f).iter().zip(&f.resp).enumerate() {
            if ri == 0.0 {
                continue;
            }
            self.precisions[i].add_scaled_to(-ri, &mut h);
            for b in 0..d {
                let cb = ri * v[b];
                for a in b..d {
                    h[(a, b)] += cb * v[a];
                }
            }
        }
        symmetrise_lower(&mut h);
        Ok(h)
    }

    /// `log p(x)` at one point.
    pub fn logpdf(&self, x: &[f64]) -> Result<f64, MixtureError> {
        Ok(self.logpdf_batch(row(x).as_ref())?[0])
    }
    /// `∇ log p(x)` at one point.
    pub fn score(&self, x: &[f64]) -> Result<Vec<f64>, MixtureError> {
        let s = self.score_batch(row(x).as_ref())?;
        Ok((0..x.len()).map(|j| s[(0, j)]).collect())
    }
    /// `Δ log p(x)` at one point.
    pub fn laplacian(&self, x: &[f64]) -> Result<f64, MixtureError> {
        Ok(self.laplacian_batch(row(x).as_ref())?[0])
    }
    /// The responsibilities `r_i(x)` at one point.
    pub fn responsibilities(&self, x: &[f64]) -> Result<Vec<f64>, MixtureError> {
        let r = self.responsibilities_batch(row(x).as_ref())?;
        Ok((0..self.components()).map(|i| r[(0, i)]).collect())
    }
    /// `∇² log p(x)` at one point.
    pub fn hessian(&self, x: &[f64]) -> Result<Mat<f64>, MixtureError> {
        Ok(self.hessian_batch(row(x).as_ref())?.pop().expect("one row"))
    }

    fn check_points(&self, x: MatRef<'_, f64>) -> Result<(), MixtureError> {
        if x.ncols() != self.dim {
            return Err(MixtureError::DimensionMismatch { what: "points (columns)".into(), expected: self.dim, found: x.ncols() });
        }
        // One pass in memory order (row-major particle batches are read with stride 1); only when
        // it finds a non-finite value, the column-wise pass that names the first such column.
        let finite = match x.try_as_row_major() {
            Some(rm) => (0..rm.nrows()).all(|i| rm.row(i).iter().all(|v| v.is_finite())),
            None => (0..x.ncols()).all(|j| x.col(j).iter().all(|v| v.is_finite())),
        };
        if finite {
            return Ok(());
        }
        for j in 0..x.ncols() {
            check_finite(|| format!("points (column {j})"), x.col(j).iter().copied())?;
        }
        Ok(())
    }

    /// One block of rows: a running logsumexp over components, accumulating the weighted `g_i`.
    ///
    /// Compiled for the best instruction set [`pulp::Arch`] finds at run time (AVX-512, AVX2 or
    /// baseline),
    /// so that the row loops vectorise. The arithmetic is plain IEEE additions, multiplications
    /// and divisions (no fused multiply–add), so the result is the same bits either way.
    fn block(&self, x: MatRef<'_, f64>, ws: &mut Workspace, out: BlockOut<'_>) -> Result<(), MixtureError> {
        pulp::Arch::new().dispatch(
            #[inline(always)]
            || self.block_rows(x, ws, out),
        )
    }

    #[inline(always)]
    fn block_rows(&self, x: MatRef<'_, f64>, ws: &mut Workspace, out: BlockOut<'_>) -> Result<(), MixtureError> {
        let (m, d) = (x.nrows(), self.dim);
        let BlockOut { logpdf, want_logpdf, mut score, mut laplacian, mut log_terms } = out;
        let mut diff = ws.diff.as_mut().subrows_mut(0, m);
        let mut y = ws.y.as_mut().subrows_mut(0, m);
        let mut acc = ws.acc.as_mut().subrows_mut(0, m);
        let (run_max, run_sum, quad) = (&mut ws.run_max[..m], &mut ws.run_sum[..m], &mut ws.quad[..m]);
        let (scale, weight, sq) = (&mut ws.scale[..m], &mut ws.weight[..m], &mut ws.sq[..m]);
        let (qmin, far) = (&mut ws.qmin[..m], &mut ws.far[..m]);
        // The block's points once in column-major order (the k components then read them with
        // stride 1, whatever the layout of `x`); the values, hence the arithmetic, are unchanged.
        let mut xc = ws.xc.as_mut().subrows_mut(0, m);
        xc.copy_from(x);
        let xc = xc.rb();
        let want_score = score.is_some() || laplacian.is_some();
        run_max.fill(f64::NEG_INFINITY);
        run_sum.fill(0.0);
        sq.fill(0.0);
        qmin.fill(f64::INFINITY);
        far.fill(0.0);
        if want_score {
            acc.fill(0.0);
        }
        for (i, (mean, precision)) in self.means.iter().zip(&self.precisions).enumerate() {
            let c = self.constants[i];
            if c == f64::NEG_INFINITY {
                if let Some(t) = log_terms.as_mut() {
                    t.rb_mut().col_mut(i).fill(f64::NEG_INFINITY);
                }
                continue;
            }
            for (j, &mu) in mean.iter().enumerate() {
                for (o, &v) in diff.rb_mut().col_mut(j).iter_mut().zip(xc.col(j).iter()) {
                    *o = v - mu;
                }
            }
            precision.apply_rows_symmetric(diff.rb(), y.rb_mut());
            quad.fill(0.0);
            for j in 0..d {
                for ((q, &a), &b) in quad.iter_mut().zip(diff.rb().col(j).iter()).zip(y.rb().col(j).iter()) {
                    *q += a * b;
                }
            }
            // The running logsumexp, branch-free so that it vectorises: with δ = term − max, one
            // exp(−|δ|) rescales the sum (δ > 0) or weights the new term (δ ≤ 0); −|δ| is
            // bit-for-bit max − term or term − max, as IEEE subtraction is antisymmetric. Every
            // store is unconditional and `run_sum` is updated from registers, so the selects
            // become blends rather than masked stores (a masked store read back stalls).
            for r in 0..m {
                let term = c - 0.5 * quad[r];
                let finite = term.is_finite();
                // `min` passes over a NaN or +∞ quadratic form; a row with a non-finite term is
                // recomputed below by the far-point route, and −∞ keeps its arithmetic quiet.
                qmin[r] = qmin[r].min(quad[r]);
                far[r] += if finite { 0.0 } else { 1.0 };
                let term = if finite { term } else { f64::NEG_INFINITY };
                quad[r] = term;
                weight[r] = -(term - run_max[r]).abs();
            }
            if let Some(t) = log_terms.as_mut() {
                t.rb_mut().col_mut(i).iter_mut().zip(quad.iter()).for_each(|(v, &term)| *v = term);
            }
            crate::exp::exp_in_place(weight);
            for r in 0..m {
                let (term, e, top) = (quad[r], weight[r], run_max[r]);
                let up = term > top;
                let (s, w) = if up { (e, 1.0) } else { (1.0, e) };
                scale[r] = s;
                weight[r] = w;
                run_max[r] = if up { term } else { top };
                run_sum[r] = run_sum[r] * s + w;
            }
            if want_score {
                for j in 0..d {
                    for (((a, &g), &s), &w) in
                        acc.rb_mut().col_mut(j).iter_mut().zip(y.rb().col(j).iter()).zip(scale.iter()).zip(weight.iter())
                    {
                        *a = *a * s + w * g;
                    }
                }
            }
            if laplacian.is_some() {
                let tr = self.precision_traces[i];
                for r in 0..m {
                    let g2: f64 = (0..d).map(|j| y[(r, j)] * y[(r, j)]).sum();
                    // A factor that underflowed to 0 drops its term, even where ‖g_i‖² overflowed.
                    let kept = if scale[r] == 0.0 { 0.0 } else { sq[r] * scale[r] };
                    sq[r] = kept + if weight[r] == 0.0 { 0.0 } else { weight[r] * (g2 - tr) };
                }
            }
        }
        if want_logpdf || log_terms.is_some() {
            for r in 0..m {
                logpdf[r] = run_max[r] + run_sum[r].ln();
            }
        }
        if let Some(s) = score.as_mut() {
            for j in 0..d {
                for ((o, &a), &z) in s.rb_mut().col_mut(j).iter_mut().zip(acc.rb().col(j).iter()).zip(run_sum.iter()) {
                    // 0 − ḡ rather than −ḡ: a zero score is +0, never −0 (issue 14).
                    *o = 0.0 - a / z;
                }
            }
        }
        if let Some(l) = laplacian.as_mut() {
            for r in 0..m {
                let gbar2: f64 = (0..d).map(|j| (acc[(r, j)] / run_sum[r]).powi(2)).sum();
                l[r] = sq[r] / run_sum[r] - gbar2;
            }
        }
        if let Some(t) = log_terms.as_mut() {
            for i in 0..self.components() {
                for (v, &lp) in t.rb_mut().col_mut(i).iter_mut().zip(logpdf.iter()) {
                    *v = crate::exp::exp(*v - lp);
                }
            }
        }
        let mut point = vec![0.0; d];
        for r in 0..m {
            if !(far[r] > 0.0 || qmin[r] > FAR_QUAD) {
                continue;
            }
            point.iter_mut().enumerate().for_each(|(j, v)| *v = x[(r, j)]);
            let f = self.far_point(&point)?;
            logpdf[r] = f.logpdf;
            if let Some(t) = log_terms.as_mut() {
                for (i, &ri) in f.resp.iter().enumerate() {
                    t[(r, i)] = ri;
                }
            }
            if let Some(sc) = score.as_mut() {
                let g = self.far_mean_score(&f);
                for (j, gj) in g.iter().enumerate() {
                    sc[(r, j)] = 0.0 - gj;
                }
                check_finite(|| "score (‖Σ⁻¹(x − μ)‖ overflows f64: the point is too far from the mixture)".into(), g)?;
            }
            if let Some(l) = laplacian.as_mut() {
                l[r] = self.far_spread(&f).iter().zip(&f.resp).map(|(v, ri)| ri * v.iter().map(|t| t * t).sum::<f64>()).sum::<f64>()
                    - f.resp.iter().zip(&self.precision_traces).map(|(ri, tr)| if *ri == 0.0 { 0.0 } else { ri * tr }).sum::<f64>();
            }
        }
        if let Some(&value) = laplacian.as_ref().and_then(|l| l.iter().find(|v| !v.is_finite())) {
            return Err(MixtureError::NonFinite {
                what: "Laplacian of the log-density (‖Σ⁻¹(x − μ)‖² overflows f64)".into(), value
            });
        }
        Ok(())
    }

    /// The far-point route for one point `x` (see the type docs): scaled differences `e_i`,
    /// `h_i = P_i e_i`, the log-ratios to the heaviest component and the responsibilities.
    fn far_point(&self, x: &[f64]) -> Result<FarPoint, MixtureError> {
        let k = self.components();
        let active: Vec<usize> = (0..k).filter(|&i| self.constants[i] > f64::NEG_INFINITY).collect();
        let top = active.iter().flat_map(|&i| self.means[i].iter()).chain(x).fold(0.0, |a: f64, v| a.max(v.abs()));
        let s = crate::gaussian::power_of_two_scale(top);
        let mut e = vec![Vec::new(); k];
        let mut h = vec![Vec::new(); k];
        let mut q = vec![f64::NAN; k];
        for &i in &active {
            e[i] = x.iter().zip(&self.means[i]).map(|(x, m)| x / s - m / s).collect();
            h[i] = self.precisions[i].apply(&e[i]);
            q[i] = dot(&e[i], &h[i]);
        }
        let mut f = FarPoint { s, e, h, q, best: active[0], resp: vec![0.0; k], logpdf: 0.0 };
        for &i in &active[1..] {
            if self.log_gap(&f, i, f.best) > 0.0 {
                f.best = i;
            }
        }
        let gaps: Vec<f64> = (0..k).map(|i| if q_is_set(&f, i) { self.log_gap(&f, i, f.best) } else { f64::NEG_INFINITY }).collect();
        if let Some(&value) = gaps.iter().find(|g| g.is_nan()) {
            return Err(MixtureError::NonFinite { what: "log-density term (point too far from the mixture for f64)".into(), value });
        }
        let weights: Vec<f64> = gaps.iter().map(|&g| crate::exp::exp(g)).collect();
        let z: f64 = weights.iter().sum();
        f.resp = weights.iter().map(|w| w / z).collect();
        let b = f.best;
        f.logpdf = (self.constants[b] - 0.5 * (s * (s * f.q[b]))) + z.ln();
        Ok(f)
    }

    /// `ℓ_i − ℓ_j` with `ℓ_i = c_i − ½ (x − μ_i)ᵀ P_i (x − μ_i)`, without forming either quadratic form.
    fn log_gap(&self, f: &FarPoint, i: usize, j: usize) -> f64 {
        if i == j {
            return 0.0;
        }
        let u = self.precisions[i].apply(&f.e[j]);
        let t2 = dot(&f.e[j], &u) - f.q[j];
        let hu: Vec<f64> = f.h[i].iter().zip(&u).map(|(a, b)| a + b).collect();
        let du: Vec<f64> = self.means[j].iter().zip(&self.means[i]).map(|(a, b)| a - b).collect();
        let t1 = dot(&du, &hu);
        (self.constants[i] - self.constants[j]) - 0.5 * (f.s * (f.s * t2 + t1))
    }

    /// `g_i − g_j` with `g_i = P_i (x − μ_i)`: `s (P_i − P_j) e_j + P_i (μ_j − μ_i)`.
    fn score_gap(&self, f: &FarPoint, i: usize, j: usize) -> Vec<f64> {
        if i == j {
            return vec![0.0; self.dim];
        }
        let u = self.precisions[i].apply(&f.e[j]);
        let du: Vec<f64> = self.means[j].iter().zip(&self.means[i]).map(|(a, b)| a - b).collect();
        let pdu = self.precisions[i].apply(&du);
        u.iter().zip(&f.h[j]).zip(&pdu).map(|((u, h), p)| if u == h { *p } else { f.s * (u - h) + p }).collect()
    }

    /// `ḡ = Σ_i r_i g_i = g_best + Σ_i r_i (g_i − g_best)` (so `−ḡ` is the score).
    fn far_mean_score(&self, f: &FarPoint) -> Vec<f64> {
        let b = f.best;
        let mut g: Vec<f64> = f.h[b].iter().map(|h| f.s * h).collect();
        for (i, &ri) in f.resp.iter().enumerate() {
            if ri > 0.0 && i != b {
                self.score_gap(f, i, b).iter().zip(g.iter_mut()).for_each(|(gap, g)| *g += ri * gap);
            }
        }
        g
    }

    /// `v_i = g_i − ḡ` for every component (zero vectors where `r_i = 0`).
    fn far_spread(&self, f: &FarPoint) -> Vec<Vec<f64>> {
        let (b, d) = (f.best, self.dim);
        let gaps: Vec<Vec<f64>> =
            f.resp.iter().enumerate().map(|(i, &ri)| if ri > 0.0 { self.score_gap(f, i, b) } else { vec![0.0; d] }).collect();
        let mut w = vec![0.0; d];
        for (gap, &ri) in gaps.iter().zip(&f.resp) {
            w.iter_mut().zip(gap).for_each(|(w, g)| *w += ri * g);
        }
        gaps.iter()
            .zip(&f.resp)
            .map(|(gap, &ri)| if ri > 0.0 { gap.iter().zip(&w).map(|(g, w)| g - w).collect() } else { vec![0.0; d] })
            .collect()
    }
}

/// Rows whose nearest component is farther than this squared Mahalanobis distance go through the
/// far-point route: beyond it the rounding of the quadratic forms (`≈ d ε q`) starts to show in
/// the responsibilities.
const FAR_QUAD: f64 = 2_097_152.0; // 2^21

/// The far-point route's state for one point (see [`MixtureDensity`]).
struct FarPoint {
    /// The power-of-two scale `s`.
    s: f64,
    /// `e_i = (x − μ_i)/s` (empty for zero-weight components).
    e: Vec<Vec<f64>>,
    /// `h_i = P_i e_i`, so `g_i = s h_i`.
    h: Vec<Vec<f64>>,
    /// `e_iᵀ h_i` (NaN for zero-weight components).
    q: Vec<f64>,
    /// The component of largest `ℓ_i`.
    best: usize,
    /// The responsibilities `r_i`.
    resp: Vec<f64>,
    /// `log p(x)`; `−∞` below `−f64::MAX`.
    logpdf: f64,
}

fn q_is_set(f: &FarPoint, i: usize) -> bool {
    !f.e[i].is_empty()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

struct BlockOut<'a> {
    logpdf: &'a mut [f64],
    /// False when the caller discards `logpdf` (the score alone): its `ln` per row is skipped
    /// (rows of the far-point route still write it).
    want_logpdf: bool,
    score: Option<MatMut<'a, f64>>,
    laplacian: Option<&'a mut [f64]>,
    /// Receives the log terms, then the responsibilities.
    log_terms: Option<MatMut<'a, f64>>,
}

struct Workspace {
    xc: Mat<f64>,
    diff: Mat<f64>,
    y: Mat<f64>,
    acc: Mat<f64>,
    run_max: Vec<f64>,
    run_sum: Vec<f64>,
    quad: Vec<f64>,
    scale: Vec<f64>,
    weight: Vec<f64>,
    sq: Vec<f64>,
    qmin: Vec<f64>,
    /// How many components had a non-finite log term at each row (a count, not a flag, so that its
    /// update is an addition the compiler cannot turn into a masked store).
    far: Vec<f64>,
}

impl Workspace {
    fn new(rows: usize, d: usize) -> Self {
        Self {
            xc: Mat::zeros(rows, d),
            diff: Mat::zeros(rows, d),
            y: Mat::zeros(rows, d),
            acc: Mat::zeros(rows, d),
            run_max: vec![0.0; rows],
            run_sum: vec![0.0; rows],
            quad: vec![0.0; rows],
            scale: vec![0.0; rows],
            weight: vec![0.0; rows],
            sq: vec![0.0; rows],
            qmin: vec![0.0; rows],
            far: vec![0.0; rows],
        }
    }
}

/// Splits an optional `n`-row matrix into consecutive blocks of `rows` rows.
fn split_rows(m: Option<MatMut<'_, f64>>, n: usize, rows: usize) -> Vec<Option<MatMut<'_, f64>>> {
    let blocks = n.div_ceil(rows);
    match m {
        None => (0..blocks).map(|_| None).collect(),
        Some(mut rest) => {
            let mut out = Vec::with_capacity(blocks);
            while rest.nrows() > rows {
                let (head, tail) = rest.split_at_row_mut(rows);
                out.push(Some(head));
                rest = tail;
            }
            if rest.nrows() > 0 {
                out.push(Some(rest));
            }
            out
        }
    }
}

/// Copies the lower triangle onto the upper one.
fn symmetrise_lower(h: &mut Mat<f64>) {
    for b in 0..h.ncols() {
        for a in 0..b {
            h[(a, b)] = h[(b, a)];
        }
    }
}

fn row(x: &[f64]) -> Mat<f64> {
    Mat::from_fn(1, x.len(), |_, j| x[j])
}

#[cfg(test)]
mod far_point_tests {
    //! Far points (issue 14, fault 6): every expected value below is computed by hand from the
    //! closed forms in the comments, not by running this code.
    use crate::GaussianMixture;
    use faer::mat;

    fn mixture(json: &str) -> GaussianMixture {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn standard_normal_at_1e160() {
        // N(0, 1): score −x = −1e160 exactly; log p = −½ log 2π − ½ x² = −5e319 < −f64::MAX, so −∞;
        // Hessian −1 and Laplacian −1 at every x.
        let p = mixture(r#"{"weights":[1],"means":[[0]],"covariances":[1]}"#).density().unwrap();
        assert_eq!(p.score(&[1e160]).unwrap(), vec![-1e160]);
        assert_eq!(p.score(&[-1e160]).unwrap(), vec![1e160]);
        assert_eq!(p.logpdf(&[1e160]).unwrap(), f64::NEG_INFINITY);
        assert_eq!(p.hessian(&[1e160]).unwrap()[(0, 0)], -1.0);
        assert_eq!(p.laplacian(&[1e160]).unwrap(), -1.0);
        assert_eq!(p.responsibilities(&[1e160]).unwrap(), vec![1.0]);
        // Just below the overflow of x²: log p(1e154) = −½ log 2π − 5e307, finite.
        let lp = p.logpdf(&[1e154]).unwrap();
        assert_eq!(lp, -0.5 * (2.0 * std::f64::consts::PI).ln() - 5e307);
    }

    #[test]
    fn single_gaussian_far() {
        let g = crate::Gaussian::new(vec![3.0], crate::Covariance::isotropic(1, 4.0).unwrap()).unwrap();
        // −(x − 3)/4 at x = 1e160 is −2.5e159 (the 3 is below the ulp of 1e160).
        assert_eq!(g.score(&[1e160]).unwrap(), vec![-2.5e159]);
        assert_eq!(g.logpdf(&[1e160]).unwrap(), f64::NEG_INFINITY);
    }

    #[test]
    fn two_components_on_the_bisector() {
        // N((0, 0), I) and N((0, 1), I), weights 0.3 / 0.7, at x = (1e160, 0.5): the quadratic forms
        // (1e320 + 0.25 each) overflow but are equal, so r = w = (0.3, 0.7).
        // g_i = x − μ_i = (1e160, 0.5) and (1e160, −0.5); ḡ = (1e160, 0.3·0.5 − 0.7·0.5) = (1e160, −0.2);
        // score = −ḡ = (−1e160, 0.2). Hessian = −I + Σ r_i v_i v_iᵀ, v = g − ḡ = (0, 0.7), (0, −0.3):
        // H_yy = −1 + 0.3·0.49 + 0.7·0.09 = −0.79, H_xx = −1, H_xy = 0; Laplacian −1.79.
        let p = mixture(r#"{"weights":[0.3,0.7],"means":[[0,0],[0,1]],"covariances":[1,1]}"#).density().unwrap();
        let x = [1e160, 0.5];
        let r = p.responsibilities(&x).unwrap();
        assert!((r[0] - 0.3).abs() < 1e-15 && (r[1] - 0.7).abs() < 1e-15, "{r:?}");
        let s = p.score(&x).unwrap();
        assert_eq!(s[0], -1e160);
        assert!((s[1] - 0.2).abs() < 1e-15, "{s:?}");
        let h = p.hessian(&x).unwrap();
        assert_eq!((h[(0, 0)], h[(0, 1)], h[(1, 0)]), (-1.0, 0.0, 0.0));
        assert!((h[(1, 1)] + 0.79).abs() < 1e-15, "{h:?}");
        assert!((p.laplacian(&x).unwrap() + 1.79).abs() < 1e-14);
        assert_eq!(p.logpdf(&x).unwrap(), f64::NEG_INFINITY);
        // The batched score goes through the same route.
        let sb = p.score_batch(mat![[1e160, 0.5], [0.0, 0.0]].as_ref()).unwrap();
        assert_eq!(sb[(0, 0)], -1e160);
        assert!((sb[(0, 1)] - 0.2).abs() < 1e-15);
    }

    #[test]
    fn far_side_of_two_components() {
        // N(−1, 1), N(1, 1), weights ½, at x = 1e160: ℓ_2 − ℓ_1 = ((x + 1)² − (x − 1)²)/2 = 2x = 2e160,
        // so r = (0, 1) exactly, score −(x − 1) = −1e160 in f64, Hessian −1.
        let p = mixture(r#"{"weights":[0.5,0.5],"means":[[-1],[1]],"covariances":[1,1]}"#).density().unwrap();
        assert_eq!(p.responsibilities(&[1e160]).unwrap(), vec![0.0, 1.0]);
        assert_eq!(p.score(&[1e160]).unwrap(), vec![-1e160]);
        assert_eq!(p.hessian(&[1e160]).unwrap()[(0, 0)], -1.0);
        // Unequal variances N(0, 1), N(0, 4): at x = 1e160 the wide one wins (ℓ_2 − ℓ_1 = 3x²/8 − log 2 → +∞),
        // score −x/4 = −2.5e159.
        let q = mixture(r#"{"weights":[0.5,0.5],"means":[[0],[0]],"covariances":[1,4]}"#).density().unwrap();
        assert_eq!(q.score(&[1e160]).unwrap(), vec![-2.5e159]);
        assert_eq!(q.hessian(&[1e160]).unwrap()[(0, 0)], -0.25);
    }

    #[test]
    fn moderately_far_point_matches_the_closed_form() {
        // N((−1, 0), I) and N((1, 0), I), weights ½, at x = (0.001, 3000): q ≈ 9e6 > 2^21, so the
        // far route, near the bisector where the responsibilities are not 0/1.
        // ℓ_2 − ℓ_1 = ((x₁ + 1)² − (x₁ − 1)²)/2 = 2 x₁ = 0.002, r_2 = 1/(1 + e^{−0.002}).
        // score_x = −(x₁ − (r_2 − r_1)) , score_y = −x₂; H_xx = −1 + 4 r_1 r_2.
        let p = mixture(r#"{"weights":[0.5,0.5],"means":[[-1,0],[1,0]],"covariances":[1,1]}"#).density().unwrap();
        let x = [0.001, 3000.0];
        let r2 = 1.0 / (1.0 + (-0.002f64).exp());
        let r1 = 1.0 - r2;
        let r = p.responsibilities(&x).unwrap();
        assert!((r[1] - r2).abs() < 1e-15, "{r:?}");
        let s = p.score(&x).unwrap();
        assert!((s[0] + (0.001 - (r2 - r1))).abs() < 1e-15 && s[1] == -3000.0, "{s:?}");
        let h = p.hessian(&x).unwrap();
        assert!((h[(0, 0)] - (-1.0 + 4.0 * r1 * r2)).abs() < 1e-14 && h[(1, 1)] == -1.0, "{h:?}");
        // log p = log(½ φ(x − μ_1) + ½ φ(x − μ_2)) = −log 2π − ½ (x₂² + x₁² + 1) + log cosh x₁.
        let lp = -(2.0 * std::f64::consts::PI).ln() - 0.5 * (9e6 + 1e-6 + 1.0) + 0.001f64.cosh().ln();
        assert!((p.logpdf(&x).unwrap() - lp).abs() < 1e-9 * lp.abs());
    }
}
