//! A score error injected in any prediction space (issue 12 item 2).
//!
//! References, written from the definitions `x = a x₀ + b ε`, `s = −ε/b = (a x₀ − x)/b²`,
//! `v = a ε − b x₀` (Salimans–Ho, VP) and `u = da x₀ + db ε` (the path's time derivative): an
//! error `δ` in the model's output changes the score by
//!
//! * ε: `δs = −δ/b`;
//! * x₀: `δs = (a/b²) δ`;
//! * v (VP, `a² + b² = 1`): `x₀ = a x − b v`, so `δx₀ = −b δ` and `δs = −(a/b) δ`;
//! * velocity: `x₀ = (db x − b u)/(a db − b da)`, so `δs = −a δ / (b (a db − b da))`.
//!
//! The exact-law route (`LinearScore::affine`) and the particle route (`Score::score_into`) must both
//! give `s + δs` with `δ = E x + u`.

use faer::{Mat, mat};
use gmdiff_process::{Coefficients, Flow, GaussianPath, Prediction, Score, VpLinear};
use gmdiff_solvers::{AffinePerturbation, Dense, DenseGaussian, LinearScore, Op};

fn reference_weight(kind: Prediction, c: &Coefficients) -> f64 {
    let (a, b) = (c.a, c.b);
    match kind {
        Prediction::Score => 1.0,
        Prediction::Epsilon => -1.0 / b,
        Prediction::Sample => a / (b * b),
        Prediction::VPrediction => -a / b,
        Prediction::Velocity => -a / (b * (a * c.db - b * c.da)),
    }
}

fn check(kind: Prediction, c: &Coefficients) {
    let g = DenseGaussian::new(vec![0.5, -1.0], mat![[1.0, 0.4], [0.4, 0.7]]).unwrap();
    let e = mat![[0.03, -0.01], [0.02, 0.05]];
    let u = vec![0.1, -0.2];
    let p = AffinePerturbation::new(g.clone(), Some(Dense(e.clone())), Some(u.clone())).in_space(kind);
    let w = reference_weight(kind, c);
    let x = mat![[0.3, -0.7], [1.2, 0.4], [-2.0, 0.9]];
    let mut exact = Mat::zeros(3, 2);
    g.score_into(c, x.as_ref(), exact.as_mut()).unwrap();
    let mut got = Mat::zeros(3, 2);
    p.score_into(c, x.as_ref(), got.as_mut()).unwrap();
    let (l, off) = p.affine(c).unwrap();
    let Op::Full(Dense(l)) = l else { panic!("dense") };
    let off = off.unwrap();
    for i in 0..3 {
        for j in 0..2 {
            let delta = e[(j, 0)] * x[(i, 0)] + e[(j, 1)] * x[(i, 1)] + u[j];
            let want = exact[(i, j)] + w * delta;
            let law = l[(j, 0)] * x[(i, 0)] + l[(j, 1)] * x[(i, 1)] + off[j];
            let tol = 1e-12 * want.abs().max(1.0);
            assert!((got[(i, j)] - want).abs() <= tol, "{kind} particles at t = {}: {} vs {want}", c.t, got[(i, j)]);
            assert!((law - want).abs() <= tol, "{kind} law at t = {}: {law} vs {want}", c.t);
        }
    }
}

#[test]
fn an_error_in_any_prediction_space_moves_the_score_by_its_conversion_weight() {
    let vp = VpLinear::default();
    for t in [0.05, 0.4, 1.0] {
        for kind in Prediction::ALL {
            check(kind, &vp.at(t).unwrap());
        }
    }
    let flow = Flow::default();
    for t in [0.1, 0.5, 0.9] {
        for kind in [Prediction::Score, Prediction::Epsilon, Prediction::Sample, Prediction::Velocity] {
            check(kind, &flow.at(t).unwrap());
        }
    }
}

#[test]
fn an_error_where_its_conversion_does_not_exist_is_a_typed_error() {
    let g = DenseGaussian::new(vec![0.0], mat![[1.0]]).unwrap();
    let p = AffinePerturbation::new(g, None::<Dense>, Some(vec![0.1])).in_space(Prediction::Epsilon);
    // At t = 0, b = 0: an ε error has no score-space weight (−1/b).
    let err = p.affine(&VpLinear::default().at(0.0).unwrap()).unwrap_err();
    assert!(err.to_string().contains("epsilon"), "{err}");
}
