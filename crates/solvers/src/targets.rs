//! Gaussian targets with exact affine scores, and scores with a controlled error.

use crate::error::SolverError;
use crate::law::{Coef, Dense, Diag, LinearScore, Marginal, Op};
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatMut, MatRef, Par};
use gmdiff_process::{Coefficients, Conversion, Prediction, Score};

/// The data `N(μ, Σ)` given in an orthonormal eigenbasis of `Σ`: eigenvalues `λ_i ≥ 0` and the mean's
/// coordinates `m_i = u_iᵀ μ` (the spectral fast path).
///
/// The exact score at `(a, b)` is diagonal: `L_i = −1/(a² λ_i + b²)`, `c_i = a m_i/(a² λ_i + b²)`.
/// Where `a² λ_i + b² = 0` (a zero eigenvalue at `t = 0`) the score is infinite:
/// [`SolverError::SingularScore`].
///
/// ```
/// use gmdiff_solvers::{LinearScore, SpectralGaussian, Op};
/// use gmdiff_process::{GaussianPath, Ou};
/// let g = SpectralGaussian::centred(vec![0.0, 4.0]).unwrap();
/// let (l, c) = g.affine(&Ou::new(1.0).unwrap().at(1.0).unwrap()).unwrap();
/// let Op::Full(l) = l else { panic!() };
/// let a2 = (-2.0f64).exp();
/// assert!((l.0[1] + 1.0 / (4.0 * a2 + 1.0 - a2)).abs() < 1e-15);
/// assert!(c.is_none());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SpectralGaussian {
    eigenvalues: Vec<f64>,
    mean: Option<Vec<f64>>,
}

impl SpectralGaussian {
    /// Centred data with the given eigenvalues (finite, `≥ 0`; `−0.0` is read as `0`).
    pub fn centred(eigenvalues: Vec<f64>) -> Result<Self, SolverError> {
        Self::new(eigenvalues, None)
    }
    /// Data with eigenvalues `λ_i` and mean coordinates `m_i` in the eigenbasis.
    pub fn new(eigenvalues: Vec<f64>, mean: Option<Vec<f64>>) -> Result<Self, SolverError> {
        if eigenvalues.is_empty() {
            return Err(SolverError::Dimension { what: "spectrum", expected: 1, found: 0 });
        }
        let mut eigenvalues = eigenvalues;
        for v in &mut eigenvalues {
            if !(v.is_finite() && *v >= 0.0) {
                return Err(SolverError::InvalidParameter { name: "eigenvalue", value: *v, reason: "must be finite and ≥ 0" });
            }
            *v = v.abs();
        }
        if let Some(m) = &mean {
            if m.len() != eigenvalues.len() {
                return Err(SolverError::Dimension { what: "mean coordinates", expected: eigenvalues.len(), found: m.len() });
            }
            if let Some(v) = m.iter().find(|v| !v.is_finite()) {
                return Err(SolverError::InvalidParameter { name: "mean", value: *v, reason: "must be finite" });
            }
        }
        Ok(Self { eigenvalues, mean })
    }
    /// The eigenvalues `λ_i`.
    pub fn eigenvalues(&self) -> &[f64] {
        &self.eigenvalues
    }
    /// The mean coordinates (None when centred).
    pub fn mean(&self) -> Option<&[f64]> {
        self.mean.as_deref()
    }
    /// The sub-problem on coordinates `range` (the coordinates decouple).
    pub fn slice(&self, range: std::ops::Range<usize>) -> Self {
        Self { eigenvalues: self.eigenvalues[range.clone()].to_vec(), mean: self.mean.as_ref().map(|m| m[range].to_vec()) }
    }
}

impl LinearScore<Diag> for SpectralGaussian {
    fn dim(&self) -> usize {
        self.eigenvalues.len()
    }
    fn affine(&self, at: &Coefficients) -> Result<(Op<Diag>, Option<Vec<f64>>), SolverError> {
        let (a2, b2) = (at.a * at.a, at.b * at.b);
        // a², b², λ ≥ 0, so a² λ + b² ≥ b²: when 1/b² is finite no L_i can be infinite and the
        // division loop (the hot spot of the spectral path) runs vectorised without any check.
        let l = crate::lanes::neg_recip_variance(&self.eigenvalues, a2, b2);
        if !(b2 > 0.0 && (1.0 / b2).is_finite()) && l.iter().any(|x| !x.is_finite()) {
            return Err(SolverError::SingularScore { t: at.t });
        }
        let c = self.mean.as_ref().map(|m| m.iter().zip(&l).map(|(m, l)| -at.a * m * l).collect());
        Ok((Op::Full(Diag(l)), c))
    }
    fn data_mean(&self) -> Option<Option<Vec<f64>>> {
        Some(self.mean.clone())
    }
    fn marginal(&self, at: &Coefficients) -> Marginal<Diag> {
        let (a2, b2) = (at.a * at.a, at.b * at.b);
        Marginal {
            mean: self.mean.as_ref().map(|m| m.iter().map(|m| at.a * m).collect()),
            cov: Op::Full(Diag(self.eigenvalues.iter().map(|v| a2 * v + b2).collect())),
        }
    }
}

/// The data `N(μ, Σ)` with a full (possibly singular) covariance and its exact affine score
/// `s_t(x) = −Σ_t⁻¹ (x − a μ)`, `Σ_t = a² Σ + b² I = U diag(a² λ + b²) Uᵀ`.
///
/// It is both a [`LinearScore`] (exact laws) and a batched [`Score`] (particles).
///
/// ```
/// use gmdiff_solvers::DenseGaussian;
/// use gmdiff_process::{GaussianPath, Score, VpLinear};
/// let g = DenseGaussian::new(vec![1.0, 0.0], faer::mat![[2.0, 0.5], [0.5, 1.0]]).unwrap();
/// let at = VpLinear::default().at(0.3).unwrap();
/// let x = faer::mat![[0.2, -0.1]];
/// let mut s = faer::Mat::zeros(1, 2);
/// g.score_into(&at, x.as_ref(), s.as_mut()).unwrap();
/// assert!(s[(0, 0)].is_finite());
/// ```
#[derive(Debug, Clone)]
pub struct DenseGaussian {
    mean: Vec<f64>,
    cov: Mat<f64>,
    values: Vec<f64>,
    vectors: Mat<f64>,
}

impl DenseGaussian {
    /// `N(mean, cov)`; `cov` must pass the workspace's one covariance check,
    /// [`gmdiff_process::covariance_eigen`]: symmetric and positive semi-definite to a relative
    /// [`gmdiff_process::COVARIANCE_RTOL`] (tiny negative eigenvalues are set to 0).
    pub fn new(mean: Vec<f64>, cov: Mat<f64>) -> Result<Self, SolverError> {
        let d = mean.len();
        if d == 0 || cov.nrows() != d || cov.ncols() != d {
            return Err(SolverError::Dimension { what: "covariance (d × d)", expected: d, found: cov.nrows() });
        }
        if let Some(v) = mean.iter().find(|v| !v.is_finite()) {
            return Err(SolverError::InvalidParameter { name: "mean", value: *v, reason: "must be finite" });
        }
        use gmdiff_process::CovarianceError as C;
        let c = gmdiff_process::covariance_eigen(cov.as_ref()).map_err(|e| match e {
            C::NonFinite { value, .. } => SolverError::InvalidParameter { name: "covariance entry", value, reason: "must be finite" },
            C::NotSymmetric { gap, .. } => {
                SolverError::InvalidParameter { name: "covariance asymmetry", value: gap, reason: "covariance must be symmetric" }
            }
            C::NotPositiveSemiDefinite { min_eigenvalue } => SolverError::InvalidParameter {
                name: "covariance eigenvalue",
                value: min_eigenvalue,
                reason: "covariance must be positive semi-definite",
            },
            _ => SolverError::InvalidParameter { name: "covariance", value: f64::NAN, reason: "eigendecomposition did not converge" },
        })?;
        Ok(Self { mean, cov: c.matrix, values: c.values, vectors: c.vectors })
    }
    /// The mean `μ`.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }
    /// The covariance `Σ`.
    pub fn cov(&self) -> MatRef<'_, f64> {
        self.cov.as_ref()
    }
    /// The eigenvalues of `Σ` (non-decreasing) and the orthonormal eigenvectors (columns).
    pub fn eigen(&self) -> (&[f64], MatRef<'_, f64>) {
        (&self.values, self.vectors.as_ref())
    }
    /// The same data in its eigenbasis, for the spectral fast path.
    pub fn spectral(&self) -> SpectralGaussian {
        let d = self.mean.len();
        let m: Vec<f64> = (0..d).map(|j| (0..d).map(|i| self.vectors[(i, j)] * self.mean[i]).sum()).collect();
        let mean = if m.iter().all(|v| *v == 0.0) { None } else { Some(m) };
        SpectralGaussian { eigenvalues: self.values.clone(), mean }
    }
    /// `U diag(f(λ_i)) Uᵀ`.
    fn spectral_fn(&self, f: impl Fn(f64) -> f64) -> Mat<f64> {
        let d = self.mean.len();
        let scaled = Mat::from_fn(d, d, |i, j| self.vectors[(i, j)] * f(self.values[j]));
        let mut out = Mat::zeros(d, d);
        matmul(out.as_mut(), Accum::Replace, scaled.as_ref(), self.vectors.transpose(), 1.0, Par::Seq);
        out
    }
    /// `(L_t, c_t)` as dense matrices.
    fn dense_affine(&self, at: &Coefficients) -> Result<(Mat<f64>, Vec<f64>), SolverError> {
        let (a2, b2) = (at.a * at.a, at.b * at.b);
        if self.values.iter().any(|&v| {
            let var = a2 * v + b2;
            var <= 0.0 || !(1.0 / var).is_finite()
        }) {
            return Err(SolverError::SingularScore { t: at.t });
        }
        let l = self.spectral_fn(|v| -1.0 / (a2 * v + b2));
        let am: Vec<f64> = self.mean.iter().map(|m| at.a * m).collect();
        let c = Dense(l.clone()).apply(&am).into_iter().map(|v| -v).collect();
        Ok((l, c))
    }
}

impl LinearScore<Dense> for DenseGaussian {
    fn dim(&self) -> usize {
        self.mean.len()
    }
    fn affine(&self, at: &Coefficients) -> Result<(Op<Dense>, Option<Vec<f64>>), SolverError> {
        let (l, c) = self.dense_affine(at)?;
        Ok((Op::Full(Dense(l)), Some(c)))
    }
    fn data_mean(&self) -> Option<Option<Vec<f64>>> {
        Some(Some(self.mean.clone()))
    }
    fn marginal(&self, at: &Coefficients) -> Marginal<Dense> {
        let mut cov = Dense(self.cov.clone());
        cov.scale(at.a * at.a);
        cov.add_identity(at.b * at.b);
        Marginal { mean: Some(self.mean.iter().map(|m| at.a * m).collect()), cov: Op::Full(cov) }
    }
}

/// `out ← x Lᵀ + c` row by row (`L` symmetric or not).
fn affine_rows(l: MatRef<'_, f64>, c: Option<&[f64]>, x: MatRef<'_, f64>, mut out: MatMut<'_, f64>, accum: Accum) {
    matmul(out.rb_mut(), accum, x, l.transpose(), 1.0, Par::Seq);
    if let Some(c) = c {
        for j in 0..out.ncols() {
            for i in 0..out.nrows() {
                out[(i, j)] += c[j];
            }
        }
    }
}

use faer::prelude::ReborrowMut;

impl Score for DenseGaussian {
    type Error = SolverError;
    fn dim(&self) -> usize {
        self.mean.len()
    }
    fn score_into(&self, at: &Coefficients, x: MatRef<'_, f64>, out: MatMut<'_, f64>) -> Result<(), SolverError> {
        let (l, c) = self.dense_affine(at)?;
        affine_rows(l.as_ref(), Some(&c), x, out, Accum::Replace);
        Ok(())
    }
    fn data_mean(&self) -> Option<Vec<f64>> {
        Some(self.mean.clone())
    }
}

/// A score multiplied by `1 + δ`: `s̃ = (1 + δ) s` (a commuting, linear score error).
///
/// ```
/// use gmdiff_solvers::{LinearScore, Op, ScaledScore, SpectralGaussian};
/// use gmdiff_process::{GaussianPath, Ou};
/// let g = ScaledScore::new(SpectralGaussian::centred(vec![1.0]).unwrap(), 0.1);
/// let (l, _) = g.affine(&Ou::new(1.0).unwrap().at(0.5).unwrap()).unwrap();
/// assert_eq!(l, Op::Full(gmdiff_solvers::Diag(vec![-1.1])));
/// ```
#[derive(Debug, Clone)]
pub struct ScaledScore<T> {
    inner: T,
    factor: f64,
}

impl<T> ScaledScore<T> {
    /// `s̃ = (1 + delta) s`.
    pub fn new(inner: T, delta: f64) -> Self {
        Self { inner, factor: 1.0 + delta }
    }
}

impl<C: Coef, T: LinearScore<C>> LinearScore<C> for ScaledScore<T> {
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn affine(&self, at: &Coefficients) -> Result<(Op<C>, Option<Vec<f64>>), SolverError> {
        let (l, c) = self.inner.affine(at)?;
        Ok((l.scaled(self.factor), c.map(|c| c.into_iter().map(|v| v * self.factor).collect())))
    }
    fn marginal(&self, at: &Coefficients) -> Marginal<C> {
        self.inner.marginal(at)
    }
}

impl<T: Score> Score for ScaledScore<T> {
    type Error = T::Error;
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn score_into(&self, at: &Coefficients, x: MatRef<'_, f64>, mut out: MatMut<'_, f64>) -> Result<(), T::Error> {
        self.inner.score_into(at, x, out.rb_mut())?;
        out *= faer::Scale(self.factor);
        Ok(())
    }
}

/// Checks that a perturbation `E` (when present) is `d × d` and a shift `u` has `d` entries.
fn check_perturbation<C: Coef>(d: usize, matrix: Option<&C>, shift: Option<&[f64]>) -> Result<(), SolverError> {
    if let Some((rows, cols)) = matrix.map(Coef::shape)
        && (rows != d || cols != d)
    {
        return Err(SolverError::Dimension {
            what: "perturbation matrix E (d × d) vs score",
            expected: d,
            found: if rows != d { rows } else { cols },
        });
    }
    match shift {
        Some(u) if u.len() != d => Err(SolverError::Dimension { what: "perturbation shift u vs score", expected: d, found: u.len() }),
        _ => Ok(()),
    }
}

/// An additive affine perturbation field: `s̃_t(x) = s_t(x) + E x + u` with a fixed matrix `E`
/// (dense, or diagonal in the spectral basis) and shift `u`. `‖s̃ − s‖ ≤ ‖E‖ ‖x‖ + ‖u‖` controls
/// the score error `ε_score`; `E` need not commute with the data covariance.
///
/// The error can be injected in any prediction space ([`AffinePerturbation::in_space`]): the model's
/// output `p̃ = p + E x + u` in the space of `kind` (ε, x₀, v, flow velocity) is, in score space,
/// `s̃ = s + q_t (E x + u)` with `q_t` the coefficient of the value in the one conversion
/// `kind → score` ([`gmdiff_process::Conversion`]): `−1/b` for ε, `a/b²` for x₀, `−a/b` for v on VP.
///
/// ```
/// use gmdiff_solvers::{AffinePerturbation, Diag, LinearScore, SpectralGaussian};
/// use gmdiff_process::{GaussianPath, Ou};
/// let g = AffinePerturbation::new(SpectralGaussian::centred(vec![1.0]).unwrap(), None::<Diag>, Some(vec![0.01]));
/// let (_, c) = g.affine(&Ou::new(1.0).unwrap().at(0.5).unwrap()).unwrap();
/// assert_eq!(c, Some(vec![0.01]));
/// ```
#[derive(Debug, Clone)]
pub struct AffinePerturbation<T, C> {
    inner: T,
    matrix: Option<C>,
    shift: Option<Vec<f64>>,
    space: Prediction,
}

impl<T, C> AffinePerturbation<T, C> {
    /// `s̃ = s + E x + u` (the error in score space).
    pub fn new(inner: T, matrix: Option<C>, shift: Option<Vec<f64>>) -> Self {
        Self { inner, matrix, shift, space: Prediction::Score }
    }
    /// The same error `E x + u` added to the model's prediction of `kind` instead of the score.
    pub fn in_space(mut self, kind: Prediction) -> Self {
        self.space = kind;
        self
    }
    /// `q_t`: the score-space weight of an error in this perturbation's prediction space at `at`.
    fn weight(&self, at: &Coefficients) -> Result<f64, SolverError> {
        Conversion::new(self.space, Prediction::Score, at)
            .map(|c| c.q)
            .map_err(|e| SolverError::Score { t: at.t, message: format!("a score error in {} space: {e}", self.space) })
    }
}

impl<C: Coef, T: LinearScore<C>> LinearScore<C> for AffinePerturbation<T, C> {
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn affine(&self, at: &Coefficients) -> Result<(Op<C>, Option<Vec<f64>>), SolverError> {
        check_perturbation(self.inner.dim(), self.matrix.as_ref(), self.shift.as_deref())?;
        let q = self.weight(at)?;
        let (mut l, c) = self.inner.affine(at)?;
        if let Some(e) = &self.matrix {
            l.add_scaled(q, &Op::Full(e.clone()));
        }
        let c = match (c, &self.shift) {
            (c, None) => c,
            (None, Some(u)) => Some(u.iter().map(|u| q * u).collect()),
            (Some(c), Some(u)) => Some(c.iter().zip(u).map(|(a, b)| a + q * b).collect()),
        };
        Ok((l, c))
    }
    fn marginal(&self, at: &Coefficients) -> Marginal<C> {
        self.inner.marginal(at)
    }
}

impl<T: Score> Score for AffinePerturbation<T, Dense> {
    type Error = SolverError;
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn score_into(&self, at: &Coefficients, x: MatRef<'_, f64>, mut out: MatMut<'_, f64>) -> Result<(), SolverError> {
        check_perturbation(self.inner.dim(), self.matrix.as_ref(), self.shift.as_deref())?;
        let q = self.weight(at)?;
        self.inner.score_into(at, x, out.rb_mut()).map_err(|e| SolverError::Score { t: at.t, message: e.to_string() })?;
        if let Some(e) = &self.matrix {
            matmul(out.rb_mut(), Accum::Add, x, e.0.transpose(), q, Par::Seq);
        }
        if let Some(u) = &self.shift {
            for j in 0..out.ncols() {
                for i in 0..out.nrows() {
                    out[(i, j)] += q * u[j];
                }
            }
        }
        Ok(())
    }
}

/// A score with a perturbed precision: `s̃_t(x) = −(Σ_t⁻¹ + E)(x − a_t μ)` for a Gaussian target,
/// i.e. the exact score plus `−E (x − a_t μ)`.
///
/// ```
/// use gmdiff_solvers::{Dense, DenseGaussian, LinearScore, PerturbedPrecision};
/// use gmdiff_process::{GaussianPath, VpLinear};
/// let g = DenseGaussian::new(vec![1.0, 2.0], faer::mat![[1.0, 0.0], [0.0, 1.0]]).unwrap();
/// let p = PerturbedPrecision::new(g, Dense(faer::mat![[0.0, 0.1], [0.1, 0.0]]));
/// let (l, _) = p.affine(&VpLinear::default().at(0.0).unwrap()).unwrap();
/// let gmdiff_solvers::Op::Full(l) = l else { panic!() };
/// assert!((l.0[(0, 1)] + 0.1).abs() < 1e-15);
/// ```
#[derive(Debug, Clone)]
pub struct PerturbedPrecision<T, C> {
    inner: T,
    e: C,
}

impl<T, C> PerturbedPrecision<T, C> {
    /// `s̃ = s − E (x − a_t μ)`.
    pub fn new(inner: T, e: C) -> Self {
        Self { inner, e }
    }
}

impl<C: Coef, T: LinearScore<C>> LinearScore<C> for PerturbedPrecision<T, C> {
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn affine(&self, at: &Coefficients) -> Result<(Op<C>, Option<Vec<f64>>), SolverError> {
        check_perturbation(self.inner.dim(), Some(&self.e), None)?;
        let (mut l, c) = self.inner.affine(at)?;
        l.add_scaled(-1.0, &Op::Full(self.e.clone()));
        let m = self.inner.marginal(at).mean;
        let c = match (c, m) {
            (c, None) => c,
            (None, Some(m)) => Some(self.e.apply(&m)),
            (Some(c), Some(m)) => Some(c.iter().zip(self.e.apply(&m)).map(|(a, b)| a + b).collect()),
        };
        Ok((l, c))
    }
    fn marginal(&self, at: &Coefficients) -> Marginal<C> {
        self.inner.marginal(at)
    }
}

impl<T: Score + LinearScore<Dense>> Score for PerturbedPrecision<T, Dense> {
    type Error = SolverError;
    fn dim(&self) -> usize {
        Score::dim(&self.inner)
    }
    fn score_into(&self, at: &Coefficients, x: MatRef<'_, f64>, mut out: MatMut<'_, f64>) -> Result<(), SolverError> {
        check_perturbation(Score::dim(&self.inner), Some(&self.e), None)?;
        self.inner.score_into(at, x, out.rb_mut()).map_err(|e| SolverError::Score { t: at.t, message: e.to_string() })?;
        let mut neg = self.e.0.clone();
        neg *= faer::Scale(-1.0);
        let shift = self.inner.marginal(at).mean.map(|m| self.e.apply(&m));
        affine_rows(neg.as_ref(), shift.as_deref(), x, out, Accum::Add);
        Ok(())
    }
}

/// A score plus a (possibly nonlinear) additive field: `s̃_t(x) = s_t(x) + ε f(t, x)`, row by row.
///
/// ```
/// use gmdiff_solvers::{DenseGaussian, FieldPerturbation};
/// let g = DenseGaussian::new(vec![0.0], faer::mat![[1.0]]).unwrap();
/// let p = FieldPerturbation::new(g, 0.01, |_t: &gmdiff_process::Coefficients, x: &[f64], out: &mut [f64]| out[0] = x[0].sin());
/// assert_eq!(p.epsilon(), 0.01);
/// ```
pub struct FieldPerturbation<S, F> {
    inner: S,
    epsilon: f64,
    field: F,
}

impl<S, F> FieldPerturbation<S, F> {
    /// `s̃ = s + epsilon · f`.
    pub fn new(inner: S, epsilon: f64, field: F) -> Self {
        Self { inner, epsilon, field }
    }
    /// `ε`.
    pub fn epsilon(&self) -> f64 {
        self.epsilon
    }
}

impl<S: Score, F: Fn(&Coefficients, &[f64], &mut [f64]) + Send + Sync> Score for FieldPerturbation<S, F> {
    type Error = S::Error;
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn score_into(&self, at: &Coefficients, x: MatRef<'_, f64>, mut out: MatMut<'_, f64>) -> Result<(), S::Error> {
        self.inner.score_into(at, x, out.rb_mut())?;
        let d = x.ncols();
        let (mut row, mut f) = (vec![0.0; d], vec![0.0; d]);
        for i in 0..x.nrows() {
            for j in 0..d {
                row[j] = x[(i, j)];
            }
            (self.field)(at, &row, &mut f);
            for j in 0..d {
                out[(i, j)] += self.epsilon * f[j];
            }
        }
        Ok(())
    }
}
