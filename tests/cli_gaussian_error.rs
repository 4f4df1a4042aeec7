//! `gmdiff gaussian-error`: published numbers through the CLI (the CIFAR-10 spectrum shipped in
//! `data/`; the test fails when it is missing), "inf" for infinite errors, one-line usage errors.

use std::process::Command;

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gmdiff")).arg("gaussian-error").args(args).output().unwrap();
    (out.status.code(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

fn field(json: &str, key: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    v[key].clone()
}

#[test]
fn cifar_numbers_through_the_cli() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/cifar10_cov_eigenvalues.npy");
    assert!(std::path::Path::new(path).is_file(), "{path} is missing: the repository ships it (data/README.md)");
    let (code, out, _) = run(&["--spectrum", path, "--scheme", "em", "--steps", "999"]);
    assert_eq!(code, Some(0));
    assert_eq!(format!("{:.3}", field(&out, "w2").as_f64().unwrap()), "0.160");
    let (_, out, _) = run(&["--spectrum", path, "--scheme", "ode"]);
    assert_eq!(format!("{:.4}", field(&out, "w2").as_f64().unwrap()), "0.0730");
    let (_, out, _) = run(&["--spectrum", path, "--scheme", "heun", "--steps", "49"]);
    assert_eq!(field(&out, "w2"), serde_json::json!("inf"));
    let (_, out, _) = run(&["--spectrum", path, "--scheme", "euler", "--steps", "20", "--eps", "1e-3", "--trajectory"]);
    let t = field(&out, "trajectory");
    assert_eq!(t.as_array().unwrap().len(), 21);
    assert_eq!(t[20]["t"].as_f64(), Some(1e-3));
}

#[test]
fn dense_input_and_errors() {
    let dir = std::env::temp_dir().join(format!("gmdiff-cli-gerr-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (m, c) = (dir.join("m.csv"), dir.join("c.csv"));
    std::fs::write(&m, "1,-2\n").unwrap();
    std::fs::write(&c, "1,0.5\n0.5,2\n").unwrap();
    let (code, out, _) =
        run(&["--mean", m.to_str().unwrap(), "--covariance", c.to_str().unwrap(), "--scheme", "rk4", "--steps", "40", "--eps", "1e-3"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(field(&out, "w2").as_f64().unwrap() < 0.1);
    // A scaled score and the decomposition: total equals w2, each part is finite and ≥ 0, and the
    // score part vanishes without a score error.
    let base = ["--mean", m.to_str().unwrap(), "--covariance", c.to_str().unwrap(), "--scheme", "ei", "--steps", "30", "--eps", "1e-3"];
    let (code, out, _) = run(&[&base[..], &["--score-scale", "0.1", "--decompose"]].concat());
    assert_eq!(code, Some(0), "{out}");
    let d = field(&out, "decomposition");
    // (dense Bures for "w2", the eigenbasis for the decomposition: equal to round-off)
    let (total, w2) = (d["total"].as_f64().unwrap(), field(&out, "w2").as_f64().unwrap());
    assert!((total - w2).abs() <= 1e-10 * w2, "{total} vs {w2}");
    for k in ["truncation", "initialization", "discretization", "score"] {
        assert!(d[k].as_f64().unwrap() >= 0.0, "{k}: {out}");
    }
    assert!(d["score"].as_f64().unwrap() > 0.0);
    let (_, out, _) = run(&[&base[..], &["--decompose"]].concat());
    assert_eq!(field(&out, "decomposition")["score"].as_f64(), Some(0.0));
    let (code, _, err) = run(&["--mean", m.to_str().unwrap(), "--covariance", c.to_str().unwrap(), "--scheme", "em"]);
    assert_eq!(code, Some(2));
    assert_eq!(err.trim(), "error: --steps is required for --sampler em");
    let (code, _, err) = run(&["--mean", m.to_str().unwrap(), "--covariance", c.to_str().unwrap(), "--scheme", "ddpm", "--steps", "10"]);
    assert_eq!(code, Some(2));
    assert!(err.starts_with("error: DDPM step 0") && err.lines().count() == 1, "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
