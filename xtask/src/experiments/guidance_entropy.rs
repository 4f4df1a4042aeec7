//! Guidance lowers the differential entropy of the output, under DDIM and the flow ODE.
//!
//! **Claim.** The differential entropy `h = −E log p_out(x_out)` of the guided outputs decreases
//! with the guidance strength η, for deterministic DDIM and for the probability-flow ODE.
//!
//! **Paper.** Wu, Chen, Li, Wang, Wei (arXiv 2403.01639, ICML 2024), "guidance lowers the
//! differential entropy". **THEORY** §4: along the flow, `dh/ds = E[∇·v]` and the guidance term's
//! Jacobian `−η a_t² Cov_{k|x}(μ_k) ⪯ 0` (derived); the setting is **reconstructed**.
//!
//! **Setup.** THEORY §4's 2-D model (means (2, 0), (−1, ±1.7), unit covariances, equal weights),
//! target class (2, 0); OU with T = 5, uniform grid to ε = 1e-3, start N(0, I); η ∈ {0, 0.5, 1,
//! 2, 4}; steps 100 (full: 200); n = 4000 (full: 20 000), the same start points for every η.
//!
//! **Measurement.** Per sample, the exact log-density of the output law by change of variables:
//! DDIM through the exact Jacobian determinant of every step map (`map_log_density`: no
//! discretisation error, it is the DDIM output's own density); the flow ODE (Heun) by the
//! instantaneous change of variables integrated by the same Heun stages (`flow_log_density`), whose
//! discretisation error is estimated by rerunning with twice the steps. Entropy = −mean, with its
//! standard error. Cross-checks: the Kozachenko–Leonenko k-NN estimate (k = 5) on the same
//! samples; and a one-Gaussian class with η = 0, whose flow output entropy must match the closed
//! form `½ log det(2πe Σ)` and whose DDIM output entropy must match the exact DDIM output law
//! (`gmdiff_solvers::output_law`).
//!
//! **Verdict.** PASS when both entropy sequences decrease by more than 2 combined standard errors
//! at every step of η, and the two closed-form checks agree within 4 se (+ the measured
//! discretisation gap for the flow). Figure: `entropy.svg`. Data: `entropy.csv`.

use gmdiff::guidance::{ClassConditional, Guidance, GuidedScore, flow_log_density, knn_entropy, map_log_density};
use gmdiff::mixture::{Covariance, Gaussian, GaussianMixture};
use gmdiff::solvers::{Builtin, Ddim, Dense, DenseGaussian, Heun, LawStart, output_law};
use serde_json::{Value, json};

use super::guidance_confidence::{monotone, ou_schedule, theory_model};
use crate::error::{Result, XtaskError};
use crate::experiment::{Check, Claim, Context, Experiment, Outcome};
use crate::plot::{Series, line_plot};

const ETAS: [f64; 5] = [0.0, 0.5, 1.0, 2.0, 4.0];

/// The experiment (registered in [`crate::experiments::all`]).
pub struct GuidanceEntropy;

/// Steps and samples (quick, full); one definition for the configuration and the run.
fn steps_and_samples(ctx: &Context) -> (usize, usize) {
    (ctx.pick(100, 200), ctx.pick(4000, 20_000))
}

impl Experiment for GuidanceEntropy {
    fn name(&self) -> &'static str {
        "guidance_entropy"
    }

    fn claim(&self) -> Claim {
        Claim {
            statement: "guidance lowers the differential entropy of the output monotonically in η, under DDIM and the flow ODE",
            paper: "Wu, Chen, Li, Wang, Wei (arXiv 2403.01639, ICML 2024)",
            theory_section: "§4 (reconstructed; entropy derivative derived)",
        }
    }

    fn config(&self, ctx: &Context) -> Value {
        let (steps, n) = steps_and_samples(ctx);
        json!({ "etas": ETAS, "steps": steps, "n": n, "process": "ou T=5 eps=1e-3 uniform",
                "samplers": ["ddim (exact map density)", "heun (instantaneous change of variables)"], "knn_k": 5, "guidance": "classifier" })
    }

    fn run(&self, ctx: &mut Context) -> Result<Outcome> {
        let (steps, n) = steps_and_samples(ctx);
        let seed = ctx.seed();
        let fail = |e: &dyn std::fmt::Display| XtaskError::Usage(format!("guidance_entropy: {e}"));
        let (coarse, fine) = (ou_schedule(steps)?, ou_schedule(2 * steps)?);
        let model = theory_model();
        let ddim = Builtin::Ddim(Ddim { eta: 0.0 });
        let pb = ctx.progress(ETAS.len() as u64 + 1, "guidance: entropy vs η");
        let (mut h_ddim, mut h_flow, mut knn_ddim, mut knn_flow, mut gaps) = (vec![], vec![], vec![], vec![], vec![]);
        let mut rows = Vec::new();
        for &eta in &ETAS {
            let field = GuidedScore::new(model.clone(), 0, eta, Guidance::Classifier).map_err(|e| fail(&e))?;
            let d = map_log_density(&ddim, &coarse, &field, n, seed).map_err(|e| fail(&e))?;
            let f = flow_log_density(&Heun, &coarse, &field, n, seed).map_err(|e| fail(&e))?;
            let f2 = flow_log_density(&Heun, &fine, &field, n, seed).map_err(|e| fail(&e))?;
            let (ed, ef, ef2) =
                (d.entropy().map_err(|e| fail(&e))?, f.entropy().map_err(|e| fail(&e))?, f2.entropy().map_err(|e| fail(&e))?);
            let (kd, kf) =
                (knn_entropy(d.samples.as_ref(), 5).map_err(|e| fail(&e))?, knn_entropy(f.samples.as_ref(), 5).map_err(|e| fail(&e))?);
            rows.push(crate::row![eta, ed.mean, ed.stderr, kd, ef.mean, ef.stderr, ef2.mean, (ef.mean - ef2.mean).abs(), kf, n]);
            h_ddim.push((ed.mean, ed.stderr));
            h_flow.push((ef.mean, ef.stderr));
            knn_ddim.push(kd);
            knn_flow.push(kf);
            gaps.push((ef.mean - ef2.mean).abs());
            pb.inc(1);
        }
        let mut outcome = Outcome::new();
        for (name, values) in [("DDIM (exact map density)", &h_ddim), ("flow ODE, Heun (instantaneous change of variables)", &h_flow)] {
            let mut c = Check::new(format!("{name}: entropy decreases with η beyond 2 combined se"), monotone(values, -1.0))
                .threshold("every step of η: −Δh > 2 sqrt(se_i² + se_{i+1}²)")
                .detail("h = −mean log p_out by the exact change of variables");
            for (eta, (m, se)) in ETAS.iter().zip(values.iter()) {
                c = c.with(format!("h(η={eta})"), *m).with(format!("se(η={eta})"), *se);
            }
            outcome = outcome.check(c);
        }
        let worst_gap = gaps.iter().copied().fold(0.0, f64::max);
        outcome = outcome.note(format!(
            "flow ODE discretisation: |h(S) − h(2S)| ≤ {worst_gap:.2e} nats over η (S = {steps}); k-NN (k = 5) on the same DDIM samples: {:?}",
            knn_ddim.iter().map(|v| (v * 1e4).round() / 1e4).collect::<Vec<_>>()
        ));

        // Closed forms: a one-Gaussian class with η = 0.
        let (mu, cov) = (vec![1.0, -0.5], faer::mat![[0.8, 0.3], [0.3, 0.5]]);
        let comps = vec![
            Gaussian::new(vec![-3.0, 2.0], Covariance::isotropic(2, 1.0).map_err(|e| fail(&e))?).map_err(|e| fail(&e))?,
            Gaussian::new(mu.clone(), Covariance::full(cov.clone()).map_err(|e| fail(&e))?).map_err(|e| fail(&e))?,
        ];
        let gm = ClassConditional::per_component(GaussianMixture::new(vec![0.4, 0.6], comps).map_err(|e| fail(&e))?);
        let field = GuidedScore::new(gm, 1, 0.0, Guidance::Classifier).map_err(|e| fail(&e))?;
        let target = Gaussian::new(mu.clone(), Covariance::full(cov.clone()).map_err(|e| fail(&e))?).map_err(|e| fail(&e))?.entropy();
        let f = flow_log_density(&Heun, &fine, &field, n, seed).map_err(|e| fail(&e))?.entropy().map_err(|e| fail(&e))?;
        let f_coarse = flow_log_density(&Heun, &coarse, &field, n, seed).map_err(|e| fail(&e))?.entropy().map_err(|e| fail(&e))?;
        let disc = (f.mean - f_coarse.mean).abs();
        outcome = outcome.check(
            Check::new(
                "flow ODE entropy of a Gaussian class (η = 0) = closed form ½ log det(2πe Σ)",
                (f.mean - target).abs() <= 4.0 * f.stderr + disc,
            )
            .with("entropy", f.mean)
            .with("stderr", f.stderr)
            .with("closed_form", target)
            .with("discretisation_gap", disc)
            .threshold("|h − closed form| ≤ 4 se + discretisation gap")
            .detail("|h − closed form| ≤ 4 se + |h(2S) − h(S)|; the ODE from N(0, I) at T = 5 also carries the e^{−10} start mismatch"),
        );
        let g = DenseGaussian::new(mu, cov).map_err(|e| fail(&e))?;
        let law = output_law(&ddim, &coarse, &g, LawStart::<Dense>::Standard, |_, _| Ok(())).map_err(|e| fail(&e))?.law;
        let law_cov = law.cov.to_full(2).0;
        let exact_ddim = Gaussian::new(law.mean.unwrap_or(vec![0.0; 2]), Covariance::full(law_cov).map_err(|e| fail(&e))?)
            .map_err(|e| fail(&e))?
            .entropy();
        let d = map_log_density(&ddim, &coarse, &field, n, seed).map_err(|e| fail(&e))?.entropy().map_err(|e| fail(&e))?;
        outcome = outcome.check(
            Check::new(
                "DDIM map entropy of a Gaussian class (η = 0) = entropy of the exact DDIM output law",
                (d.mean - exact_ddim).abs() <= 4.0 * d.stderr,
            )
            .with("entropy", d.mean)
            .with("stderr", d.stderr)
            .with("exact_ddim_output_law", exact_ddim)
            .with("target_closed_form", target)
            .threshold("|h − h(exact DDIM output law)| ≤ 4 se")
            .detail("the DDIM map density is the output's own density: no discretisation allowance"),
        );
        pb.finish_and_clear();
        let pts = |v: &[(f64, f64)]| ETAS.iter().zip(v).map(|(e, v)| (*e, v.0)).collect::<Vec<_>>();
        let err = |v: &[(f64, f64)]| v.iter().map(|v| 2.0 * v.1).collect::<Vec<_>>();
        let series = [
            Series::line("DDIM, exact map density", pts(&h_ddim)).with_y_err(err(&h_ddim)),
            Series::line("flow ODE (Heun), instantaneous c.o.v.", pts(&h_flow)).with_y_err(err(&h_flow)),
            Series::dashed("k-NN (k = 5) on DDIM samples", ETAS.iter().zip(&knn_ddim).map(|(e, v)| (*e, *v)).collect()),
            Series::dashed("k-NN (k = 5) on flow samples", ETAS.iter().zip(&knn_flow).map(|(e, v)| (*e, *v)).collect()),
        ];
        let path = ctx.output("entropy.svg")?;
        line_plot(
            &path,
            &format!("output entropy vs guidance strength (THEORY §4, {steps} steps, ±2 se)"),
            "η",
            "entropy (nats)",
            &series,
            false,
            false,
        )?;
        ctx.write_csv(
            "entropy.csv",
            &[
                "eta",
                "ddim_entropy",
                "ddim_stderr",
                "ddim_knn",
                "flow_entropy",
                "flow_stderr",
                "flow_entropy_2S",
                "flow_discretisation_gap",
                "flow_knn",
                "n",
            ],
            rows,
        )?;
        Ok(outcome)
    }
}
