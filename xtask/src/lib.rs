//! gmdiff's experiment framework, behind `cargo xtask` (see `main.rs` for the command line).
//!
//! - [`experiment`]: the [`Experiment`](experiment::Experiment) trait, [`Context`](experiment::Context),
//!   [`Outcome`](experiment::Outcome) and [`Check`](experiment::Check).
//! - [`experiments`]: the registry, one file per experiment.
//! - [`runner`]: `reproduce` with caching/resume; [`report`]: `report.md` and `report.json`.
//! - [`plot`]: SVG line, scatter, contour and histogram plots; [`io`]: atomic writes, CSV, hashing;
//!   [`stats`]: the least-squares line fit and the median.
//! - [`bench`](mod@bench): the benchmark workload registry and [`best_of`](bench::best_of).

pub mod bench;
pub mod error;
pub mod experiment;
pub mod experiments;
pub mod io;
pub mod plot;
pub mod report;
pub mod runner;
pub mod stats;

pub use error::{Result, XtaskError};
