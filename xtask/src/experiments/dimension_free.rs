//! Dimension-free DDPM convergence on isotropic Gaussian mixtures (Li–Cai–Wei).
//!
//! **Claim.** DDPM with the Li–Yan schedule on `Σ π_k N(μ_k, I_d)` reaches TV
//! `≲ log²(KT) log²T / T` (+ a score-error term `ε_score sqrt(log T)`): the TV against the number of
//! steps T falls like 1/T up to logs, and does not move with d or K; older bounds grow like d/T.
//! Key lemma: `tr(I + J_t(x)) ≤ C log(KT)` along the trajectory, where for an isotropic mixture
//! `I + J_t(x) = ᾱ_t Cov_{k∼r(·|x)}(μ_k)` \[derived\].
//!
//! **Paper.** Li, Cai, Wei (arXiv 2504.05300); schedule Li–Yan (arXiv 2409.18959, eq. 2.3).
//! **THEORY** §2 (theorem and schedule transcribed; the Jacobian identity and the factorisation
//! derived). Constants of the theorem are not verified: only the shape is checked.
//!
//! **Setup.** Collinear means `μ_k = c_k e` (`e` a random unit vector of R^d, `c_k` uniform in
//! [−4, 4], random weights), K ∈ {2, 8, 32}, d ∈ {2, 16, 128, 1024, 8192} (quick: {2, 128, 8192});
//! Li–Yan schedule with `c₀ = 2`, `c₁ = 4`; T ∈ {32 … 512} (full: to 4096); start N(0, I_d).
//!
//! **Measurement.** TV(DDPM output, target) in dimension d by the isotropic factorisation
//! (`gmdiff_metrics::IsotropicDdpm`, proof in docs/dimension-free.md, tested against brute force in
//! d = 2, 3): exact in-span density propagation (grid h = 0.01; quick 0.02), exact complement. The
//! numerical floor is measured by halving h. The Jacobian identity is checked against the library
//! Hessian at random points (d = 16, K = 8, non-collinear means); the trace along DDPM trajectories
//! (library sampler on the in-span chain, 2000 particles) is compared with log(KT). Robustness: an
//! in-span score shift ε (TV − TV₀ against ε, at every d) and a scaled score (1 + δ)s, whose error
//! also lives on the complement (TV interval and `ε_⊥ = δ sqrt(d − 1)` against d).
//!
//! **Verdict.** PASS when (1) the fitted slope of log TV on log T is in [−1.2, −0.6] for every
//! (d, K) (1/T up to the log factors, which shift the apparent slope by about 2/ln T);
//! (2) at each (K, T) the TV over d varies by at most 1e-9 relative; (3) TV·T/(log²(KT) log²T) stays
//! bounded: its maximum over the T sweep is at most 2× its value at the smallest T; (4) the Jacobian
//! identity holds to 1e-9 relative; (5) the 99th percentile of tr(I + J) divided by log(KT) grows by
//! at most 1.5× over the T sweep at each K; (6) TV(ε) − TV₀ ≤ ε sqrt(log T), grows linearly once
//! ε ≫ TV₀ (slope in [0.8, 1.2]) and is identical in every d. Figures: `tv_vs_steps.svg`, `trace_vs_logkt.svg`,
//! `score_error.svg`. Data: `dimension_free.csv`, `trace.csv`, `score_error.csv`.

#![allow(clippy::needless_range_loop)] // (d, K, T) grids are indexed in parallel

use gmdiff::gaussian::{IsotropicDdpm, PropagationGrid, ScoreError};
use gmdiff::mixture::{Covariance, Gaussian, GaussianMixture};
use gmdiff::process::DiscreteChain;
use gmdiff::solvers::{Particles, Sampler, Schedule, Start, run};
use rand::RngExt;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use serde_json::{Value, json};

use crate::error::{Result, XtaskError};
use crate::experiment::{Check, Claim, Context, Experiment, Outcome};
use crate::plot::{Series, line_plot};

/// The experiment (registered in [`crate::experiments::all`]).
pub struct DimensionFree;

const KS: [usize; 3] = [2, 8, 32];
const C0: f64 = 2.0;
const C1: f64 = 4.0;
/// Margin of the propagation grid beyond the means, in standard deviations.
const MARGIN: f64 = 12.0;
/// Particles of the DDPM runs along which the Jacobian trace is measured.
const TRACE_PARTICLES: usize = 2000;
/// In-span score shifts, and the relative scale of the scaled score error.
const SHIFTS: [f64; 4] = [0.01, 0.03, 0.1, 0.3];
const SCORE_SCALE: f64 = 0.01;

fn fail(e: impl std::fmt::Display) -> XtaskError {
    XtaskError::Usage(format!("dimension_free: {e}"))
}

fn dims(quick: bool) -> Vec<usize> {
    if quick { vec![2, 128, 8192] } else { vec![2, 16, 128, 1024, 8192] }
}
fn steps(quick: bool) -> Vec<usize> {
    if quick { vec![32, 64, 128, 256, 512] } else { vec![32, 64, 128, 256, 512, 1024, 2048, 4096] }
}

/// Least-squares slope and intercept of y on x.
pub fn fit(x: &[f64], y: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    let slope = sxy / sxx;
    (slope, my - slope * mx)
}

/// The in-span target of size K: coordinates in [−4, 4] and weights, from the context's stream K.
fn in_span_target(ctx: &Context, k: usize) -> (Vec<f64>, Vec<f64>) {
    let mut rng = ctx.rng(k as u64);
    let coords: Vec<f64> = (0..k).map(|_| rng.random_range(-4.0..4.0)).collect();
    let raw: Vec<f64> = (0..k).map(|_| rng.random_range(0.2..1.0)).collect();
    let total: f64 = raw.iter().sum();
    (raw.iter().map(|w| w / total).collect(), coords)
}

/// A random unit vector of R^d from the context's stream.
fn direction(ctx: &Context, d: usize, stream: u64) -> Vec<f64> {
    let mut rng = ctx.rng(1_000 + stream);
    let v: Vec<f64> = (0..d).map(|_| rng.sample(StandardNormal)).collect();
    let n = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    v.iter().map(|x| x / n).collect()
}

fn ddpm_for(weights: &[f64], coords: &[f64], e: &[f64], steps: usize) -> Result<IsotropicDdpm> {
    let chain = DiscreteChain::li_yan(steps, C0, C1).map_err(fail)?;
    let means = coords.iter().map(|c| e.iter().map(|v| c * v).collect()).collect();
    IsotropicDdpm::new(weights.to_vec(), means, chain.betas().to_vec()).map_err(fail)
}

/// Spacing of the propagation grid (quick, full); one definition for the configuration and the run.
fn spacing(ctx: &Context) -> f64 {
    ctx.pick(0.02, 0.01)
}

impl Experiment for DimensionFree {
    fn name(&self) -> &'static str {
        "dimension_free"
    }

    fn claim(&self) -> Claim {
        Claim {
            statement: "DDPM (Li–Yan schedule) on isotropic GMMs: TV falls like 1/T up to logs, independent of d and K; tr(I + J_t) = ᾱ_t Cov_r(μ) stays O(log KT)",
            paper: "Li, Cai, Wei (arXiv 2504.05300)",
            theory_section: "§2 (theorem transcribed; Jacobian identity and factorisation derived)",
        }
    }

    fn config(&self, ctx: &Context) -> Value {
        json!({ "dims": dims(ctx.quick()), "ks": KS, "steps": steps(ctx.quick()), "c0": C0, "c1": C1,
                "spacing": spacing(ctx), "margin": MARGIN, "particles": TRACE_PARTICLES,
                "shifts": SHIFTS, "scale": SCORE_SCALE, "version": 2 })
    }

    fn run(&self, ctx: &mut Context) -> Result<Outcome> {
        let quick = ctx.quick();
        let grid = PropagationGrid { spacing: spacing(ctx), margin: MARGIN };
        let (ds, ts) = (dims(quick), steps(quick));
        let targets: Vec<(Vec<f64>, Vec<f64>)> = KS.iter().map(|&k| in_span_target(ctx, k)).collect();
        let dirs: Vec<Vec<f64>> = ds.iter().enumerate().map(|(i, &d)| direction(ctx, d, i as u64)).collect();
        let mut outcome = Outcome::new();

        // 1. TV against T for every (d, K), in parallel over the jobs (each job is sequential).
        let nt = ts.len();
        let jobs: Vec<(usize, usize, usize)> =
            (0..ds.len()).flat_map(|i| (0..KS.len()).flat_map(move |j| (0..nt).map(move |l| (i, j, l)))).collect();
        let pb = ctx.progress(jobs.len() as u64, "dimension_free: TV(d, K, T)");
        let tvs: Vec<Result<f64>> = jobs
            .par_iter()
            .map(|&(i, j, l)| {
                let (w, c) = &targets[j];
                let r = ddpm_for(w, c, &dirs[i], ts[l])?.tv(ScoreError::default(), grid).map_err(fail)?;
                pb.inc(1);
                if r.lower != r.upper {
                    return Err(fail("complement variance differs from 1 with the exact score"));
                }
                Ok(r.lower)
            })
            .collect();
        pb.finish_and_clear();
        let mut tv = vec![vec![vec![0.0; ts.len()]; KS.len()]; ds.len()];
        let mut rows = Vec::new();
        for (&(i, j, l), r) in jobs.iter().zip(tvs) {
            tv[i][j][l] = r?;
            let t = ts[l] as f64;
            rows.push(vec![ds[i] as f64, KS[j] as f64, t, tv[i][j][l], (KS[j] as f64 * t).ln().powi(2) * t.ln().powi(2) / t]);
        }
        ctx.write_csv("dimension_free.csv", &["d", "K", "T", "tv", "rate_log2KT_log2T_over_T"], rows)?;

        // Numerical floor: halve the spacing at the largest T for K = 8, d = 2.
        let (w8, c8) = &targets[1];
        let last = *ts.last().expect("non-empty");
        let fine = ddpm_for(w8, c8, &dirs[0], last)?
            .tv(ScoreError::default(), PropagationGrid { spacing: grid.spacing / 2.0, ..grid })
            .map_err(fail)?
            .lower;
        let floor = (fine - tv[0][1][ts.len() - 1]).abs();
        outcome = outcome.note(format!("numerical floor of the TV (h vs h/2 at T = {last}, K = 8): {floor:.2e}, against TV = {fine:.3e}"));

        let logt: Vec<f64> = ts.iter().map(|&t| (t as f64).ln()).collect();
        let mut worst_slope = f64::NEG_INFINITY;
        let mut slopes = Vec::new();
        for i in 0..ds.len() {
            for j in 0..KS.len() {
                let y: Vec<f64> = tv[i][j].iter().map(|v| v.ln()).collect();
                let (s, _) = fit(&logt, &y);
                worst_slope = worst_slope.max(s);
                slopes.push(s);
            }
        }
        // log²T/T has a local log-log slope of −1 + 2/ln T (≈ −0.65 at T = 300), so "−1 up to logs"
        // over T ∈ [32, 4096] means a raw slope in [−1.2, −0.6]. (A first threshold, ≤ −0.8, set
        // without this correction, failed at −0.78; see docs/dimension-free.md.)
        let best_slope = slopes.iter().copied().fold(f64::INFINITY, f64::min);
        outcome = outcome.check(
            Check::new(
                "TV ∝ 1/T up to logs: fitted log-log slope in [−1.2, −0.6] for every (d, K)",
                worst_slope <= -0.6 && best_slope >= -1.2,
            )
            .with("largest_slope", worst_slope)
            .with("smallest_slope", best_slope)
            .with("fits", slopes.len())
            .detail("least squares of log TV on log T over the T sweep"),
        );
        let mut spread = 0.0f64;
        for j in 0..KS.len() {
            for l in 0..ts.len() {
                let vals: Vec<f64> = (0..ds.len()).map(|i| tv[i][j][l]).collect();
                let (lo, hi) = vals.iter().fold((f64::INFINITY, 0.0f64), |(a, b), &v| (a.min(v), b.max(v)));
                spread = spread.max((hi - lo) / hi);
            }
        }
        outcome = outcome.check(
            Check::at_most("TV does not move with d: max over (K, T) of (max_d − min_d)/max_d", spread, 1e-9)
                .with("dims", format!("{ds:?}")),
        );
        let mut growth = 0.0f64;
        for j in 0..KS.len() {
            let ratio: Vec<f64> = ts
                .iter()
                .enumerate()
                .map(|(l, &t)| {
                    let t = t as f64;
                    tv[0][j][l] * t / ((KS[j] as f64 * t).ln().powi(2) * t.ln().powi(2))
                })
                .collect();
            growth = growth.max(ratio.iter().copied().fold(0.0, f64::max) / ratio[0]);
        }
        outcome = outcome.check(
            Check::at_most("TV·T / (log²(KT) log²T) stays bounded: max over T / value at the smallest T", growth, 2.0)
                .detail("the transcribed rate of Theorem 1, constant not verified"),
        );
        let mut series = Vec::new();
        for (j, &k) in KS.iter().enumerate() {
            for (i, &d) in ds.iter().enumerate() {
                let pts = ts.iter().zip(&tv[i][j]).map(|(&t, &v)| (t as f64, v)).collect();
                let name = if i == 0 || i + 1 == ds.len() { format!("K = {k}, d = {d}") } else { String::new() };
                series.push(Series::line(name, pts));
            }
        }
        let anchor = tv[0][1][0];
        for &d in &[2usize, 8192] {
            let t0 = ts[0] as f64;
            let pts = ts.iter().map(|&t| (t as f64, anchor * d as f64 / 2.0 * t0 / t as f64)).collect();
            series.push(Series::dashed(format!("d/T rate (older bounds), d = {d}"), pts));
        }
        let path = ctx.output("tv_vs_steps.svg")?;
        line_plot(&path, "DDPM on isotropic GMMs: TV vs steps (all d overlap)", "steps T", "TV", &series, true, true)?;

        // 2. Jacobian identity against the library Hessian (d = 16, K = 8, non-collinear means).
        let d = 16;
        let mut rng = ctx.rng(77);
        let means: Vec<Vec<f64>> = (0..8).map(|_| (0..d).map(|_| rng.random_range(-2.0..2.0)).collect()).collect();
        let comps = means
            .iter()
            .map(|m| Gaussian::new(m.clone(), Covariance::isotropic(d, 1.0).map_err(fail)?).map_err(fail))
            .collect::<Result<Vec<_>>>()?;
        let mix = GaussianMixture::new(vec![0.125; 8], comps).map_err(fail)?;
        let mut worst_rel = 0.0f64;
        for &ab in &[0.05, 0.3, 0.7, 0.99] {
            let (a, b) = (f64::sqrt(ab), f64::sqrt(1.0 - ab));
            let pt = mix.diffused(a, b).map_err(fail)?.density().map_err(fail)?;
            let x = faer::Mat::from_fn(64, d, |_, _| 2.0 * rng.sample::<f64, _>(StandardNormal));
            let hess = pt.hessian_batch(x.as_ref()).map_err(fail)?;
            let resp = pt.responsibilities_batch(x.as_ref()).map_err(fail)?;
            for (r, h) in hess.iter().enumerate() {
                let trace_lib: f64 = (0..d).map(|i| 1.0 + h[(i, i)]).sum();
                let mbar: Vec<f64> = (0..d).map(|j| (0..8).map(|k| resp[(r, k)] * means[k][j]).sum()).collect();
                let cov_tr: f64 = (0..8).map(|k| resp[(r, k)] * (0..d).map(|j| (means[k][j] - mbar[j]).powi(2)).sum::<f64>()).sum();
                let formula = ab * cov_tr;
                worst_rel = worst_rel.max((trace_lib - formula).abs() / formula.abs().max(1.0));
            }
        }
        outcome = outcome.check(
            Check::at_most("tr(I + J_t) = ᾱ_t tr Cov_r(μ) against the library Hessian (relative)", worst_rel, 1e-9)
                .with("d", d)
                .with("K", 8usize),
        );

        // 3. The trace along DDPM trajectories (library sampler on the in-span chain).
        let n = TRACE_PARTICLES;
        let mut trace_rows = Vec::new();
        let mut trace_growth = 0.0f64;
        let mut trace_series = Vec::new();
        for (j, &k) in KS.iter().enumerate() {
            let (w, c) = &targets[j];
            let comps = c
                .iter()
                .map(|m| Gaussian::new(vec![*m], Covariance::isotropic(1, 1.0).map_err(fail)?).map_err(fail))
                .collect::<Result<Vec<_>>>()?;
            let mix = GaussianMixture::new(w.clone(), comps).map_err(fail)?;
            let mut ratios = Vec::new();
            for &t in ts.iter().filter(|&&t| t <= 512) {
                let schedule = Schedule::Chain(DiscreteChain::li_yan(t, C0, C1).map_err(fail)?);
                let mut particles = Particles::new(&mix, n, ctx.seed() ^ (t as u64) << 8 ^ k as u64);
                particles.start(Start::Standard, &schedule.point(0).map_err(fail)?).map_err(fail)?;
                let mut traces: Vec<f64> = Vec::with_capacity(n * t);
                run(&Sampler::Ddpm, &schedule, &mut particles, |step, p| {
                    if step == 0 || step == t {
                        return Ok(());
                    }
                    let at = schedule.point(step)?;
                    let ab = at.a * at.a;
                    let dens = mix.diffused(at.a, at.b)?.density()?;
                    let resp = dens.responsibilities_batch(p.positions())?;
                    for r in 0..resp.nrows() {
                        let m: f64 = (0..k).map(|i| resp[(r, i)] * c[i]).sum();
                        let v: f64 = (0..k).map(|i| resp[(r, i)] * (c[i] - m).powi(2)).sum();
                        traces.push(ab * v);
                    }
                    Ok(())
                })
                .map_err(fail)?;
                traces.sort_by(f64::total_cmp);
                let q99 = traces[(0.99 * (traces.len() - 1) as f64) as usize];
                let max = *traces.last().unwrap_or(&0.0);
                let lkt = ((k * t) as f64).ln();
                ratios.push(q99 / lkt);
                trace_rows.push(vec![k as f64, t as f64, lkt, q99, max]);
            }
            trace_growth = trace_growth.max(ratios.iter().copied().fold(0.0, f64::max) / ratios[0].max(1e-300));
            let pts: Vec<(f64, f64)> = trace_rows.iter().filter(|r| r[0] == k as f64).map(|r| (r[2], r[3])).collect();
            trace_series.push(Series::line(format!("q99 of tr(I + J), K = {k}"), pts));
        }
        ctx.write_csv("trace.csv", &["K", "T", "log_KT", "q99_trace", "max_trace"], trace_rows.clone())?;
        let lk: Vec<(f64, f64)> = trace_rows.iter().map(|r| (r[2], r[2])).collect();
        trace_series.push(Series::dashed("log(KT)", lk));
        let path = ctx.output("trace_vs_logkt.svg")?;
        line_plot(&path, "Jacobian trace along DDPM trajectories", "log(KT)", "tr(I + J_t)", &trace_series, false, false)?;
        outcome = outcome.check(
            Check::at_most("q99 tr(I + J_t) / log(KT) does not grow over the T sweep (max / first)", trace_growth, 1.5)
                .with("max_q99_trace", trace_rows.iter().map(|r| r[3]).fold(0.0, f64::max))
                .with("max_trace", trace_rows.iter().map(|r| r[4]).fold(0.0, f64::max)),
        );

        // 4. Score error: an in-span shift at every d, and a scaled score across d.
        let t_err = 256;
        let mut err_rows = Vec::new();
        let mut err_series = Vec::new();
        let mut shift_spread = 0.0f64;
        let mut excess_by_d: Vec<Vec<f64>> = Vec::new();
        for (i, &d) in ds.iter().enumerate() {
            let ddpm = ddpm_for(w8, c8, &dirs[i], t_err)?;
            let base = ddpm.tv(ScoreError::default(), grid).map_err(fail)?.lower;
            let mut excess = Vec::new();
            for &eps in &SHIFTS {
                let r = ddpm.tv(ScoreError { shift: eps, scale: 0.0 }, grid).map_err(fail)?;
                excess.push(r.lower - base);
                err_rows.push(vec![d as f64, eps, 0.0, r.lower, r.upper, eps]);
            }
            let scaled = ddpm.tv(ScoreError { shift: 0.0, scale: SCORE_SCALE }, grid).map_err(fail)?;
            err_rows.push(vec![d as f64, 0.0, SCORE_SCALE, scaled.lower, scaled.upper, SCORE_SCALE * ((d - 1) as f64).sqrt()]);
            err_series.push(Series::line(format!("in-span shift, d = {d}"), SHIFTS.iter().zip(&excess).map(|(&e, &x)| (e, x)).collect()));
            excess_by_d.push(excess);
        }
        for j in 0..SHIFTS.len() {
            let vals: Vec<f64> = excess_by_d.iter().map(|v| v[j]).collect();
            let (lo, hi) = vals.iter().fold((f64::INFINITY, 0.0f64), |(a, b), &v| (a.min(v), b.max(v)));
            shift_spread = shift_spread.max((hi - lo) / hi.abs().max(1e-300));
        }
        // Where ε ≫ TV₀ the excess is linear in ε: local slope between the two largest shifts.
        let n_sh = SHIFTS.len();
        let ex = &excess_by_d[0];
        let eslope = (ex[n_sh - 1] / ex[n_sh - 2]).ln() / (SHIFTS[n_sh - 1] / SHIFTS[n_sh - 2]).ln();
        let sqrt_log_t = (t_err as f64).ln().sqrt();
        let worst_ratio = SHIFTS.iter().zip(ex).map(|(e, x)| x / (e * sqrt_log_t)).fold(0.0, f64::max);
        ctx.write_csv("score_error.csv", &["d", "shift", "scale", "tv_lower", "tv_upper", "eps_score"], err_rows.clone())?;
        let scaled: Vec<(f64, f64)> = err_rows.iter().filter(|r| r[2] > 0.0).map(|r| (r[0], r[3])).collect();
        let path = ctx.output("score_error.svg")?;
        line_plot(
            &path,
            "TV − TV₀ against an in-span score shift ε (T = 256, K = 8; all d overlap)",
            "ε",
            "TV − TV₀",
            &err_series,
            true,
            true,
        )?;
        outcome = outcome.check(
            Check::new(
                "score error: TV(ε) − TV₀ ≤ ε sqrt(log T) at every ε, linear where ε ≫ TV₀ (slope in [0.8, 1.2] between ε = 0.1 and 0.3), the same at every d",
                worst_ratio <= 1.0 && (0.8..=1.2).contains(&eslope) && shift_spread <= 1e-9,
            )
            .with("max_excess_over_eps_sqrt_log_T", worst_ratio)
            .with("slope_large_eps", eslope)
            .with("spread_over_d", shift_spread)
            .detail("the transcribed term ε_score sqrt(log T) with constant 1 (unverified constant)"),
        );
        outcome = outcome.note(format!(
            "scaled score (1.01)·s: TV lower bound by d {:?}; the error of a scaled score also lives on the (d−1)-dim complement, ε_⊥ = 0.01 sqrt(d − 1), so this TV grows with d as ε_score does",
            scaled.iter().map(|(d, v)| format!("d={d}: {v:.3e}")).collect::<Vec<_>>()
        ));
        Ok(outcome)
    }
}
