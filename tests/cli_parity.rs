//! The CLI routes added for issues 14 and 15, each against an independent value: a closed form
//! computed here by hand, or the library function it calls (bit for bit, same arguments).

use crate::common;
use common::*;
use gmdiff::faer::Mat; // the facade re-exports faer (issue 15)
use gmdiff::mixture::GaussianMixture;
use std::path::Path;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn ok(args: &[&str]) -> String {
    let r = gmdiff(args);
    assert_eq!(r.status, 0, "{args:?}: {}", r.stderr);
    r.stdout
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text.trim()).unwrap()
}

const N01: &str = r#"{"weights":[1],"means":[[0]],"covariances":[1]}"#;

/// Fault 6: N(0, 1) at x = 1e160. Score −x = −1e160 exactly; log p = −½ log 2π − ½·1e320 is below
/// −f64::MAX, so −∞ with a note; Hessian −1.
#[test]
fn far_point_of_a_standard_normal() {
    let dir = scratch("parity-far");
    let m = write(&dir, "m.json", N01);
    let p = write(&dir, "p.csv", "1e160\n-1e160\n");
    assert_eq!(ok(&["score", "--mixture", &m, "--time", "0", "--points", &p]), "-1e160\n1e160\n");
    let r = gmdiff(&["logpdf", "--mixture", &m, "--time", "0", "--points", &p]);
    assert_eq!((r.status, r.stdout.as_str()), (0, "-inf\n-inf\n"));
    assert!(r.stderr.starts_with("note:") && r.stderr.contains("-inf") && r.stderr.lines().count() == 1, "{}", r.stderr);
    assert_eq!(ok(&["hessian", "--mixture", &m, "--time", "0", "--points", &p]), "-1\n-1\n");
}

/// Fault 6, two components: N((0,0), I) and N((0,1), I), weights 0.3/0.7, at (1e160, 0.5). The
/// quadratic forms overflow but are equal, so r = (0.3, 0.7); score = −(x − Σ r_i μ_i) =
/// −(1e160, 0.5 − 0.7) = (−1e160, 0.2); Hessian diag(−1, −1 + 0.3·0.7) = diag(−1, −0.79).
#[test]
fn far_point_between_two_components() {
    let dir = scratch("parity-far2");
    let m = write(&dir, "m.json", r#"{"weights":[0.3,0.7],"means":[[0,0],[0,1]],"covariances":[1,1]}"#);
    let p = write(&dir, "p.csv", "1e160,0.5\n");
    let s = parse_csv(&ok(&["score", "--mixture", &m, "--time", "0", "--points", &p]));
    assert_eq!(s[0][0], -1e160);
    assert!((s[0][1] - 0.2).abs() < 1e-15, "{s:?}");
    let h = parse_csv(&ok(&["hessian", "--mixture", &m, "--time", "0", "--points", &p]));
    assert_eq!((h[0][0], h[0][1], h[0][2]), (-1.0, 0.0, 0.0));
    assert!((h[0][3] + 0.79).abs() < 1e-15, "{h:?}");
}

/// Fault 5: OU needs no horizon for a query. For p_0 = N(2, 3) the OU law at t is
/// N(a·2, a²·3 + 1 − a²), a = e^{−t}; its score at x is −(x − 2a)/(3a² + 1 − a²).
/// Linear VP past T = 1 continues β linearly: B(1.5) = 0.1·1.5 + ½·19.9·1.5².
#[test]
fn queries_past_the_horizon() {
    let dir = scratch("parity-time");
    let m = write(&dir, "m.json", r#"{"weights":[1],"means":[[2]],"covariances":[3]}"#);
    let p = write(&dir, "p.csv", "0.5\n");
    let s = parse_csv(&ok(&["score", "--process", "ou", "--time", "1.5", "--mixture", &m, "--points", &p]));
    let a = (-1.5f64).exp();
    let expected = -(0.5 - 2.0 * a) / (3.0 * a * a + 1.0 - a * a);
    assert!((s[0][0] - expected).abs() < 1e-14 * expected.abs(), "{} vs {expected}", s[0][0]);
    let s = parse_csv(&ok(&["score", "--process", "vp", "--time", "1.5", "--mixture", &m, "--points", &p]));
    let big_b: f64 = 0.1 * 1.5 + 0.5 * 19.9 * 1.5 * 1.5;
    let a = (-0.5 * big_b).exp();
    let expected = -(0.5 - 2.0 * a) / (3.0 * a * a - (-big_b).exp_m1());
    assert!((s[0][0] - expected).abs() < 1e-14 * expected.abs());
    // Where an error remains (the cosine schedule's end), it names the fix.
    let r = gmdiff(&["score", "--process", "vp-cosine", "--time", "0.999", "--mixture", &m, "--points", &p]);
    assert!(r.status == 2 && r.stderr.contains("use --process vp or ou"), "{}", r.stderr);
}

/// Fault 8: a zero score prints as 0, not −0 (the score of N(0, 1) at its mean is exactly 0);
/// `guide --count 5` with DDPM names --count and the 6 it needs.
#[test]
fn zero_prints_as_zero_and_guide_names_count() {
    let dir = scratch("parity-zero");
    let m = write(&dir, "m.json", N01);
    let p = write(&dir, "p.csv", "0\n");
    assert_eq!(ok(&["score", "--mixture", &m, "--time", "0.5", "--points", &p]), "0\n");
    let m2 = write(&dir, "m2.json", r#"{"weights":[0.5,0.5],"means":[[-1],[1]],"covariances":[1,1]}"#);
    let r = gmdiff(&["guide", "--mixture", &m2, "--class", "0", "--strength", "1", "--sampler", "ddpm", "--steps", "10", "--count", "5"]);
    assert_eq!(r.status, 2);
    assert!(r.stderr.contains("--count must be at least 6") && !r.stderr.contains("`k`"), "{}", r.stderr);
}

/// `mixture-metric`: MW2 against a hand value, KL/TV/entropy bit-identical to the library and
/// within 4 standard errors of the closed forms.
#[test]
fn mixture_metrics_match_the_library_and_closed_forms() {
    let dir = scratch("parity-mixture");
    // MW2 of ½N(−1,1)+½N(1,1) and ½N(−1,1)+½N(3,1): half the mass moves by 2, MW2² = 2.
    let p = write(&dir, "p.json", r#"{"weights":[0.5,0.5],"means":[[-1],[1]],"covariances":[1,1]}"#);
    let q = write(&dir, "q.json", r#"{"weights":[0.5,0.5],"means":[[-1],[3]],"covariances":[1,1]}"#);
    let v = json(&ok(&["mixture-metric", "--metric", "mw2", &p, &q]));
    assert!((v["squared"].as_f64().unwrap() - 2.0).abs() < 1e-12 && (v["value"].as_f64().unwrap() - 2f64.sqrt()).abs() < 1e-12);
    assert!(v["method"].as_str().unwrap().starts_with("exact"));
    // Single Gaussians N(0, 1), N(1, 1) in d = 1: KL = ½, TV = 2Φ(½) − 1, h = ½ log 2πe.
    let a = write(&dir, "a.json", N01);
    let b = write(&dir, "b.json", r#"{"weights":[1],"means":[[1]],"covariances":[1]}"#);
    let load = |path: &str| -> GaussianMixture { serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap() };
    let (pa, pb) = (load(&a), load(&b));
    let cases: [(&str, Option<&str>, f64, gmdiff::metrics::McEstimate); 3] = [
        ("kl", Some(&b), 0.5, gmdiff::metrics::kl_mixtures_mc(&pa, &pb, 20_000, 7).unwrap()),
        ("tv", Some(&b), 0.38292492254802624, gmdiff::metrics::tv_mixtures_mc(&pa, &pb, 20_000, 7).unwrap()),
        (
            "entropy",
            None,
            0.5 * (2.0 * std::f64::consts::PI * std::f64::consts::E).ln(),
            gmdiff::metrics::mixture_entropy_mc(&pa, 20_000, 7).unwrap(),
        ),
    ];
    for (metric, second, exact, lib) in cases {
        let mut args = vec!["mixture-metric", "--metric", metric, &a];
        args.extend(second);
        args.extend(["--samples", "20000", "--seed", "7"]);
        let v = json(&ok(&args));
        let (value, se) = (v["value"].as_f64().unwrap(), v["std_error"].as_f64().unwrap());
        assert_eq!((value, se), (lib.estimate, lib.std_error), "{metric}: CLI and library differ");
        assert_eq!((v["samples"].as_u64(), v["seed"].as_u64(), v["method"].as_str()), (Some(20_000), Some(7), Some("monte-carlo")));
        assert!((value - exact).abs() < 4.0 * se, "{metric}: {value} ± {se} vs {exact}");
    }
}

/// `gaussian-metric`: closed forms for commuting covariances, and the library's value bit for bit.
/// N_1 = N((1, 0), diag(1, 4)), N_2 = N((0, 0), diag(4, 1)):
/// W2² = 1 + (1 − 2)² + (2 − 1)² = 3; KL = ½ (tr Σ₂⁻¹Σ₁ + Δmᵀ Σ₂⁻¹ Δm − d + log det Σ₂/det Σ₁)
/// = ½ (1/4 + 4 + 1/4 − 2 + 0) = 1.25; h(N_1) = log 2πe + ½ log 4.
#[test]
fn gaussian_metrics_match_closed_forms() {
    let dir = scratch("parity-gauss");
    let m1 = write(&dir, "m1.csv", "1,0\n");
    let c1 = write(&dir, "c1.csv", "1,0\n0,4\n");
    let m2 = write(&dir, "m2.csv", "0\n0\n");
    let c2 = write(&dir, "c2.csv", "4,0\n0,1\n");
    let run =
        |metric: &str| json(&ok(&["gaussian-metric", "--metric", metric, "--mean1", &m1, "--cov1", &c1, "--mean2", &m2, "--cov2", &c2]));
    let (s1, s2) = (Mat::from_fn(2, 2, |i, j| [[1.0, 0.0], [0.0, 4.0]][i][j]), Mat::from_fn(2, 2, |i, j| [[4.0, 0.0], [0.0, 1.0]][i][j]));
    let bures = run("bures")["value"].as_f64().unwrap();
    assert_eq!(bures, gmdiff::metrics::bures_w2(&[1.0, 0.0], s1.as_ref(), &[0.0, 0.0], s2.as_ref()).unwrap());
    assert!((bures - 3f64.sqrt()).abs() < 1e-12, "{bures}");
    let kl = run("kl")["value"].as_f64().unwrap();
    assert_eq!(kl, gmdiff::metrics::kl_gaussian(&[1.0, 0.0], s1.as_ref(), &[0.0, 0.0], s2.as_ref()).unwrap());
    assert!((kl - 1.25).abs() < 1e-12, "{kl}");
    let h = json(&ok(&["gaussian-metric", "--metric", "entropy", "--cov1", &c1]))["value"].as_f64().unwrap();
    let expected = (2.0 * std::f64::consts::PI * std::f64::consts::E).ln() + 0.5 * 4f64.ln();
    assert!((h - expected).abs() < 1e-12, "{h} vs {expected}");
    // KL to a singular N_2 is +∞, printed as the JSON string "inf".
    let c0 = write(&dir, "c0.csv", "1,0\n0,0\n");
    let v = json(&ok(&["gaussian-metric", "--metric", "kl", "--mean1", &m1, "--cov1", &c1, "--mean2", &m2, "--cov2", &c0]));
    assert_eq!(v["value"], "inf");
}

/// `sample --sampler exact` draws the target with `GaussianMixture::sample(n, seed)` (sample i from
/// stream (seed, i)), bit for bit; `--out x.npy` writes .npy that `w2` reads back; `-` reads stdin.
#[test]
fn exact_draws_npy_and_stdin() {
    let dir = scratch("parity-npy");
    let text = r#"{"weights":[0.4,0.6],"means":[[0,0],[1,1]],"covariances":[[[1,0.2],[0.2,1]],[[0.5,0],[0,0.5]]]}"#;
    let m = write(&dir, "m.json", text);
    let lib: GaussianMixture = serde_json::from_str(text).unwrap();
    let csv = parse_csv(&ok(&["sample", "--mixture", &m, "--sampler", "exact", "--count", "50", "--seed", "9"]));
    let x = lib.sample(50, 9);
    assert!(csv.iter().enumerate().all(|(i, r)| r[0] == x[(i, 0)] && r[1] == x[(i, 1)]));
    let npy = dir.join("x.npy").display().to_string();
    ok(&["sample", "--mixture", &m, "--sampler", "exact", "--count", "50", "--seed", "9", "--out", &npy]);
    let bytes = std::fs::read(&npy).unwrap();
    assert!(bytes.starts_with(b"\x93NUMPY"));
    assert_eq!(gmdiff::io::parse_points_npy(&bytes).unwrap(), x);
    // W2 of a cloud to itself is 0; .npy and .csv inputs give the same value as the library.
    let y = write(&dir, "y.csv", "0,0\n1,1\n2,0\n");
    let from_npy = json(&ok(&["w2", &npy, &y]))["w2"].as_f64().unwrap();
    let yl = gmdiff::io::parse_points_csv(b"0,0\n1,1\n2,0\n").unwrap();
    assert_eq!(from_npy, gmdiff::metrics::w2_exact(x.as_ref(), yl.as_ref()).unwrap());
    let common::Run { status, stdout: out, stderr: err } = common::gmdiff_stdin(&["w2", "-", &y], &bytes);
    assert_eq!((status, json(&out)["w2"].as_f64().unwrap()), (0, from_npy), "{err}");
    // A mixture from standard input gives the same score as from a file.
    let p = write(&dir, "p.csv", "0.3,-0.2\n");
    let from_file = ok(&["score", "--mixture", &m, "--time", "0.2", "--points", &p]);
    let common::Run { status, stdout: out, stderr: err } =
        common::gmdiff_stdin(&["score", "--mixture", "-", "--time", "0.2", "--points", &p], text.as_bytes());
    assert_eq!((status, out), (0, from_file), "{err}");
}

/// A bare `gmdiff` is a usage error: status 2, one `error:` line, then the usage.
#[test]
fn bare_gmdiff_prints_usage_and_fails() {
    let r = gmdiff(&[]);
    assert_eq!(r.status, 2);
    assert!(r.stdout.is_empty());
    assert_eq!(r.stderr.lines().filter(|l| l.starts_with("error:")).count(), 1);
    assert!(r.stderr.starts_with("error:") && r.stderr.contains("Usage: gmdiff <COMMAND>"), "{}", r.stderr);
}
