//! Classifier guidance and classifier-free guidance (CFG) on class-conditional Gaussian mixtures,
//! as checkable software (Wu, Chen, Li, Wang, Wei, arXiv 2403.01639; THEORY §4, setting
//! **reconstructed**).
//!
//! * [`ClassConditional`]: a mixture whose components are grouped into classes
//!   (`p(x | y)` is the class's renormalised sub-mixture, `π_y` its total weight).
//! * [`NoisyClassifier`]: the exact classifier `p_t(y | x)` of the diffused mixture for any VP/OU
//!   process, its gradient `∇_x log p_t(y | x)` and its Jacobian `∇²_x log p_t(y | x)` in closed form
//!   from responsibilities and component precisions.
//! * [`GuidedScore`]: `s_η = ∇ log p_t(x | y) + η ∇_x log p_t(y | x)` (classifier guidance) or
//!   `(1 + η) ∇ log p_t(x | y) − η ∇ log p_t(x)` (CFG); equal for exact scores. It is a
//!   [`gmdiff_process::Score`], so every sampler of `gmdiff-solvers` runs guided, and a
//!   [`ScoreJacobian`] (exact divergence and Jacobian).
//! * Measurements: [`confidence`] (`E p_0(y | x_out)` with a standard error), the exact output
//!   log-density by change of variables — [`flow_log_density`] (flow ODE, instantaneous, integrated
//!   by the sampler's own Runge–Kutta stages) and [`map_log_density`] (DDIM / Euler, exact for the
//!   discrete map) — hence the entropy with a standard error; [`knn_entropy`] for DDPM.
//!
//! Runnable example: `examples/guidance_strength.rs` (confidence and entropy against the guidance
//! strength on a two-class mixture, for DDIM, DDPM and the flow ODE;
//! `cargo run --release -p gmdiff-guidance --example guidance_strength`).
//!
//! ```
//! use gmdiff_guidance::{ClassConditional, Guidance, GuidedScore, confidence};
//! use gmdiff_process::{Ou, Process, TimeGrid};
//! use gmdiff_solvers::{Ddim, Schedule, Start, sample};
//! // THEORY §4: unit-covariance components at (2,0), (−1, ±1.7); guide toward class 0.
//! let m: gmdiff_mixture::GaussianMixture = serde_json::from_str(r#"{"weights":[0.3333333333333333,0.3333333333333333,0.3333333333333334],
//!     "means":[[2.0,0.0],[-1.0,1.7],[-1.0,-1.7]],"covariances":[1.0,1.0,1.0]}"#).unwrap();
//! let model = ClassConditional::per_component(m);
//! let p = Process::Ou(Ou::new(5.0).unwrap());
//! let sched = Schedule::grid(p, TimeGrid::uniform(&p, 50, 1e-3).unwrap());
//! let conf = |eta| {
//!     let s = GuidedScore::new(model.clone(), 0, eta, Guidance::Classifier).unwrap();
//!     let x = sample(&Ddim { eta: 0.0 }, &sched, &s, Start::Standard, 2000, 7).unwrap().samples;
//!     confidence(&model, 0, x.as_ref()).unwrap().mean
//! };
//! assert!(conf(3.0) > conf(0.0));
//! ```
#![warn(missing_docs)]

mod classes;
mod classifier;
mod error;
mod guided;
mod measure;

pub use classes::ClassConditional;
pub use classifier::NoisyClassifier;
pub use error::GuidanceError;
pub use guided::{Guidance, GuidedScore, ScoreJacobian};
pub use measure::{
    Augmented, DensityOutput, DensityRoute, Estimate, StageValue, Stages, Sym, Symbolic, confidence, density_route, flow_log_density,
    knn_entropy, map_log_density, step_coefficients,
};
