//! `gmdiff._gmdiff`: the Python bindings of gmdiff (the `gmdiff` Python package, `python/gmdiff`).
//!
//! This layer only converts and calls: numpy arrays in (any real dtype, converted to float64; shapes
//! checked), the workspace's library functions, numpy arrays out. Samplers, grids and processes are
//! built from the CLI's own option parsing (`gmdiff::cli_args`), so a keyword here means exactly
//! what the CLI flag of the same name means and is refused with the same message. Every call that
//! can take long runs with the GIL released, inside `catch_unwind`: a Rust panic becomes
//! `gmdiff.InternalError`, never an abort. Every typed Rust error becomes the `ValueError` subclass
//! of its crate (`gmdiff.MixtureError`, …) with the Rust error's message.

mod convert;
mod errors;
mod guide;
mod laws;
mod metrics;
mod mixture;
mod options;

use pyo3::prelude::*;

#[pymodule]
fn _gmdiff(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    m.add_class::<mixture::PyPath>()?;
    m.add_class::<mixture::PyMixture>()?;
    m.add_function(wrap_pyfunction!(laws::sample, m)?)?;
    m.add_function(wrap_pyfunction!(laws::output_law, m)?)?;
    m.add_function(wrap_pyfunction!(laws::gaussian_error, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::w2_exact, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::w2_sliced, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::bures_w2, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::bures_w2_fitted, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::kl_gaussian, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::gaussian_entropy, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::mmd, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::energy_distance, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::mixture_kl, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::mixture_tv, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::mixture_entropy, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::mixture_w2, m)?)?;
    m.add_function(wrap_pyfunction!(guide::guide, m)?)?;
    m.add_function(wrap_pyfunction!(errors::_panic_for_test, m)?)?;
    m.add("SAMPLERS", gmdiff::solvers::Builtin::NAMES.to_vec())?;
    Ok(())
}
