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

/// Rows per block: large enough for an efficient GEMM, small enough to stay in cache.
const BLOCK_ROWS: usize = 128;

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
        let mut logpdf = vec![0.0; n];
        let mut score = request.score.then(|| Mat::zeros(n, d));
        let mut laplacian = request.laplacian.then(|| vec![0.0; n]);
        let mut resp = request.responsibilities.then(|| Mat::zeros(n, k));
        let score_blocks = split_rows(score.as_mut().map(|m| m.as_mut()), n);
        let resp_blocks = split_rows(resp.as_mut().map(|m| m.as_mut()), n);
        let lap_blocks: Vec<Option<&mut [f64]>> = match laplacian.as_mut() {
            Some(v) => v.chunks_mut(BLOCK_ROWS).map(Some).collect(),
            None => (0..n.div_ceil(BLOCK_ROWS)).map(|_| None).collect(),
        };
        let jobs: Vec<_> = logpdf
            .chunks_mut(BLOCK_ROWS)
            .zip(score_blocks)
            .zip(resp_blocks)
            .zip(lap_blocks)
            .enumerate()
            .map(|(b, (((lp, s), r), l))| (b, lp, s, r, l))
            .collect();
        jobs.into_par_iter().try_for_each_init(
            || Workspace::new(BLOCK_ROWS, d),
            |ws, (b, lp, s, r, l)| {
                let rows = x.subrows(b * BLOCK_ROWS, lp.len());
                self.block(rows, ws, BlockOut { logpdf: lp, score: s, laplacian: l, log_terms: r })
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
        let n = x.nrows();
        let blocks = split_rows(Some(out), n);
        blocks.into_par_iter().enumerate().try_for_each_init(
            || (Workspace::new(BLOCK_ROWS, self.dim), vec![0.0; BLOCK_ROWS]),
            |(ws, lp), (b, s)| {
                let rows = x.subrows(b * BLOCK_ROWS, s.as_ref().map_or(0, |s| s.nrows()));
                let m = rows.nrows();
                self.block(rows, ws, BlockOut { logpdf: &mut lp[..m], score: s, laplacian: None, log_terms: None })
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
                for i in 0..k {
                    for j in 0..d {
                        diff[(0, j)] = x[(row, j)] - self.means[i][j];
                    }
                    self.precisions[i].apply_rows(diff.as_ref(), g.as_mut().subrows_mut(i, 1));
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
                for b in 0..d {
                    for a in 0..b {
                        h[(a, b)] = h[(b, a)];
                    }
                }
                h
            })
            .collect();
        for h in &hessians {
            for j in 0..d {
                check_finite(|| "Hessian of the log-density (‖Σ⁻¹(x − μ)‖² overflows f64)".into(), h.col(j).iter().copied())?;
            }
        }
        Ok(hessians)
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
        for j in 0..x.ncols() {
            check_finite(|| format!("points (column {j})"), x.col(j).iter().copied())?;
        }
        Ok(())
    }

    /// One block of rows: a running logsumexp over components, accumulating the weighted `g_i`.
    fn block(&self, x: MatRef<'_, f64>, ws: &mut Workspace, out: BlockOut<'_>) -> Result<(), MixtureError> {
        let (m, d) = (x.nrows(), self.dim);
        let BlockOut { logpdf, mut score, mut laplacian, mut log_terms } = out;
        let mut diff = ws.diff.as_mut().subrows_mut(0, m);
        let mut y = ws.y.as_mut().subrows_mut(0, m);
        let mut acc = ws.acc.as_mut().subrows_mut(0, m);
        let (run_max, run_sum, quad) = (&mut ws.run_max[..m], &mut ws.run_sum[..m], &mut ws.quad[..m]);
        let (scale, weight, sq) = (&mut ws.scale[..m], &mut ws.weight[..m], &mut ws.sq[..m]);
        let want_score = score.is_some() || laplacian.is_some();
        run_max.fill(f64::NEG_INFINITY);
        run_sum.fill(0.0);
        sq.fill(0.0);
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
                for (o, &v) in diff.rb_mut().col_mut(j).iter_mut().zip(x.col(j).iter()) {
                    *o = v - mu;
                }
            }
            precision.apply_rows(diff.rb(), y.rb_mut());
            quad.fill(0.0);
            for j in 0..d {
                for ((q, &a), &b) in quad.iter_mut().zip(diff.rb().col(j).iter()).zip(y.rb().col(j).iter()) {
                    *q += a * b;
                }
            }
            for r in 0..m {
                let term = c - 0.5 * quad[r];
                if !term.is_finite() {
                    return Err(MixtureError::NonFinite {
                        what: "log-density term (point too far from the mixture for f64)".into(),
                        value: term,
                    });
                }
                if let Some(t) = log_terms.as_mut() {
                    t[(r, i)] = term;
                }
                if term > run_max[r] {
                    scale[r] = exp_or_zero(run_max[r] - term);
                    weight[r] = 1.0;
                    run_max[r] = term;
                } else {
                    scale[r] = 1.0;
                    weight[r] = exp_or_zero(term - run_max[r]);
                }
                run_sum[r] = run_sum[r] * scale[r] + weight[r];
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
        for r in 0..m {
            logpdf[r] = run_max[r] + run_sum[r].ln();
        }
        if let Some(s) = score.as_mut() {
            for j in 0..d {
                for ((o, &a), &z) in s.rb_mut().col_mut(j).iter_mut().zip(acc.rb().col(j).iter()).zip(run_sum.iter()) {
                    *o = -a / z;
                }
            }
        }
        if let Some(l) = laplacian.as_mut() {
            for r in 0..m {
                let gbar2: f64 = (0..d).map(|j| (acc[(r, j)] / run_sum[r]).powi(2)).sum();
                l[r] = sq[r] / run_sum[r] - gbar2;
                if !l[r].is_finite() {
                    return Err(MixtureError::NonFinite {
                        what: "Laplacian of the log-density (‖Σ⁻¹(x − μ)‖² overflows f64)".into(),
                        value: l[r],
                    });
                }
            }
        }
        if let Some(t) = log_terms.as_mut() {
            for i in 0..self.components() {
                for (v, &lp) in t.rb_mut().col_mut(i).iter_mut().zip(logpdf.iter()) {
                    *v = exp_or_zero(*v - lp);
                }
            }
        }
        Ok(())
    }
}

struct BlockOut<'a> {
    logpdf: &'a mut [f64],
    score: Option<MatMut<'a, f64>>,
    laplacian: Option<&'a mut [f64]>,
    /// Receives the log terms, then the responsibilities.
    log_terms: Option<MatMut<'a, f64>>,
}

struct Workspace {
    diff: Mat<f64>,
    y: Mat<f64>,
    acc: Mat<f64>,
    run_max: Vec<f64>,
    run_sum: Vec<f64>,
    quad: Vec<f64>,
    scale: Vec<f64>,
    weight: Vec<f64>,
    sq: Vec<f64>,
}

impl Workspace {
    fn new(rows: usize, d: usize) -> Self {
        Self {
            diff: Mat::zeros(rows, d),
            y: Mat::zeros(rows, d),
            acc: Mat::zeros(rows, d),
            run_max: vec![0.0; rows],
            run_sum: vec![0.0; rows],
            quad: vec![0.0; rows],
            scale: vec![0.0; rows],
            weight: vec![0.0; rows],
            sq: vec![0.0; rows],
        }
    }
}

/// Splits an optional `n`-row matrix into consecutive blocks of [`BLOCK_ROWS`] rows.
fn split_rows(m: Option<MatMut<'_, f64>>, n: usize) -> Vec<Option<MatMut<'_, f64>>> {
    let blocks = n.div_ceil(BLOCK_ROWS);
    match m {
        None => (0..blocks).map(|_| None).collect(),
        Some(mut rest) => {
            let mut out = Vec::with_capacity(blocks);
            while rest.nrows() > BLOCK_ROWS {
                let (head, tail) = rest.split_at_row_mut(BLOCK_ROWS);
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

/// `eˣ` for `x ≤ 0`, skipping the library call where the result is exactly zero anyway
/// (`x < −745.2`): far-away components would otherwise send every call down libm's slow underflow path.
#[inline]
fn exp_or_zero(x: f64) -> f64 {
    if x < -745.2 { 0.0 } else { x.exp() }
}

fn row(x: &[f64]) -> Mat<f64> {
    Mat::from_fn(1, x.len(), |_, j| x[j])
}
