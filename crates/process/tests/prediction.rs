//! Prediction kinds: every conversion against the definitions `x = a x₀ + b ε`, `s = −ε/b`,
//! `v = a ε − b x₀` (Salimans and Ho 2022) and `u = da x₀ + db ε` (`= ε − x₀` on flow), written
//! here; round trips for every pair; typed errors (never NaN) where a conversion is undefined.

use gmdiff_process::*;
use proptest::prelude::*;

/// Coefficients with the given `a`, `b`, `da`, `db` (the other fields are not read by conversions).
fn coeffs(a: f64, b: f64, da: f64, db: f64) -> Coefficients {
    Coefficients { t: 0.5, a, b, da, db, log_a: a.ln(), lambda: (a / b).ln(), f: da / a, g2: f64::NAN, c2: a * a + b * b }
}

/// The value of each kind from `(x₀, ε)` by its definition.
fn by_definition(kind: Prediction, c: &Coefficients, x0: f64, eps: f64) -> f64 {
    match kind {
        Prediction::Score => -eps / c.b,
        Prediction::Epsilon => eps,
        Prediction::Sample => x0,
        Prediction::VPrediction => c.a * eps - c.b * x0,
        Prediction::Velocity => c.da * x0 + c.db * eps,
    }
}

/// Generic well-conditioned coefficients: `a, b ∈ [0.1, 10]`, `|D| = |a db − b da| ≥ 0.1`.
fn generic() -> impl Strategy<Value = Coefficients> {
    (0.1f64..10.0, 0.1f64..10.0, -3.0f64..3.0, -3.0f64..3.0)
        .prop_filter("D = a db − b da away from 0", |&(a, b, da, db)| (a * db - b * da).abs() >= 0.1)
        .prop_map(|(a, b, da, db)| coeffs(a, b, da, db))
}

/// The condition of the 2 × 2 systems involved, for the error bounds: a few ulps of the largest
/// term over the smallest divisor.
fn scale(c: &Coefficients, x0: f64, eps: f64) -> f64 {
    let d = (c.a * c.db - c.b * c.da).abs();
    let big = [c.a, c.b, c.da.abs(), c.db.abs(), 1.0].into_iter().fold(0.0, f64::max);
    let small = [c.a, c.b, d, 1.0].into_iter().fold(f64::INFINITY, f64::min);
    (x0.abs() + eps.abs() + 1.0) * (big / small).powi(2)
}

proptest! {
    /// From `(x₀, ε)`, `x = a x₀ + b ε` and every kind's value by definition; converting any kind
    /// to any other gives the other's definition. Bound: `1e-13` of the condition scale.
    #[test]
    fn every_conversion_matches_the_definitions(c in generic(), x0 in -5.0f64..5.0, eps in -5.0f64..5.0) {
        let x = c.a * x0 + c.b * eps;
        let tol = 1e-13 * scale(&c, x0, eps);
        for from in Prediction::ALL {
            for to in Prediction::ALL {
                let got = convert(from, to, &c, x, by_definition(from, &c, x0, eps)).unwrap();
                let want = by_definition(to, &c, x0, eps);
                prop_assert!((got - want).abs() <= tol, "{from} → {to}: {got} vs {want} (tol {tol:.1e})");
            }
        }
        prop_assert!((to_x0(Prediction::Epsilon, &c, x, eps).unwrap() - x0).abs() <= tol);
        prop_assert!((from_x0(Prediction::Epsilon, &c, x, x0).unwrap() - eps).abs() <= tol);
    }

    /// `to ∘ from` is the identity on random `(x, value)` for every pair.
    #[test]
    fn round_trips_for_every_pair(c in generic(), x in -5.0f64..5.0, value in -5.0f64..5.0) {
        let tol = 1e-13 * scale(&c, x, value);
        for from in Prediction::ALL {
            for to in Prediction::ALL {
                let there = convert(from, to, &c, x, value).unwrap();
                let back = convert(to, from, &c, x, there).unwrap();
                prop_assert!((back - value).abs() <= tol, "{from} → {to} → {from}: {back} vs {value}");
            }
        }
    }

    /// Slices apply the same affine map as scalars, bit for bit.
    #[test]
    fn slices_equal_scalars(c in generic(), xs in prop::collection::vec(-5.0f64..5.0, 1..20)) {
        let values: Vec<f64> = xs.iter().map(|x| 0.3 * x - 1.0).collect();
        for from in Prediction::ALL {
            for to in Prediction::ALL {
                let conv = Conversion::new(from, to, &c).unwrap();
                let mut out = vec![0.0; xs.len()];
                conv.apply_slice(&xs, &values, &mut out);
                for i in 0..xs.len() {
                    prop_assert_eq!(out[i], convert(from, to, &c, xs[i], values[i]).unwrap());
                }
            }
        }
    }

    /// On the flow path (`a = 1 − t`, `b = t`) the velocity is `ε − x₀` (Lipman et al. 2023;
    /// Liu et al. 2023), including at `t = 1` from `x₀` (where `a = 0`).
    #[test]
    fn flow_velocity_is_eps_minus_x0(t in 0.01f64..=1.0, x0 in -5.0f64..5.0, eps in -5.0f64..5.0) {
        let c = Flow::default().at(t).unwrap();
        let x = (1.0 - t) * x0 + t * eps;
        let u = from_x0(Prediction::Velocity, &c, x, x0).unwrap();
        prop_assert!((u - (eps - x0)).abs() <= 1e-13 * (1.0 + x0.abs() + eps.abs()) / t);
        // And back: x₀ = x − t u (D = 1 on flow).
        prop_assert!((to_x0(Prediction::Velocity, &c, x, eps - x0).unwrap() - x0).abs() <= 1e-13 * (1.0 + x0.abs() + eps.abs()));
    }

    /// On VP paths `v = α ε − σ x₀` with `α = a`, `σ = b` (Salimans and Ho 2022, §4), and their
    /// inversions `x₀ = α x − σ v`, `ε = σ x + α v` (App. D), which hold because `α² + σ² = 1`.
    #[test]
    fn vp_v_prediction_is_salimans_ho(frac in 0.01f64..=1.0, which in 0usize..3, x0 in -5.0f64..5.0, eps in -5.0f64..5.0) {
        let p = [Process::Vp(VpLinear::default()), Process::VpCosine(VpCosine::default()), Process::Ou(Ou::new(2.0).unwrap())][which];
        let c = p.at(frac * p.horizon()).unwrap();
        let (alpha, sigma) = (c.a, c.b);
        let x = alpha * x0 + sigma * eps;
        let v = from_x0(Prediction::VPrediction, &c, x, x0).unwrap();
        let tol = 1e-13 * (1.0 + x0.abs() + eps.abs()) / sigma;
        prop_assert!((v - (alpha * eps - sigma * x0)).abs() <= tol);
        prop_assert!((to_x0(Prediction::VPrediction, &c, x, v).unwrap() - (alpha * x - sigma * v)).abs() <= tol);
        prop_assert!((convert(Prediction::VPrediction, Prediction::Epsilon, &c, x, v).unwrap() - (sigma * x + alpha * v)).abs() <= tol);
    }

    /// Degenerate coefficients (zeros, infinities, NaN from a chain) give a finite value or a
    /// typed error, never a NaN or an infinity.
    #[test]
    fn never_nan(ai in 0usize..4, bi in 0usize..4, dai in 0usize..4, dbi in 0usize..4, x in -5.0f64..5.0, value in -5.0f64..5.0) {
        let pick = [0.0, 0.5, f64::INFINITY, f64::NAN];
        let c = coeffs(pick[ai].min(1.0), pick[bi].min(1.0), -pick[dai], pick[dbi]);
        for from in Prediction::ALL {
            for to in Prediction::ALL {
                match convert(from, to, &c, x, value) {
                    Ok(v) => prop_assert!(v.is_finite(), "{from} → {to} at {c:?}: {v}"),
                    Err(e) => {
                        let typed = matches!(e, PredictionError::Undefined { .. });
                        prop_assert!(typed, "{from} → {to}: {e:?}");
                    }
                }
            }
        }
    }
}

/// Where the conversions are undefined, by the definitions: at `a = 0` (flow at `t = 1`), `x = ε`
/// carries no `x₀`; at `b = 0` (every path at `t = 0`), `x = a x₀` carries no `ε` and the score is
/// singular; a discrete chain has no time derivatives, so no velocity.
#[test]
fn undefined_conversions_are_typed_errors() {
    let flow_end = Flow::default().at(1.0).unwrap();
    let undefined = |r: Result<f64, PredictionError>| matches!(r, Err(PredictionError::Undefined { .. }));
    assert!(undefined(to_x0(Prediction::Epsilon, &flow_end, 1.0, 1.0)));
    assert!(undefined(to_x0(Prediction::Score, &flow_end, 1.0, 1.0)));
    // v = −b x₀ and u = ε − x₀ also need x₀.
    assert!(undefined(convert(Prediction::Epsilon, Prediction::VPrediction, &flow_end, 1.0, 1.0)));
    assert!(undefined(convert(Prediction::Epsilon, Prediction::Velocity, &flow_end, 1.0, 1.0)));
    // From x₀, v, u everything is defined at a = 0: ε = x/b.
    assert_eq!(convert(Prediction::Sample, Prediction::Epsilon, &flow_end, 2.0, 7.0).unwrap(), 2.0);
    assert_eq!(convert(Prediction::Velocity, Prediction::Sample, &flow_end, 2.0, 3.0).unwrap(), 2.0 - 3.0);
    assert_eq!(convert(Prediction::Epsilon, Prediction::Score, &flow_end, 2.0, 3.0).unwrap(), -3.0);

    let start = Flow::default().at(0.0).unwrap();
    assert!(undefined(from_x0(Prediction::Epsilon, &start, 1.0, 1.0)));
    assert!(undefined(from_x0(Prediction::Score, &start, 1.0, 1.0)));
    assert!(undefined(convert(Prediction::Epsilon, Prediction::Score, &start, 1.0, 1.0)));
    assert_eq!(to_x0(Prediction::Epsilon, &start, 2.0, 5.0).unwrap(), 2.0);
    // VP at t = 0: db = ∞, so no velocity.
    let vp0 = VpLinear::default().at(0.0).unwrap();
    assert!(undefined(from_x0(Prediction::Velocity, &vp0, 1.0, 1.0)));

    let chain = DiscreteChain::ho_linear(10, 1e-4, 0.02).unwrap().at(5).unwrap();
    assert!(undefined(from_x0(Prediction::Velocity, &chain, 1.0, 1.0)));
    assert!(to_x0(Prediction::VPrediction, &chain, 1.0, 1.0).unwrap().is_finite());

    // Identity needs nothing.
    assert_eq!(convert(Prediction::Score, Prediction::Score, &start, 1.0, 4.0).unwrap(), 4.0);
}

#[test]
fn names_follow_diffusers() {
    for (s, k) in [
        ("epsilon", Prediction::Epsilon),
        ("sample", Prediction::Sample),
        ("v_prediction", Prediction::VPrediction),
        ("score", Prediction::Score),
        ("velocity", Prediction::Velocity),
        ("flow", Prediction::Velocity),
        ("flow_prediction", Prediction::Velocity),
    ] {
        assert_eq!(s.parse::<Prediction>().unwrap(), k);
    }
    for k in Prediction::ALL {
        assert_eq!(k.to_string().parse::<Prediction>().unwrap(), k);
    }
    assert!(matches!("noise".parse::<Prediction>(), Err(PredictionError::UnknownKind(_))));
}
