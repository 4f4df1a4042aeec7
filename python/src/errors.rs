//! The Python exceptions, the conversion of every typed Rust error to its exception (same message),
//! and the guard that runs library calls without the GIL and turns a panic into `InternalError`.

use gmdiff::cli_args::CliError;
use pyo3::create_exception;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use std::panic::{AssertUnwindSafe, catch_unwind};

create_exception!(gmdiff, GmdiffError, PyValueError, "Base class of every gmdiff error (a ValueError).");
create_exception!(gmdiff, MixtureError, GmdiffError, "gmdiff_mixture::MixtureError: an invalid mixture, or a density that does not exist.");
create_exception!(gmdiff, ProcessError, GmdiffError, "gmdiff_process::ProcessError: invalid process parameters, times or grids.");
create_exception!(gmdiff, PredictionError, GmdiffError, "gmdiff_process::PredictionError: an undefined prediction conversion.");
create_exception!(gmdiff, SolverError, GmdiffError, "gmdiff_solvers::SolverError: a sampler that cannot run on this schedule or target.");
create_exception!(gmdiff, MetricsError, GmdiffError, "gmdiff_metrics::MetricsError: invalid point clouds or metric parameters.");
create_exception!(
    gmdiff,
    GaussianError,
    GmdiffError,
    "gmdiff_gaussian::GaussianError: invalid Gaussian data or sampler for the exact error."
);
create_exception!(gmdiff, GuidanceError, GmdiffError, "gmdiff_guidance::GuidanceError: invalid classes, class or guidance strength.");
create_exception!(gmdiff, UsageError, GmdiffError, "An invalid combination of options (the CLI's usage errors, same message).");
create_exception!(gmdiff, ShapeError, GmdiffError, "An array of the wrong shape (or not finite-sized) passed to gmdiff.");
create_exception!(gmdiff, InternalError, PyRuntimeError, "A Rust panic inside gmdiff (a bug: please report it).");

/// Adds the exception classes to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("GmdiffError", py.get_type::<GmdiffError>())?;
    m.add("MixtureError", py.get_type::<MixtureError>())?;
    m.add("ProcessError", py.get_type::<ProcessError>())?;
    m.add("PredictionError", py.get_type::<PredictionError>())?;
    m.add("SolverError", py.get_type::<SolverError>())?;
    m.add("MetricsError", py.get_type::<MetricsError>())?;
    m.add("GaussianError", py.get_type::<GaussianError>())?;
    m.add("GuidanceError", py.get_type::<GuidanceError>())?;
    m.add("UsageError", py.get_type::<UsageError>())?;
    m.add("ShapeError", py.get_type::<ShapeError>())?;
    m.add("InternalError", py.get_type::<InternalError>())?;
    Ok(())
}

/// Any failure of a binding: a typed library error, a usage or shape error, or a caught panic.
#[derive(Debug)]
pub enum Error {
    Mixture(gmdiff::mixture::MixtureError),
    Process(gmdiff::process::ProcessError),
    Prediction(gmdiff::process::PredictionError),
    Solver(gmdiff::solvers::SolverError),
    Metrics(gmdiff::metrics::MetricsError),
    Gaussian(gmdiff::gaussian::GaussianError),
    Guidance(gmdiff::guidance::GuidanceError),
    Usage(String),
    Shape(String),
    Panic(String),
}

macro_rules! from {
    ($($variant:ident: $ty:ty),*) => {$(
        impl From<$ty> for Error {
            fn from(e: $ty) -> Self {
                Error::$variant(e)
            }
        }
    )*};
}
from!(Mixture: gmdiff::mixture::MixtureError, Process: gmdiff::process::ProcessError, Prediction: gmdiff::process::PredictionError,
      Solver: gmdiff::solvers::SolverError, Metrics: gmdiff::metrics::MetricsError, Gaussian: gmdiff::gaussian::GaussianError,
      Guidance: gmdiff::guidance::GuidanceError);

impl From<CliError> for Error {
    fn from(e: CliError) -> Self {
        match e {
            CliError::Process(e) => Error::Process(e),
            CliError::Mixture(e) => Error::Mixture(e),
            CliError::Metrics(e) => Error::Metrics(e),
            other => Error::Usage(other.to_string()),
        }
    }
}

impl From<Error> for PyErr {
    fn from(e: Error) -> PyErr {
        match e {
            Error::Mixture(e) => MixtureError::new_err(e.to_string()),
            Error::Process(e) => ProcessError::new_err(e.to_string()),
            Error::Prediction(e) => PredictionError::new_err(e.to_string()),
            Error::Solver(e) => SolverError::new_err(e.to_string()),
            Error::Metrics(e) => MetricsError::new_err(e.to_string()),
            Error::Gaussian(e) => GaussianError::new_err(e.to_string()),
            Error::Guidance(e) => GuidanceError::new_err(e.to_string()),
            Error::Usage(m) => UsageError::new_err(m),
            Error::Shape(m) => ShapeError::new_err(m),
            Error::Panic(m) => InternalError::new_err(format!("internal error (please report): {m}")),
        }
    }
}

/// Runs `f` with the GIL released, catching a panic (also one raised on a rayon worker, which
/// rayon re-raises here) as [`Error::Panic`] with the panic's message.
pub fn guarded<T: Send>(py: Python<'_>, f: impl FnOnce() -> Result<T, Error> + Send) -> Result<T, Error> {
    py.detach(|| catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| Err(Error::Panic(panic_message(payload.as_ref())))))
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// Panics inside [`guarded`], for the test that a panic reaches Python as `InternalError` (and on
/// a rayon worker thread when `on_worker`). Not part of the API.
#[pyfunction]
pub fn _panic_for_test(py: Python<'_>, on_worker: bool) -> PyResult<()> {
    guarded(py, || {
        if on_worker {
            rayon_panic();
        }
        panic!("deliberate panic for the test");
    })
    .map_err(Into::into)
}

fn rayon_panic() {
    rayon::join(|| panic!("deliberate panic on a worker thread"), || ());
}
