//! Issue 16, "agreement with the real library": the exact output law of each diffusers scheduler
//! configuration, computed by gmdiff's own samplers on the scheduler's tables
//! ([`SchedulerConfig::plan`]), against diffusers' scheduler itself.
//!
//! Expected values: `tests/peer/fixtures/conformance/<Class>.json`, written by
//! `tests/peer/make_conformance_fixtures.py` (diffusers 0.42.1, torch 2.15.0, float64): the real
//! scheduler run on 2·10⁵ particles from `init_noise_sigma · N(0, I)`, driven by the exact prediction
//! of a non-centred Gaussian in d = 4 with a dense covariance; the fixture holds the sample mean and
//! covariance. Independent route: diffusers' code and Monte Carlo, not gmdiff.
//!
//! Tolerance: every mean and covariance entry within 5 standard errors (z ≤ 5), the standard errors
//! of the *exact* law: `sd(mean_i) = sqrt(C_ii/n)`, `sd(cov_ij) = sqrt((C_ii C_jj + C_ij²)/(n − 1))`
//! (Gaussian output). With 14 z-scores per run and about 200 runs, a false alarm at z > 5 has
//! probability ≈ 2·10⁻³.

use faer::Mat;
use gmdiff_solvers::diffusers::{ConfigError, SchedulerConfig, parse_python_json};
use gmdiff_solvers::{Dense, DenseGaussian};
use serde_json::Value;
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/peer/fixtures/conformance")
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(|x| x.as_f64().expect("number")).collect()
}

fn matrix(v: &Value) -> Vec<Vec<f64>> {
    v.as_array().expect("array").iter().map(f64s).collect()
}

/// The configurations gmdiff does not model yet, each with the reason `plan` gives (the list is
/// explicit, so that a class falling out of the comparison fails this test).
const NOT_MODELLED: [(&str, &str); 6] = [
    ("DPMSolverMultistepScheduler/dpmsolver_sigma_min", "noise-prediction"),
    ("DPMSolverSinglestepScheduler/dpmsolver_sigma_min", "only dpmsolver++"),
    ("PNDMScheduler/linspace", "does not meet its timesteps"),
    ("PNDMScheduler/v_prediction", "multistep method on v"),
    ("PNDMScheduler/skip_prk_linspace", "does not meet its timesteps"),
    ("PNDMScheduler/skip_prk_v", "multistep method on v"),
];

/// Runs where diffusers' float32 arithmetic departs from the scheduler's own mathematics by more
/// than the particles resolve, each with the evidence the fixture itself holds.
///
/// KDPM2 ancestral on the cosine schedule: `σ_max = 20291`, and diffusers forms
/// `σ_down = sqrt(σ_next² − σ_up²)` in float32, where `σ_up² = σ_next² (σ² − σ_next²)/σ²` agrees with
/// `σ_next²` to 6e-7: the difference cancels to ~10 %, so the first stage runs at σ = 14.973 instead
/// of the exact `sqrt(σ σ_down) = σ_next = 15.396` (`calls.sigma_in[1]` against `calls.sigma[2]`).
const FLOAT32_DEPARTURES: [&str; 1] = ["KDPM2AncestralDiscreteScheduler/cosine_betas/25"];

#[test]
fn exact_laws_agree_with_diffusers_particles() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir())
        .expect("tests/peer/fixtures/conformance ships with the repository")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 16, "one fixture per supported class");
    let (mut compared, mut worst) = (0usize, (0.0f64, String::new()));
    let mut unmodelled: Vec<String> = Vec::new();
    let mut failures: Vec<String> = Vec::new();
    for file in files {
        // The configurations hold `-Infinity` (`lambda_min_clipped`), as real scheduler_config.json files do.
        let fx: Value = parse_python_json(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let class = fx["class"].as_str().unwrap().to_string();
        let mu = f64s(&fx["target"]["mu"]);
        let sigma = matrix(&fx["target"]["sigma"]);
        let d = mu.len();
        let target = DenseGaussian::new(mu.clone(), Mat::from_fn(d, d, |i, j| sigma[i][j])).unwrap();
        for case in fx["cases"].as_array().unwrap() {
            let name = case["name"].as_str().unwrap();
            let mut config = case["config"].clone();
            config["_class_name"] = Value::String(class.clone());
            let parsed = match SchedulerConfig::from_value(&config) {
                Ok(p) => p,
                Err(e) => {
                    failures.push(format!("{class}/{name}: the reader refuses a configuration diffusers ran: {e}"));
                    continue;
                }
            };
            let Some(runs) = case["runs"].as_array() else {
                // diffusers refused the configuration itself (recorded with its message).
                assert!(case["error"].is_string(), "{class}/{name}: neither runs nor an error");
                continue;
            };
            for run in runs {
                if run.get("error").is_some_and(|e| !e.is_null()) {
                    continue; // diffusers itself refused it or gave non-finite output (a finding, listed in tests/peer/README.md)
                }
                let steps = run["steps"].as_u64().unwrap() as usize;
                let n = run["n"].as_f64().unwrap();
                let plan = match parsed.config.plan(steps) {
                    Ok(p) => p,
                    Err(ConfigError::LawNotModelled { what, .. }) => {
                        unmodelled.push(format!("{class}/{name}: {what}"));
                        continue;
                    }
                    Err(e) => {
                        failures.push(format!("{class}/{name}/{steps}: {e}"));
                        continue;
                    }
                };
                let law = plan.output_law::<Dense, _>(&target).unwrap();
                let m = law.mean.clone().unwrap_or_else(|| vec![0.0; d]);
                let c = law.cov.to_full(d).0;
                let (sm, sc) = (f64s(&run["sample_mean"]), matrix(&run["sample_cov"]));
                let mut zmax = 0.0f64;
                for i in 0..d {
                    zmax = zmax.max((sm[i] - m[i]).abs() / (c[(i, i)] / n).sqrt());
                    for j in 0..d {
                        let sd = ((c[(i, i)] * c[(j, j)] + c[(i, j)] * c[(i, j)]) / (n - 1.0)).sqrt();
                        zmax = zmax.max((sc[i][j] - c[(i, j)]).abs() / sd);
                    }
                }
                let key = format!("{class}/{name}/{steps}");
                if FLOAT32_DEPARTURES.contains(&key.as_str()) {
                    let calls = &run["calls"];
                    let (stage, next) = (calls["sigma_in"][1].as_f64().unwrap(), calls["sigma"][2].as_f64().unwrap());
                    assert!((stage / next).ln().abs() > 0.02, "{key}: the fixture's stage σ {stage} is the exact {next}");
                    assert!(zmax > 5.0, "{key}: agrees (max |z| = {zmax:.2}); remove it from FLOAT32_DEPARTURES");
                    println!("{key}: float32 departure, max |z| = {zmax:.2}, stage σ {stage} against {next}");
                    continue;
                }
                compared += 1;
                let label = format!("{class}/{name}/{steps} ({})", plan.sampler.name());
                if zmax > worst.0 {
                    worst = (zmax, label.clone());
                }
                if zmax.is_nan() || zmax > 5.0 {
                    failures.push(format!("{label}: max |z| = {zmax:.2}; exact mean {m:?}, sample mean {sm:?}"));
                }
            }
        }
    }
    println!("compared {compared} runs; worst |z| = {:.2} at {}", worst.0, worst.1);
    for u in &unmodelled {
        println!("not modelled: {u}");
    }
    assert!(failures.is_empty(), "{} disagreements:\n{}", failures.len(), failures.join("\n"));
    for u in &unmodelled {
        assert!(NOT_MODELLED.iter().any(|(who, why)| u.starts_with(who) && u.contains(why)), "unexpected: {u}");
    }
    assert!(compared >= 150, "compared only {compared} runs");
}
