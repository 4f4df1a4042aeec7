//! Guidance raises classification confidence, under DDPM and DDIM.
//!
//! **Claim.** With the guided score `s_η = ∇ log p_t(x | y) + η ∇_x log p_t(y | x)`, the mean
//! classification confidence `E p_0(y | x_out)` of the outputs increases with the strength `η`,
//! for the DDPM and the DDIM samplers.
//!
//! **Paper.** Wu, Chen, Li, Wang, Wei (arXiv 2403.01639, ICML 2024), "guidance raises
//! classification confidence". **THEORY** §4; the setting is **reconstructed** (the paper's exact
//! conditions were not available), so only the claim's shape is tested.
//!
//! **Setup.** (a) THEORY §4: 2-D, components `N(μ_k, I)` with means (2, 0), (−1, ±1.7), equal
//! weights, target class (2, 0). (b) d = 16: four components with seeded means of norm 2 and
//! seeded diagonal covariances in [0.5, 1.5], target class 0. OU with T = 5, uniform grid to
//! ε = 1e-3, start N(0, I); η ∈ {0, 0.5, 1, 2, 4}; steps 100 (full: 200); n = 4000 (full: 20 000)
//! per run, the same particle streams for every η.
//!
//! **Measurement.** The exact data classifier `p_0(y | x)` at every output, averaged, with its
//! standard error (`gmdiff_guidance::confidence`).
//!
//! **Verdict.** PASS for a (setting, sampler) when every step of the η sequence raises the
//! confidence by more than 2 combined standard errors `2 sqrt(se_i² + se_{i+1}²)`. Figures:
//! `confidence_<setting>.svg` (confidence vs η with ±2 se bars), `samples_2d_<sampler>.svg`
//! (outputs at η = 0, 1, 4), `samples_d16_ddim.svg` (outputs projected on the plane of μ_0, μ_1).
//! Data: `confidence.csv`.

use faer::Mat;
use gmdiff::guidance::{ClassConditional, Guidance, GuidedScore, confidence};
use gmdiff::mixture::{Covariance, Gaussian, GaussianMixture};
use gmdiff::process::{Ou, Process, TimeGrid, particle_rng};
use gmdiff::solvers::{Builtin, Ddim, Ddpm, Schedule, Start, sample};
use rand::RngExt;
use rand_distr::StandardNormal;
use serde_json::{Value, json};

use crate::error::{Result, XtaskError};
use crate::experiment::{Check, Claim, Context, Experiment, Outcome};
use crate::plot::{Series, line_plot, scatter_plot};

const ETAS: [f64; 5] = [0.0, 0.5, 1.0, 2.0, 4.0];

/// The experiment (registered in [`crate::experiments::all`]).
pub struct GuidanceConfidence;

/// THEORY §4's 2-D model: `N(μ_k, I)`, μ = (2, 0), (−1, ±1.7), equal weights; class k = component k.
pub fn theory_model() -> ClassConditional {
    let mus = [[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]];
    let comps = mus.iter().map(|m| Gaussian::new(m.to_vec(), Covariance::isotropic(2, 1.0).expect("valid")).expect("valid")).collect();
    ClassConditional::per_component(GaussianMixture::new(vec![1.0 / 3.0; 3], comps).expect("valid"))
}

/// The seeded 16-D, 4-component model (fixed seed: part of the setup, not of the run).
pub fn d16_model() -> ClassConditional {
    let d = 16;
    let comps = (0..4u64)
        .map(|k| {
            let mut rng = particle_rng(16, k);
            let v: Vec<f64> = (0..d).map(|_| rng.sample(StandardNormal)).collect();
            let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
            let var: Vec<f64> = (0..d).map(|_| 0.5 + rng.random::<f64>()).collect();
            Gaussian::new(v.iter().map(|x| 2.0 * x / norm).collect(), Covariance::diagonal(var).expect("valid")).expect("valid")
        })
        .collect();
    ClassConditional::per_component(GaussianMixture::new(vec![0.25; 4], comps).expect("valid"))
}

/// OU with T = 5 on a uniform grid of `steps` steps to ε = 1e-3.
pub fn ou_schedule(steps: usize) -> Result<Schedule> {
    let p = Process::Ou(Ou::new(5.0).map_err(|e| XtaskError::Usage(e.to_string()))?);
    Ok(Schedule::grid(p, TimeGrid::uniform(&p, steps, 1e-3).map_err(|e| XtaskError::Usage(e.to_string()))?))
}

/// True when each consecutive step of `values` (mean, se) moves in direction `sign` by more than
/// two combined standard errors.
pub fn monotone(values: &[(f64, f64)], sign: f64) -> bool {
    values.windows(2).all(|w| sign * (w[1].0 - w[0].0) > 2.0 * (w[0].1.powi(2) + w[1].1.powi(2)).sqrt())
}

/// Rows of `x` projected on the orthonormalised plane of `u`, `v`.
fn project(x: &Mat<f64>, u: &[f64], v: &[f64]) -> Vec<(f64, f64)> {
    let nu = u.iter().map(|a| a * a).sum::<f64>().sqrt();
    let e1: Vec<f64> = u.iter().map(|a| a / nu).collect();
    let c: f64 = v.iter().zip(&e1).map(|(a, b)| a * b).sum();
    let w: Vec<f64> = v.iter().zip(&e1).map(|(a, b)| a - c * b).collect();
    let nw = w.iter().map(|a| a * a).sum::<f64>().sqrt();
    let e2: Vec<f64> = w.iter().map(|a| a / nw).collect();
    (0..x.nrows())
        .map(|r| {
            let p = |e: &[f64]| (0..x.ncols()).map(|j| x[(r, j)] * e[j]).sum::<f64>();
            (p(&e1), p(&e2))
        })
        .collect()
}

/// Steps and samples (quick, full); one definition for the configuration and the run.
fn steps_and_samples(ctx: &Context) -> (usize, usize) {
    (ctx.pick(100, 200), ctx.pick(4000, 20_000))
}

impl Experiment for GuidanceConfidence {
    fn name(&self) -> &'static str {
        "guidance_confidence"
    }

    fn claim(&self) -> Claim {
        Claim {
            statement: "guidance raises the classification confidence E p_0(y | x_out) monotonically in η, under DDPM and DDIM",
            paper: "Wu, Chen, Li, Wang, Wei (arXiv 2403.01639, ICML 2024)",
            theory_section: "§4 (reconstructed)",
        }
    }

    fn config(&self, ctx: &Context) -> Value {
        let (steps, n) = steps_and_samples(ctx);
        json!({ "etas": ETAS, "steps": steps, "n": n, "process": "ou T=5 eps=1e-3 uniform",
                "samplers": ["ddpm", "ddim"], "settings": ["theory_2d", "d16"], "guidance": "classifier",
                "d16_model_seed": 16, "model_version": 1 })
    }

    fn run(&self, ctx: &mut Context) -> Result<Outcome> {
        let (steps, n) = steps_and_samples(ctx);
        let schedule = ou_schedule(steps)?;
        let fail = |e: &dyn std::fmt::Display| XtaskError::Usage(format!("guidance_confidence: {e}"));
        let settings = [("theory_2d", theory_model()), ("d16", d16_model())];
        let samplers = [Builtin::Ddpm(Ddpm::default()), Builtin::Ddim(Ddim { eta: 0.0 })];
        let pb = ctx.progress((settings.len() * samplers.len() * ETAS.len()) as u64, "guidance: confidence vs η");
        let mut outcome = Outcome::new();
        let mut rows = Vec::new();
        for (setting, model) in &settings {
            let mut curves = Vec::new();
            for sampler in &samplers {
                let mut values = Vec::new();
                let mut shown = Vec::new();
                for &eta in &ETAS {
                    let field = GuidedScore::new(model.clone(), 0, eta, Guidance::Classifier).map_err(|e| fail(&e))?;
                    let x = sample(sampler, &schedule, &field, Start::Standard, n, ctx.seed()).map_err(|e| fail(&e))?.samples;
                    let c = confidence(model, 0, x.as_ref()).map_err(|e| fail(&e))?;
                    rows.push(crate::row![*setting, sampler.name(), eta, c.mean, c.stderr, n]);
                    values.push((c.mean, c.stderr));
                    if [0.0, 1.0, 4.0].contains(&eta) {
                        let m = x.nrows().min(1500);
                        let head = Mat::from_fn(m, x.ncols(), |i, j| x[(i, j)]);
                        shown.push((eta, head));
                    }
                    pb.inc(1);
                }
                let ok = monotone(&values, 1.0);
                let mut check = Check::new(format!("{setting}, {}: confidence increases with η beyond 2 combined se", sampler.name()), ok)
                    .threshold("every step of η: Δ confidence > 2 sqrt(se_i² + se_{i+1}²)")
                    .detail("the exact classifier p_0(y | x) averaged over the outputs, same particle streams for every η");
                for (eta, (m, se)) in ETAS.iter().zip(&values) {
                    check = check.with(format!("confidence(η={eta})"), *m).with(format!("se(η={eta})"), *se);
                }
                outcome = outcome.check(check);
                let pts: Vec<(f64, f64)> = ETAS.iter().zip(&values).map(|(e, v)| (*e, v.0)).collect();
                curves.push(Series::line(sampler.name(), pts).with_y_err(values.iter().map(|v| 2.0 * v.1).collect()));
                let mus: Vec<Vec<f64>> = model.mixture().components().iter().map(|c| c.mean().to_vec()).collect();
                let sets: Vec<Series> = shown
                    .iter()
                    .map(|(eta, x)| {
                        let pts = if x.ncols() == 2 {
                            (0..x.nrows()).map(|r| (x[(r, 0)], x[(r, 1)])).collect()
                        } else {
                            project(x, &mus[0], &mus[1])
                        };
                        Series::points(format!("η = {eta}"), pts)
                    })
                    .collect();
                if *setting == "theory_2d" || matches!(sampler, Builtin::Ddim(_)) {
                    let file = format!("samples_{}_{}.svg", if *setting == "theory_2d" { "2d" } else { "d16" }, sampler.name());
                    let path = ctx.output(&file)?;
                    let title = format!("{setting}: {} outputs guided toward class 0 ({} steps)", sampler.name(), steps);
                    let (xl, yl) = if *setting == "theory_2d" { ("x1", "x2") } else { ("along μ0", "along μ1 ⊥ μ0") };
                    scatter_plot(&path, &title, xl, yl, &sets, false, false)?;
                }
            }
            let path = ctx.output(&format!("confidence_{setting}.svg"))?;
            line_plot(
                &path,
                &format!("{setting}: E p0(y | x_out) vs guidance strength (±2 se)"),
                "η",
                "confidence",
                &curves,
                false,
                false,
            )?;
        }
        pb.finish_and_clear();
        ctx.write_csv("confidence.csv", &["setting", "sampler", "eta", "confidence", "stderr", "n"], rows)?;
        Ok(outcome)
    }
}
