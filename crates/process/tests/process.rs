//! Invariants of the forward processes, chains and grids, each against an independent route.

use crate::common;

use common::quadrature;
use gmdiff_process::*;
use proptest::prelude::*;

/// The VP processes, through their rate `β` (a [`ForwardProcess`]); each is also a [`GaussianPath`].
fn processes() -> Vec<Box<dyn ForwardProcess>> {
    vec![
        Box::new(VpLinear::default()),
        Box::new(VpLinear::new(0.05, 10.0, 2.0).unwrap()),
        Box::new(VpCosine::default()),
        Box::new(Ou::new(5.0).unwrap()),
    ]
}

/// The cosine schedule's β grows steeply near its horizon, where a uniform quadrature once fell
/// short of 1e-10 (at frac = 0.99750…, found by the property test below).
#[test]
fn integrated_beta_matches_quadrature_at_the_steep_end_of_the_cosine_schedule() {
    let p = VpCosine::default();
    for frac in [0.99, 0.997_507_297_678_161_8, 0.9999, 1.0] {
        let t = frac * ForwardProcess::horizon(&p);
        let (exact, quad) = (p.integrated_beta(t), quadrature(|s| p.beta(s), t));
        assert!((exact - quad).abs() <= 1e-10 * exact.abs().max(1.0), "t = {t}: {exact} vs {quad}");
    }
}

proptest! {
    #[test]
    fn a_squared_plus_b_squared_is_one(frac in 0.0f64..=1.0, which in 0usize..4) {
        let p = &*processes()[which];
        let c = p.at(frac * p.horizon()).unwrap();
        prop_assert!((c.a * c.a + c.b * c.b - 1.0).abs() < 4e-16 * 4.0);
        prop_assert!(c.a > 0.0 && c.a <= 1.0 && c.b >= 0.0 && c.b < 1.0);
    }

    #[test]
    fn integrated_beta_matches_quadrature(frac in 0.0f64..=1.0, which in 0usize..4) {
        let p = &*processes()[which];
        let t = frac * p.horizon();
        let exact = p.integrated_beta(t);
        let quad = quadrature(|s| p.beta(s), t);
        prop_assert!((exact - quad).abs() <= 1e-10 * exact.abs().max(1.0), "{exact} vs {quad}");
    }

    #[test]
    fn inverse_of_integrated_beta_round_trips(frac in 0.0f64..=1.0, which in 0usize..4) {
        let p = &*processes()[which];
        let t = frac * p.horizon();
        let back = p.time_of_integrated_beta(p.integrated_beta(t));
        prop_assert!((back - t).abs() <= 1e-10 * p.horizon(), "{t} -> {back}");
    }

    #[test]
    fn inverse_of_log_snr_round_trips(frac in 1e-4f64..=1.0, which in 0usize..4) {
        let p = &*processes()[which];
        let t = frac * p.horizon();
        let c = p.eval(t);
        let back = p.time_of_lambda(c.lambda);
        prop_assert!((back - t).abs() <= 1e-9 * p.horizon(), "{t} -> {back}");
        // The log-SNR log(a²/b²) = 2λ, from the definition.
        let (a, b) = (c.a, c.b);
        let log_snr = 2.0 * c.lambda;
        prop_assert!((log_snr - (a * a / (b * b)).ln()).abs() < 1e-9 * log_snr.abs().max(1.0));
    }

    #[test]
    fn ou_is_vp_with_constant_beta_two(t in 0.0f64..=3.0) {
        let ou = Ou::new(3.0).unwrap();
        let vp = VpLinear::new(2.0, 2.0, 3.0).unwrap();
        let (c1, c2) = (ou.at(t).unwrap(), vp.at(t).unwrap());
        prop_assert!((c1.a - c2.a).abs() < 1e-15 && (c1.b - c2.b).abs() < 1e-15);
        prop_assert!((c1.a - (-t).exp()).abs() < 1e-15);
    }

    #[test]
    fn alpha_bar_is_product_of_alphas(betas in prop::collection::vec(1e-6f64..0.5, 1..200)) {
        let chain = DiscreteChain::new(betas.clone()).unwrap();
        for k in 0..=betas.len() {
            let product: f64 = (1..=k).map(|j| chain.alpha(j)).product();
            prop_assert!((chain.alpha_bar(k) - product).abs() <= 1e-15 * product);
            let c = chain.at(k).unwrap();
            prop_assert!((c.a * c.a - product).abs() <= 1e-15);
        }
    }

    #[test]
    fn grids_decrease_from_horizon_to_eps(steps in 1usize..300, eps in 1e-5f64..0.1, which in 0usize..4) {
        let p = &*processes()[which];
        for g in [
            TimeGrid::uniform(p, steps, eps).unwrap(),
            TimeGrid::karras(p, steps, eps, 7.0).unwrap(),
            TimeGrid::log_snr_uniform(p, steps, eps).unwrap(),
        ] {
            prop_assert_eq!(g.steps(), steps);
            prop_assert_eq!(g.times()[0], p.horizon());
            prop_assert_eq!(g.times()[steps], eps);
        }
    }
}

#[test]
fn paper_convention_integrated_beta() {
    // Pierret–Galerne: B̃_t = 0.05 t + 4.975 t², B̃_1 = 5.025, and β̃ = β/2 (THEORY §0, verified).
    let vp = VpLinear::default();
    for t in [0.0, 0.1, 0.5, 1.0] {
        let tilde = 0.05 * t + 4.975 * t * t;
        assert!((0.5 * vp.integrated_beta(t) - tilde).abs() < 1e-14);
    }
}

#[test]
fn log_snr_grid_is_uniform_in_lambda() {
    let p = VpLinear::default();
    let g = TimeGrid::log_snr_uniform(&p, 10, 1e-3).unwrap();
    // The log-SNR 2λ = log(a²/b²), recomputed from a and b.
    let l: Vec<f64> = g.times().iter().map(|&t| p.eval(t)).map(|c| (c.a * c.a / (c.b * c.b)).ln()).collect();
    let step = l[1] - l[0];
    for w in l.windows(2) {
        assert!((w[1] - w[0] - step).abs() < 1e-9);
    }
}

#[test]
fn karras_grid_is_uniform_in_sigma_to_the_one_over_rho() {
    let p = VpLinear::default();
    let g = TimeGrid::karras(&p, 12, 1e-3, 7.0).unwrap();
    let s: Vec<f64> = g.times().iter().map(|&t| p.eval(t)).map(|c| (c.b / c.a).powf(1.0 / 7.0)).collect();
    let step = s[1] - s[0];
    for w in s.windows(2) {
        assert!((w[1] - w[0] - step).abs() < 1e-10);
    }
}

#[test]
fn li_yan_schedule_follows_its_recursion() {
    let n = 500;
    let (c0, c1) = (2.0, 4.0);
    let chain = DiscreteChain::li_yan(n, c0, c1).unwrap();
    let nf = n as f64;
    let r = c1 * nf.ln() / nf;
    assert_eq!(chain.beta(1), nf.powf(-c0));
    for k in 1..n {
        let expected = r * (nf.powf(-c0) * (1.0 + r).powi(k as i32)).min(1.0);
        // The chain multiplies (1 + r) k times, powi rounds differently: both err by ≤ k ulp.
        let ulps = 2.0 * (k as f64 + 2.0) * f64::EPSILON;
        assert!((chain.beta(k + 1) - expected).abs() <= ulps * expected);
    }
    assert!(chain.alpha_bar(n) < 1e-3);
    assert!(DiscreteChain::li_yan(4, 2.0, 4.0).is_err());
}

#[test]
fn bad_input_is_a_typed_error() {
    assert!(matches!(VpLinear::new(f64::NAN, 20.0, 1.0), Err(ProcessError::InvalidParameter { .. })));
    assert!(VpLinear::new(0.1, 20.0, 0.0).is_err());
    assert!(VpLinear::new(-0.1, 20.0, 1.0).is_err());
    assert!(matches!(VpLinear::new(20.0, 0.1, 1.0), Err(ProcessError::InvalidParameter { name: "beta_min", .. })));
    assert!(Ou::new(f64::INFINITY).is_err());
    assert!(VpCosine::new(0.008, 1.0, 1.0).is_err());
    let vp = VpLinear::default();
    assert!(matches!(vp.at(1.5), Err(ProcessError::TimeOutOfRange { .. })));
    assert!(vp.at(-1e-9).is_err());
    assert!(vp.at(f64::NAN).is_err());
    assert!(TimeGrid::uniform(&vp, 0, 1e-3).is_err());
    assert!(TimeGrid::uniform(&vp, 10, 1.0).is_err());
    assert!(TimeGrid::karras(&vp, 10, 0.0, 7.0).is_err());
    assert!(TimeGrid::from_times(&vp, vec![1.0, 0.5, 0.6]).is_err());
    assert!(DiscreteChain::new(vec![]).is_err());
    assert!(DiscreteChain::new(vec![0.1, 1.0]).is_err());
    assert!(serde_json::from_str::<Process>(r#"{"kind":"vp","beta_min":0.1,"beta_max":-20,"horizon":1}"#).is_err());
}

/// Issue 14, fault 5: a query of `p_t` needs no horizon where the process is defined for all t.
/// Expected values are the closed forms: OU `a_t = e^{−t}`; linear VP `B(t) = β_min t + ½ (β_max − β_min) t² / T`.
#[test]
fn queries_accept_any_time_where_the_process_is_defined() {
    let ou = Ou::new(1.0).unwrap();
    assert!(matches!(ou.at(1.5), Err(ProcessError::TimeOutOfRange { .. }))); // samplers: t ≤ T
    let c = ou.coefficients(1.5).unwrap();
    assert_eq!(c.a, (-1.5f64).exp());
    assert_eq!(c.b, (-(-3.0f64).exp_m1()).sqrt());
    assert_eq!(GaussianPath::defined_until(&ou), f64::INFINITY);
    // Very late times: a_t underflows to 0, b_t = 1 (p_t = N(0, I) in f64).
    let late = ou.coefficients(1e6).unwrap();
    assert_eq!((late.a, late.b), (0.0, 1.0));
    let vp = VpLinear::new(0.1, 20.0, 1.0).unwrap();
    let c = vp.coefficients(2.0).unwrap();
    // log a = −B/2 and g² = β on a VP path.
    assert!((-2.0 * c.log_a - (0.1 * 2.0 + 0.5 * 19.9 * 4.0)).abs() < 1e-13);
    assert_eq!(c.g2, 0.1 + 2.0 * 19.9);
    // The cosine schedule is not defined past its end; negative and non-finite times are refused.
    let cos = VpCosine::default();
    assert_eq!(GaussianPath::defined_until(&cos), GaussianPath::horizon(&cos));
    assert!(matches!(cos.coefficients(0.995), Err(ProcessError::TimeOutOfRange { .. })));
    for bad in [-1e-300, f64::NAN, f64::INFINITY] {
        assert!(matches!(ou.coefficients(bad), Err(ProcessError::TimeOutOfRange { .. })));
        assert!(matches!(Process::Ou(ou).coefficients(bad), Err(ProcessError::TimeOutOfRange { .. })));
    }
    // On [0, T] both routes agree bit for bit.
    assert_eq!(vp.at(0.7).unwrap(), vp.coefficients(0.7).unwrap());
}

#[test]
fn paths_are_defined_past_their_horizon_where_their_formulas_hold() {
    // A stage above T (EDM's churn raises σ) is queried through `coefficients`, checked against
    // `defined_until`: VE's geometric σ and sub-VP's linear β continue past T = 1; flow stops at 1.
    use gmdiff_process::{Flow, SubVp, Ve};
    let ve = Ve::default();
    let c = ve.coefficients(1.5).unwrap();
    // σ(t)² = σ_min² e^{2rt}, b² = σ(t)² − σ_min², r = log(σ_max/σ_min).
    let sigma = 0.01 * (50.0f64 / 0.01).powf(1.5);
    assert!((c.b - (sigma * sigma - 1e-4).sqrt()).abs() <= 1e-12 * c.b, "{}", c.b);
    let sub = SubVp::default();
    let c = sub.coefficients(1.5).unwrap();
    let big_b: f64 = 0.1 * 1.5 + 0.5 * 19.9 * 1.5 * 1.5;
    assert!((c.a - (-0.5 * big_b).exp()).abs() <= 1e-15 && (c.b - (1.0 - (-big_b).exp())).abs() <= 1e-15);
    let flow = Flow::new(0.9).unwrap();
    assert_eq!(flow.coefficients(0.95).unwrap().a, 1.0 - 0.95);
    assert!(matches!(flow.coefficients(1.01), Err(ProcessError::TimeOutOfRange { .. })));
    assert!(matches!(flow.at(0.95), Err(ProcessError::TimeOutOfRange { .. }))); // samplers: t ≤ T
}
