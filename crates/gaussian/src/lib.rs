//! Exact laws and Wasserstein / KL errors of diffusion samplers on Gaussian data
//! (Pierret–Galerne, THEORY §3), for any process and any sampler of `gmdiff-solvers`.
//!
//! * [`continuous_coordinate`]: exact forward, backward-SDE and flow-ODE laws per eigen-coordinate,
//!   started from `N(0, I)` or `p_T`, centred or not.
//! * [`SpectralProblem`]: the spectral fast path (data given by `Σ`'s eigenvalues): the exact output
//!   law of every sampler by running the sampler's *own step* on diagonal Gaussian laws, vectorised
//!   over (deduplicated) eigenvalues and parallel over chunks; W2, KL, trajectories, the error
//!   decomposition.
//! * [`DenseProblem`]: full (possibly singular, non-centred) covariances and any affine score,
//!   including non-commuting score errors; Bures W2 and KL from `gmdiff-metrics`.
//! * [`read_spectrum`]: `.npy` (float32/float64, via `npyz`) and plain-text spectra.
//! * [`IsotropicDdpm`]: the exact law of DDPM on an isotropic Gaussian *mixture* with collinear
//!   means in any dimension (the isotropic factorisation) and its TV to the target.
//!
//! Infinite results are `f64::INFINITY` (never NaN): e.g. Heun at `ε = 0` evaluates the score at
//! `t = 0`, where a zero eigenvalue makes it infinite. `KL(output ‖ p_0)` on singular data is finite
//! exactly when the sampler structurally lands on the data's support (`SamplerInfo::landing`: DDIM, the
//! DPM-Solver++ family, the σ-form samplers, UniPC, DEIS and LMS, at `b = 0` with the exact score; `docs/gaussian.md`, "The support rule"), never by
//! rounding.
//!
//! Runnable examples: `examples/w2_error_table.rs` (exact W2 of every scheme against steps on a small
//! spectrum, the continuous limits and the observed orders) and `examples/adsn_timing.rs` (the
//! spectral fast path on the `d = 196 608` ADSN spectrum); run with
//! `cargo run --release -p gmdiff-gaussian --example <name>`.
//!
//! ```
//! use gmdiff_gaussian::{Init, SpectralProblem, SpectralScore};
//! use gmdiff_solvers::{EulerMaruyama, Heun, Schedule};
//! let p = SpectralProblem::centred(vec![0.0, 0.3, 1.0, 4.0]).unwrap();
//! let heun = p.scheme(&Heun, &Schedule::uniform_vp(50, 0.0).unwrap(), Init::Standard, &SpectralScore::Exact, false).unwrap();
//! assert_eq!(heun.w2, f64::INFINITY);
//! let em = p.scheme(&EulerMaruyama, &Schedule::uniform_vp(50, 0.0).unwrap(), Init::Standard, &SpectralScore::Exact, false).unwrap();
//! assert!(em.w2.is_finite());
//! ```
#![warn(missing_docs)]

mod conformance;
mod dense;
mod error;
mod exact;
mod isotropic;
pub mod published;
mod spectral;
mod spectrum;
mod support;

pub use conformance::{AnomalyCost, Conformance, ExactTarget, IdealRun, KL_INFINITE, conformance};
pub use dense::DenseProblem;
pub use error::GaussianError;
pub use exact::{Dynamics, continuous_coordinate, kl_coordinate, sqrt_gap_sq};
pub use isotropic::{InSpanLaw, IsotropicDdpm, IsotropicTv, PropagationGrid, ScoreError};
pub use spectral::{Decomposition, Init, LaneLaw, Report, SpectralProblem, SpectralScore};
pub use spectrum::{parse_spectrum, read_spectrum};
