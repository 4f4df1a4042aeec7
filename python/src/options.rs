//! Keyword options → the CLI's option structs (`gmdiff::cli_args`), which then build the process,
//! the sampler and the grid exactly as `gmdiff sample` / `gaussian-error` / `guide` do.

use crate::errors::Error;
use crate::mixture::PyPath;
use clap::ValueEnum;
use gmdiff::cli_args::{GridKind, InitKind, ProcessArgs, ProcessKind, SamplerArgs};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The names of a clap value enum, for messages.
fn names<T: ValueEnum>() -> String {
    T::value_variants().iter().filter_map(|v| v.to_possible_value()).map(|v| v.get_name().to_string()).collect::<Vec<_>>().join(", ")
}

/// A value of a clap value enum by its CLI name.
pub fn parse<T: ValueEnum>(what: &str, name: &str) -> Result<T, Error> {
    T::from_str(name, false).map_err(|_| Error::Usage(format!("unknown {what} `{name}`: expected one of {}", names::<T>())))
}

/// The process options of a path name with every parameter at its default.
pub fn process_args(kind: ProcessKind) -> ProcessArgs {
    ProcessArgs { process: Some(kind), beta_min: None, beta_max: None, horizon: None, sigma_min: None, sigma_max: None }
}

/// The process options of `path`: a `gmdiff.Path`, a path name (`"vp"`, `"edm"`, …) or `None`
/// (the subcommand's default path and parameters).
pub fn path_args(path: Option<&Bound<'_, PyAny>>) -> PyResult<ProcessArgs> {
    let Some(path) = path else {
        return Ok(ProcessArgs { process: None, beta_min: None, beta_max: None, horizon: None, sigma_min: None, sigma_max: None });
    };
    if let Ok(p) = path.cast::<PyPath>() {
        return Ok(p.get().args.clone());
    }
    if let Ok(name) = path.extract::<String>() {
        return Ok(process_args(parse::<ProcessKind>("path", &name)?));
    }
    Err(PyTypeError::new_err(format!("path must be a gmdiff.Path or a path name ({}), got {}", names::<ProcessKind>(), path.get_type())))
}

/// The start law (`"standard"` or `"exact"`).
pub fn init(name: &str) -> Result<InitKind, Error> {
    parse::<InitKind>("init", name)
}

/// The sampler keywords every sampling function takes (the CLI's sampler flags, `-` → `_`).
pub const SAMPLER_OPTIONS: [&str; 17] = [
    "eta",
    "s_noise",
    "s_churn",
    "s_tmin",
    "s_tmax",
    "r",
    "solver_type",
    "lower_order_final",
    "order",
    "use_corrector",
    "corrector_every",
    "corrector_iterations",
    "corrector_step_scale",
    "friction",
    "rho",
    "skip_prk_steps",
    "last_step_noise",
];

/// `SamplerArgs` from the sampler name, the grid name and the sampler keywords in `options`
/// (an unknown keyword is a `TypeError`, as for any Python function).
pub fn sampler_args(function: &str, sampler: &str, grid: Option<&str>, options: Option<&Bound<'_, PyDict>>) -> PyResult<SamplerArgs> {
    let mut args = SamplerArgs {
        sampler: sampler.to_string(),
        eta: None,
        s_noise: None,
        s_churn: None,
        s_tmin: None,
        s_tmax: None,
        r: None,
        solver_type: None,
        lower_order_final: None,
        order: None,
        use_corrector: None,
        skip_prk_steps: None,
        last_step_noise: None,
        corrector_every: None,
        corrector_iterations: None,
        corrector_step_scale: None,
        friction: None,
        grid: grid.map(|g| parse::<GridKind>("grid", g)).transpose()?,
        rho: None,
    };
    let Some(options) = options else { return Ok(args) };
    for (key, value) in options.iter() {
        let key: String = key.extract()?;
        if value.is_none() {
            continue;
        }
        match key.as_str() {
            "eta" => args.eta = Some(value.extract()?),
            "s_noise" => args.s_noise = Some(value.extract()?),
            "s_churn" => args.s_churn = Some(value.extract()?),
            "s_tmin" => args.s_tmin = Some(value.extract()?),
            "s_tmax" => args.s_tmax = Some(value.extract()?),
            "r" => args.r = Some(value.extract()?),
            "solver_type" => args.solver_type = Some(value.extract()?),
            "lower_order_final" => args.lower_order_final = Some(value.extract()?),
            "order" => args.order = Some(value.extract()?),
            "use_corrector" => args.use_corrector = Some(value.extract()?),
            "skip_prk_steps" => args.skip_prk_steps = Some(value.extract()?),
            "last_step_noise" => args.last_step_noise = Some(value.extract()?),
            "corrector_every" => args.corrector_every = Some(value.extract()?),
            "corrector_iterations" => args.corrector_iterations = Some(value.extract()?),
            "corrector_step_scale" => args.corrector_step_scale = Some(value.extract()?),
            "friction" => args.friction = Some(value.extract()?),
            "rho" => args.rho = Some(value.extract()?),
            other => {
                return Err(PyTypeError::new_err(format!(
                    "{function}() got an unexpected keyword argument '{other}' (sampler options: {})",
                    SAMPLER_OPTIONS.join(", ")
                )));
            }
        }
    }
    Ok(args)
}
