//! Gaussian mixtures in `d` dimensions, with exact densities, scores, Hessians and the diffused law.
//!
//! * [`Covariance`]: isotropic, diagonal or full, validated symmetric PSD, and priced by structure.
//! * [`Gaussian`], [`GaussianMixture`]: validated laws; [`GaussianMixture::diffused`] is the closure
//!   lemma `x_t = a_t x_0 + b_t z ~ Σ_i w_i N(a_t μ_i, a_t² Σ_i + b_t² I)` (THEORY §1).
//! * [`MixtureDensity`]: the factorised mixture, with batched, parallel, GEMM-shaped evaluation of
//!   the log-density (stable logsumexp), score, Hessian, Laplacian and responsibilities.
//! * [`GaussianMixture`] implements [`gmdiff_process::Score`] with its exact diffused score.
//!
//! Runnable examples: `examples/diffuse_and_score.rs` (the closure lemma, the score against finite
//! differences of the log-density) and `examples/sample_moments.rs` (exact sampling against the
//! mean, covariance, responsibilities and the identity `E[Δ log p + ‖∇ log p‖²] = 0`); run with
//! `cargo run --release -p gmdiff-mixture --example <name>`.
//!
//! ```
//! use gmdiff_mixture::GaussianMixture;
//! use gmdiff_process::{GaussianPath, VpLinear};
//! let m: GaussianMixture = serde_json::from_str(r#"{
//!     "weights": [0.3, 0.7],
//!     "means": [[0.0, 0.0], [3.0, 1.0]],
//!     "covariances": [[[1.0, 0.2], [0.2, 0.5]], [[2.0, 0.0], [0.0, 1.0]]]
//! }"#).unwrap();
//! let c = VpLinear::default().at(0.1).unwrap();
//! let pt = m.diffused(c.a, c.b).unwrap().density().unwrap();
//! let x = m.sample(4, 1);
//! let s = pt.score_batch(x.as_ref()).unwrap();
//! assert_eq!((s.nrows(), s.ncols()), (4, 2));
//! ```
#![warn(missing_docs)]

mod covariance;
mod density;
mod enclosure;
mod error;
mod exp;
mod gaussian;
mod interval;
mod json;
mod linalg;
mod mixture;
mod smoothness;

pub use covariance::{Covariance, Factor, Precision};
pub use density::{Evaluation, MixtureDensity, Request};
pub use enclosure::{
    BoxBound, CertifiedHessian, EnclosureOptions, EnclosureStop, LipschitzEnclosure, lipschitz_enclosure, lipschitz_enclosure_with_progress,
};
pub use error::MixtureError;
pub use exp::{exp, exp_in_place};
pub use gaussian::Gaussian;
pub use mixture::{GaussianMixture, WEIGHT_SUM_TOL};
pub use smoothness::{
    BOUND_ROUNDING_MARGIN, LipschitzBound, LipschitzEstimate, Progress, SearchOptions, Smoothness, SmoothnessError, hessian_norms,
    lipschitz_bound, lipschitz_estimate, lipschitz_estimate_with_progress, second_moment_bound, smoothness, smoothness_with,
    symmetric_spectral_norm,
};

impl MixtureError {
    /// Attaches a component index to an error raised while building that component.
    pub fn in_component(self, index: usize) -> Self {
        match self {
            MixtureError::NotSymmetric { i, j, gap, .. } => MixtureError::NotSymmetric { component: index, i, j, gap },
            MixtureError::NotPositiveSemiDefinite { min_eigenvalue, .. } => {
                MixtureError::NotPositiveSemiDefinite { component: index, min_eigenvalue }
            }
            MixtureError::SingularCovariance { .. } => MixtureError::SingularCovariance { component: index },
            MixtureError::NonFinite { what, value } => MixtureError::NonFinite { what: format!("{what} of component {index}"), value },
            MixtureError::DimensionMismatch { what, expected, found } => {
                MixtureError::DimensionMismatch { what: format!("{what} of component {index}"), expected, found }
            }
            other => other,
        }
    }
}
