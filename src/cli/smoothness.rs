//! `gmdiff smoothness`: the score's Lipschitz constant (search estimate, closed-form bounds and a
//! certified enclosure) and the second moment of the diffused mixture `p_t` (Liang et al., THEORY §1;
//! `docs/smoothness.md`).

use super::args::{CliError, MixtureAtTime, json_number};
use clap::Args;
use gmdiff::mixture::{EnclosureOptions, LipschitzEnclosure, Progress, SearchOptions, SmoothnessError, smoothness_with};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::Write;
use std::time::Duration;

#[derive(Args, Debug)]
pub struct SmoothnessArgs {
    #[command(flatten)]
    target: MixtureAtTime,
    /// Radius R of the ball ‖x‖ ≤ R searched, bounded and enclosed; absent: all of R^d (the bound
    /// then needs equal component precisions at time t, and there is no enclosure).
    #[arg(long, allow_negative_numbers = true)]
    radius: Option<f64>,
    /// Exact samples of p_t used as search starts.
    #[arg(long, default_value_t = 2000)]
    samples: usize,
    /// Seed of the search.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Certified enclosure: stop when upper ≤ RATIO · lower (RATIO > 1).
    #[arg(long, default_value_t = 1.05, allow_negative_numbers = true)]
    ratio: f64,
    /// Box budget of the certified enclosure [default: 1000000 for d ≤ 4, 20000 for d ≤ 8, 2000
    /// above, where bisection cannot converge in useful time]. Deterministic.
    #[arg(long)]
    max_boxes: Option<usize>,
    /// Wall-clock limit of the enclosure in seconds (off by default; with it, the result depends on
    /// the machine's speed).
    #[arg(long, allow_negative_numbers = true)]
    time_limit: Option<f64>,
    /// Skip the certified enclosure.
    #[arg(long)]
    no_enclosure: bool,
}

/// The default box budget for dimension `d` (see `--max-boxes`).
fn default_max_boxes(d: usize) -> usize {
    match d {
        0..=4 => 1_000_000,
        5..=8 => 20_000,
        _ => 2_000,
    }
}

fn enclosure_json(e: &LipschitzEnclosure, max_boxes: usize) -> String {
    let argmax: Vec<String> = e.argmax.iter().map(|v| json_number(*v)).collect();
    format!(
        "{{\"lower\": {}, \"upper\": {}, \"ratio\": {}, \"target_ratio\": {}, \"converged\": {}, \"stop\": \"{}\", \"boxes\": {}, \
         \"max_boxes\": {}, \"remaining_boxes\": {}, \"largest_remaining_upper\": {}, \"argmax\": [{}], \"value_at_argmax\": {}, \
         \"ascents\": {}, \"radius\": {}, \"seconds\": {}}}",
        json_number(e.lower),
        json_number(e.upper),
        json_number(e.ratio()),
        json_number(e.target_ratio),
        e.converged,
        e.stop.as_str(),
        e.boxes,
        max_boxes,
        e.remaining_boxes,
        e.largest_remaining_upper.map_or("null".to_string(), json_number),
        argmax.join(", "),
        json_number(e.value_at_argmax),
        e.ascents,
        json_number(e.radius),
        json_number(e.elapsed.as_secs_f64()),
    )
}

/// Prints one JSON line: `lipschitz_estimate`, `lipschitz_bound`, `theory_bound`,
/// `lipschitz_enclosure` (an object with its certificate, or `null` and a note), `second_moment`.
/// A progress bar goes to standard error when it is a terminal.
pub fn run(args: &SmoothnessArgs, out: &mut impl Write) -> Result<(), CliError> {
    let (mixture, c) = args.target.load()?;
    if let Some(t) = args.time_limit
        && !(t.is_finite() && t > 0.0)
    {
        return Err(CliError::Usage(format!("--time-limit must be a positive number of seconds, not {t}")));
    }
    let max_boxes = args.max_boxes.unwrap_or_else(|| default_max_boxes(mixture.dim()));
    let opts = SearchOptions { radius: args.radius, samples: args.samples, seed: args.seed, ..SearchOptions::default() };
    let enclosure = EnclosureOptions {
        ratio: args.ratio,
        max_boxes,
        time_limit: args.time_limit.map(Duration::from_secs_f64),
        ..EnclosureOptions::default()
    };
    let want_enclosure = !args.no_enclosure && args.radius.is_some();
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:20}] {pos}/{len} ({elapsed})").unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let progress = |p: Progress| {
        bar.set_length(p.total);
        bar.set_position(p.done);
        bar.set_message(format!("{}: {}", p.stage, p.note));
    };
    let result = smoothness_with(&mixture, c.a, c.b, &opts, want_enclosure.then_some(&enclosure), &progress);
    bar.finish_and_clear();
    let s = result.map_err(|e| match e {
        SmoothnessError::Mixture(m) => CliError::Mixture(m),
        SmoothnessError::NeedsRadius => CliError::Usage(format!("{e}: pass --radius")),
        other => CliError::Usage(other.to_string()),
    })?;
    let enclosure_field = match (&s.enclosure, args.no_enclosure) {
        (Some(e), _) => enclosure_json(e, max_boxes),
        (None, true) => "null, \"lipschitz_enclosure_note\": \"skipped (--no-enclosure)\"".to_string(),
        (None, false) => "null, \"lipschitz_enclosure_note\": \"the enclosure needs a ball: pass --radius\"".to_string(),
    };
    writeln!(
        out,
        "{{\"lipschitz_estimate\": {}, \"lipschitz_bound\": {}, \"theory_bound\": {}, \"lipschitz_enclosure\": {}, \"second_moment\": {}}}",
        json_number(s.lipschitz_estimate),
        json_number(s.lipschitz_bound.value),
        s.lipschitz_bound.theory_bound.map_or("null".to_string(), json_number),
        enclosure_field,
        json_number(s.second_moment)
    )?;
    Ok(out.flush()?)
}
