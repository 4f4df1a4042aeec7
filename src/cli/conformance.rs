//! `gmdiff conformance`: a diffusers `scheduler_config.json` run exactly as configured on Gaussian
//! data (issue 16): its timestep and σ tables, the exact W2 and KL of its output to the data, the
//! same sampler with every fix applied, and the cost of each anomaly ([`gmdiff::gaussian::conformance`]).

use super::args::{CliError, json_number};
use super::gaussian_error::{Data, GaussianDataArgs, gaussian, output_law_json};
use clap::Args;
use gmdiff::gaussian::{Conformance, ExactTarget, GaussianError, Init, SpectralScore, conformance};
use gmdiff::io::{format_f64, is_stdin, read_input};
use gmdiff::solvers::diffusers::SchedulerConfig;
use std::io::Write;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ConformanceArgs {
    /// diffusers scheduler configuration (`scheduler_config.json`; `_class_name` names the class); -
    /// for standard input.
    #[arg(long, value_name = "FILE")]
    diffusers_config: PathBuf,
    /// Inference steps n (`set_timesteps(n)`): repeat the flag or give a list, e.g. --steps 10,25,50.
    #[arg(long, value_name = "N", value_delimiter = ',', required = true)]
    steps: Vec<usize>,
    #[command(flatten)]
    data: GaussianDataArgs,
    /// Also print the exact output law of the scheduler, as `gaussian-error --law` does:
    /// "law": {"variances": [...]} for --spectrum (one per eigenvalue, in the file's order),
    /// {"mean": [...], "covariance": [[...]]} for --mean/--covariance; null when the output is
    /// infinite (see "note").
    #[arg(long, conflicts_with = "table")]
    law: bool,
    /// Print a readable table instead of the JSON object.
    #[arg(long)]
    table: bool,
}

/// The reader's result and the report of each `--steps` value.
struct Runs {
    class: &'static str,
    warnings: Vec<String>,
    runs: Vec<(Conformance, Option<Option<String>>)>,
}

pub fn run(args: &ConformanceArgs, out: &mut impl Write) -> Result<(), CliError> {
    if args.steps.contains(&0) {
        return Err(CliError::Usage("--steps 0: the number of inference steps must be at least 1".into()));
    }
    let path = &args.diffusers_config;
    let source = if is_stdin(path) { "standard input".to_string() } else { path.display().to_string() };
    let bytes = read_input(path)?;
    let text = String::from_utf8(bytes).map_err(|_| CliError::Usage(format!("{source}: not UTF-8 text")))?;
    let parsed = SchedulerConfig::from_json(&text).map_err(|e| CliError::Usage(format!("{source}: {e}")))?;
    let data = args.data.load()?;
    let target: &dyn ExactTarget = match &data {
        Data::Spectral { problem, .. } => problem,
        Data::Dense(p) => p,
    };
    let mut runs = Vec::with_capacity(args.steps.len());
    for &n in &args.steps {
        let report = conformance(&parsed.config, n, target).map_err(|e| match e {
            GaussianError::Config(e) => CliError::Usage(format!("{source} at --steps {n}: {e}")),
            other => gaussian(other),
        })?;
        let law = if args.law {
            let plan = &report.plan;
            Some(output_law_json(&data, &plan.sampler, &plan.schedule, Init::Standard, &SpectralScore::Exact, 0.0)?)
        } else {
            None
        };
        runs.push((report, law));
    }
    let all = Runs { class: parsed.config.class.name(), warnings: parsed.warnings, runs };
    // Warnings only once every run has succeeded: a bad input stays one `error:` line.
    for w in &all.warnings {
        eprintln!("warning: {w}");
    }
    let text = if args.table { table(&all) } else { json(&all) };
    out.write_all(text.as_bytes())?;
    Ok(out.flush()?)
}

/// Why a value of the report is infinite (the library's note: an infinite score, or the support
/// rule's KL = ∞).
fn note(r: &Conformance) -> Option<String> {
    r.error.note.clone()
}

fn string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

fn numbers(v: &[f64]) -> String {
    format!("[{}]", v.iter().map(|x| json_number(*x)).collect::<Vec<_>>().join(", "))
}

fn strings(v: &[String]) -> String {
    format!("[{}]", v.iter().map(|s| string(s)).collect::<Vec<_>>().join(", "))
}

/// One JSON object: `{"class", "warnings", "runs": [one object per --steps value]}`.
fn json(all: &Runs) -> String {
    let runs: Vec<String> = all
        .runs
        .iter()
        .map(|(r, law)| {
            let p = &r.plan;
            let mut o = format!(
                "{{\"steps\": {}, \"class\": {}, \"sampler\": {}, \"notes\": {}, \"timesteps\": {}, \"sigmas\": {}, \"init_noise_sigma\": {}, \"w2\": {}, \"kl\": {}",
                p.steps,
                string(p.class.name()),
                string(p.sampler.name()),
                strings(&p.notes),
                numbers(&p.timesteps),
                p.sigmas.as_deref().map_or_else(|| "null".to_string(), numbers),
                json_number(p.init_noise_sigma),
                json_number(r.error.w2),
                json_number(r.error.kl),
            );
            if let Some(note) = note(r) {
                o.push_str(&format!(", \"note\": {}", string(&note)));
            }
            let ideal = r.ideal.as_ref().map_or_else(
                || "null".to_string(),
                |i| format!("{{\"fixes\": {}, \"w2\": {}, \"kl\": {}}}", strings(&i.fixes), json_number(i.w2), json_number(i.kl)),
            );
            o.push_str(&format!(", \"ideal\": {ideal}"));
            let anomalies: Vec<String> = r
                .anomalies
                .iter()
                .map(|a| {
                    let (w2, kl) = a.fixed.map_or(("null".to_string(), "null".to_string()), |(w, k)| (json_number(w), json_number(k)));
                    format!(
                        "{{\"kind\": {}, \"message\": {}, \"fix\": {}, \"w2_fixed\": {w2}, \"kl_fixed\": {kl}, \"fix_error\": {}}}",
                        string(a.anomaly.kind.name()),
                        string(&a.anomaly.message),
                        a.anomaly.fix.as_ref().map_or_else(|| "null".to_string(), |(what, _)| string(what)),
                        a.fix_error.as_deref().map_or_else(|| "null".to_string(), string),
                    )
                })
                .collect();
            o.push_str(&format!(", \"anomalies\": [{}]", anomalies.join(", ")));
            if let Some(law) = law {
                o.push_str(&format!(", \"law\": {}", law.as_deref().unwrap_or("null")));
            }
            o.push('}');
            o
        })
        .collect();
    format!("{{\"class\": {}, \"warnings\": {}, \"runs\": [{}]}}\n", string(all.class), strings(&all.warnings), runs.join(", "))
}

/// A number for the table: six significant digits, ∞ as `∞`.
fn short(v: f64) -> String {
    if v.is_infinite() && v > 0.0 {
        return "∞".into();
    }
    if !v.is_finite() || (v.fract() == 0.0 && v.abs() < 1e15) {
        return format_f64(v);
    }
    let magnitude = v.abs().log10().floor();
    if (-4.0..6.0).contains(&magnitude) { format!("{v:.prec$}", prec = (5.0 - magnitude) as usize) } else { format!("{v:.5e}") }
}

fn short_list(v: &[f64]) -> String {
    v.iter().map(|x| short(*x)).collect::<Vec<_>>().join(" ")
}

/// The readable report: one block per --steps value.
fn table(all: &Runs) -> String {
    let mut s = String::new();
    for (r, _) in &all.runs {
        let p = &r.plan;
        s.push_str(&format!("{} at {} steps: gmdiff sampler {}\n", p.class.name(), p.steps, p.sampler.name()));
        for n in &p.notes {
            s.push_str(&format!("  note: {n}\n"));
        }
        s.push_str(&format!("  timesteps ({}): {}\n", p.timesteps.len(), short_list(&p.timesteps)));
        if let Some(sigmas) = &p.sigmas {
            s.push_str(&format!("  sigmas ({}): {}\n", sigmas.len(), short_list(sigmas)));
        }
        s.push_str(&format!("  init_noise_sigma: {}\n", short(p.init_noise_sigma)));
        s.push_str(&format!("  W2 to the data: {}   KL: {}\n", short(r.error.w2), short(r.error.kl)));
        if let Some(note) = note(r) {
            s.push_str(&format!("  ({note})\n"));
        }
        match &r.ideal {
            Some(i) => s.push_str(&format!("  ideal run ({}): W2 {}   KL {}\n", i.fixes.join("; "), short(i.w2), short(i.kl))),
            None => s.push_str("  ideal run: no anomaly with a fix\n"),
        }
        if r.anomalies.is_empty() {
            s.push_str("  anomalies: none\n");
        }
        for a in &r.anomalies {
            s.push_str(&format!("  anomaly {}: {}\n", a.anomaly.kind.name(), a.anomaly.message));
            match (&a.anomaly.fix, a.fixed, &a.fix_error) {
                (Some((what, _)), Some((w2, kl)), _) => s.push_str(&format!(
                    "    fix `{what}`: W2 {} → {}, KL {} → {}\n",
                    short(r.error.w2),
                    short(w2),
                    short(r.error.kl),
                    short(kl)
                )),
                (Some((what, _)), None, Some(e)) => s.push_str(&format!("    fix `{what}`: not measurable ({e})\n")),
                _ => s.push_str("    no configuration field removes it\n"),
            }
        }
    }
    s
}
