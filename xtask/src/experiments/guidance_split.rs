//! The curious example: strong guidance with coarse steps splits the target component in two.
//!
//! **Claim.** For a 1-D three-component mixture guided toward the middle component, DDPM with
//! strong guidance and coarse steps returns two clusters on either side of the target instead of
//! one around it; with fine steps (or weak guidance) the output stays one cluster at the target.
//!
//! **Paper.** Wu, Chen, Li, Wang, Wei (arXiv 2403.01639, ICML 2024), "a curious example of strong
//! guidance". **THEORY** §4; setting **reconstructed**.
//!
//! **Setup.** Components `N(−3, 1)`, `N(0, 1)`, `N(3, 1)`, equal weights, target the middle one;
//! OU with T = 5, uniform grid to ε = 1e-3, DDPM from N(0, 1); steps S ∈ {20, 30, 50, 100, 200},
//! η ∈ {0, 2, 5, 10, 20}; n = 4000 (full: 20 000) per cell.
//!
//! **Measurement.** Per cell: the mass near the target `P(|x| < 1)`, the masses of the two sides
//! `P(x < −2)`, `P(x > 2)`, and the cell's class: *diverged* (the run fails or the sample standard
//! deviation exceeds 50), *split* (`P(|x| < 1) < 0.1` and each side `≥ 0.2`), *centre + sides*
//! (each side `≥ 0.05` with the centre kept), else *one cluster*. The mechanism is measured too: the
//! largest DDPM amplification `max_k max_x |1 + β_k ∂_x s_η(x, t_k)| / sqrt(1 − β_k)` over a grid
//! of x in [−6, 6] (above 1, the linearised step overshoots and flips particles across the target).
//!
//! **Verdict.** PASS when η = 0 gives one cluster at every S, S = 200 with η ≤ 5 gives one cluster,
//! and at least one (η, S) cell splits in two. Figure: `split_grid.svg` (histograms across the
//! grid). Data: `split.csv`.

use gmdiff::guidance::{ClassConditional, Guidance, GuidedScore, ScoreJacobian};
use gmdiff::mixture::{Covariance, Gaussian, GaussianMixture};
use gmdiff::solvers::{Ddpm, Start, sample};
use serde_json::{Value, json};

use super::guidance_confidence::ou_schedule;
use crate::error::{Result, XtaskError};
use crate::experiment::{Check, Claim, Context, Experiment, Outcome};
use crate::plot::{HistogramGrid, Panel, histogram_grid};

const STEPS: [usize; 5] = [20, 30, 50, 100, 200];
const ETAS: [f64; 5] = [0.0, 2.0, 5.0, 10.0, 20.0];
const RANGE: (f64, f64) = (-8.0, 8.0);
const BINS: usize = 64;
/// The verdict's thresholds: split when P(|x| < 1) < CENTRE and each side ≥ SIDE_SPLIT; centre +
/// sides when each side ≥ SIDE_KEPT; diverged when the standard deviation exceeds DIVERGED_SD.
const CENTRE: f64 = 0.1;
const SIDE_SPLIT: f64 = 0.2;
const SIDE_KEPT: f64 = 0.05;
const DIVERGED_SD: f64 = 50.0;

/// The experiment (registered in [`crate::experiments::all`]).
pub struct GuidanceSplit;

/// How a cell is classified, for the report.
const CLASSES: &str = "split: P(|x| < 1) < 0.1 and P(x < −2), P(x > 2) ≥ 0.2; centre + sides: both sides ≥ 0.05; diverged: sd > 50 or the run fails; else one cluster";

/// The 1-D model: N(−3, 1), N(0, 1), N(3, 1), equal weights; class k = component k.
pub fn split_model() -> ClassConditional {
    let comps =
        [-3.0, 0.0, 3.0].iter().map(|&m| Gaussian::new(vec![m], Covariance::isotropic(1, 1.0).expect("valid")).expect("valid")).collect();
    ClassConditional::per_component(GaussianMixture::new(vec![1.0 / 3.0; 3], comps).expect("valid"))
}

/// One cell of the grid.
struct Cell {
    class: &'static str,
    centre: f64,
    left: f64,
    right: f64,
    sd: f64,
    amplification: f64,
    counts: Vec<usize>,
    n: usize,
}

fn classify(x: &[f64]) -> (&'static str, f64, f64, f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let sd = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    let frac = |f: &dyn Fn(f64) -> bool| x.iter().filter(|v| f(**v)).count() as f64 / n;
    let (centre, left, right) = (frac(&|v| v.abs() < 1.0), frac(&|v| v < -2.0), frac(&|v| v > 2.0));
    let class = if sd.is_nan() || sd > DIVERGED_SD {
        "diverged"
    } else if centre < CENTRE && left >= SIDE_SPLIT && right >= SIDE_SPLIT {
        "split"
    } else if left >= SIDE_KEPT && right >= SIDE_KEPT {
        "centre + sides"
    } else {
        "one cluster"
    };
    (class, centre, left, right, sd)
}

/// `max_k max_x |1 + β_k ∂_x s(x, t_k)| / sqrt(1 − β_k)` on a grid of x.
fn amplification(field: &GuidedScore, steps: usize) -> Result<f64> {
    let schedule = ou_schedule(steps)?;
    let xs = faer::Mat::from_fn(241, 1, |i, _| -6.0 + 0.05 * i as f64);
    let mut worst: f64 = 0.0;
    for k in 0..steps {
        let info = schedule.step(k).map_err(|e| XtaskError::Usage(e.to_string()))?;
        let beta = info.ddpm_beta;
        let jac = field.jacobian_batch(&info.from, xs.as_ref()).map_err(|e| XtaskError::Usage(e.to_string()))?;
        for j in &jac {
            worst = worst.max((1.0 + beta * j[(0, 0)]).abs() / (1.0 - beta).sqrt());
        }
    }
    Ok(worst)
}

/// Palette index of each class in `split_grid.svg`.
const CLASS_COLOURS: [(&str, usize); 4] = [("one cluster", 0), ("split", 1), ("centre + sides", 3), ("diverged", 10)];

/// `split_grid.svg`: one histogram per (S, η) cell, rows = steps, columns = η.
fn plot_grid(path: &std::path::Path, cells: &[Vec<Cell>]) -> Result<()> {
    let panels: Vec<Panel> = cells
        .iter()
        .enumerate()
        .flat_map(|(r, row)| row.iter().enumerate().map(move |(c, cell)| (r, c, cell)))
        .map(|(r, c, cell)| {
            let shown: usize = cell.counts.iter().sum();
            let off = if cell.class != "diverged" && (shown as f64) < 0.5 * cell.n as f64 { " (mostly off-plot)" } else { "" };
            Panel {
                title: format!("S = {}, η = {}, amp {:.2}", STEPS[r], ETAS[c], cell.amplification),
                footer: format!("{}{off}", cell.class),
                heights: cell.counts.iter().map(|&k| k as f64).collect(),
                color: CLASS_COLOURS.iter().find(|(n, _)| *n == cell.class).map_or(0, |(_, i)| *i),
            }
        })
        .collect();
    histogram_grid(
        path,
        &HistogramGrid {
            title: "DDPM outputs guided toward N(0,1) in N(−3,1)+N(0,1)+N(3,1): rows = steps S, columns = η; dashed: target mean",
            x_range: RANGE,
            cols: ETAS.len(),
            panels: &panels,
            marker_x: Some(0.0),
            key: &CLASS_COLOURS,
        },
    )
}

/// Samples per cell (quick, full); one definition for the configuration and the run.
fn samples(ctx: &Context) -> usize {
    ctx.pick(4000, 20_000)
}

impl Experiment for GuidanceSplit {
    fn name(&self) -> &'static str {
        "guidance_split"
    }

    fn claim(&self) -> Claim {
        Claim {
            statement: "strong guidance with coarse DDPM steps splits the (middle) target component into two clusters; fine steps keep one",
            paper: "Wu, Chen, Li, Wang, Wei (arXiv 2403.01639, ICML 2024)",
            theory_section: "§4 (reconstructed)",
        }
    }

    fn config(&self, ctx: &Context) -> Value {
        json!({ "steps": STEPS, "etas": ETAS, "n": samples(ctx), "process": "ou T=5 eps=1e-3 uniform", "sampler": "ddpm",
                "means": [-3.0, 0.0, 3.0], "figure_version": 2, "thresholds": { "centre": CENTRE, "side_split": SIDE_SPLIT, "side_kept": SIDE_KEPT, "diverged_sd": DIVERGED_SD } })
    }

    fn run(&self, ctx: &mut Context) -> Result<Outcome> {
        let n = samples(ctx);
        let model = split_model();
        let fail = |e: &dyn std::fmt::Display| XtaskError::Usage(format!("guidance_split: {e}"));
        let pb = ctx.progress((STEPS.len() * ETAS.len()) as u64, "guidance: split grid");
        let mut grid: Vec<Vec<Cell>> = Vec::new();
        let mut rows = Vec::new();
        for &steps in &STEPS {
            let schedule = ou_schedule(steps)?;
            let mut line = Vec::new();
            for &eta in &ETAS {
                let field = GuidedScore::new(model.clone(), 1, eta, Guidance::Classifier).map_err(|e| fail(&e))?;
                let amp = amplification(&field, steps)?;
                let cell = match sample(&Ddpm::default(), &schedule, &field, Start::Standard, n, ctx.seed()) {
                    Ok(out) => {
                        let x: Vec<f64> = (0..n).map(|i| out.samples[(i, 0)]).collect();
                        let (class, centre, left, right, sd) = classify(&x);
                        let mut counts = vec![0usize; BINS];
                        for v in &x {
                            let b = ((v - RANGE.0) / (RANGE.1 - RANGE.0) * BINS as f64).floor();
                            if (0.0..BINS as f64).contains(&b) {
                                counts[b as usize] += 1;
                            }
                        }
                        Cell { class, centre, left, right, sd, amplification: amp, counts, n }
                    }
                    // A diverged run is an outcome of the grid, recorded as such.
                    Err(_) => Cell {
                        class: "diverged",
                        centre: f64::NAN,
                        left: f64::NAN,
                        right: f64::NAN,
                        sd: f64::INFINITY,
                        amplification: amp,
                        counts: vec![0; BINS],
                        n,
                    },
                };
                rows.push(crate::row![steps, eta, cell.class, cell.centre, cell.left, cell.right, cell.sd, cell.amplification, n]);
                line.push(cell);
                pb.inc(1);
            }
            grid.push(line);
        }
        pb.finish_and_clear();
        let class = |s: usize, e: usize| grid[s][e].class;
        let eta0 = (0..STEPS.len()).all(|s| class(s, 0) == "one cluster");
        let fine = (0..ETAS.len()).filter(|&e| ETAS[e] <= 5.0).all(|e| class(STEPS.len() - 1, e) == "one cluster");
        let splits: Vec<String> = (0..STEPS.len())
            .flat_map(|s| (0..ETAS.len()).map(move |e| (s, e)))
            .filter(|&(s, e)| class(s, e) == "split")
            .map(|(s, e)| format!("(η={}, S={})", ETAS[e], STEPS[s]))
            .collect();
        // Mechanism: every one-cluster cell should have a small amplification, every split one a large one.
        let amp_split = (0..STEPS.len())
            .flat_map(|s| (0..ETAS.len()).map(move |e| (s, e)))
            .filter(|&(s, e)| class(s, e) == "split")
            .map(|(s, e)| grid[s][e].amplification)
            .fold(f64::INFINITY, f64::min);
        let classes = |cells: &mut dyn Iterator<Item = (usize, usize)>| -> String {
            cells.map(|(s, e)| format!("S={}: {}", STEPS[s], class(s, e))).collect::<Vec<_>>().join("; ")
        };
        let centre_min =
            |cells: &mut dyn Iterator<Item = (usize, usize)>| cells.map(|(s, e)| grid[s][e].centre).fold(f64::INFINITY, f64::min);
        let fine_etas: Vec<usize> = (0..ETAS.len()).filter(|&e| ETAS[e] <= 5.0).collect();
        let last = STEPS.len() - 1;
        let outcome = Outcome::new()
            .check(
                Check::new("η = 0: one cluster at every step count", eta0)
                    .with("classes", classes(&mut (0..STEPS.len()).map(|s| (s, 0))))
                    .with("smallest_p_centre", centre_min(&mut (0..STEPS.len()).map(|s| (s, 0))))
                    .threshold("class = one cluster in every cell")
                    .detail(CLASSES),
            )
            .check(
                Check::new("S = 200, η ≤ 5: one cluster (fine steps do not split)", fine)
                    .with("classes", fine_etas.iter().map(|&e| format!("η={}: {}", ETAS[e], class(last, e))).collect::<Vec<_>>().join("; "))
                    .with("smallest_p_centre", centre_min(&mut fine_etas.iter().map(|&e| (last, e))))
                    .threshold("class = one cluster in every cell")
                    .detail(CLASSES),
            )
            .check(
                Check::new("some (η, S) with strong guidance and coarse steps splits the target in two", !splits.is_empty())
                    .with("split_cells", if splits.is_empty() { "none".to_string() } else { splits.join(" ") })
                    .with("smallest_amplification_among_split_cells", amp_split)
                    .threshold("at least one cell of class split")
                    .detail(CLASSES),
            );
        plot_grid(&ctx.output("split_grid.svg")?, &grid)?;
        ctx.write_csv("split.csv", &["steps", "eta", "class", "p_centre", "p_left", "p_right", "sd", "max_amplification", "n"], rows)?;
        Ok(outcome)
    }
}
