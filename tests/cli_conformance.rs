//! `gmdiff conformance` (issue 16): the CLI reports the library's numbers, its output law agrees with
//! its W2/KL by the closed form for diagonal Gaussians, and the DDIM `linspace` off-by-one
//! (huggingface/diffusers issue 12633) is found on diffusers' own timestep table.
//!
//! Where the expected values come from:
//! - W2, KL, ideal run and anomaly costs: `gmdiff::gaussian::conformance` called in-process on the
//!   same configuration and data (the CLI is plumbing; the values must be bit-identical after the
//!   round-trip JSON print).
//! - The spectrum law: checked against the printed W2 and KL by the closed forms for centred
//!   diagonal Gaussians, `W2² = Σ (√v − √λ)²` and `KL = ½ Σ (v/λ − 1 − ln(v/λ))` (an independent
//!   route: the CLI's "w2" goes through the compressed lanes, its "law" through the uncompressed
//!   ones), and against the dense route (`--mean 0 --covariance diag(λ)`).
//! - The DDIM `linspace` tables and the stride: `tests/peer/fixtures/schedulers/DDIMScheduler.json`,
//!   written by diffusers 0.42.1 itself (`tests/peer/make_scheduler_fixtures.py`).

use crate::common::{Run, gmdiff, gmdiff_stdin, scratch};
use gmdiff::gaussian::{DenseProblem, ExactTarget, SpectralProblem, conformance};
use gmdiff::solvers::diffusers::SchedulerConfig;
use gmdiff::solvers::{Dense, Marginal};
use serde_json::Value;
use std::path::Path;

/// The latent-diffusion β schedule (Stable Diffusion's `scheduler_config.json`).
const SD: &str = r#""num_train_timesteps": 1000, "beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012"#;

const MEAN: &str = "1,-0.5,0.25\n";
const COV: &str = "1,0.3,0\n0.3,0.5,0.1\n0,0.1,0.25\n";
const SPECTRUM: [f64; 4] = [2.0, 0.5, 0.125, 0.01];

fn configs() -> Vec<(&'static str, String)> {
    vec![
        ("ddim-linspace", format!(r#"{{"_class_name": "DDIMScheduler", {SD}, "clip_sample": false, "timestep_spacing": "linspace"}}"#)),
        ("euler", format!(r#"{{"_class_name": "EulerDiscreteScheduler", {SD}}}"#)),
        ("dpmsolver", format!(r#"{{"_class_name": "DPMSolverMultistepScheduler", {SD}}}"#)),
    ]
}

fn num(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap(),
        Value::String(s) if s == "inf" => f64::INFINITY,
        other => panic!("not a number: {other}"),
    }
}

fn nums(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(num).collect()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Runs `gmdiff conformance` and parses its JSON (status 0 required).
fn run(args: &[&str]) -> Value {
    let r = gmdiff(&[&["conformance"], args].concat());
    assert_eq!(r.status, 0, "{args:?}: {}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

/// Every field of one CLI run against the library's report on the same target.
fn check_run(name: &str, cli: &Value, config: &SchedulerConfig, n: usize, target: &dyn ExactTarget) {
    let lib = conformance(config, n, target).unwrap();
    let what = format!("{name} n = {n}");
    assert_eq!(cli["steps"].as_u64(), Some(n as u64), "{what}");
    assert_eq!(cli["class"].as_str(), Some(lib.plan.class.name()), "{what}");
    assert_eq!(cli["sampler"].as_str(), Some(lib.plan.sampler.name()), "{what}");
    assert_eq!(nums(&cli["timesteps"]), lib.plan.timesteps, "{what}");
    match &lib.plan.sigmas {
        Some(s) => assert_eq!(&nums(&cli["sigmas"]), s, "{what}"),
        None => assert!(cli["sigmas"].is_null(), "{what}"),
    }
    assert_eq!(num(&cli["init_noise_sigma"]), lib.plan.init_noise_sigma, "{what}");
    assert_eq!(num(&cli["w2"]), lib.error.w2, "{what}");
    assert_eq!(num(&cli["kl"]), lib.error.kl, "{what}");
    assert_eq!(cli["notes"].as_array().unwrap().len(), lib.plan.notes.len(), "{what}");
    match &lib.ideal {
        Some(i) => {
            assert_eq!(num(&cli["ideal"]["w2"]), i.w2, "{what}");
            assert_eq!(num(&cli["ideal"]["kl"]), i.kl, "{what}");
            let fixes: Vec<&str> = cli["ideal"]["fixes"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
            assert_eq!(fixes, i.fixes, "{what}");
        }
        None => assert!(cli["ideal"].is_null(), "{what}"),
    }
    let anomalies = cli["anomalies"].as_array().unwrap();
    assert_eq!(anomalies.len(), lib.anomalies.len(), "{what}");
    for (c, l) in anomalies.iter().zip(&lib.anomalies) {
        assert_eq!(c["kind"].as_str(), Some(l.anomaly.kind.name()), "{what}");
        assert_eq!(c["message"].as_str(), Some(l.anomaly.message.as_str()), "{what}");
        assert_eq!(c["fix"].as_str(), l.anomaly.fix.as_ref().map(|(f, _)| f.as_str()), "{what}");
        match l.fixed {
            Some((w2, kl)) => assert_eq!((num(&c["w2_fixed"]), num(&c["kl_fixed"])), (w2, kl), "{what}"),
            None => assert!(c["w2_fixed"].is_null() && c["kl_fixed"].is_null(), "{what}"),
        }
        assert_eq!(c["fix_error"].as_str(), l.fix_error.as_deref(), "{what}");
    }
}

#[test]
fn cli_reports_the_library_values_dense_and_spectral() {
    let dir = scratch("conformance-lib");
    let (mean, cov, spec) = (dir.join("mean.csv"), dir.join("cov.csv"), dir.join("spec.txt"));
    std::fs::write(&mean, MEAN).unwrap();
    std::fs::write(&cov, COV).unwrap();
    std::fs::write(&spec, SPECTRUM.map(|v| v.to_string()).join("\n")).unwrap();
    // The spectrum as dense data: mean 0, covariance diag(λ).
    let (zero, diag_cov) = (dir.join("zero.csv"), dir.join("diag.csv"));
    std::fs::write(&zero, "0,0,0,0\n").unwrap();
    let rows: Vec<String> =
        (0..4).map(|i| (0..4).map(|j| if i == j { SPECTRUM[i].to_string() } else { "0".into() }).collect::<Vec<_>>().join(",")).collect();
    std::fs::write(&diag_cov, rows.join("\n")).unwrap();
    let dense = DenseProblem::new(vec![1.0, -0.5, 0.25], gmdiff::faer::mat![[1.0, 0.3, 0.0], [0.3, 0.5, 0.1], [0.0, 0.1, 0.25]]).unwrap();
    let spectral = SpectralProblem::centred(SPECTRUM.to_vec()).unwrap();
    let mut seen_mismatch_fix = false;
    for (name, text) in configs() {
        let file = dir.join(format!("{name}.json"));
        std::fs::write(&file, &text).unwrap();
        let config = SchedulerConfig::from_json(&text).unwrap().config;

        let out = run(&["--diffusers-config", p(&file), "--steps", "10,25", "--mean", p(&mean), "--covariance", p(&cov), "--law"]);
        assert_eq!(out["class"].as_str(), Some(config.class.name()));
        assert_eq!(out["warnings"].as_array().map(Vec::len), Some(0), "{name}");
        let runs = out["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 2);
        for (cli, n) in runs.iter().zip([10, 25]) {
            check_run(name, cli, &config, n, &dense);
            // The law: the plan's exact output law on the dense target (LawStart::Standard).
            let plan = config.plan(n).unwrap();
            let law: Marginal<Dense> = plan.output_law(dense.target()).unwrap();
            let Dense(c) = law.cov.to_full(3);
            assert_eq!(nums(&cli["law"]["mean"]), law.mean.clone().unwrap_or(vec![0.0; 3]), "{name} n = {n}");
            for i in 0..3 {
                assert_eq!(nums(&cli["law"]["covariance"][i]), (0..3).map(|j| c[(i, j)]).collect::<Vec<_>>(), "{name} n = {n}");
            }
            seen_mismatch_fix |=
                name == "ddim-linspace"
                    && cli["anomalies"].as_array().unwrap().iter().any(|a| {
                        a["kind"] == "step_mismatch" && a["fix"] == "timestep_spacing = trailing" && num(&a["w2_fixed"]).is_finite()
                    });
        }

        let out = run(&["--diffusers-config", p(&file), "--steps", "10", "--steps", "25", "--spectrum", p(&spec), "--law"]);
        let diag = run(&["--diffusers-config", p(&file), "--steps", "10,25", "--mean", p(&zero), "--covariance", p(&diag_cov), "--law"]);
        for (k, (cli, n)) in out["runs"].as_array().unwrap().iter().zip([10, 25]).enumerate() {
            check_run(name, cli, &config, n, &spectral);
            let v = nums(&cli["law"]["variances"]);
            assert_eq!(v.len(), SPECTRUM.len());
            // Closed forms for centred diagonal Gaussians, from the printed law.
            let w2 = v.iter().zip(SPECTRUM).map(|(v, l)| (v.sqrt() - l.sqrt()).powi(2)).sum::<f64>().sqrt();
            let kl = 0.5 * v.iter().zip(SPECTRUM).map(|(v, l)| v / l - 1.0 - (v / l).ln()).sum::<f64>();
            let (w2_cli, kl_cli) = (num(&cli["w2"]), num(&cli["kl"]));
            assert!((w2 - w2_cli).abs() <= 1e-9 * w2_cli, "{name} n = {n}: W2 {w2_cli} vs closed form {w2}");
            assert!((kl - kl_cli).abs() <= 1e-8 * kl_cli, "{name} n = {n}: KL {kl_cli} vs closed form {kl}");
            // The dense route on diag(λ): the same law to round-off.
            let d = &diag["runs"][k];
            for i in 0..4 {
                let dv = num(&d["law"]["covariance"][i][i]);
                assert!((dv - v[i]).abs() <= 1e-12 * v[i].max(1e-3), "{name} n = {n}: variance {i}: spectral {} dense {dv}", v[i]);
            }
            assert!((num(&d["w2"]) - w2_cli).abs() <= 1e-9 * w2_cli, "{name} n = {n}: dense W2 {} vs spectral {w2_cli}", d["w2"]);
        }
    }
    assert!(seen_mismatch_fix, "DDIM linspace must report step_mismatch with a measured trailing fix");
    std::fs::remove_dir_all(&dir).ok();
}

/// diffusers' own tables for DDIM (tests/peer/fixtures/schedulers/DDIMScheduler.json): the case
/// named `name` as (config object, [(n, timesteps)]).
fn ddim_fixture(name: &str) -> (Value, Vec<(usize, Vec<f64>)>) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peer/fixtures/schedulers/DDIMScheduler.json");
    let all: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let case = all["cases"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap();
    let tables = case["tables"].as_array().unwrap().iter().map(|t| (t["n"].as_u64().unwrap() as usize, nums(&t["timesteps"]))).collect();
    (case["config"].clone(), tables)
}

#[test]
fn ddim_linspace_off_by_one_is_found_on_diffusers_own_table() {
    let dir = scratch("conformance-12633");
    let spec = concat!(env!("CARGO_MANIFEST_DIR"), "/data/cifar10_cov_eigenvalues.npy");
    assert!(Path::new(spec).is_file(), "{spec} is missing: the repository ships it (data/README.md)");
    let (linspace, tables) = ddim_fixture("linspace");
    let (trailing, trailing_tables) = ddim_fixture("trailing");
    assert_eq!(linspace["timestep_spacing"], "linspace");
    let big_n = linspace["num_train_timesteps"].as_u64().unwrap() as usize;
    let (lin_file, trail_file) = (dir.join("linspace.json"), dir.join("trailing.json"));
    std::fs::write(&lin_file, linspace.to_string()).unwrap();
    std::fs::write(&trail_file, trailing.to_string()).unwrap();
    let steps: Vec<String> = tables.iter().map(|(n, _)| n.to_string()).collect();
    let lin = gmdiff(&["conformance", "--diffusers-config", p(&lin_file), "--steps", &steps.join(","), "--spectrum", spec]);
    assert_eq!(lin.status, 0, "{}", lin.stderr);
    // The fixture's config carries diffusers' bookkeeping field `_use_default_values`: named, not dropped.
    assert!(lin.stderr.lines().all(|l| l.starts_with("warning: ")) && lin.stderr.contains("_use_default_values"), "{}", lin.stderr);
    let lin: Value = serde_json::from_str(&lin.stdout).unwrap();
    let trail = run(&["--diffusers-config", p(&trail_file), "--steps", &steps.join(","), "--spectrum", spec]);
    for (k, (n, table)) in tables.iter().enumerate() {
        let r = &lin["runs"][k];
        assert_eq!(&nums(&r["timesteps"]), table, "n = {n}: the timesteps are diffusers' own");
        // DDIM steps from t to t − ⌊N/n⌋ (diffusers' `prev_timestep`); the table's next entry differs.
        let stride = (big_n / n) as f64;
        let mismatched: Vec<(f64, f64)> = table.windows(2).filter(|w| w[0] - stride != w[1]).map(|w| (w[0] - stride, w[1])).collect();
        assert!(!mismatched.is_empty(), "n = {n}: diffusers' linspace table has no mismatch?");
        let a = r["anomalies"].as_array().unwrap().iter().find(|a| a["kind"] == "step_mismatch").expect("step_mismatch reported");
        let message = a["message"].as_str().unwrap();
        let (end, next) = mismatched[0];
        assert!(message.starts_with(&format!("{} of {} steps", mismatched.len(), n - 1)), "n = {n}: {message}");
        assert!(message.contains(&format!("ends at timestep {end}, the next starts at {next}")), "n = {n}: {message}");
        assert!(message.contains(&format!("⌊N/n⌋ = {}", big_n / n)), "n = {n}: {message}");
        // The cost: the fix is diffusers' trailing spacing, whose own table the fixed run must use,
        // and whose W2 is the W2 of the trailing config run directly.
        assert_eq!(a["fix"], "timestep_spacing = trailing");
        let t = &trail["runs"][k];
        assert_eq!(nums(&t["timesteps"]), trailing_tables[k].1, "n = {n}: trailing timesteps are diffusers' own");
        assert_eq!(num(&a["w2_fixed"]), num(&t["w2"]), "n = {n}");
        let (w2, w2_fixed) = (num(&r["w2"]), num(&a["w2_fixed"]));
        assert!(w2.is_finite() && w2_fixed.is_finite() && w2_fixed < w2, "n = {n}: linspace W2 {w2}, trailing {w2_fixed}");
        assert!(t["anomalies"].as_array().unwrap().iter().all(|a| a["kind"] != "step_mismatch"), "n = {n}: trailing has no mismatch");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn standard_input_warnings_and_table() {
    let dir = scratch("conformance-stdin");
    let spec = dir.join("spec.txt");
    std::fs::write(&spec, "1\n0.5\n").unwrap();
    let text =
        format!(r#"{{"_class_name": "DDIMScheduler", {SD}, "clip_sample": false, "timestep_spacing": "linspace", "frobnicate": 3}}"#);
    let args = ["conformance", "--diffusers-config", "-", "--steps", "10", "--spectrum", p(&spec)];
    let Run { status, stdout, stderr } = gmdiff_stdin(&args, text.as_bytes());
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("warning: field `frobnicate` = 3"), "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["warnings"].as_array().unwrap().len(), 1);

    let file = dir.join("c.json");
    std::fs::write(&file, &text).unwrap();
    let t = gmdiff(&["conformance", "--diffusers-config", p(&file), "--steps", "10", "--spectrum", p(&spec), "--table"]);
    assert_eq!(t.status, 0, "{}", t.stderr);
    let w2 = format!("{:.5}", num(&v["runs"][0]["w2"]));
    assert!(t.stdout.starts_with("DDIMScheduler at 10 steps: gmdiff sampler ddim\n"), "{}", t.stdout);
    assert!(t.stdout.contains("anomaly step_mismatch: ") && t.stdout.contains("fix `timestep_spacing = trailing`: W2 "), "{}", t.stdout);
    assert!(t.stdout.contains(&w2[..6]), "table lacks W2 {w2}: {}", t.stdout);
    std::fs::remove_dir_all(&dir).ok();
}
