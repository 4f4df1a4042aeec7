//! `cargo xtask bench`: timed workloads, one JSON line each.
//!
//! A workload is a plain function `fn(&Params) -> Result<f64>` that builds its input once, then
//! returns [`best_of`]`(p.runs, || kernel(..))`. To add one, write `bench/<name>.rs` with a
//! `pub fn run(p: &Params) -> Result<f64>`, declare the module below and add a row to
//! [`WORKLOADS`]. The output line is
//! `{"workload":"<name>","n":N,"d":D,"k":K,"seconds":S}` (best of `runs`).

mod compare;
mod figure;
mod gemm;
mod law;
mod mmd;
mod sample;
mod score;
mod w2;

use std::hint::black_box;
use std::io::Write;
use std::time::Instant;

use serde::Serialize;

use crate::error::{Result, XtaskError};

/// Problem size of a workload: `n` points, dimension `d`, `k` components (or whatever the
/// workload says it uses them for in `about`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    pub n: usize,
    pub d: usize,
    pub k: usize,
}

/// What a workload function receives.
#[derive(Debug, Clone, Copy)]
pub struct Params<'a> {
    pub n: usize,
    pub d: usize,
    pub k: usize,
    /// How many timed repetitions [`best_of`] takes the minimum over.
    pub runs: usize,
    pub seed: u64,
    /// `--steps`, for workloads that step a sampler.
    pub steps: Option<usize>,
    /// `--sampler`, for the `sample` workload.
    pub sampler: Option<&'a str>,
    /// `--method`, for the `w2` workload.
    pub method: Option<&'a str>,
}

/// One registered workload.
pub struct Workload {
    pub name: &'static str,
    /// One line: what is timed and what n, d, k mean for it.
    pub about: &'static str,
    pub defaults: Sizes,
    pub run: fn(&Params<'_>) -> Result<f64>,
}

/// The registry. Add `score`, `sample`, `w2`, ... here, one row each.
pub const WORKLOADS: &[Workload] = &[
    Workload {
        name: "score",
        about: "batched exact score of a random full-covariance k-mixture at n points in dimension d \
            (GMM as in peers/gmm_score_jax_analytic.py, a_t = 0.8, b_t = 0.6)",
        defaults: Sizes { n: 20_000, d: 32, k: 16 },
        run: score::run,
    },
    Workload {
        name: "gemm",
        about: "reference double-precision GEMM rate: C = A B with square n × n matrices (2 n³ FLOPs), faer on all threads",
        defaults: Sizes { n: 2048, d: 0, k: 0 },
        run: gemm::run,
    },
    Workload {
        name: "sample",
        about: "a whole sampling run (--sampler, default ddpm; --steps, default 200) of n particles on a random full-covariance k-mixture in dimension d with its exact score (as peers/gmm_ddpm_jax_analytic.py)",
        defaults: Sizes { n: 20_000, d: 2, k: 8 },
        run: sample::run,
    },
    Workload {
        name: "w2",
        about: "W2 between two n-point clouds in dimension d (--method exact|sliced|bures; k = sliced projections, 0 → 200)",
        defaults: Sizes { n: 3000, d: 2, k: 0 },
        run: w2::run,
    },
    Workload {
        name: "mmd",
        about: "unbiased MMD² alone (no permutation) between two n-point clouds in dimension d, median bandwidth (as peers/mmd_numpy.py); k unused",
        defaults: Sizes { n: 20_000, d: 8, k: 0 },
        run: mmd::run,
    },
    Workload {
        name: "law",
        about: "exact output law, W2 and KL of --sampler (default heun, --steps default 100) on dense Gaussian data in dimension d \
            (gmdiff gaussian-error --mean --covariance); n, k unused",
        defaults: Sizes { n: 0, d: 512, k: 0 },
        run: law::run,
    },
];

pub use figure::plot as plot_speedups;

/// Looks a workload up by name.
pub fn find(name: &str) -> Option<&'static Workload> {
    WORKLOADS.iter().find(|w| w.name == name)
}

/// Runs `f` `runs` times (at least once) and returns the fastest wall-clock time in seconds.
/// The result of `f` goes through [`black_box`] so the work is not optimised away.
pub fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        black_box(f());
        best = best.min(start.elapsed().as_secs_f64());
    }
    best
}

/// The JSON line of one benchmark result (field order as shown in the module docs).
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    pub workload: &'static str,
    pub n: usize,
    pub d: usize,
    pub k: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sampler: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    pub seconds: f64,
}

impl Record {
    /// `{"workload":..,"n":..,"d":..,"k":..,"seconds":..}` on one line.
    pub fn json_line(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| XtaskError::json("benchmark record", e))
    }
}

/// Size overrides and options from the command line.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub workloads: Vec<String>,
    pub n: Option<usize>,
    pub d: Option<usize>,
    pub k: Option<usize>,
    pub runs: usize,
    pub seed: u64,
    pub json: bool,
    pub steps: Option<usize>,
    pub sampler: Option<String>,
    pub method: Option<String>,
    /// Python interpreter to run the peer script with (compare mode).
    pub peer: Option<String>,
    /// Directory of the peer scripts (required with `peer`).
    pub peers_dir: Option<std::path::PathBuf>,
    /// A peer script of `peers_dir` to use instead of the workload's default (same arguments).
    pub peer_script: Option<String>,
    /// Alternating rounds in compare mode.
    pub rounds: usize,
}

/// Runs the requested workloads (`all` = every one) and prints one line each; no workload named
/// lists them instead.
pub fn run(req: &Request, out: &mut dyn Write) -> Result<()> {
    let io_err = |e| XtaskError::io("write", "stdout", e);
    if req.workloads.is_empty() {
        for w in WORKLOADS {
            let s = w.defaults;
            writeln!(out, "{:<10} n={} d={} k={}  {}", w.name, s.n, s.d, s.k, w.about).map_err(io_err)?;
        }
        return Ok(());
    }
    let mut chosen: Vec<&Workload> = Vec::new();
    for name in &req.workloads {
        if name == "all" {
            chosen.extend(WORKLOADS.iter());
        } else {
            chosen.push(find(name).ok_or_else(|| {
                let known: Vec<&str> = WORKLOADS.iter().map(|w| w.name).collect();
                XtaskError::Usage(format!("unknown workload {name:?}; known: {} (or all)", known.join(", ")))
            })?);
        }
    }
    for w in chosen {
        let p = Params {
            n: req.n.unwrap_or(w.defaults.n),
            d: req.d.unwrap_or(w.defaults.d),
            k: req.k.unwrap_or(w.defaults.k),
            runs: req.runs,
            seed: req.seed,
            steps: req.steps,
            sampler: req.sampler.as_deref(),
            method: req.method.as_deref(),
        };
        if let Some(python) = &req.peer {
            let dir = req.peers_dir.clone().unwrap_or_else(compare::default_peers_dir);
            let line = compare::compare(w, &p, python, &dir, req.peer_script.as_deref(), req.rounds)?;
            writeln!(out, "{line}").map_err(io_err)?;
            continue;
        }
        let seconds = (w.run)(&p)?;
        let rec = Record {
            workload: w.name,
            n: p.n,
            d: p.d,
            k: p.k,
            steps: p.steps,
            sampler: p.sampler.map(str::to_owned),
            method: p.method.map(str::to_owned),
            seconds,
        };
        if req.json {
            writeln!(out, "{}", rec.json_line()?).map_err(io_err)?;
        } else {
            writeln!(out, "{:<10} n={} d={} k={}  best of {}: {:.6} s", w.name, p.n, p.d, p.k, p.runs, seconds).map_err(io_err)?;
        }
        out.flush().map_err(io_err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_of_takes_the_minimum_and_runs_at_least_once() {
        let mut calls = 0;
        let s = best_of(0, || calls += 1);
        assert_eq!(calls, 1);
        assert!(s >= 0.0 && s.is_finite());
    }

    #[test]
    fn json_line_has_the_agreed_shape() {
        let r = Record { workload: "score", n: 10, d: 2, k: 3, steps: None, sampler: None, method: None, seconds: 0.5 };
        assert_eq!(r.json_line().unwrap(), r#"{"workload":"score","n":10,"d":2,"k":3,"seconds":0.5}"#);
    }

    #[test]
    fn every_workload_runs_small_and_prints_one_line() {
        let req = Request {
            workloads: vec!["all".into()],
            n: Some(1000),
            d: Some(4),
            k: Some(2),
            runs: 1,
            seed: 1,
            json: true,
            ..Request::default()
        };
        let mut buf = Vec::new();
        run(&req, &mut buf).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert_eq!(text.lines().count(), WORKLOADS.len());
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert!(v["seconds"].as_f64().unwrap() >= 0.0);
        }
        let bad = Request { workloads: vec!["nope".into()], ..req };
        assert!(run(&bad, &mut Vec::new()).is_err());
    }
}
