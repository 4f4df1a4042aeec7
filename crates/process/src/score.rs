//! The batched score interface shared by targets, perturbations and samplers.

use crate::process::Coefficients;
use faer::{MatMut, MatRef};

/// A (possibly approximate) score `s(x, t) ≈ ∇ log p_t(x)` evaluated on a batch of points.
///
/// `x` holds one point per row (`n × d`); the score of row `i` is written to row `i` of `out`.
/// The noise level is passed as the process [`Coefficients`] at forward time `t`, so the same
/// score serves continuous processes and discrete chains alike.
///
/// ```
/// use faer::{Mat, MatMut, MatRef};
/// use gmdiff_process::{Coefficients, GaussianPath, Ou, Score};
///
/// /// The score of the diffused standard normal, which stays `N(0, I)` under OU: `s(x) = −x`.
/// struct StandardNormal(usize);
/// impl Score for StandardNormal {
///     type Error = std::convert::Infallible;
///     fn dim(&self) -> usize { self.0 }
///     fn score_into(&self, _: &Coefficients, x: MatRef<'_, f64>, mut out: MatMut<'_, f64>)
///         -> Result<(), Self::Error> {
///         out.copy_from(x);
///         out *= faer::Scale(-1.0);
///         Ok(())
///     }
/// }
/// let x = Mat::from_fn(3, 2, |i, j| (i + j) as f64);
/// let mut s = Mat::zeros(3, 2);
/// StandardNormal(2).score_into(&Ou::new(1.0).unwrap().at(0.5).unwrap(), x.as_ref(), s.as_mut()).unwrap();
/// assert_eq!(s[(2, 1)], -3.0);
/// ```
pub trait Score: Send + Sync {
    /// The error an evaluation can raise.
    type Error: std::error::Error + Send + Sync + 'static;
    /// The dimension `d`.
    fn dim(&self) -> usize;
    /// Writes `s(x_i, t)` into row `i` of `out`, for every row `x_i` of `x`.
    fn score_into(&self, at: &Coefficients, x: MatRef<'_, f64>, out: MatMut<'_, f64>) -> Result<(), Self::Error>;
    /// The data mean `E x₀` (length `d`), or `None` when the score does not know it (the default).
    ///
    /// It is the `x₀` prediction `E[x₀ | x_t]` where `a_t = 0` (the start of flow matching): there
    /// `x_t` carries no information about `x₀`, and Tweedie's `x̂₀ = (x + b² s)/a` is `0/0`.
    fn data_mean(&self) -> Option<Vec<f64>> {
        None
    }
}
