//! `gmdiff guide`: guided sampling toward one class of a mixture, and the two measured claims of
//! Wu et al. (THEORY §4): the classification confidence and the differential entropy of the outputs.
//!
//! Output (one JSON object): `confidence` = mean of the exact `p_0(y | x_out)` and its standard
//! error; `entropy` of the output law with `entropy_stderr` and `entropy_method`:
//!
//! * `ode` (flow ODE, Heun steps): the instantaneous change of variables integrated by the same Heun
//!   stages as the samples, with the exact divergence (discretisation `O(h²)`).
//! * `ddim` (η = 0): the exact discrete change of variables through every step map (no
//!   discretisation error; `null` with a reason if a step map fails to be invertible).
//! * `ddpm`: the Kozachenko–Leonenko k-NN estimate (k = 5) of the samples; no standard error
//!   (`null`): its terms are dependent, and its bias grows with the dimension.

use super::args::{CliError, ProcessArgs, ProcessKind, RunArgs, time_error};
use clap::{Args, ValueEnum};
use gmdiff::guidance::{
    ClassConditional, Guidance, GuidanceError, GuidedScore, confidence, flow_log_density, knn_entropy, map_log_density,
};
use gmdiff::io::read_mixture_json;
use gmdiff::process::TimeGrid;
use gmdiff::solvers::{Builtin, Ddim, Ddpm, Heun, Schedule, Start, sample};
use std::io::Write;

/// The sampler of `gmdiff guide`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum GuideSampler {
    /// DDPM ancestral sampling (entropy: k-NN estimate).
    Ddpm,
    /// DDIM; with --eta 0 (default) deterministic (entropy: exact discrete change of variables),
    /// with --eta > 0 stochastic (entropy: k-NN estimate).
    Ddim,
    /// Flow ODE with Heun steps (entropy: instantaneous change of variables); alias heun.
    #[value(alias = "heun")]
    Ode,
}

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
    /// Sampler (alias --scheme).
    #[arg(long, value_enum, alias = "scheme")]
    sampler: GuideSampler,
    /// η of DDIM (0 = deterministic), as in `gmdiff sample`.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    eta: f64,
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
    let knn = matches!(args.sampler, GuideSampler::Ddpm) || (matches!(args.sampler, GuideSampler::Ddim) && args.eta != 0.0);
    if knn && run.count <= KNN_K {
        return Err(CliError::Usage(format!(
            "--count must be at least {} for this sampler: its entropy is the k-NN estimate with k = {KNN_K} neighbours, \
             which needs more than {KNN_K} samples (got {})",
            KNN_K + 1,
            run.count
        )));
    }
    if args.eta != 0.0 && !matches!(args.sampler, GuideSampler::Ddim) {
        return Err(CliError::Usage("--eta applies only to --sampler ddim".into()));
    }
    let steps = run.steps()?;
    if !(args.strength.is_finite() && args.strength >= 0.0) {
        return Err(CliError::Usage(format!("--strength must be finite and ≥ 0, got {}", args.strength)));
    }
    let process = args.process.process_or(ProcessKind::Ou, 5.0)?;
    let schedule =
        Schedule::grid(process, TimeGrid::uniform(&process, steps, run.eps(&process)).map_err(|e| time_error(e, &process, "--eps"))?);
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
    let solver = |e: gmdiff::solvers::SolverError| CliError::Usage(e.to_string());
    let (samples, entropy, entropy_stderr, method, note) = match args.sampler {
        GuideSampler::Ode => {
            let o = flow_log_density(&Heun, &schedule, &field, n, seed).map_err(guidance_error)?;
            let e = o.entropy().map_err(guidance_error)?;
            (
                o.samples,
                Some(e.mean),
                Some(e.stderr),
                "instantaneous change of variables along the Heun steps (exact divergence; O(h^2) discretisation)",
                None,
            )
        }
        GuideSampler::Ddim if args.eta != 0.0 => {
            let x = sample(&Ddim { eta: args.eta }, &schedule, &field, Start::Standard, n, seed).map_err(solver)?.samples;
            let h = knn_entropy(x.as_ref(), KNN_K).map_err(guidance_error)?;
            (x, Some(h), None, "Kozachenko-Leonenko k-NN estimate (k = 5); no standard error (dependent terms)", None)
        }
        GuideSampler::Ddim => {
            let ddim = Builtin::Ddim(Ddim { eta: 0.0 });
            match map_log_density(&ddim, &schedule, &field, n, seed) {
                Ok(o) => {
                    let e = o.entropy().map_err(guidance_error)?;
                    (o.samples, Some(e.mean), Some(e.stderr), "exact discrete change of variables through the DDIM step maps", None)
                }
                Err(e @ GuidanceError::NotInvertible { .. }) => {
                    let x = sample(&ddim, &schedule, &field, Start::Standard, n, seed).map_err(solver)?.samples;
                    (x, None, None, "exact discrete change of variables through the DDIM step maps", Some(e.to_string()))
                }
                Err(e) => return Err(guidance_error(e)),
            }
        }
        GuideSampler::Ddpm => {
            let x = sample(&Ddpm, &schedule, &field, Start::Standard, n, seed).map_err(solver)?.samples;
            let h = knn_entropy(x.as_ref(), KNN_K).map_err(guidance_error)?;
            (x, Some(h), None, "Kozachenko-Leonenko k-NN estimate (k = 5); no standard error (dependent terms)", None)
        }
    };
    let c = confidence(&model, args.class, samples.as_ref()).map_err(guidance_error)?;
    run.write_samples(samples.as_ref())?;
    let sampler_name = match args.sampler {
        GuideSampler::Ddpm => "ddpm",
        GuideSampler::Ddim => "ddim",
        GuideSampler::Ode => "ode",
    };
    // serde_json writes shortest round-trip floats, and null for a non-finite or absent value.
    let report = serde_json::json!({
        "confidence": c.mean,
        "confidence_stderr": c.stderr,
        "entropy": entropy,
        "entropy_stderr": entropy_stderr,
        "entropy_method": method,
        "entropy_note": note,
        "class": args.class,
        "strength": args.strength,
        "sampler": sampler_name,
        "steps": steps,
        "eta": args.eta,
        "count": n,
    });
    writeln!(out, "{report}")?;
    out.flush()?;
    Ok(())
}
