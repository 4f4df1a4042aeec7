//! The score-error wrappers: their batched (particle) form equals their affine (law) form, and the
//! size of the error is what it says.

use faer::Mat;
use gmdiff_process::{Coefficients, GaussianPath, Score, VpLinear};
use gmdiff_solvers::{AffinePerturbation, Coef, Dense, DenseGaussian, FieldPerturbation, LinearScore, Op, PerturbedPrecision, ScaledScore};

fn target() -> DenseGaussian {
    DenseGaussian::new(vec![0.7, -1.2, 0.4], faer::mat![[1.2, 0.3, 0.0], [0.3, 0.8, -0.2], [0.0, -0.2, 0.5]]).unwrap()
}

fn points() -> Mat<f64> {
    Mat::from_fn(5, 3, |i, j| ((i * 3 + j) as f64 * 0.37).sin() * 2.0)
}

/// `max |score_into(x) − (L x + c)|` over the rows of `x`.
fn gap<T: Score + LinearScore<Dense>>(s: &T, at: &Coefficients, x: &Mat<f64>) -> f64 {
    let mut out = Mat::zeros(x.nrows(), 3);
    s.score_into(at, x.as_ref(), out.as_mut()).unwrap();
    let (l, c) = s.affine(at).unwrap();
    let l = l.to_full(3);
    let mut worst: f64 = 0.0;
    for i in 0..x.nrows() {
        let row: Vec<f64> = (0..3).map(|j| x[(i, j)]).collect();
        let lin = l.apply(&row);
        for j in 0..3 {
            let want = lin[j] + c.as_ref().map_or(0.0, |c| c[j]);
            worst = worst.max((out[(i, j)] - want).abs());
        }
    }
    worst
}

#[test]
fn particle_and_law_forms_of_the_wrappers_agree() {
    let at = VpLinear::default().at(0.37).unwrap();
    let x = points();
    let e = Dense(faer::mat![[0.0, 0.2, -0.1], [0.05, 0.1, 0.0], [0.3, 0.0, -0.2]]);
    assert!(gap(&target(), &at, &x) < 1e-13);
    assert!(gap(&ScaledScore::new(target(), 0.1), &at, &x) < 1e-13);
    assert!(gap(&AffinePerturbation::new(target(), Some(e.clone()), Some(vec![0.1, -0.2, 0.3])), &at, &x) < 1e-13);
    let sym = Dense(faer::mat![[0.1, 0.05, 0.0], [0.05, -0.1, 0.02], [0.0, 0.02, 0.05]]);
    assert!(gap(&PerturbedPrecision::new(target(), sym), &at, &x) < 1e-13);
}

#[test]
fn error_sizes_are_as_stated() {
    let at = VpLinear::default().at(0.2).unwrap();
    let x = points();
    let exact = {
        let mut o = Mat::zeros(5, 3);
        target().score_into(&at, x.as_ref(), o.as_mut()).unwrap();
        o
    };
    // The field perturbation adds exactly ε f(x).
    let eps = 0.03;
    let field = FieldPerturbation::new(target(), eps, |_: &Coefficients, x: &[f64], out: &mut [f64]| {
        for (o, v) in out.iter_mut().zip(x) {
            *o = v.cos();
        }
    });
    let mut o = Mat::zeros(5, 3);
    field.score_into(&at, x.as_ref(), o.as_mut()).unwrap();
    for i in 0..5 {
        for j in 0..3 {
            assert!((o[(i, j)] - exact[(i, j)] - eps * x[(i, j)].cos()).abs() < 1e-15);
        }
    }
    // The perturbed precision vanishes at the diffused mean a_t μ.
    let p = PerturbedPrecision::new(target(), Dense::identity(3, 0.5));
    let m: Vec<f64> = target().mean().iter().map(|v| at.a * v).collect();
    let (l, c) = p.affine(&at).unwrap();
    let Op::Full(l) = l else { panic!() };
    let s: Vec<f64> = l.apply(&m).iter().zip(c.unwrap()).map(|(a, b)| a + b).collect();
    assert!(s.iter().all(|v| v.abs() < 1e-14), "{s:?}");
}
