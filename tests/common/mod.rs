//! Helpers shared by the root integration tests: a seeded generator of held-out mixtures, and
//! running the `gmdiff` binary.

#![allow(dead_code)]
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::PathBuf;
use std::process::Command;

/// A scratch directory unique to this test process and `name`.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gmdiff-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The output of one `gmdiff` run.
pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn gmdiff(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_gmdiff")).args(args).output().unwrap();
    Run {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs gmdiff with `input` on standard input.
pub fn gmdiff_stdin(args: &[&str], input: &[u8]) -> Run {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_gmdiff"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    Run {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A mixture as plain arrays: (weights, means, covariances).
pub type RawMixture = (Vec<f64>, Vec<Vec<f64>>, Vec<Vec<Vec<f64>>>);

/// A random full-covariance mixture as plain arrays.
pub fn random_mixture(seed: u64, d: usize, k: usize) -> RawMixture {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let raw: Vec<f64> = (0..k).map(|_| 0.1 + rng.random::<f64>()).collect();
    let total: f64 = raw.iter().sum();
    let weights = raw.iter().map(|w| w / total).collect();
    let means = (0..k).map(|_| (0..d).map(|_| 6.0 * rng.random::<f64>() - 3.0).collect()).collect();
    let covs = (0..k)
        .map(|_| {
            let a: Vec<Vec<f64>> = (0..d).map(|_| (0..d).map(|_| 2.0 * rng.random::<f64>() - 1.0).collect()).collect();
            (0..d)
                .map(|i| {
                    (0..d).map(|j| (0..d).map(|l| a[i][l] * a[j][l]).sum::<f64>() / d as f64 + if i == j { 0.2 } else { 0.0 }).collect()
                })
                .collect()
        })
        .collect();
    (weights, means, covs)
}

pub fn mixture_json(m: &RawMixture) -> String {
    serde_json::json!({"weights": m.0, "means": m.1, "covariances": m.2}).to_string()
}

pub fn parse_csv(text: &str) -> Vec<Vec<f64>> {
    text.lines().map(|l| l.split(',').map(|v| v.parse().unwrap()).collect()).collect()
}
