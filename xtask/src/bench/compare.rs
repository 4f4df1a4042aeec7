//! `cargo xtask bench <workload> --peer PYTHON`: our workload and the peer script of
//! `benches/peers/` (the repository's own, [`default_peers_dir`]) timed alternately in the same
//! run, with the ratio of the medians.
//!
//! Each round runs our workload (best of `runs`) and then the peer (which reports its own best of
//! several runs after JIT warm-up); the report is the median of each over the rounds and
//! `speedup = peer / ours`. The default peers are the strongest ones: the analytic JAX score and
//! DDPM loop (`gmm_score_jax_analytic.py`, `gmm_ddpm_jax_analytic.py`), numpy blocked MMD²
//! (`mmd_numpy.py`), POT (`ot_pot_large.py` for exact W2, `ot_pot.py` for sliced and Bures);
//! `--peer-script` picks another script of the directory taking the same arguments (for example
//! the autodiff `gmm_score_jax.py`). A workload without a peer (`law`, `gemm`) is timed alone in
//! the same rounds.
//!
//! Extra fields: for `score` and `sample`, the rate of this machine's GEMM of the score's shape
//! (`n × d` times `d × kd`, faer on all threads, timed in every round) and the score's
//! `2 n k d²` flops (times the steps for `sample`) per second of our median, as a fraction of it;
//! for every workload our peak resident memory during the timed runs (`peak_rss_mb`, Linux
//! `VmHWM` after resetting it through `/proc/self/clear_refs`) and the peer's when it reports one.

use super::{Params, Workload, best_of};
use crate::error::{Result, XtaskError};
use crate::stats::median;
use faer::{Accum, Mat, Par, linalg::matmul::matmul};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

/// `<workspace root>/benches/peers`, where the peer scripts live (their pinned Python
/// requirements are in `requirements.txt` there).
pub fn default_peers_dir() -> PathBuf {
    crate::runner::workspace_root().join("benches").join("peers")
}

/// Writes the rows of `clouds` as headerless CSV files (numpy.loadtxt reads them directly) in a
/// fresh temporary directory; returns their paths.
fn write_clouds(tag: &str, clouds: [(&str, &Mat<f64>); 2]) -> Result<Vec<String>> {
    let dir = std::env::temp_dir().join(format!("gmdiff-{tag}-peer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| XtaskError::io("create", dir.display().to_string(), e))?;
    let mut paths = Vec::new();
    for (name, m) in clouds {
        let text = crate::io::csv_string(&[], (0..m.nrows()).map(|i| (0..m.ncols()).map(|j| m[(i, j)]).collect::<Vec<f64>>()))?;
        let path = dir.join(name);
        crate::io::atomic_write(&path, text.as_bytes())?;
        paths.push(path.display().to_string());
    }
    Ok(paths)
}

/// The peer command line of a workload, if it has one, and the JSON field holding its seconds.
/// `script` overrides the default script (same arguments).
fn peer_args(w: &Workload, p: &Params<'_>, peers: &Path, script: Option<&str>) -> Result<Option<(Vec<String>, String)>> {
    let path = |default: &str| peers.join(script.unwrap_or(default)).display().to_string();
    let seconds = "seconds".to_string();
    Ok(match w.name {
        "w2" => {
            let (x, y) = super::w2::clouds(p);
            let files = write_clouds("w2", [("x.csv", &x), ("y.csv", &y)])?;
            let method = p.method.unwrap_or("exact");
            if method == "exact" {
                // numItermax = 10⁸, so that POT's network simplex is not stopped early at n = 10⁴.
                Some((vec![path("ot_pot_large.py"), files[0].clone(), files[1].clone(), "exact".into()], "w2_exact_s".into()))
            } else {
                let args =
                    vec![path("ot_pot.py"), files[0].clone(), files[1].clone(), super::w2::projections(p).to_string(), p.seed.to_string()];
                Some((args, format!("w2_{method}_s")))
            }
        }
        "mmd" => {
            let (x, y) = super::mmd::clouds(p);
            let h = super::mmd::bandwidth(&x, &y)?;
            let files = write_clouds("mmd", [("x.csv", &x), ("y.csv", &y)])?;
            Some((vec![path("mmd_numpy.py"), files[0].clone(), files[1].clone(), format!("{h:.17e}"), "3".into()], seconds))
        }
        "score" => Some((vec![path("gmm_score_jax_analytic.py"), p.n.to_string(), p.d.to_string(), p.k.to_string()], seconds)),
        "sample" if p.sampler.is_none_or(|s| s == "ddpm") => Some((
            vec![path("gmm_ddpm_jax_analytic.py"), p.n.to_string(), p.d.to_string(), p.k.to_string(), p.steps.unwrap_or(200).to_string()],
            seconds,
        )),
        _ => None,
    })
}

/// Seconds of one product `(n × d) · (d × kd)` (the score's GEMM), faer on all threads, best of 3.
fn score_gemm_seconds(n: usize, d: usize, k: usize) -> f64 {
    let a = Mat::from_fn(n, d, |i, j| ((i * 7 + j * 13) % 17) as f64 / 17.0);
    let b = Mat::from_fn(d, k * d, |i, j| ((i * 5 + j * 3) % 11) as f64 / 11.0);
    let mut c = Mat::zeros(n, k * d);
    best_of(3, || matmul(c.as_mut(), Accum::Replace, a.as_ref(), b.as_ref(), 1.0, Par::rayon(0)))
}

/// Resets this process's peak resident set (`VmHWM`) to the current one; false where unsupported.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// This process's peak resident set in MB (`VmHWM` of `/proc/self/status`), if readable.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Times `w` and its peer alternately for `rounds` rounds; returns the JSON summary line.
pub fn compare(w: &Workload, p: &Params<'_>, python: &str, peers: &Path, script: Option<&str>, rounds: usize) -> Result<Value> {
    let peer = peer_args(w, p, peers, script)?;
    let gemm_shape = matches!(w.name, "score" | "sample").then_some((p.n, p.d, p.k));
    let (mut ours, mut theirs, mut gemm, mut rss, mut peer_rss) = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds.max(1) {
        let reset = reset_peak_rss();
        ours.push((w.run)(p)?);
        if let Some(mb) = peak_rss_mb().filter(|_| reset) {
            rss.push(mb);
        }
        if let Some((n, d, k)) = gemm_shape {
            gemm.push(score_gemm_seconds(n, d, k));
        }
        let Some((args, field)) = &peer else { continue };
        let out =
            Command::new(python).args(args).output().map_err(|e| XtaskError::Usage(format!("cannot run the peer with {python}: {e}")))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let last = err.lines().last().unwrap_or("");
            return Err(XtaskError::Usage(format!("peer {} failed: {last}", args[0])));
        }
        let line = String::from_utf8_lossy(&out.stdout);
        let v: Value =
            serde_json::from_str(line.trim()).map_err(|e| XtaskError::Usage(format!("peer printed no JSON line ({e}): {line}")))?;
        theirs.push(v[field.as_str()].as_f64().ok_or_else(|| XtaskError::Usage(format!("peer JSON has no {field}")))?);
        if let Some(mb) = v["peak_rss_mb"].as_f64() {
            peer_rss.push(mb);
        }
    }
    let a = median(ours.clone());
    let mut line = json!({
        "workload": w.name, "n": p.n, "d": p.d, "k": p.k, "steps": p.steps, "sampler": p.sampler,
        "method": p.method, "rounds": rounds.max(1), "seconds": a, "rounds_seconds": ours,
    });
    if let Some((args, _)) = &peer {
        let b = median(theirs.clone());
        let name = Path::new(&args[0]).file_name().map_or_else(|| args[0].clone(), |f| f.to_string_lossy().into_owned());
        line["peer"] = json!(name);
        line["peer_seconds"] = json!(b);
        line["peer_rounds_seconds"] = json!(theirs);
        line["speedup"] = json!(b / a);
    }
    if let Some((n, d, k)) = gemm_shape {
        let g = median(gemm);
        let flops = 2.0 * (n * k * d * d) as f64;
        let calls = if w.name == "sample" { p.steps.unwrap_or(200) as f64 } else { 1.0 };
        line["gemm_shape"] = json!(format!("{n}x{d} @ {d}x{}", k * d));
        line["gemm_gflops"] = json!(flops / g * 1e-9);
        line["score_gflops"] = json!(calls * flops / a * 1e-9);
        line["fraction_of_gemm"] = json!(calls * flops / a / (flops / g));
    }
    if !rss.is_empty() {
        line["peak_rss_mb"] = json!(rss.iter().copied().fold(0.0, f64::max));
    }
    if !peer_rss.is_empty() {
        line["peer_peak_rss_mb"] = json!(peer_rss.iter().copied().fold(0.0, f64::max));
    }
    Ok(line)
}
