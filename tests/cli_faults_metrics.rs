//! Issue 14, faults 1 and 2, through the CLI on the reported inputs (copied to `tests/data/cases/`).

use crate::common;
use crate::hungarian;

use common::gmdiff;
use std::path::PathBuf;

fn case(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/cases").join(name)
}

fn points(name: &str) -> Vec<Vec<f64>> {
    std::fs::read_to_string(case(name)).unwrap().lines().map(|l| l.split(',').map(|v| v.trim().parse().unwrap()).collect()).collect()
}

fn w2_of(args: &[&str]) -> f64 {
    let r = gmdiff(args);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    v["w2"].as_f64().unwrap()
}

/// Two 100-point clouds in d = 2, each half near 0 and half near (1e7, 0). The exact W2 printed
/// 0.8601586758198174 before the per-arc optimality rule; the truth is 0.7314906706644978.
///
/// Independent value: each cloud has exactly 50 points in each cluster, and moving any mass
/// between the clusters costs at least `(1e7 − 12)² / 100 ≈ 1e12`, while matching within the
/// clusters costs less than `100 · 40`; so the optimal plan matches within the clusters and
/// `W2² = (A + B) / 100` with `A`, `B` the two 50 × 50 optimal assignments. The far cluster is
/// translated back by 1e7, which is exact (Sterbenz: its first coordinates lie in
/// `[5e6, 2e7]`), so the costs are the same f64 numbers, and each assignment is solved by the
/// Hungarian method of `crates/metrics/tests/hungarian` on costs below 40 — nothing huge nearby.
#[test]
fn exact_w2_of_two_far_clusters() {
    let (x, y) = (points("ot_two_clusters_sep1e7_x.csv"), points("ot_two_clusters_sep1e7_y.csv"));
    let split = |p: &[Vec<f64>]| -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
        let near: Vec<Vec<f64>> = p.iter().filter(|q| q[0] < 5e6).cloned().collect();
        let far: Vec<Vec<f64>> = p.iter().filter(|q| q[0] >= 5e6).map(|q| vec![q[0] - 1e7, q[1]]).collect();
        (near, far)
    };
    let ((xa, xb), (ya, yb)) = (split(&x), split(&y));
    assert_eq!((xa.len(), xb.len(), ya.len(), yb.len()), (50, 50, 50, 50));
    let sq = |p: &[f64], q: &[f64]| -> f64 { p.iter().zip(q).map(|(a, b)| (a - b) * (a - b)).sum() };
    let (a, _) = hungarian::assignment::<f64>(50, |i, j| sq(&xa[i], &ya[j]));
    let (b, _) = hungarian::assignment::<f64>(50, |i, j| sq(&xb[i], &yb[j]));
    let independent = ((a + b) / 100.0).sqrt();
    let truth = 0.7314906706644978;
    assert!((independent - truth).abs() <= 1e-12 * truth, "independent route {independent} vs {truth}");
    let (xp, yp) = (case("ot_two_clusters_sep1e7_x.csv"), case("ot_two_clusters_sep1e7_y.csv"));
    let got = w2_of(&["w2", xp.to_str().unwrap(), yp.to_str().unwrap(), "--method", "exact"]);
    assert!((got - independent).abs() <= 1e-12 * independent, "gmdiff {got} vs {independent}");
}

/// 30 points in d = 20 against themselves: the Bures–W2 printed 8.4e-6 (the trace formula's
/// cancellation); the distance of a law to itself is 0.
#[test]
fn bures_w2_of_a_cloud_with_itself_is_zero() {
    let x = case("bures_d20_n30_x.csv");
    let x = x.to_str().unwrap();
    assert_eq!(w2_of(&["w2", x, x, "--method", "bures"]), 0.0);
}
