//! `cargo xtask bench <workload> --peer PYTHON`: our workload and the peer script of
//! `benches/peers/` (the repository's own, [`default_peers_dir`]) timed alternately in the same
//! run, with the ratio of the medians.
//!
//! Each round runs our workload (best of `runs`) and then the peer (which reports its own best of
//! several runs after JIT warm-up); the report is the median of each over the rounds and
//! `speedup = peer / ours`. Only workloads with a peer script take part.

use super::{Params, Workload};
use crate::error::{Result, XtaskError};
use crate::stats::median;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

/// `<workspace root>/benches/peers`, where the peer scripts live (their pinned Python
/// requirements are in `requirements.txt` there).
pub fn default_peers_dir() -> PathBuf {
    crate::runner::workspace_root().join("benches").join("peers")
}

/// The peer command line of a workload, if it has one, and the JSON field holding its seconds.
fn peer_args(w: &Workload, p: &Params<'_>, peers: &Path) -> Result<Option<(Vec<String>, String)>> {
    let script = |s: &str| peers.join(s).display().to_string();
    if w.name == "w2" {
        // POT reads the same clouds from CSV files.
        let dir = std::env::temp_dir().join(format!("gmdiff-w2-peer-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| XtaskError::io("create", dir.display().to_string(), e))?;
        let (x, y) = super::w2::clouds(p);
        let mut paths = Vec::new();
        for (name, m) in [("x.csv", x), ("y.csv", y)] {
            // No header: numpy.loadtxt reads the numbers directly.
            let text = crate::io::csv_string(&[], (0..m.nrows()).map(|i| (0..m.ncols()).map(|j| m[(i, j)]).collect::<Vec<f64>>()))?;
            let path = dir.join(name);
            crate::io::atomic_write(&path, text.as_bytes())?;
            paths.push(path.display().to_string());
        }
        let method = p.method.unwrap_or("exact");
        let args = vec![script("ot_pot.py"), paths[0].clone(), paths[1].clone(), super::w2::projections(p).to_string(), p.seed.to_string()];
        return Ok(Some((args, format!("w2_{method}_s"))));
    }
    let seconds = "seconds".to_string();
    Ok(match w.name {
        "score" => Some((vec![script("gmm_score_jax.py"), p.n.to_string(), p.d.to_string(), p.k.to_string()], seconds)),
        "sample" if p.sampler.is_none_or(|s| s == "ddpm") => Some((
            vec![script("gmm_ddpm_jax.py"), p.n.to_string(), p.d.to_string(), p.k.to_string(), p.steps.unwrap_or(200).to_string()],
            seconds,
        )),
        _ => None,
    })
}

/// Times `w` and its peer alternately for `rounds` rounds; returns the JSON summary line.
pub fn compare(w: &Workload, p: &Params<'_>, python: &str, peers: &Path, rounds: usize) -> Result<Value> {
    let (args, field) =
        peer_args(w, p, peers)?.ok_or_else(|| XtaskError::Usage(format!("workload {} has no peer script to compare with", w.name)))?;
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..rounds.max(1) {
        ours.push((w.run)(p)?);
        let out =
            Command::new(python).args(&args).output().map_err(|e| XtaskError::Usage(format!("cannot run the peer with {python}: {e}")))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let last = err.lines().last().unwrap_or("");
            return Err(XtaskError::Usage(format!("peer {} failed: {last}", args[0])));
        }
        let line = String::from_utf8_lossy(&out.stdout);
        let v: Value =
            serde_json::from_str(line.trim()).map_err(|e| XtaskError::Usage(format!("peer printed no JSON line ({e}): {line}")))?;
        theirs.push(v[field.as_str()].as_f64().ok_or_else(|| XtaskError::Usage(format!("peer JSON has no {field}")))?);
    }
    let (a, b) = (median(ours), median(theirs));
    Ok(json!({
        "workload": w.name, "n": p.n, "d": p.d, "k": p.k, "steps": p.steps, "sampler": p.sampler,
        "method": p.method, "rounds": rounds.max(1), "seconds": a, "peer_seconds": b, "speedup": b / a,
        "peer": args[0],
    }))
}
