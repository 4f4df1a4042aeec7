//! Sampler leaderboard: the exact error of every built-in sampler against its cost, on the CIFAR-10
//! spectrum, on the VP, EDM and flow-matching paths and their practitioners' grids.
//!
//! **Claim.** Each sampler, run with the exact score of `N(0, Σ)` (Σ the CIFAR-10 covariance,
//! d = 3072), has an exactly computable output law, hence an exact W2 (and KL) to the data at every
//! budget of score evaluations (NFE); on the EDM path with the Karras grid, where discretisation is
//! the only error, `W2 ∝ NFE^{−p}` with the sampler's order p (within ±0.2).
//!
//! **Paper.** Karras, Aittala, Aila, Laine, *Elucidating the Design Space of Diffusion-Based
//! Generative Models* (arXiv 2206.00364: the EDM path, its grid eq. 5, Algorithms 1–2); Lu et al.
//! (DPM-Solver++, arXiv 2211.01095); Zhao et al. (UniPC, arXiv 2302.04867); Zhang & Chen (DEIS,
//! arXiv 2204.13902); Crowson's k-diffusion (Euler ancestral, DPM2, LMS, the DPM++ SDE family).
//! **THEORY** §0 (any Gaussian path), §3 (exact laws on spectra). The orders each sampler is held
//! to are in [`order`] with their sources (docs/solvers.md, "Measured orders").
//!
//! **Setup.** Data: the CIFAR-10 covariance spectrum (`cifar10_cov_eigenvalues.npy`, 9 of its 3072
//! eigenvalues are 0), centred. Paths and grids, each the setting practitioners run:
//! VP linear (β 0.1–20, T = 1): uniform in t to ε = 1e-3; Karras (ρ = 7) and log-SNR-uniform from
//! σ(T) to σ(ε), each followed by a last step to σ = 0 (k-diffusion's `append_zero`).
//! EDM (σ_max = 80): Karras (ρ = 7, σ_min = 0.002) and log-SNR-uniform (k-diffusion's
//! `get_sigmas_exponential`) to σ_min, then σ = 0 (EDM's `num_steps` counts that last step).
//! Flow matching (a = 1 − t, b = t, T = 1): uniform and quadratic (uniform in √t) grids to t = 0;
//! the samplers that need `a_T > 0` refuse it with a typed error, which the table records. Start:
//! the path's standard start `N(0, s² I)` (s = σ_max on EDM, 1 otherwise), as in practice. For a
//! budget B the sampler runs the largest number of steps whose score evaluations, counted by its
//! own step code ([`gmdiff::solvers::score_evals`]), do not exceed B.
//!
//! **Measurement.** W2(output, p₀) (Bures, exact) and the KL divergence over the data's support
//! `range(Σ)` (the output projected on the 3063 non-null eigen-directions against p₀'s projection;
//! the full-space KL is ∞ for any sampler that leaves variance along the 9 null directions, which
//! is every sampler that does not land on `a_S x̂₀`, so it says nothing about quality). Orders: on
//! the EDM path with the Karras grid from σ_max to σ_min = 0.002 (no last step to σ = 0: its error
//! does not shrink with the step count) from the exact `p_T`, W2 against the true marginal
//! `p_{σ_min}`, and the least-squares slope of `log W2` against `log NFE` over the three largest
//! step counts of the order sweep.
//!
//! **Verdict.** PASS when (1) every run is a finite W2, an ∞ with its reason, or a typed refusal
//! (never NaN); (2) every sampler converges on every (path, grid) it runs on: its W2 at the largest
//! budget is below its W2 at the smallest, over the budgets where it is finite; (3) every sampler with a stated order p has a fitted
//! order within ±0.2 of p. The best sampler and grid at each budget on each path are reported
//! (notes, `best.csv`, `leaderboard.md`). Figures: `w2_<path>_<grid>.svg`, `best.svg`,
//! `order.svg`. Data: `leaderboard.csv`, `best.csv`, `order.csv`, `leaderboard.md`.

use gmdiff::gaussian::{GaussianError, Init, Report, SpectralProblem, SpectralScore, read_spectrum};
use gmdiff::process::{Edm, Flow, Process, TimeGrid, VpLinear};
use gmdiff::solvers::{Builtin, Schedule, SolverError, UniPc, score_evals};
use rayon::prelude::*;
use serde_json::{Value, json};

use crate::error::{Result, XtaskError};
use crate::experiment::{Check, Claim, Context, Experiment, Outcome};
use crate::io::atomic_write;
use crate::plot::{Series, line_plot};
use crate::stats::loglog_fit;

const CIFAR: &str = "cifar10_cov_eigenvalues.npy";
/// Early stop of the VP grids (in t; σ(ε) ≈ 0.0100).
const VP_EPS: f64 = 1e-3;
/// EDM's σ_min and ρ (Karras et al. 2022, Table 1).
const EDM_SIGMA_MIN: f64 = 0.002;
const RHO: f64 = 7.0;
/// Slack of the order criterion: |fitted − p| ≤ ORDER_TOL.
const ORDER_TOL: f64 = 0.2;
/// W2 values below this are round-off and left out of the order fit.
const ROUNDOFF: f64 = 1e-11;

/// The experiment (registered in [`crate::experiments::all`]).
pub struct SamplerLeaderboard;

fn fail(e: impl std::fmt::Display) -> XtaskError {
    XtaskError::Usage(format!("sampler_leaderboard: {e}"))
}

/// The budgets of score evaluations.
fn budgets(quick: bool) -> Vec<usize> {
    if quick { vec![5, 10, 20, 50, 100, 200] } else { vec![5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 70, 100, 140, 200] }
}

/// The step counts of the order sweep (EDM path, Karras grid, exact start). Large enough that the
/// fit sees the asymptotic slope: EDM's churn keeps `γ = √2 − 1` below `S = S_churn/(√2 − 1) ≈ 97`
/// steps, and the multistep warm-ups fade; a run costs milliseconds, so quick and full agree.
fn order_steps(_quick: bool) -> Vec<usize> {
    vec![128, 256, 512, 1024]
}

/// The order each sampler is held to on exact laws, or `None` when no order is claimed.
///
/// Sources: first order for the Euler-type steps (DDIM = Euler in σ, Song et al. 2021; flow-ODE
/// Euler; EI, DDPM, EM in the weak sense; ODE-EI = DPM-Solver-1); 2 for the Heun and midpoint
/// steps and the 2M multistep (Karras et al. 2022, Alg. 1; Lu et al. 2022; DPM2 is DPM-Solver-2,
/// Lu et al. 2022a); 4 for RK4. The ancestral and churned samplers state no order in their sources
/// (k-diffusion, EDM): their order on the law is the one their exact laws show, 1 for Euler
/// ancestral (its deterministic part is Euler) and 2 for DPM2 ancestral and EDM's Algorithm 2
/// (Heun steps; the noise injections are exact in law for Gaussian data), docs/solvers.md. The DPM++
/// SDE family and 2S: 2 (Lu et al. 2022; k-diffusion's multistep SDE solvers). DPM-Solver++(3M) as
/// shipped by diffusers and k-diffusion: 2, not 3 (measured; its `D2` is half the second difference
/// that its `φ₃` coefficient needs, docs/solvers.md). DPOM and
/// DPUM add Langevin correctors whose guarantees are rates in TV, not orders on the law, so no
/// order is claimed for them.
pub fn order(name: &str) -> Option<f64> {
    match name {
        "em" | "ei" | "ddpm" | "ddim" | "euler" | "ode-ei" | "euler-a" => Some(1.0),
        "heun" | "dpmpp2m" | "edm-heun" | "edm-sde" | "dpm2" | "dpm2-a" | "dpmpp2s-a" | "dpmpp-sde" | "dpmpp2m-sde" => Some(2.0),
        // The third-order *form* that diffusers and k-diffusion ship halves its D'' term, so it is
        // second order (docs/solvers.md, "DPM-Solver++(3M) is second order"); held to what it is.
        "dpmpp3m" | "dpmpp3m-sde" => Some(2.0),
        // DEIS of its default order 2 (diffusers' `lower_order_final` only below 15 steps).
        "deis" => Some(2.0),
        // k-diffusion's LMS warms up with orders 1, 2, 3: the first-order first step leaves an
        // O(h²) error, so the default order 4 converges at order 2 (measured local slopes 2.86,
        // 2.24, 2.06 over 128–1024 steps; 3.85 with full order from the first step, docs/solvers.md).
        "lms" => Some(2.0),
        // diffusers' UniPC lowers its last step to first order at every length, so the default's
        // asymptotic order is 2 while p + 1 = 3 shows over a long pre-asymptotic window (local slopes
        // 2.96, 2.80, 2.47 over 128–1024 steps): no order is claimed for the default; the
        // configuration without `lower_order_final` is held to p + 1.
        "rk4" => Some(4.0),
        _ => None,
    }
}

/// One (path, grid) setting of the leaderboard.
#[derive(Clone, Copy)]
struct Setting {
    path: &'static str,
    grid: &'static str,
    process: Process,
}

impl Setting {
    /// The schedule of `steps` steps (the σ-grids: `steps − 1` steps to σ_min, then σ = 0).
    fn schedule(&self, steps: usize) -> std::result::Result<Schedule, SolverError> {
        let p = &self.process;
        let eps = if matches!(p, Process::Edm(_)) { EDM_SIGMA_MIN } else { VP_EPS };
        let grid = match self.grid {
            "uniform" if matches!(p, Process::Flow(_)) => TimeGrid::uniform(p, steps, 0.0)?,
            "quadratic" => TimeGrid::quadratic(p, steps, 0.0)?,
            "uniform" => TimeGrid::uniform(p, steps, eps)?,
            "karras" => TimeGrid::karras(p, steps.saturating_sub(1).max(1), eps, RHO)?.with_final_zero(),
            "log-snr" => TimeGrid::exponential(p, steps.saturating_sub(1).max(1), eps)?.with_final_zero(),
            other => unreachable!("grid {other}"),
        };
        Ok(Schedule::grid(*p, grid))
    }

    /// The smallest number of steps of this grid.
    fn min_steps(&self) -> usize {
        if matches!(self.grid, "karras" | "log-snr") { 2 } else { 1 }
    }
}

fn settings() -> Vec<Setting> {
    let vp = Process::Vp(VpLinear::default());
    let edm = Process::Edm(Edm::default());
    let flow = Process::Flow(Flow::default());
    vec![
        Setting { path: "vp", grid: "uniform", process: vp },
        Setting { path: "vp", grid: "karras", process: vp },
        Setting { path: "vp", grid: "log-snr", process: vp },
        Setting { path: "edm", grid: "karras", process: edm },
        Setting { path: "edm", grid: "log-snr", process: edm },
        Setting { path: "flow", grid: "uniform", process: flow },
        Setting { path: "flow", grid: "quadratic", process: flow },
    ]
}

/// One cell of the leaderboard.
#[derive(Clone)]
enum Cell {
    /// The sampler ran: steps, score evaluations, W2, KL over the support, full KL, the report's note.
    Ran { steps: usize, nfe: usize, w2: f64, kl_support: f64, kl: f64, note: Option<String> },
    /// Even the fewest steps cost more than the budget.
    OverBudget,
    /// The sampler refuses the setting (typed error).
    Refused(String),
}

/// The largest number of steps whose score evaluations fit in `budget` (None when even the
/// fewest steps do not), with that count.
fn steps_for(sampler: &Builtin, s: &Setting, budget: usize) -> std::result::Result<Option<(usize, usize)>, SolverError> {
    let evals = |n: usize| -> std::result::Result<usize, SolverError> { score_evals(sampler, &s.schedule(n)?) };
    let lo = s.min_steps();
    if evals(lo)? > budget {
        return Ok(None);
    }
    // Score evaluations grow with the steps (at least one per step), so steps ≤ budget.
    let (mut good, mut bad) = (lo, budget + 1);
    while bad - good > 1 {
        let mid = (good + bad) / 2;
        if evals(mid)? <= budget { good = mid } else { bad = mid }
    }
    Ok(Some((good, evals(good)?)))
}

fn run_cell(full: &SpectralProblem, range: &SpectralProblem, sampler: &Builtin, s: &Setting, budget: usize) -> Result<Cell> {
    let refused = |e: &SolverError| matches!(e, SolverError::Unsupported { .. } | SolverError::DdpmRate { .. });
    let (steps, nfe) = match steps_for(sampler, s, budget) {
        Ok(Some(x)) => x,
        Ok(None) => return Ok(Cell::OverBudget),
        Err(e) if refused(&e) => return Ok(Cell::Refused(e.to_string())),
        Err(e) => return Err(fail(e)),
    };
    let sched = s.schedule(steps).map_err(fail)?;
    let go = |p: &SpectralProblem| p.scheme(sampler, &sched, Init::Standard, &SpectralScore::Exact, false);
    match (go(full), go(range)) {
        (Ok(a), Ok(b)) => Ok(Cell::Ran { steps, nfe, w2: a.w2, kl_support: b.kl, kl: a.kl, note: a.note.or(b.note) }),
        (Err(GaussianError::Solver(e)), _) | (_, Err(GaussianError::Solver(e))) if refused(&e) => Ok(Cell::Refused(e.to_string())),
        (Err(e), _) | (_, Err(e)) => Err(fail(e)),
    }
}

/// The order sweep of one sampler on the EDM path: the Karras grid of `n` steps from σ_max to
/// σ_min (no last step to σ = 0, whose error does not shrink with `n`), from the exact `p_T`, and
/// W2 against the true marginal `p_{σ_min}` at the grid's last time, so that discretisation is the
/// only error. Returns the (NFE, W2) rows and the fitted slope.
fn order_sweep(full: &SpectralProblem, sampler: &Builtin, steps: &[usize]) -> Result<(Vec<(usize, f64)>, f64)> {
    let edm = Process::Edm(Edm::default());
    let mut rows = Vec::new();
    for &n in steps {
        let sched = Schedule::grid(edm, TimeGrid::karras(&edm, n, EDM_SIGMA_MIN, RHO).map_err(fail)?);
        let r: Report = full.scheme(sampler, &sched, Init::Exact, &SpectralScore::Exact, true).map_err(fail)?;
        let w2_end = r.trajectory.as_ref().and_then(|t| t.first().copied()).ok_or_else(|| fail("no trajectory"))?;
        rows.push((r.score_evals, w2_end));
    }
    let usable: Vec<(usize, f64)> = rows.iter().copied().filter(|r| r.1.is_finite() && r.1 >= ROUNDOFF).collect();
    let tail = &usable[usable.len().saturating_sub(3)..];
    let slope = if tail.len() >= 2 {
        -loglog_fit(&tail.iter().map(|r| r.0 as f64).collect::<Vec<_>>(), &tail.iter().map(|r| r.1).collect::<Vec<_>>()).slope
    } else {
        f64::NAN
    };
    Ok((rows, slope))
}

fn num(x: f64) -> String {
    crate::report::fmt_num(x)
}

impl Experiment for SamplerLeaderboard {
    fn name(&self) -> &'static str {
        "sampler_leaderboard"
    }

    fn claim(&self) -> Claim {
        Claim {
            statement: "every sampler's exact W2 and KL to CIFAR-10-covariance data against its NFE budget, on the VP, EDM and flow paths and their grids; on EDM + Karras each sampler's W2 falls like NFE^−p with its order p (±0.2)",
            paper: "Karras et al. (arXiv 2206.00364); Lu et al. (arXiv 2211.01095); Zhao et al. (arXiv 2302.04867); Zhang & Chen (arXiv 2204.13902); k-diffusion",
            theory_section: "§0, §3",
        }
    }

    fn config(&self, ctx: &Context) -> Value {
        json!({
            "cifar_sha256": ctx.data_digest(CIFAR),
            "samplers": Builtin::NAMES,
            "budgets": budgets(ctx.quick()),
            "order_steps": order_steps(ctx.quick()),
            "settings": settings().iter().map(|s| format!("{}/{}", s.path, s.grid)).collect::<Vec<_>>(),
            "vp_eps": VP_EPS, "edm_sigma_min": EDM_SIGMA_MIN, "rho": RHO, "order_tol": ORDER_TOL,
        })
    }

    fn run(&self, ctx: &mut Context) -> Result<Outcome> {
        let mut outcome = Outcome::new();
        let cifar = ctx.data_file(CIFAR)?;
        let spectrum = read_spectrum(&cifar).map_err(fail)?;
        let positive: Vec<f64> = spectrum.iter().copied().filter(|&v| v > 0.0).collect();
        let nulls = spectrum.len() - positive.len();
        let full = SpectralProblem::centred(spectrum).map_err(fail)?;
        let range = SpectralProblem::centred(positive).map_err(fail)?;
        let budgets = budgets(ctx.quick());
        let samplers: Vec<Builtin> = Builtin::NAMES.iter().map(|n| Builtin::from_name(n).ok_or_else(|| fail(n))).collect::<Result<_>>()?;
        let settings = settings();

        // The table: every (setting, sampler, budget), in parallel over cells (each cell is serial
        // and deterministic, so the result does not depend on the thread count).
        let (n_samplers, n_budgets) = (samplers.len(), budgets.len());
        let jobs: Vec<(usize, usize, usize)> =
            (0..settings.len()).flat_map(|s| (0..n_samplers).flat_map(move |k| (0..n_budgets).map(move |b| (s, k, b)))).collect();
        let pb = ctx.progress(jobs.len() as u64, "leaderboard");
        let cells: Vec<Cell> = jobs
            .par_iter()
            .map(|&(s, k, b)| {
                let c = run_cell(&full, &range, &samplers[k], &settings[s], budgets[b]);
                pb.inc(1);
                c
            })
            .collect::<Result<_>>()?;
        pb.finish_and_clear();
        let cell = |s: usize, k: usize, b: usize| &cells[(s * samplers.len() + k) * budgets.len() + b];

        let mut rows = Vec::new();
        let mut nan_cells = 0usize;
        let (mut ran, mut refusals, mut infinite) = (0usize, 0usize, 0usize);
        for (s, set) in settings.iter().enumerate() {
            for (k, sampler) in samplers.iter().enumerate() {
                for (b, &budget) in budgets.iter().enumerate() {
                    let nan = f64::NAN;
                    let (steps, nfe, w2, kl_support, kl, note) = match cell(s, k, b) {
                        Cell::Ran { steps, nfe, w2, kl_support, kl, note } => {
                            ran += 1;
                            if w2.is_nan() || kl_support.is_nan() || kl.is_nan() {
                                nan_cells += 1;
                            }
                            if w2.is_infinite() {
                                infinite += 1;
                                if note.is_none() {
                                    nan_cells += 1;
                                }
                            }
                            (*steps as f64, *nfe as f64, *w2, *kl_support, *kl, note.clone().unwrap_or_default())
                        }
                        Cell::OverBudget => (nan, nan, nan, nan, nan, "the fewest steps exceed the budget".to_string()),
                        Cell::Refused(why) => {
                            refusals += 1;
                            (nan, nan, nan, nan, nan, format!("refused: {why}"))
                        }
                    };
                    rows.push(crate::row![set.path, set.grid, sampler.name(), budget, steps, nfe, w2, kl_support, kl, note]);
                }
            }
        }
        ctx.write_csv("leaderboard.csv", &["path", "grid", "sampler", "budget", "steps", "nfe", "w2", "kl_support", "kl", "note"], rows)?;
        outcome = outcome.check(
            Check::new(
                format!("{ran} runs: every W2 and KL is a number, or ∞ with its reason ({infinite} ∞, {refusals} typed refusals)"),
                nan_cells == 0,
            )
            .with("runs", ran)
            .with("refusals", refusals)
            .with("infinite_w2", infinite)
            .with("nan_or_unexplained", nan_cells)
            .threshold("no NaN, and every ∞ carries a note"),
        );

        // Convergence: W2 at the largest budget below W2 at the smallest, per (setting, sampler).
        let mut diverging = Vec::new();
        let mut pairs = 0usize;
        for (s, set) in settings.iter().enumerate() {
            for (k, sampler) in samplers.iter().enumerate() {
                let w2s: Vec<f64> = (0..budgets.len())
                    .filter_map(|b| match cell(s, k, b) {
                        Cell::Ran { w2, .. } if w2.is_finite() => Some(*w2),
                        _ => None,
                    })
                    .collect();
                if let (Some(first), Some(last)) = (w2s.first(), w2s.last())
                    && w2s.len() >= 2
                {
                    pairs += 1;
                    if last >= first {
                        diverging.push(format!("{} on {}/{} ({} → {})", sampler.name(), set.path, set.grid, num(*first), num(*last)));
                    }
                }
            }
        }
        outcome = outcome.check(
            Check::new(format!("every sampler converges on every path and grid where its W2 is finite ({pairs} pairs)"), diverging.is_empty())
                .with("pairs", pairs)
                .with("not_converging", diverging.len())
                .with("which", diverging.join("; "))
                .threshold("W2 at the largest budget < W2 at the smallest budget, over the budgets with a finite W2")
                .detail("Heun and RK4 in t evaluate the score at σ = 0, where the 9 null eigenvalues make it infinite: their W2 is ∞ with that reason on the grids that end at σ = 0"),
        );

        // The best choice per budget and path.
        let mut best_rows = Vec::new();
        let mut md = String::from("# Sampler leaderboard (CIFAR-10 spectrum, exact laws)\n\n");
        md.push_str(&format!(
            "W2(output, p₀) and KL over the data's support (the {} null directions of Σ left out), from the standard start, for the largest number of steps within each NFE budget. Best three per path and budget.\n\n",
            nulls
        ));
        let mut best_series = Vec::new();
        for path in ["vp", "edm", "flow"] {
            md.push_str(&format!("## {path}\n\n| NFE budget | 1st (W2, KL on support) | 2nd | 3rd |\n|---|---|---|---|\n"));
            let mut best_points = Vec::new();
            let mut winners = Vec::new();
            for (b, &budget) in budgets.iter().enumerate() {
                let mut entries: Vec<(f64, f64, String)> = Vec::new();
                for (s, set) in settings.iter().enumerate().filter(|(_, set)| set.path == path) {
                    for (k, sampler) in samplers.iter().enumerate() {
                        if let Cell::Ran { w2, kl_support, steps, nfe, .. } = cell(s, k, b)
                            && w2.is_finite()
                        {
                            entries.push((*w2, *kl_support, format!("{} / {} ({} steps, {} NFE)", sampler.name(), set.grid, steps, nfe)));
                        }
                    }
                }
                entries.sort_by(|a, b| a.0.total_cmp(&b.0));
                let top: Vec<String> = entries.iter().take(3).map(|e| format!("{}: {}, {}", e.2, num(e.0), num(e.1))).collect();
                md.push_str(&format!(
                    "| {budget} | {} |\n",
                    (0..3).map(|i| top.get(i).cloned().unwrap_or_default()).collect::<Vec<_>>().join(" | ")
                ));
                if let Some(e) = entries.first() {
                    best_points.push((budget as f64, e.0));
                    best_rows.push(crate::row![path, budget, e.2.clone(), e.0, e.1]);
                    winners.push(format!("{budget}: {} ({})", e.2.split(" (").next().unwrap_or_default(), num(e.0)));
                }
            }
            md.push('\n');
            outcome = outcome.note(format!("best on {path} by NFE budget (W2): {}", winners.join("; ")));
            best_series.push(Series::line(format!("best on {path}"), best_points));
        }
        ctx.write_csv("best.csv", &["path", "budget", "sampler_grid", "w2", "kl_support"], best_rows)?;
        let path = ctx.output("best.svg")?;
        line_plot(
            &path,
            "best exact W2 within each NFE budget (CIFAR-10 spectrum)",
            "NFE budget",
            "W2(output, p₀)",
            &best_series,
            true,
            true,
        )?;

        // One figure per setting.
        for (s, set) in settings.iter().enumerate() {
            let series: Vec<Series> = samplers
                .iter()
                .enumerate()
                .filter_map(|(k, sampler)| {
                    let pts: Vec<(f64, f64)> = (0..budgets.len())
                        .filter_map(|b| match cell(s, k, b) {
                            Cell::Ran { nfe, w2, .. } => Some((*nfe as f64, *w2)),
                            _ => None,
                        })
                        .collect();
                    (!pts.is_empty()).then(|| Series::line(sampler.name(), pts))
                })
                .collect();
            let file = format!("w2_{}_{}.svg", set.path, set.grid.replace('-', "_"));
            let path = ctx.output(&file)?;
            line_plot(
                &path,
                &format!("exact W2 against NFE: {} path, {} grid", set.path, set.grid),
                "NFE",
                "W2(output, p₀)",
                &series,
                true,
                true,
            )?;
        }

        // Orders on EDM + Karras from the exact p_T.
        let steps = order_steps(ctx.quick());
        // Every built-in with its defaults, plus the configurations whose nominal order the
        // defaults hide (module docs): UniPC without `lower_order_final` (diffusers' UniPC lowers
        // its last step to first order at every length, which caps the default at 2 asymptotically).
        let mut configs: Vec<(String, Builtin, Option<f64>)> =
            samplers.iter().map(|s| (s.name().to_string(), *s, order(s.name()))).collect();
        configs.push((
            "unipc, lower_order_final = false".into(),
            Builtin::UniPc(UniPc { lower_order_final: false, ..UniPc::default() }),
            Some(UniPc::default().order as f64 + 1.0),
        ));
        let sweeps: Vec<(Vec<(usize, f64)>, f64)> =
            configs.par_iter().map(|(_, s, _)| order_sweep(&full, s, &steps)).collect::<Result<_>>()?;
        let mut order_rows = Vec::new();
        let mut order_series = Vec::new();
        md.push_str("## Orders (EDM path, Karras grid to σ_min = 0.002, exact start, W2 against p_σmin)\n\n| sampler | stated order | fitted slope of −log W2 / log NFE |\n|---|---|---|\n");
        for ((name, _, stated), (rows, slope)) in configs.iter().zip(&sweeps) {
            for r in rows {
                order_rows.push(crate::row![name.as_str(), r.0, r.1, *slope]);
            }
            order_series.push(Series::line(format!("{name} ({})", num(*slope)), rows.iter().map(|r| (r.0 as f64, r.1)).collect()));
            md.push_str(&format!("| {name} | {} | {} |\n", stated.map_or("—".to_string(), num), num(*slope)));
            if let Some(p) = stated {
                outcome = outcome.check(
                    Check::new(format!("{name}: fitted order {} vs stated {}", num(*slope), num(*p)), (slope - p).abs() <= ORDER_TOL)
                        .with("fitted_order", *slope)
                        .with("stated_order", *p)
                        .with("w2_at_largest_nfe", rows.last().map_or(f64::NAN, |r| r.1))
                        .threshold(format!("|fitted − p| ≤ {ORDER_TOL}, slope over the three largest step counts of {steps:?}")),
                );
            }
        }
        ctx.write_csv("order.csv", &["sampler", "nfe", "w2", "fitted_order"], order_rows)?;
        let path = ctx.output("order.svg")?;
        line_plot(
            &path,
            "W2(output, p_σmin) against NFE on EDM + Karras (to σ_min) from the exact p_T",
            "NFE",
            "W2(output, p₀)",
            &order_series,
            true,
            true,
        )?;
        let md_path = ctx.output("leaderboard.md")?;
        atomic_write(&md_path, md.as_bytes())?;
        Ok(outcome)
    }
}
