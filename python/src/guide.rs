//! `gmdiff.guide`: guided sampling toward one class (`gmdiff guide`), with the confidence and the
//! entropy of the outputs by the best route the sampler allows.

use crate::convert::mat_out;
use crate::errors::{Error, guarded};
use crate::mixture::PyMixture;
use crate::options::{path_args, sampler_args};
use gmdiff::cli_args::{ProcessKind, default_eps};
use gmdiff::guidance::{
    ClassConditional, DensityRoute, Guidance, GuidanceError, GuidedScore, confidence, density_route, flow_log_density, knn_entropy,
    map_log_density,
};
use gmdiff::solvers::{Start, sample};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Neighbours of the Kozachenko–Leonenko entropy estimate (as the CLI).
const KNN_K: usize = 5;

/// Guided samples toward `class_` and their confidence and entropy (as `gmdiff guide`): a dict.
#[pyfunction]
#[pyo3(signature = (mixture, *, class_, strength, sampler, steps, n, seed = 0, path = None, grid = None, eps = None, guidance = "classifier", classes = None, **options))]
#[allow(clippy::too_many_arguments)]
pub fn guide<'py>(
    py: Python<'py>,
    mixture: &Bound<'py, PyMixture>,
    class_: usize,
    strength: f64,
    sampler: &str,
    steps: usize,
    n: usize,
    seed: u64,
    path: Option<&Bound<'py, PyAny>>,
    grid: Option<&str>,
    eps: Option<f64>,
    guidance: &str,
    classes: Option<Vec<Vec<usize>>>,
    options: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let mut args = sampler_args("guide", sampler, grid, options)?;
    if n < 2 {
        return Err(Error::Usage("n must be at least 2 (a standard error needs two samples)".into()).into());
    }
    if !(strength.is_finite() && strength >= 0.0) {
        return Err(Error::Usage(format!("strength must be finite and ≥ 0, got {strength}")).into());
    }
    let kind = match guidance {
        "classifier" => Guidance::Classifier,
        "cfg" => Guidance::ClassifierFree,
        other => return Err(Error::Usage(format!("unknown guidance `{other}`: expected one of classifier, cfg")).into()),
    };
    let process = path_args(path)?.process_or(ProcessKind::Ou, 5.0).map_err(Error::from)?;
    // `ode` (the flow ODE with Heun steps) is heun here, as in the CLI.
    if args.sampler == "ode" {
        args.sampler = "heun".into();
    }
    let eps = eps.unwrap_or_else(|| default_eps(&process, 1e-3));
    let (s, schedule) = args.build(process, steps, eps, "ode (heun)").map_err(Error::from)?;
    let route = density_route(&s, &schedule).map_err(Error::from)?;
    if route == DensityRoute::Samples && n <= KNN_K {
        return Err(Error::Usage(format!(
            "n must be at least {} for sampler {}: its entropy is the k-NN estimate with k = {KNN_K} neighbours, which needs more than {KNN_K} samples (got {n})",
            KNN_K + 1,
            args.sampler
        ))
        .into());
    }
    let m = mixture.get().inner.clone();
    let model = match classes {
        Some(c) => ClassConditional::new(m, c).map_err(Error::from)?,
        None => ClassConditional::per_component(m),
    };
    let field = GuidedScore::new(model.clone(), class_, strength, kind).map_err(Error::from)?;
    type Outcome = (faer::Mat<f64>, Option<f64>, Option<f64>, &'static str, Option<String>, gmdiff::guidance::Estimate);
    let (samples, entropy, entropy_stderr, method, note, c): Outcome = guarded(py, || {
        let (x, h, se, method, note) = match route {
            DensityRoute::Flow => {
                let o = flow_log_density(&s, &schedule, &field, n, seed)?;
                let e = o.entropy()?;
                let method = "instantaneous change of variables along the Runge-Kutta stages (exact divergence; discretisation of the scheme's order)";
                (o.samples, Some(e.mean), Some(e.stderr), method, None)
            }
            DensityRoute::Map => {
                let method = "exact discrete change of variables through the step maps";
                match map_log_density(&s, &schedule, &field, n, seed) {
                    Ok(o) => {
                        let e = o.entropy()?;
                        (o.samples, Some(e.mean), Some(e.stderr), method, None)
                    }
                    Err(e @ GuidanceError::NotInvertible { .. }) => {
                        let x = sample(&s, &schedule, &field, Start::Standard, n, seed)?.samples;
                        (x, None, None, method, Some(e.to_string()))
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            DensityRoute::Samples => {
                let x = sample(&s, &schedule, &field, Start::Standard, n, seed)?.samples;
                let h = knn_entropy(x.as_ref(), KNN_K)?;
                (x, Some(h), None, "Kozachenko-Leonenko k-NN estimate (k = 5); no standard error (dependent terms)", None)
            }
        };
        let c = confidence(&model, class_, x.as_ref())?;
        Ok((x, h, se, method, note, c))
    })?;
    let route_name = match route {
        DensityRoute::Map => "map",
        DensityRoute::Flow => "flow",
        DensityRoute::Samples => "samples",
    };
    let d = PyDict::new(py);
    d.set_item("confidence", c.mean)?;
    d.set_item("confidence_stderr", c.stderr)?;
    d.set_item("entropy", entropy)?;
    d.set_item("entropy_stderr", entropy_stderr)?;
    d.set_item("entropy_method", method)?;
    d.set_item("entropy_route", route_name)?;
    d.set_item("entropy_note", note)?;
    d.set_item("sampler", s.name())?;
    d.set_item("samples", mat_out(py, samples)?)?;
    Ok(d)
}
