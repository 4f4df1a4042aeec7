//! Forward noising processes, discrete DDPM chains, time grids and the batched [`Score`] trait.
//!
//! Every process here is a Gaussian path `x_t = a_t x_0 + b_t z` ([`GaussianPath`], THEORY §0):
//! the variance-preserving family ([`ForwardProcess`]: VP linear, VP cosine, OU) and sub-VP, VE,
//! EDM and flow matching. This crate is the small shared base of the gmdiff workspace: targets implement
//! [`Score`], samplers walk a [`TimeGrid`] or a [`DiscreteChain`]. It also holds the one set of
//! input checks every crate uses ([`check_parameter`], [`check_weights`], [`covariance_eigen`],
//! [`check_covariance`]), so all crates accept and refuse the same inputs.
//!
//! Also here: the time grids ([`TimeGrid`]: uniform, quadratic, Karras, exponential,
//! polyexponential, log-SNR, and the final step to `t = 0`), diffusers' discrete chains and
//! timestep spacings ([`DiscreteChain`], [`timesteps`]), and the prediction kinds (score, `ε`, `x₀`,
//! `v`, flow velocity) with the one place that converts between them ([`Prediction`],
//! [`Conversion`]). Formulas, sources and tests: `docs/paths.md`.
//!
//! Runnable examples: `examples/schedules.rs` prints `α_t`, `σ_t` and `λ = log(α_t/σ_t)` of the VP processes,
//! the uniform, Karras and log-SNR grids and the discrete chains' `ᾱ_k`
//! (`cargo run --release -p gmdiff-process --example schedules`).
//!
//! ```
//! use gmdiff_process::{GaussianPath, Ou, TimeGrid};
//! let ou = Ou::new(1.0).unwrap();
//! let grid = TimeGrid::uniform(&ou, 10, 0.0).unwrap();
//! assert_eq!(grid.steps(), 10);
//! assert!((ou.at(1.0).unwrap().b.powi(2) - (1.0 - (-2.0f64).exp())).abs() < 1e-15);
//! ```
#![warn(missing_docs)]

mod chain;
mod error;
mod grid;
mod paths;
mod prediction;
mod process;
mod rng;
mod score;
mod validate;

pub use chain::{DiscreteChain, TimestepSpacing, timesteps};
pub use error::ProcessError;
pub use grid::TimeGrid;
pub use paths::{Edm, Flow, SubVp, Ve};
pub use prediction::{Conversion, Prediction, PredictionError, convert, from_x0, to_x0};
pub use process::{Coefficients, ForwardProcess, GaussianPath, Ou, Process, VpCosine, VpLinear};
pub use rng::particle_rng;
pub use score::Score;
pub use validate::{
    COVARIANCE_RTOL, CovarianceEigen, CovarianceError, InvalidParameter, WEIGHT_SUM_TOL, WeightError, check_covariance, check_parameter,
    check_psd_eigenvalues, check_weights, covariance_eigen, symmetric_part,
};
