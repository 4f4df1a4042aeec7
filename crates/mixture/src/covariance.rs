//! Covariances with structure: isotropic `σ² I`, diagonal, and full.
use faer::prelude::ReborrowMut;

use crate::error::{MixtureError, check_finite};
use crate::linalg;
use faer::{Mat, MatMut, MatRef, Par, linalg::matmul::matmul};

/// A symmetric positive semi-definite covariance, stored by structure so that the cheap cases cost
/// what they should: `O(d)` for isotropic and diagonal covariances, `O(d²)`–`O(d³)` only for full ones.
///
/// ```
/// use gmdiff_mixture::Covariance;
/// let c = Covariance::diagonal(vec![1.0, 4.0]).unwrap();
/// assert_eq!(c.trace(), 5.0);
/// assert_eq!(c.diffused(0.5, 0.5f64.sqrt()).to_dense()[(1, 1)], 0.25 * 4.0 + 0.5);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Covariance {
    /// `σ² I_d`.
    Isotropic {
        /// The dimension `d`.
        dim: usize,
        /// The variance `σ² ≥ 0`.
        variance: f64,
    },
    /// `diag(σ₁², …, σ_d²)`.
    Diagonal(Vec<f64>),
    /// A full symmetric PSD matrix.
    Full(Mat<f64>),
}

impl Covariance {
    /// `σ² I_d`; needs `d ≥ 1` and `σ² ≥ 0` finite.
    pub fn isotropic(dim: usize, variance: f64) -> Result<Self, MixtureError> {
        if dim == 0 {
            return Err(MixtureError::ZeroDimension);
        }
        check_finite(|| "isotropic variance".into(), [variance])?;
        if variance < 0.0 {
            return Err(MixtureError::NotPositiveSemiDefinite { component: 0, min_eigenvalue: variance });
        }
        Ok(Covariance::Isotropic { dim, variance })
    }

    /// `diag(v)`; needs a non-empty `v` of finite, non-negative variances.
    pub fn diagonal(variances: Vec<f64>) -> Result<Self, MixtureError> {
        if variances.is_empty() {
            return Err(MixtureError::ZeroDimension);
        }
        check_finite(|| "diagonal variances".into(), variances.iter().copied())?;
        if let Some(&v) = variances.iter().find(|&&v| v < 0.0) {
            return Err(MixtureError::NotPositiveSemiDefinite { component: 0, min_eigenvalue: v });
        }
        Ok(Covariance::Diagonal(variances))
    }

    /// A full covariance; it must be square, finite, symmetric to a relative
    /// [`gmdiff_process::COVARIANCE_RTOL`] (it is then symmetrised exactly) and positive
    /// semi-definite to the same relative tolerance of its largest eigenvalue: the one validator
    /// of the workspace, [`gmdiff_process::check_covariance`].
    pub fn full(matrix: Mat<f64>) -> Result<Self, MixtureError> {
        Ok(Covariance::Full(gmdiff_process::check_covariance(matrix.as_ref())?))
    }

    /// Checks that every entry is finite.
    pub(crate) fn check_finite(&self, what: &str) -> Result<(), MixtureError> {
        match self {
            Covariance::Isotropic { variance, .. } => check_finite(|| what.into(), [*variance]),
            Covariance::Diagonal(v) => check_finite(|| what.into(), v.iter().copied()),
            Covariance::Full(m) => check_finite(|| what.into(), (0..m.ncols()).flat_map(|j| (0..m.nrows()).map(move |i| m[(i, j)]))),
        }
    }

    /// The dimension `d`.
    pub fn dim(&self) -> usize {
        match self {
            Covariance::Isotropic { dim, .. } => *dim,
            Covariance::Diagonal(v) => v.len(),
            Covariance::Full(m) => m.nrows(),
        }
    }

    /// `tr Σ`.
    pub fn trace(&self) -> f64 {
        match self {
            Covariance::Isotropic { dim, variance } => *dim as f64 * variance,
            Covariance::Diagonal(v) => v.iter().sum(),
            Covariance::Full(m) => (0..m.nrows()).map(|i| m[(i, i)]).sum(),
        }
    }

    /// The diffused covariance `a² Σ + b² I` (closure lemma, THEORY §1); the structure is kept.
    pub fn diffused(&self, a: f64, b: f64) -> Self {
        let (a2, b2) = (a * a, b * b);
        match self {
            Covariance::Isotropic { dim, variance } => Covariance::Isotropic { dim: *dim, variance: a2 * variance + b2 },
            Covariance::Diagonal(v) => Covariance::Diagonal(v.iter().map(|v| a2 * v + b2).collect()),
            Covariance::Full(m) => {
                let d = m.nrows();
                Covariance::Full(Mat::from_fn(d, d, |i, j| a2 * m[(i, j)] + if i == j { b2 } else { 0.0 }))
            }
        }
    }

    /// The dense `d × d` matrix.
    pub fn to_dense(&self) -> Mat<f64> {
        match self {
            Covariance::Isotropic { dim, variance } => Mat::from_fn(*dim, *dim, |i, j| if i == j { *variance } else { 0.0 }),
            Covariance::Diagonal(v) => Mat::from_fn(v.len(), v.len(), |i, j| if i == j { v[i] } else { 0.0 }),
            Covariance::Full(m) => m.clone(),
        }
    }

    /// The eigenvalues of `Σ`, in non-decreasing order.
    pub fn eigenvalues(&self) -> Vec<f64> {
        let mut v = match self {
            Covariance::Isotropic { dim, variance } => vec![*variance; *dim],
            Covariance::Diagonal(v) => v.clone(),
            Covariance::Full(m) => linalg::symmetric_eigen(m.as_ref()).map(|(v, _)| v).unwrap_or_default(),
        };
        v.sort_by(f64::total_cmp);
        v
    }

    /// A square root `C` with `C Cᵀ = Σ`: Cholesky when `Σ` is definite, else `U Λ^{1/2}` from the
    /// eigendecomposition (so singular covariances sample exactly on their support).
    pub fn sqrt_factor(&self) -> Factor {
        match self {
            Covariance::Isotropic { dim, variance } => Factor::Scalar { dim: *dim, value: variance.sqrt() },
            Covariance::Diagonal(v) => Factor::Diagonal(v.iter().map(|v| v.sqrt()).collect()),
            Covariance::Full(m) => Factor::Full(linalg::cholesky(m.as_ref()).unwrap_or_else(|| {
                let (values, u) = linalg::symmetric_eigen(m.as_ref()).expect("validated symmetric matrix");
                let d = m.nrows();
                Mat::from_fn(d, d, |i, j| u[(i, j)] * values[j].max(0.0).sqrt())
            })),
        }
    }

    /// The precision `Σ⁻¹` and `log det Σ`, or [`MixtureError::SingularCovariance`].
    pub fn precision(&self) -> Result<Precision, MixtureError> {
        let singular = MixtureError::SingularCovariance { component: 0 };
        match self {
            Covariance::Isotropic { dim, variance } => {
                if *variance > 0.0 && (1.0 / variance).is_finite() {
                    Ok(Precision { factor: Factor::Scalar { dim: *dim, value: 1.0 / variance }, log_det_cov: *dim as f64 * variance.ln() })
                } else {
                    Err(singular)
                }
            }
            Covariance::Diagonal(v) => {
                if v.iter().all(|&v| v > 0.0 && (1.0 / v).is_finite()) {
                    Ok(Precision {
                        factor: Factor::Diagonal(v.iter().map(|v| 1.0 / v).collect()),
                        log_det_cov: v.iter().map(|v| v.ln()).sum(),
                    })
                } else {
                    Err(singular)
                }
            }
            Covariance::Full(m) => {
                let l = linalg::cholesky(m.as_ref()).ok_or(singular.clone())?;
                let log_det_cov = 2.0 * (0..l.nrows()).map(|i| l[(i, i)].ln()).sum::<f64>();
                let p = linalg::spd_inverse(l.as_ref());
                let finite = (0..p.ncols()).all(|j| (0..p.nrows()).all(|i| p[(i, j)].is_finite()));
                if finite { Ok(Precision { factor: Factor::Full(p), log_det_cov }) } else { Err(singular) }
            }
        }
    }
}

/// Up to this dimension [`Factor::apply_rows`] writes the product out instead of calling a GEMM.
const SMALL_DIM: usize = 8;

/// `out = X Mᵀ` written out column by column, each a vectorisable loop over the rows; for
/// `d ≤ SMALL_DIM`. Inlined, so that it takes the instruction set of its caller.
#[inline(always)]
fn small_product(m: MatRef<'_, f64>, x: MatRef<'_, f64>, mut out: MatMut<'_, f64>) {
    for j in 0..m.nrows() {
        let mut o = out.rb_mut().col_mut(j);
        for (o, &v) in o.rb_mut().iter_mut().zip(x.col(0).iter()) {
            *o = m[(j, 0)] * v;
        }
        for l in 1..m.ncols() {
            let c = m[(j, l)];
            for (o, &v) in o.rb_mut().iter_mut().zip(x.col(l).iter()) {
                *o += c * v;
            }
        }
    }
}

/// A structured linear map `x ↦ M x` (scalar, diagonal or full), used for precisions and square roots.
#[derive(Debug, Clone, PartialEq)]
pub enum Factor {
    /// `c I_d`.
    Scalar {
        /// The dimension `d`.
        dim: usize,
        /// The scalar `c`.
        value: f64,
    },
    /// `diag(m)`.
    Diagonal(Vec<f64>),
    /// A full matrix `M`.
    Full(Mat<f64>),
}

impl Factor {
    /// Writes `X Mᵀ` into `out` for a batch `X` (one point per row), i.e. `M x` for every row `x`.
    ///
    /// For the symmetric precisions this is `X M`, one GEMM for the full case.
    pub fn apply_rows(&self, x: MatRef<'_, f64>, mut out: MatMut<'_, f64>) {
        match self {
            Factor::Scalar { value, .. } => {
                for j in 0..x.ncols() {
                    for (o, &v) in out.rb_mut().col_mut(j).iter_mut().zip(x.col(j).iter()) {
                        *o = value * v;
                    }
                }
            }
            Factor::Diagonal(m) => {
                for (j, &mj) in m.iter().enumerate() {
                    for (o, &v) in out.rb_mut().col_mut(j).iter_mut().zip(x.col(j).iter()) {
                        *o = mj * v;
                    }
                }
            }
            // In small dimensions the product is written out: a GEMM call costs more than its d²
            // multiplications per row.
            Factor::Full(m) if m.nrows() <= SMALL_DIM => small_product(m.as_ref(), x, out),
            Factor::Full(m) => {
                matmul(out, faer::Accum::Replace, x, m.transpose(), 1.0, Par::Seq);
                clear_upper_simd_state();
            }
        }
    }

    /// `X M` for a symmetric `M` (a precision: `spd_inverse` copies its lower half, so it is
    /// exactly symmetric), the same product as [`Factor::apply_rows`]. A full `M` is passed to the
    /// GEMM itself, column-major, which packs faster than the transposed view `apply_rows` takes
    /// (the score at n = 2000, d = 512, k = 4: 41.7 ms against 50 ms). Inlined, so that the
    /// written-out small-`d` product takes the caller's instruction set (the mixture's
    /// vectorised block).
    #[inline(always)]
    pub(crate) fn apply_rows_symmetric(&self, x: MatRef<'_, f64>, mut out: MatMut<'_, f64>) {
        match self {
            Factor::Full(m) if m.nrows() <= SMALL_DIM => small_product(m.as_ref(), x, out),
            Factor::Full(m) => {
                matmul(out.rb_mut(), faer::Accum::Replace, x, m.as_ref(), 1.0, Par::Seq);
                clear_upper_simd_state();
            }
            _ => self.apply_rows(x, out),
        }
    }

    /// `M v` for one vector `v` of length `d`.
    pub(crate) fn apply(&self, v: &[f64]) -> Vec<f64> {
        match self {
            Factor::Scalar { value, .. } => v.iter().map(|x| value * x).collect(),
            Factor::Diagonal(m) => v.iter().zip(m).map(|(x, m)| m * x).collect(),
            Factor::Full(_) => {
                let x = MatRef::from_row_major_slice(v, 1, v.len());
                let mut y = Mat::zeros(1, v.len());
                self.apply_rows(x, y.as_mut());
                (0..v.len()).map(|j| y[(0, j)]).collect()
            }
        }
    }

    /// `M` as a dense matrix.
    pub fn to_dense(&self) -> Mat<f64> {
        match self {
            Factor::Scalar { dim, value } => Mat::from_fn(*dim, *dim, |i, j| if i == j { *value } else { 0.0 }),
            Factor::Diagonal(m) => Mat::from_fn(m.len(), m.len(), |i, j| if i == j { m[i] } else { 0.0 }),
            Factor::Full(m) => m.clone(),
        }
    }

    /// `tr M`.
    pub fn trace(&self) -> f64 {
        match self {
            Factor::Scalar { dim, value } => *dim as f64 * value,
            Factor::Diagonal(m) => m.iter().sum(),
            Factor::Full(m) => (0..m.nrows()).map(|i| m[(i, i)]).sum(),
        }
    }

    /// Adds `c M` to the dense matrix `h`.
    pub fn add_scaled_to(&self, c: f64, h: &mut Mat<f64>) {
        match self {
            Factor::Scalar { dim, value } => (0..*dim).for_each(|i| h[(i, i)] += c * value),
            Factor::Diagonal(m) => m.iter().enumerate().for_each(|(i, v)| h[(i, i)] += c * v),
            Factor::Full(m) => {
                for j in 0..m.ncols() {
                    for i in 0..m.nrows() {
                        h[(i, j)] += c * m[(i, j)];
                    }
                }
            }
        }
    }
}

/// The precision `Σ⁻¹` of a non-singular covariance, with `log det Σ`.
#[derive(Debug, Clone, PartialEq)]
pub struct Precision {
    /// `Σ⁻¹`, with the structure of `Σ`.
    pub factor: Factor,
    /// `log det Σ`.
    pub log_det_cov: f64,
}

/// Clears the upper halves of the vector registers after faer's AVX/AVX-512 kernels, so the
/// scalar SSE code and libm calls that follow do not pay the dirty-upper-state penalty.
#[inline]
pub(crate) fn clear_upper_simd_state() {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: the AVX feature was detected at run time.
        unsafe { std::arch::x86_64::_mm256_zeroupper() }
    }
}
