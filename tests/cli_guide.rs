//! MUST-SHOW for `gmdiff guide`: on held-out random mixtures (seeded full-covariance mixtures the
//! library tests never saw), the confidence E p_0(y | x_out) rises with the guidance strength η for
//! DDPM, DDIM and the flow ODE, by more than its standard errors; the flow-ODE entropy of a
//! one-Gaussian class with η = 0 matches the closed form ½ log det(2πe Σ); bad input is one
//! `error:` line and exit status 2 (the cases are in `cli_errors.rs`).

use crate::common;
use common::*;

fn field(json: &serde_json::Value, key: &str) -> f64 {
    json[key].as_f64().unwrap_or_else(|| panic!("`{key}` is not a number in {json}"))
}

fn guide(mixture: &std::path::Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["guide", "--mixture", mixture.to_str().unwrap()];
    args.extend_from_slice(extra);
    let run = gmdiff(&args);
    assert_eq!(run.status, 0, "gmdiff {args:?} failed: {}", run.stderr);
    serde_json::from_str(run.stdout.trim()).unwrap()
}

#[test]
fn confidence_rises_with_strength_on_held_out_mixtures() {
    let dir = scratch("guide");
    for (seed, d, k, class) in [(71u64, 2usize, 3usize, 0usize), (72, 3, 4, 2), (73, 5, 3, 1)] {
        let path = dir.join(format!("m{seed}.json"));
        // Shrunk means so that the classes overlap (separated classes have confidence 1 at η = 0).
        let (w, mut means, covs) = random_mixture(seed, d, k);
        means.iter_mut().flatten().for_each(|m| *m *= 0.4);
        std::fs::write(&path, mixture_json(&(w, means, covs))).unwrap();
        for sampler in ["ddpm", "ddim", "ode"] {
            let at = |eta: &str| {
                guide(
                    &path,
                    &[
                        "--class",
                        &class.to_string(),
                        "--strength",
                        eta,
                        "--sampler",
                        sampler,
                        "--steps",
                        "40",
                        "--count",
                        "1500",
                        "--seed",
                        "5",
                    ],
                )
            };
            let (lo, hi) = (at("0"), at("4"));
            let (c0, c1) = (field(&lo, "confidence"), field(&hi, "confidence"));
            let se = (field(&lo, "confidence_stderr").powi(2) + field(&hi, "confidence_stderr").powi(2)).sqrt();
            assert!(c1 - c0 > 3.0 * se, "mixture {seed}, {sampler}: confidence {c0} -> {c1} (se {se})");
            match (lo["entropy"].as_f64(), hi["entropy"].as_f64()) {
                (Some(h0), Some(h1)) if sampler != "ddpm" => {
                    // Exact change of variables: entropy falls with η beyond its standard errors.
                    let se = (field(&lo, "entropy_stderr").powi(2) + field(&hi, "entropy_stderr").powi(2)).sqrt();
                    assert!(h0 - h1 > 3.0 * se, "mixture {seed}, {sampler}: entropy {h0} -> {h1} (se {se})");
                }
                (Some(_), Some(_)) => assert!(hi["entropy_stderr"].is_null(), "k-NN has no standard error"),
                // Only DDIM may decline, when a coarse step map folds: then it says why.
                _ => {
                    assert_eq!(sampler, "ddim");
                    assert!(hi["entropy_note"].as_str().unwrap().contains("not positive definite"), "{hi}");
                }
            }
        }
    }
}

#[test]
fn ode_entropy_of_a_gaussian_class_is_the_closed_form() {
    let dir = scratch("guide-gauss");
    let path = dir.join("g.json");
    std::fs::write(&path, r#"{"weights":[0.5,0.5],"means":[[3.0,0.0],[-1.0,1.0]],"covariances":[1.0,[[0.5,0.2],[0.2,0.3]]]}"#).unwrap();
    let out = guide(&path, &["--class", "1", "--strength", "0", "--sampler", "ode", "--steps", "100", "--count", "4000", "--seed", "1"]);
    let det: f64 = 0.5 * 0.3 - 0.2 * 0.2;
    let exact = 0.5 * ((2.0 * std::f64::consts::PI * std::f64::consts::E).powi(2) * det).ln();
    let (h, se) = (field(&out, "entropy"), field(&out, "entropy_stderr"));
    assert!((h - exact).abs() < 4.0 * se + 1e-3, "entropy {h} ± {se} vs closed form {exact}");
    // The same through CFG assembly and --classes grouping of a single component.
    let cfg = guide(
        &path,
        &[
            "--class",
            "1",
            "--classes",
            "0;1",
            "--guidance",
            "cfg",
            "--strength",
            "0",
            "--sampler",
            "ode",
            "--steps",
            "100",
            "--count",
            "4000",
            "--seed",
            "1",
        ],
    );
    assert_eq!(field(&cfg, "entropy"), h);
}

/// Every sampler runs in `guide`, and its entropy is the entropy of its output law. Independent
/// route: with η = 0 and a one-Gaussian class the guided field is that Gaussian's score, every
/// sampler is linear, and its output law is Gaussian, computed by the exact-law engine
/// (`output_law`, a different carrier from the particles); its entropy is ½ log det(2πe Σ_out).
/// Tolerances per route: `map` is the exact density of the discrete output, so the mean of
/// −log p_out over the samples is within 4 standard errors; `flow` integrates the continuous flow's
/// density with the scheme's stages, which adds an O(h²) gap (under 1e-3 at 100 steps for heun, as
/// in the closed-form test above); `samples` is the k-NN estimate (k = 5) on 4000 points in d = 2,
/// whose standard deviation is about √(d/2)/√n ≈ 0.016 (the variance of log p_out), so 0.08 is five
/// of them.
#[test]
fn every_sampler_runs_and_its_entropy_is_that_of_its_exact_output_law() {
    use gmdiff::process::{Ou, Process, TimeGrid};
    use gmdiff::solvers::{Builtin, Dense, DenseGaussian, LawStart, Op, Schedule, output_law};
    let dir = scratch("guide-every");
    let path = dir.join("g.json");
    std::fs::write(&path, r#"{"weights":[0.5,0.5],"means":[[3.0,0.0],[-1.0,1.0]],"covariances":[1.0,[[0.5,0.2],[0.2,0.3]]]}"#).unwrap();
    let target = DenseGaussian::new(vec![-1.0, 1.0], faer::mat![[0.5, 0.2], [0.2, 0.3]]).unwrap();
    let steps = 100;
    let process = Process::Ou(Ou::new(5.0).unwrap());
    let schedule = Schedule::grid(process, TimeGrid::uniform(&process, steps, 1e-3).unwrap());
    let mut routes = std::collections::BTreeMap::new();
    for name in Builtin::NAMES {
        let out = guide(&path, &["--class", "1", "--strength", "0", "--sampler", name, "--steps", "100", "--count", "4000", "--seed", "3"]);
        assert_eq!(out["sampler"], *name, "{out}");
        let sampler = Builtin::from_name(name).unwrap();
        let law = output_law(&sampler, &schedule, &target, LawStart::<Dense>::Standard, |_, _| Ok(())).unwrap().law;
        let c = match &law.cov {
            Op::Full(Dense(c)) => [c[(0, 0)], c[(0, 1)], c[(1, 1)]],
            Op::Scalar(s) => [*s, 0.0, *s],
        };
        let exact = 0.5 * ((2.0 * std::f64::consts::PI * std::f64::consts::E).powi(2) * (c[0] * c[2] - c[1] * c[1])).ln();
        let h = field(&out, "entropy");
        let route = out["entropy_route"].as_str().unwrap().to_string();
        let tolerance = match route.as_str() {
            "map" => 4.0 * field(&out, "entropy_stderr"),
            "flow" => 4.0 * field(&out, "entropy_stderr") + 1e-3,
            "samples" => {
                assert!(out["entropy_stderr"].is_null(), "{name}: the k-NN estimate has no standard error");
                0.08
            }
            other => panic!("{name}: unknown route {other}"),
        };
        assert!((h - exact).abs() < tolerance, "{name} ({route}): entropy {h} vs exact output law {exact} (tolerance {tolerance})");
        let c = field(&out, "confidence");
        assert!(c > 0.5 && c <= 1.0, "{name}: confidence {c} toward the sampled class");
        routes.insert(name.to_string(), route);
    }
    // The routes follow from the step code: one-evaluation maps, Runge–Kutta flows, the rest.
    for (name, route) in [("ddim", "map"), ("euler", "map"), ("ode-ei", "map"), ("heun", "flow"), ("rk4", "flow"), ("ddpm", "samples")] {
        assert_eq!(routes[name], route, "{name}");
    }
}
