//! Distances, divergences and two-sample tests for diffusion experiments on Gaussian and
//! Gaussian-mixture targets (THEORY §5).
//!
//! * **Closed forms between Gaussians**: [`bures_w2`] (Bures–Wasserstein W2, full
//!   non-commuting covariances, singular allowed), [`kl_gaussian`], exact 1-D total variation
//!   [`tv_gaussian_1d`] and d-dimensional bounds [`tv_gaussian_bounds`], [`gaussian_entropy`],
//!   and [`FittedGaussian`] (`np.cov` convention) with [`bures_w2_fitted`].
//! * **Exact empirical optimal transport**: [`w2_exact`] / [`ot_sq_euclidean`] solve the
//!   transport problem with squared Euclidean costs exactly by a network simplex (any sizes and
//!   weights) and return the plan and dual potentials; [`emd`] does the same for any cost
//!   matrix.
//! * **One-dimensional and sliced**: [`w2_1d`] (quantile functions), [`w2_sliced`] (POT's
//!   definition, seeded with ChaCha8, bit-reproducible).
//! * **Kernel two-sample statistics**: [`mmd2_unbiased`], [`mmd2_biased`], [`energy_distance`],
//!   and the seeded permutation tests [`mmd_test`], [`energy_test`] and [`permutation_test`],
//!   streamed over the pooled kernel matrix in blocks (memory `O((n + m) d)`, never `(n + m)²`).
//! * **Against a known density** (a [`gmdiff_mixture::GaussianMixture`] or any log-density
//!   closure): histogram TV/KL for `d ≤ 2` ([`histogram_divergence`]), Monte Carlo KL, TV and
//!   entropy with standard errors ([`kl_mixtures_mc`], [`tv_mixtures_mc`],
//!   [`mixture_entropy_mc`]), the mixture Wasserstein distance [`mixture_w2`] (an upper bound on
//!   W2), and the Kozachenko–Leonenko k-NN entropy of a sample ([`entropy_knn`]).
//!
//! Point clouds are [`faer::MatRef`]s with one point per row (`n × d`). Every function
//! validates its input and returns a [`MetricsError`] instead of panicking or producing NaN;
//! quantities that are mathematically infinite are returned as `±∞` and documented as such.
//! `docs/metrics.md` lists the conventions against POT and SciPy and the measured agreement.
//!
//! Runnable examples: `examples/mmd_test.rs` (MMD and energy permutation tests, exact, sliced and
//! Bures W2 on mixture samples; calibration and power) and `examples/w2_csv.rs` (exact W2 between
//! two CSV point clouds); run with `cargo run --release -p gmdiff-metrics --example <name>`.
//!
//! ```
//! use faer::Mat;
//! use gmdiff_metrics::{bures_w2_fitted, w2_exact, w2_sliced};
//!
//! // Two small clouds on a circle, the second shifted by (1, 0).
//! let x = Mat::from_fn(64, 2, |i, k| {
//!     let t = i as f64 * 0.1;
//!     if k == 0 { t.cos() } else { t.sin() }
//! });
//! let y = Mat::from_fn(64, 2, |i, k| x[(i, k)] + if k == 0 { 1.0 } else { 0.0 });
//! let exact = w2_exact(x.as_ref(), y.as_ref()).unwrap();
//! assert!((exact - 1.0).abs() < 1e-12); // a translation moves every point by ‖v‖
//! let sliced = w2_sliced(x.as_ref(), y.as_ref(), 100, 0).unwrap();
//! assert!(sliced <= exact);
//! let bures = bures_w2_fitted(x.as_ref(), y.as_ref()).unwrap();
//! assert!((bures - 1.0).abs() < 1e-12); // equal covariances: only the means differ
//! ```
#![warn(missing_docs)]

mod density;
mod error;
mod exact;
mod gaussian;
mod isotropic_tv;
mod kernel;
mod knn;
mod linalg;
mod mixture;
mod onedim;
mod order;
mod simplex;

pub use density::{HistogramDivergence, HistogramGrid, histogram_divergence, histogram_divergence_mixture};
pub use error::{MetricsError, Result, WEIGHT_SUM_TOL};
pub use exact::{EmdOptions, TransportPlan, emd, ot_sq_euclidean, w2_exact, w2_exact_weighted};
pub use gaussian::{
    FittedGaussian, TvBounds, bures_w2, bures_w2_fitted, bures_w2_squared, gaussian_entropy, kl_gaussian, tv_gaussian_1d,
    tv_gaussian_bounds,
};
pub use isotropic_tv::tv_isotropic_gaussians;
pub use kernel::{
    Bandwidth, EnergyTest, MEDIAN_PAIRS, MmdTest, PermutationOptions, PermutationTest, TIE_RTOL, TwoSampleStatistic, energy_distance,
    energy_distance_sq, energy_test, median_bandwidth, mmd_test, mmd2_biased, mmd2_unbiased, permutation_test,
};
pub use knn::entropy_knn;
pub use linalg::{PSD_RTOL, RANK_RTOL, SYM_RTOL};
pub use mixture::{McEstimate, MixtureW2, kl_mixtures_mc, mixture_entropy_mc, mixture_w2, tv_mixtures_mc};
pub use onedim::{SlicedEstimate, sliced_directions, w2_1d, w2_sliced, w2_sliced_estimate};
