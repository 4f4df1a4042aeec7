//! # gmdiff
//!
//! Diffusion models on Gaussian and Gaussian-mixture targets, as checkable software: exact scores,
//! exact laws, samplers, analytic Wasserstein errors, metrics and theorem-validation experiments.
//!
//! This facade re-exports the workspace crates and holds the file formats of the `gmdiff` CLI.
//!
//! Runnable example: `examples/end_to_end.rs` (a mixture from JSON, its diffused score, DDPM and
//! DPM-Solver++ samples and their W2 and MMD to exact samples;
//! `cargo run --release -p gmdiff --example end_to_end`). Each crate has its own `examples/`.
//!
//! ```
//! use gmdiff::mixture::GaussianMixture;
//! use gmdiff::process::{GaussianPath, VpLinear};
//! let m: GaussianMixture = serde_json::from_str(
//!     r#"{"weights":[1.0],"means":[[1.0]],"covariances":[[[2.0]]]}"#).unwrap();
//! let c = VpLinear::default().at(0.5).unwrap();
//! let s = m.diffused(c.a, c.b).unwrap().density().unwrap().score(&[0.0]).unwrap();
//! // N(a, 2a² + b²): the score at 0 is a / (2a² + b²).
//! assert!((s[0] - c.a / (2.0 * c.a * c.a + c.b * c.b)).abs() < 1e-15);
//! ```
#![warn(missing_docs)]

// `gmdiff::…` paths resolve inside the library too, so `cli_args` reads the same in the binary.
extern crate self as gmdiff;

/// The CLI's shared option parsing (process, sampler, grid), also used by the Python bindings
/// (`python/`) so that both build samplers and grids from the same options with the same errors.
/// Not a stable API.
#[doc(hidden)]
#[path = "cli/args.rs"]
pub mod cli_args;
pub mod io;
pub mod testing;

/// The linear-algebra crate of every public matrix type, re-exported so users need not pin it.
pub use faer;
pub use gmdiff_gaussian as gaussian;
pub use gmdiff_guidance as guidance;
pub use gmdiff_metrics as metrics;
pub use gmdiff_mixture as mixture;
pub use gmdiff_process as process;
pub use gmdiff_solvers as solvers;
