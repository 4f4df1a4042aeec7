//! Small dense kernels with sequential parallelism, so results never depend on the thread count.

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt;
use faer::{Mat, MatRef, Par};

/// Lower Cholesky factor `L` with `A = L Lᵀ`, or `None` when `A` is not numerically positive definite.
pub(crate) fn cholesky(a: MatRef<'_, f64>) -> Option<Mat<f64>> {
    let n = a.nrows();
    let mut l = Mat::zeros(n, n);
    l.copy_from_triangular_lower(a);
    let mut mem = MemBuffer::new(llt::factor::cholesky_in_place_scratch::<f64>(n, Par::Seq, Default::default()));
    llt::factor::cholesky_in_place(l.as_mut(), Default::default(), Par::Seq, MemStack::new(&mut mem), Default::default()).ok()?;
    for j in 0..n {
        for i in 0..j {
            l[(i, j)] = 0.0;
        }
    }
    (0..n).all(|i| l[(i, i)].is_finite() && l[(i, i)] > 0.0).then_some(l)
}

/// `A⁻¹ = L⁻ᵀ L⁻¹` from the Cholesky factor, symmetrised.
pub(crate) fn spd_inverse(l: MatRef<'_, f64>) -> Mat<f64> {
    let n = l.nrows();
    let mut out = Mat::zeros(n, n);
    let mut mem = MemBuffer::new(llt::inverse::inverse_scratch::<f64>(n, Par::Seq));
    llt::inverse::inverse(out.as_mut(), l, Par::Seq, MemStack::new(&mut mem));
    for j in 0..n {
        for i in 0..j {
            out[(i, j)] = out[(j, i)];
        }
    }
    out
}

/// Eigenvalues (non-decreasing) and orthonormal eigenvectors of a symmetric matrix (lower half read).
pub(crate) fn symmetric_eigen(a: MatRef<'_, f64>) -> Option<(Vec<f64>, Mat<f64>)> {
    use faer::linalg::evd;
    let n = a.nrows();
    let mut u = Mat::zeros(n, n);
    let mut s = faer::diag::Diag::zeros(n);
    let scratch = evd::self_adjoint_evd_scratch::<f64>(n, evd::ComputeEigenvectors::Yes, Par::Seq, Default::default());
    let mut mem = MemBuffer::new(scratch);
    evd::self_adjoint_evd(a, s.as_mut(), Some(u.as_mut()), Par::Seq, MemStack::new(&mut mem), Default::default()).ok()?;
    let values = (0..n).map(|i| s[i]).collect();
    Some((values, u))
}
