//! `cargo xtask bench --plot RESULTS.jsonl [--figure OUT.svg]`: the speedups of compare-mode lines
//! (`--peer` output, one JSON object per line) as a figure: one marker per workload at its median
//! ratio `peer / ours` (log scale), with a dashed segment at the workload's target when it has one
//! (the issue-18 targets). Lines without a `speedup` (a workload with no peer) are left out.

use crate::error::{Result, XtaskError};
use crate::plot::{Series, Style, line_plot};
use serde_json::Value;
use std::path::Path;

/// The target ratio of a compare line, if the issue-18 table gives one.
fn target(v: &Value) -> Option<f64> {
    let (w, d, k) = (v["workload"].as_str()?, v["d"].as_u64()?, v["k"].as_u64()?);
    match (w, d, k) {
        ("sample", 2, 8) => Some(3.0),
        ("sample", 32, 16) => Some(6.0),
        ("mmd", _, _) => Some(2.0),
        ("w2", _, _) => Some(10.0),
        _ => None,
    }
}

/// A short legend label of a compare line.
fn label(i: usize, v: &Value) -> String {
    let num = |f: &str| v[f].as_u64().unwrap_or(0);
    let file = v["peer"].as_str().unwrap_or("?");
    let peer = if file.contains("analytic") {
        "JAX analytic"
    } else if file.contains("jax") {
        "JAX autodiff"
    } else if file.contains("numpy") {
        "numpy"
    } else if file.contains("pot") {
        "POT"
    } else {
        file
    };
    let what = match v["workload"].as_str().unwrap_or("?") {
        "sample" => format!("DDPM {} steps, n={} d={} k={}", v["steps"].as_u64().unwrap_or(200), num("n"), num("d"), num("k")),
        "score" => format!("score n={} d={} k={}", num("n"), num("d"), num("k")),
        "mmd" => format!("MMD² n=m={} d={}", num("n"), num("d")),
        "w2" => format!("exact W2 n={} d={}", num("n"), num("d")),
        other => format!("{other} n={} d={}", num("n"), num("d")),
    };
    format!("{}: {what} / {peer}", i + 1)
}

/// Reads the compare lines of `input` and writes the figure to `out`.
pub fn plot(input: &Path, out: &Path) -> Result<()> {
    let text = std::fs::read_to_string(input).map_err(|e| XtaskError::io("read", input.display().to_string(), e))?;
    let lines: Vec<Value> = text
        .lines()
        .filter(|l| l.trim_start().starts_with('{'))
        .map(|l| serde_json::from_str(l).map_err(|e| XtaskError::json("bench result line", e)))
        .collect::<Result<_>>()?;
    let rows: Vec<&Value> = lines.iter().filter(|v| v["speedup"].as_f64().is_some()).collect();
    if rows.is_empty() {
        return Err(XtaskError::Usage(format!("{}: no compare line with a speedup", input.display())));
    }
    let mut series = Vec::new();
    for (i, v) in rows.iter().enumerate() {
        let x = (i + 1) as f64;
        series.push(Series::points(label(i, v), vec![(x, v["speedup"].as_f64().unwrap_or(f64::NAN))]).with_style(Style::LinePoints));
    }
    let targets: Vec<(usize, f64)> = rows.iter().enumerate().filter_map(|(i, v)| target(v).map(|t| (i, t))).collect();
    for (n, (i, t)) in targets.iter().enumerate() {
        let x = (i + 1) as f64;
        let name = if n == 0 { "target (issue 18)".to_string() } else { String::new() };
        series.push(Series::dashed(name, vec![(x - 0.3, *t), (x + 0.3, *t)]));
    }
    // Parity: ratio 1 across the plot.
    series.push(Series::dashed("parity (ratio 1)", vec![(0.5, 1.0), (rows.len() as f64 + 0.5, 1.0)]));
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| XtaskError::io("create", dir.display().to_string(), e))?;
    }
    line_plot(
        out,
        "gmdiff vs the strongest peer (median of alternating rounds)",
        "workload",
        "speedup = peer time / gmdiff time",
        &series,
        false,
        true,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plots_the_speedups_and_refuses_a_file_without_any() {
        let dir = std::env::temp_dir().join(format!("gmdiff-bench-figure-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let input = dir.join("r.jsonl");
        std::fs::write(
            &input,
            "{\"workload\":\"sample\",\"n\":20000,\"d\":2,\"k\":8,\"steps\":200,\"speedup\":1.5,\"peer\":\"gmm_ddpm_jax_analytic.py\"}\n\
             {\"workload\":\"law\",\"n\":0,\"d\":512,\"k\":0,\"seconds\":0.01}\n",
        )
        .unwrap();
        let out = dir.join("f.svg");
        plot(&input, &out).unwrap();
        let svg = std::fs::read_to_string(&out).unwrap();
        assert!(svg.contains("<svg") && svg.contains("DDPM 200 steps, n=20000 d=2 k=8"));
        std::fs::write(&input, "{\"workload\":\"law\",\"seconds\":1}\n").unwrap();
        assert!(plot(&input, &out).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
