//! Reverse-time samplers for diffusion models, written once and run on two carriers.
//!
//! * [`Sampler`]: one step written once over any [`Algebra`]. The built-ins, one file each in
//!   [`samplers`]: Euler–Maruyama, exponential integrator, DDPM ancestral (on a grid or a discrete
//!   chain), DDIM(η), flow-ODE Euler / Heun / RK4 / exponential integrator, DPM-Solver++(2M), and
//!   the predictor–correctors DPOM and DPUM; [`Builtin`] chooses one by name. The set is open: a
//!   sampler of your own crate runs everywhere these do (`docs/adding-a-sampler.md`). Costs are
//!   derived from the step code: [`score_evals`], [`is_stochastic`], [`slots`].
//! * [`Schedule`]: a [`gmdiff_process::Process`] on a [`gmdiff_process::TimeGrid`] (uniform with
//!   early stop ε, Karras, log-SNR uniform) or a [`gmdiff_process::DiscreteChain`].
//! * The state algebra ([`Algebra`], [`Carrier`]): the step of each sampler uses only linear
//!   combinations, score evaluations and fresh noise, so the *same step* runs on particle batches
//!   ([`Particles`], [`sample`]) and on exact Gaussian laws ([`LawEngine`], [`output_law`]).
//! * Scores with a controlled error: [`ScaledScore`], [`AffinePerturbation`], [`PerturbedPrecision`],
//!   [`FieldPerturbation`].
//!
//! Runnable examples: `examples/compare_samplers.rs` (every sampler on a 2-D mixture, sliced and
//! exact empirical W2 to exact samples against steps and grids) and `examples/exact_law.rs` (the exact
//! output law on Gaussian data beside the particles of the same step code); run with
//! `cargo run --release -p gmdiff-solvers --example <name>`.
//!
//! ```
//! use gmdiff_solvers::{Ddpm, DenseGaussian, Dense, LawStart, Schedule, Start, output_law, sample};
//! let g = DenseGaussian::new(vec![1.0, -1.0], faer::mat![[1.0, 0.3], [0.3, 0.5]]).unwrap();
//! let sched = Schedule::uniform_vp(50, 1e-3).unwrap();
//! // Samples and the exact law of the samples, from the same step code.
//! let x = sample(&Ddpm::default(), &sched, &g, Start::Standard, 1000, 3).unwrap();
//! let law = output_law(&Ddpm::default(), &sched, &g, LawStart::<Dense>::Standard, |_, _| Ok(())).unwrap();
//! assert_eq!(x.score_evals, law.score_evals);
//! let mean0: f64 = (0..1000).map(|i| x.samples[(i, 0)]).sum::<f64>() / 1000.0;
//! assert!((mean0 - law.law.mean.unwrap()[0]).abs() < 0.2);
//! ```
#![warn(missing_docs)]

pub mod algebra;
mod bounds;
pub mod diffusers;
mod error;
pub mod lanes;
pub mod law;
mod particles;
mod sampler;
pub mod samplers;
mod schedule;
mod targets;

pub use algebra::{Algebra, Carrier};
pub use bounds::{DdpmBound, DdpmBoundInput, ddpm_bound, dpom_steps, dpom_tv, dpum_steps, dpum_tv};
pub use error::SolverError;
pub use lanes::{LaneCarrier, LaneEngine};
pub use law::{
    Affine, Coef, Dense, Diag, GaussLaw, LawCarrier, LawEngine, LawOutput, LawSampler, LawStart, LinearScore, Marginal, Op, StepLaw,
    output_law,
};
pub use particles::{BLOCK_PARTICLES, Particles, SampleOutput, Start, check_particle_memory, linear_combination, sample, sample_observed};
pub use sampler::{Count, Landing, Sampler, SamplerInfo, is_stochastic, refuse_chain, run, score_evals, slots};
pub use samplers::{
    Builtin, Ddim, Ddpm, DpmSolver2M, Dpom, Dpum, Euler, EulerMaruyama, ExponentialIntegrator, Heun, Langevin, OdeExponential, Rk4,
    Underdamped,
};
pub use samplers::{Deis, Lms, Pndm, UniPc, UniPcVariant};
pub use samplers::{Dpm2, Dpm2Ancestral, EdmHeun, EdmSde, EulerAncestral};
pub use samplers::{DpmSolver2MSde, DpmSolver2SAncestral, DpmSolver3M, DpmSolver3MSde, DpmSolverSde, DpmSolverSinglestep, DpmSolverType};
pub use schedule::{Schedule, StepInfo, StepPairs};
pub use targets::{AffinePerturbation, DenseGaussian, FieldPerturbation, PerturbedPrecision, ScaledScore, SpectralGaussian};
