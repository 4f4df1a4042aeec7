//! The error type of the Gaussian analysis.

use thiserror::Error;

/// Everything that can go wrong in the exact-law analysis.
#[derive(Debug, Error)]
pub enum GaussianError {
    /// A spectrum file could not be read or parsed.
    #[error("{path}: {message}")]
    Spectrum {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A sampler or target error.
    #[error(transparent)]
    Solver(#[from] gmdiff_solvers::SolverError),
    /// A process or grid error.
    #[error(transparent)]
    Process(#[from] gmdiff_process::ProcessError),
    /// A metric error (Bures, KL).
    #[error(transparent)]
    Metrics(#[from] gmdiff_metrics::MetricsError),
    /// A diffusers scheduler configuration that cannot be read or has no exact law.
    #[error(transparent)]
    Config(#[from] gmdiff_solvers::diffusers::ConfigError),
    /// Invalid usage.
    #[error("{0}")]
    Invalid(String),
}
