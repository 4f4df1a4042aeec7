//! The network simplex against independent routes: LP duality (complementary slackness),
//! brute force over permutations, and degenerate inputs.

use crate::common;

use common::SplitMix;
use faer::Mat;
use gmdiff_metrics::*;

fn random_cloud(rng: &mut SplitMix, n: usize, d: usize, scale: f64) -> Mat<f64> {
    Mat::from_fn(n, d, |_, _| scale * rng.normal())
}

fn random_weights(rng: &mut SplitMix, n: usize, zero_every: usize) -> Vec<f64> {
    let mut w: Vec<f64> = (0..n).map(|i| if zero_every > 0 && i % zero_every == 1 { 0.0 } else { 0.05 + rng.uniform() }).collect();
    let s: f64 = w.iter().sum();
    w.iter_mut().for_each(|v| *v /= s);
    w
}

/// Checks primal feasibility, dual feasibility and complementary slackness of a plan for the
/// cost `c(i, j)`; returns the largest violation relative to the cost scale.
fn certify(plan: &TransportPlan, c: impl Fn(usize, usize) -> f64, n: usize, m: usize) -> f64 {
    let scale = (0..n).flat_map(|i| (0..m).map(move |j| (i, j))).map(|(i, j)| c(i, j).abs()).fold(1e-300, f64::max);
    let mut row = vec![0.0; n];
    let mut col = vec![0.0; m];
    let mut primal = 0.0;
    for &(i, j, f) in &plan.entries {
        assert!(f > 0.0);
        row[i] += f;
        col[j] += f;
        primal += f * c(i, j);
        // Complementary slackness: a used arc has zero reduced cost.
        let rc = c(i, j) - plan.u[i] - plan.v[j];
        assert!(rc.abs() <= 1e-12 * scale, "slackness violated on ({i}, {j}): rc = {rc:e}");
    }
    for (i, (r, a)) in row.iter().zip(&plan.a).enumerate() {
        assert!((r - a).abs() < 1e-12, "row {i}: {r} vs {a}");
    }
    for (j, (c, b)) in col.iter().zip(&plan.b).enumerate() {
        assert!((c - b).abs() < 1e-12, "column {j}: {c} vs {b}");
    }
    // Dual feasibility on every arc.
    let mut worst = 0.0f64;
    for i in 0..n {
        for j in 0..m {
            let rc = c(i, j) - plan.u[i] - plan.v[j];
            worst = worst.max(-rc / scale);
        }
    }
    assert!(worst <= 1e-12, "dual infeasible by {worst:e} (relative)");
    assert!((primal - plan.cost).abs() <= 1e-12 * scale);
    // Strong duality.
    assert!((plan.dual_objective() - plan.cost).abs() <= 1e-11 * scale, "gap {}", plan.dual_objective() - plan.cost);
    worst
}

#[test]
fn simplex_certificate_on_random_weighted_unequal_problems() {
    let mut rng = SplitMix(7);
    for case in 0..60 {
        let n = 1 + (rng.next_u64() % 70) as usize;
        let m = 1 + (rng.next_u64() % 90) as usize;
        let d = 1 + (rng.next_u64() % 9) as usize; // d ≥ 6 takes the tabulated-cost path
        let x = random_cloud(&mut rng, n, d, 1.0);
        let y = random_cloud(&mut rng, m, d, 2.0);
        let a = random_weights(&mut rng, n, if case % 3 == 0 { 4 } else { 0 });
        let b = random_weights(&mut rng, m, if case % 5 == 0 { 3 } else { 0 });
        let plan = ot_sq_euclidean(x.as_ref(), Some(&a), y.as_ref(), Some(&b), EmdOptions::default()).unwrap();
        let c = |i: usize, j: usize| (0..d).map(|k| (x[(i, k)] - y[(j, k)]).powi(2)).sum::<f64>();
        certify(&plan, c, n, m);
        assert!(plan.entries.len() < n + m, "a basic solution has at most n + m − 1 positive entries");
    }
}

#[test]
fn simplex_certificate_for_general_cost_matrices() {
    let mut rng = SplitMix(11);
    for case in 0..40 {
        let n = 1 + (rng.next_u64() % 40) as usize;
        let m = 1 + (rng.next_u64() % 40) as usize;
        // Integer costs make many ties (degenerate optimal faces); some negative.
        let cost = Mat::from_fn(n, m, |_, _| if case % 2 == 0 { (rng.next_u64() % 5) as f64 - 1.0 } else { rng.normal() });
        let a = random_weights(&mut rng, n, if case % 4 == 0 { 3 } else { 0 });
        let b = if case % 3 == 0 { vec![1.0 / m as f64; m] } else { random_weights(&mut rng, m, 0) };
        let plan = emd(&a, &b, cost.as_ref(), EmdOptions::default()).unwrap();
        certify(&plan, |i, j| cost[(i, j)], n, m);
    }
}

/// All permutations of 0..n (Heap's algorithm).
fn permutations(n: usize) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    let mut p: Vec<usize> = (0..n).collect();
    let mut c = vec![0usize; n];
    out.push(p.clone());
    let mut i = 0;
    while i < n {
        if c[i] < i {
            if i % 2 == 0 {
                p.swap(0, i)
            } else {
                p.swap(c[i], i)
            }
            out.push(p.clone());
            c[i] += 1;
            i = 0;
        } else {
            c[i] = 0;
            i += 1;
        }
    }
    out
}

#[test]
fn exact_w2_equals_brute_force_over_permutations() {
    // With equal sizes and uniform weights the optimum is attained at a permutation (Birkhoff).
    let mut rng = SplitMix(3);
    for n in 1..=7 {
        let perms = permutations(n);
        for rep in 0..6 {
            let d = 1 + rep % 3;
            let x = random_cloud(&mut rng, n, d, 1.0);
            let y = random_cloud(&mut rng, n, d, 1.0);
            let best = perms
                .iter()
                .map(|p| (0..n).map(|i| (0..d).map(|k| (x[(i, k)] - y[(p[i], k)]).powi(2)).sum::<f64>()).sum::<f64>() / n as f64)
                .fold(f64::INFINITY, f64::min);
            let w2 = w2_exact(x.as_ref(), y.as_ref()).unwrap();
            assert!((w2 * w2 - best).abs() <= 1e-13 * best.max(1.0), "n = {n}: {} vs brute force {best}", w2 * w2);
        }
    }
}

#[test]
fn degenerate_inputs() {
    // Identical points everywhere: W2 = 0 with massive degeneracy.
    let x = Mat::from_fn(50, 2, |_, k| k as f64);
    let y = Mat::from_fn(70, 2, |_, k| k as f64);
    assert_eq!(w2_exact(x.as_ref(), y.as_ref()).unwrap(), 0.0);
    // Duplicated points on a grid, equal sizes: the identity coupling is optimal.
    let g = Mat::from_fn(100, 2, |i, k| if k == 0 { (i % 5) as f64 } else { (i / 20) as f64 });
    assert_eq!(w2_exact(g.as_ref(), g.as_ref()).unwrap(), 0.0);
    // One point against many: W2² = mean squared distance.
    let one = Mat::from_fn(1, 2, |_, _| 0.5);
    let many = Mat::from_fn(9, 2, |i, k| (i * (k + 1)) as f64 * 0.1);
    let want: f64 = (0..9).map(|i| (0..2).map(|k| (many[(i, k)] - 0.5).powi(2)).sum::<f64>()).sum::<f64>() / 9.0;
    assert!((w2_exact(one.as_ref(), many.as_ref()).unwrap().powi(2) - want).abs() < 1e-14);
    assert!((w2_exact(many.as_ref(), one.as_ref()).unwrap().powi(2) - want).abs() < 1e-14);
    // Zero weights: the point is ignored but still gets a feasible potential.
    let x = faer::mat![[0.0], [100.0], [1.0]];
    let y = faer::mat![[0.0], [1.0]];
    let plan = ot_sq_euclidean(x.as_ref(), Some(&[0.5, 0.0, 0.5]), y.as_ref(), None, EmdOptions::default()).unwrap();
    assert_eq!(plan.cost, 0.0);
    assert!(plan.u[1].is_finite());
    assert!(plan.entries.iter().all(|e| e.0 != 1));
}

#[test]
fn bad_inputs_are_typed_errors() {
    let x = faer::mat![[0.0, 1.0], [2.0, 3.0]];
    let y3 = faer::mat![[0.0, 1.0, 2.0]];
    let nan = faer::mat![[0.0, f64::NAN]];
    let empty = Mat::<f64>::zeros(0, 2);
    assert!(matches!(w2_exact(x.as_ref(), y3.as_ref()), Err(MetricsError::DimensionMismatch { .. })));
    assert!(matches!(w2_exact(x.as_ref(), nan.as_ref()), Err(MetricsError::NonFinite { index: 1, .. })));
    assert!(matches!(w2_exact(empty.as_ref(), x.as_ref()), Err(MetricsError::Empty { .. })));
    let r = w2_exact_weighted(x.as_ref(), Some(&[0.7, 0.7]), x.as_ref(), None);
    assert!(matches!(r, Err(MetricsError::BadWeights { .. })));
    let r = w2_exact_weighted(x.as_ref(), Some(&[1.5, -0.5]), x.as_ref(), None);
    assert!(matches!(r, Err(MetricsError::BadWeights { .. })));
    let r = w2_exact_weighted(x.as_ref(), Some(&[1.0]), x.as_ref(), None);
    assert!(matches!(r, Err(MetricsError::DimensionMismatch { .. })));
    let r = w2_exact_weighted(x.as_ref(), Some(&[f64::NAN, 1.0]), x.as_ref(), None);
    assert!(matches!(r, Err(MetricsError::NonFinite { .. })));
    let inf_cost = faer::mat![[0.0, f64::INFINITY]];
    assert!(matches!(emd(&[1.0], &[0.5, 0.5], inf_cost.as_ref(), EmdOptions::default()), Err(MetricsError::NonFinite { .. })));
    // Finite inputs whose squared distances overflow: a typed error, never NaN.
    let huge = faer::mat![[1e200, 0.0], [-1e200, 0.0]];
    assert!(matches!(w2_exact(huge.as_ref(), x.as_ref()), Err(MetricsError::Overflow { .. })));
    assert!(matches!(w2_sliced(huge.as_ref(), x.as_ref(), 4, 0), Err(MetricsError::Overflow { .. })));
    assert!(matches!(energy_distance(huge.as_ref(), x.as_ref()), Err(MetricsError::Overflow { .. })));
    let big = faer::mat![[1e300, 0.0], [0.0, 1.0]];
    assert!(matches!(bures_w2(&[0.0, 0.0], big.as_ref(), &[1e200, 0.0], big.as_ref()), Err(MetricsError::Overflow { .. })));
    let r = ot_sq_euclidean(x.as_ref(), None, x.as_ref(), None, EmdOptions { max_pivots: 0 });
    // Two points each: either already optimal (0 pivots) or a typed non-convergence.
    assert!(r.is_ok() || matches!(r, Err(MetricsError::NotConverged { .. })));
}

#[test]
fn thousand_point_problem_is_certified() {
    // A larger, well-mixed instance: the certificate must hold at scale too.
    let mut rng = SplitMix(99);
    let (n, m, d) = (700, 900, 2);
    let x = random_cloud(&mut rng, n, d, 1.0);
    let y = Mat::from_fn(m, d, |_, k| rng.normal() * if k == 0 { 1.5 } else { 0.5 } + 0.3);
    let plan = ot_sq_euclidean(x.as_ref(), None, y.as_ref(), None, EmdOptions::default()).unwrap();
    let c = |i: usize, j: usize| (0..d).map(|k| (x[(i, k)] - y[(j, k)]).powi(2)).sum::<f64>();
    certify(&plan, c, n, m);
}
