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
