//! `gmdiff guide`: guided sampling toward one class of a mixture, and the two measured claims of
//! Wu et al. (THEORY §4): the classification confidence and the differential entropy of the outputs.
//!
//! Every sampler of `gmdiff sample` runs here, with its options (`SamplerArgs`). Output (one JSON
//! object): `confidence` = mean of the exact `p_0(y | x_out)` and its standard error; `entropy` of
//! the output law with `entropy_stderr` and `entropy_method`, by the best route the sampler's step
//! code allows (`gmdiff_guidance::density_route`):
//!
//! * `map` (ddim with η = 0, euler, ode-ei): the exact discrete change of variables through every
//!   step map (no discretisation error; `null` with a reason if a step map fails to be invertible).
//! * `flow` (heun, rk4; `ode` is heun): the instantaneous change of variables integrated by the same
//!   Runge–Kutta stages as the samples, with the exact divergence (discretisation of the scheme's
//!   order).
//! * `samples` (every sampler that draws noise or keeps earlier evaluations): the
//!   Kozachenko–Leonenko k-NN estimate (k = 5) of the samples; no standard error (`null`): its
//!   terms are dependent, and its bias grows with the dimension.

use super::args::{CliError, ProcessArgs, ProcessKind, RunArgs, SamplerArgs};
use clap::{Args, ValueEnum};
use gmdiff::guidance::{
    ClassConditional, DensityRoute, Guidance, GuidanceError, GuidedScore, confidence, density_route, flow_log_density, knn_entropy,
    map_log_density,
};
use gmdiff::io::read_mixture_json;
use gmdiff::solvers::{Start, sample};
use std::io::Write;

/// How the guided score is assembled (identical fields for exact scores).
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum GuideKind {
    /// ∇log p_t(x|y) + η ∇log p_t(y|x).
    Classifier,
    /// (1+η) ∇log p_t(x|y) − η ∇log p_t(x).
    Cfg,
}

#[derive(Args, Debug)]
pub struct GuideArgs {
    #[command(flatten)]
    run: RunArgs,
    /// The target class y (0-based).
    #[arg(long)]
    class: usize,
    /// Classes as component groups, e.g. "0,1;2" (class 0 = components 0 and 1). Default: one class per component.
    #[arg(long)]
    classes: Option<String>,
    /// Guidance strength η ≥ 0.
    #[arg(long, allow_negative_numbers = true)]
    strength: f64,
    /// The sampler and its options, as in `gmdiff sample`; `ode` also names heun here.
    #[command(flatten)]
    sampler: SamplerArgs,
    /// Guidance assembly.
    #[arg(long, value_enum, default_value = "classifier")]
    guidance: GuideKind,
    #[command(flatten)]
    process: ProcessArgs,
}

/// Neighbours of the Kozachenko–Leonenko entropy estimate.
const KNN_K: usize = 5;

fn parse_classes(spec: &str) -> Result<Vec<Vec<usize>>, CliError> {
    spec.split(';')
        .map(|group| {
            group
                .split(',')
                .map(|c| {
                    c.trim()
                        .parse::<usize>()
                        .map_err(|_| CliError::Usage(format!("--classes: `{c}` is not a component index (expected e.g. \"0,1;2\")")))
                })
                .collect()
        })
        .collect()
}

fn guidance_error(e: GuidanceError) -> CliError {
    CliError::Usage(e.to_string())
}

pub fn run(args: &GuideArgs, out: &mut impl Write) -> Result<(), CliError> {
    let run = &args.run;
    run.check_out()?;
    if run.count < 2 {
        return Err(CliError::Usage("--count must be at least 2 (a standard error needs two samples)".into()));
    }
    let steps = run.steps()?;
    if !(args.strength.is_finite() && args.strength >= 0.0) {
        return Err(CliError::Usage(format!("--strength must be finite and ≥ 0, got {}", args.strength)));
    }
    let process = args.process.process_or(ProcessKind::Ou, 5.0)?;
    // `ode` (the flow ODE with Heun steps) predates the shared sampler names.
    let mut chosen = args.sampler.clone();
    if chosen.sampler == "ode" {
        chosen.sampler = "heun".into();
    }
    let (sampler, schedule) = chosen.build(process, steps, run.eps(&process), "ode (heun)")?;
    let solver = |e: gmdiff::solvers::SolverError| CliError::Usage(e.to_string());
    let route = density_route(&sampler, &schedule).map_err(guidance_error)?;
    if route == DensityRoute::Samples && run.count <= KNN_K {
        return Err(CliError::Usage(format!(
            "--count must be at least {} for --sampler {}: its entropy is the k-NN estimate with k = {KNN_K} neighbours, \
             which needs more than {KNN_K} samples (got {})",
            KNN_K + 1,
            chosen.sampler,
            run.count
        )));
    }
    let mixture = read_mixture_json(&run.mixture)?;
    let model = match &args.classes {
        Some(spec) => ClassConditional::new(mixture, parse_classes(spec)?).map_err(guidance_error)?,
        None => ClassConditional::per_component(mixture),
    };
    let kind = match args.guidance {
        GuideKind::Classifier => Guidance::Classifier,
        GuideKind::Cfg => Guidance::ClassifierFree,
    };
    let field = GuidedScore::new(model.clone(), args.class, args.strength, kind).map_err(guidance_error)?;
    let (n, seed) = (run.count, run.seed);
    let (samples, entropy, entropy_stderr, method, note) = match route {
        DensityRoute::Flow => {
            let o = flow_log_density(&sampler, &schedule, &field, n, seed).map_err(guidance_error)?;
            let e = o.entropy().map_err(guidance_error)?;
            (
                o.samples,
                Some(e.mean),
                Some(e.stderr),
                "instantaneous change of variables along the Runge-Kutta stages (exact divergence; discretisation of the scheme's order)",
                None,
            )
        }
        DensityRoute::Map => {
            let method = "exact discrete change of variables through the step maps";
            match map_log_density(&sampler, &schedule, &field, n, seed) {
                Ok(o) => {
                    let e = o.entropy().map_err(guidance_error)?;
                    (o.samples, Some(e.mean), Some(e.stderr), method, None)
                }
                Err(e @ GuidanceError::NotInvertible { .. }) => {
                    let x = sample(&sampler, &schedule, &field, Start::Standard, n, seed).map_err(solver)?.samples;
                    (x, None, None, method, Some(e.to_string()))
                }
                Err(e) => return Err(guidance_error(e)),
            }
        }
        DensityRoute::Samples => {
            let x = sample(&sampler, &schedule, &field, Start::Standard, n, seed).map_err(solver)?.samples;
            let h = knn_entropy(x.as_ref(), KNN_K).map_err(guidance_error)?;
            (x, Some(h), None, "Kozachenko-Leonenko k-NN estimate (k = 5); no standard error (dependent terms)", None)
        }
    };
    let c = confidence(&model, args.class, samples.as_ref()).map_err(guidance_error)?;
    run.write_samples(samples.as_ref())?;
    let route_name = match route {
        DensityRoute::Map => "map",
        DensityRoute::Flow => "flow",
        DensityRoute::Samples => "samples",
    };
    // serde_json writes shortest round-trip floats, and null for a non-finite or absent value.
    let report = serde_json::json!({
        "confidence": c.mean,
        "confidence_stderr": c.stderr,
        "entropy": entropy,
        "entropy_stderr": entropy_stderr,
        "entropy_method": method,
        "entropy_route": route_name,
        "entropy_note": note,
        "class": args.class,
        "strength": args.strength,
        "sampler": sampler.name(),
        "steps": steps,
        "eta": args.sampler.eta,
        "count": n,
    });
    writeln!(out, "{report}")?;
    out.flush()?;
    Ok(())
}
