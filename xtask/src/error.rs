//! The one error type of the xtask crate.
//!
//! A claim that does not hold is *not* an error: it is a failed [`Check`](crate::experiment::Check)
//! and lands in the report. `XtaskError` is for everything that stops an experiment from producing
//! a verdict at all (IO, malformed data, a plot that cannot be drawn, bad arguments).

use std::path::{Path, PathBuf};

/// Everything that can go wrong while running experiments or benchmarks.
#[derive(Debug, thiserror::Error)]
pub enum XtaskError {
    /// A filesystem operation failed on `path`.
    #[error("{op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// JSON (de)serialisation failed.
    #[error("JSON {context}: {source}")]
    Json {
        context: String,
        #[source]
        source: serde_json::Error,
    },
    /// Drawing a figure failed.
    #[error("plot {}: {message}", path.display())]
    Plot { path: PathBuf, message: String },
    /// A data file exists but cannot be used.
    #[error("data {}: {message}", path.display())]
    Data { path: PathBuf, message: String },
    /// Bad command-line usage (unknown experiment or workload, ...).
    #[error("{0}")]
    Usage(String),
    /// An experiment could not compute its measurement (numerical breakdown, ...).
    #[error("{0}")]
    Failed(String),
}

/// Result alias used across the crate.
pub type Result<T, E = XtaskError> = std::result::Result<T, E>;

impl XtaskError {
    /// Wraps an IO error with the operation and the path it concerned.
    pub fn io(op: &'static str, path: impl AsRef<Path>, source: std::io::Error) -> Self {
        XtaskError::Io { op, path: path.as_ref().to_path_buf(), source }
    }

    /// Wraps a serde_json error with a short description of what was being (de)serialised.
    pub fn json(context: impl Into<String>, source: serde_json::Error) -> Self {
        XtaskError::Json { context: context.into(), source }
    }

    /// A plotting failure for the figure at `path`.
    pub fn plot(path: impl AsRef<Path>, message: impl std::fmt::Display) -> Self {
        XtaskError::Plot { path: path.as_ref().to_path_buf(), message: message.to_string() }
    }
}
