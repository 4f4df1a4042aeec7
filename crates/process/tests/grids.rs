//! The time grids against the formulas of their sources, recomputed here from the path's
//! coefficients (`σ = b/a` from `eval`, not the grid's own inverse).
//!
//! * quadratic: DPM-Solver `get_time_steps`, `time_quadratic`: `t_k = (sqrt T + k/S (sqrt ε − sqrt T))²`;
//! * exponential: k-diffusion `get_sigmas_exponential`: `log σ_k` linear from `log σ_max` to `log σ_min`;
//! * polyexponential: k-diffusion `get_sigmas_polyexponential`:
//!   `log σ_k = log σ_min + (1 − k/S)^ρ (log σ_max − log σ_min)`;
//! * Karras: Karras et al. 2022, eq. 5 (`σ_k^{1/ρ}` linear).

use gmdiff_process::*;
use proptest::prelude::*;

fn paths() -> Vec<Process> {
    vec![
        Process::Vp(VpLinear::default()),
        Process::VpCosine(VpCosine::default()),
        Process::Ou(Ou::new(3.0).unwrap()),
        Process::SubVp(SubVp::default()),
        Process::Ve(Ve::default()),
        Process::Edm(Edm::default()),
        Process::Flow(Flow::new(0.999).unwrap()),
    ]
}

/// `σ = b/a` at `t`, straight from the coefficients.
fn sigma(p: &Process, t: f64) -> f64 {
    let c = p.eval(t);
    c.b / c.a
}

/// The round trip `σ ↦ t ↦ σ` of a grid point loses `|d log σ/d log t|⁻¹`-amplified rounding; over
/// these paths `t ≥ ε ≥ 10⁻³ T` keeps it below `1e-11` relative in `σ`.
const SIGMA_RTOL: f64 = 1e-11;

proptest! {
    #[test]
    fn quadratic_grid_is_dpm_solvers_time_quadratic(which in 0usize..7, steps in 1usize..200, e in 0.0f64..0.1) {
        let p = paths()[which];
        let horizon = p.horizon();
        let eps = e * horizon;
        let g = TimeGrid::quadratic(&p, steps, eps).unwrap();
        prop_assert_eq!(g.steps(), steps);
        for (k, &t) in g.times().iter().enumerate() {
            let r = k as f64 / steps as f64;
            let expected = (horizon.sqrt() * (1.0 - r) + eps.sqrt() * r).powi(2);
            prop_assert!((t - expected).abs() <= 1e-14 * horizon, "k = {k}: {t} vs {expected}");
        }
        prop_assert_eq!(g.times()[0], horizon);
        prop_assert_eq!(g.times()[steps], eps);
    }

    #[test]
    fn exponential_grid_is_uniform_in_log_sigma(which in 0usize..7, steps in 1usize..100, e in 1e-3f64..0.1) {
        let p = paths()[which];
        let eps = e * p.horizon();
        let g = TimeGrid::exponential(&p, steps, eps).unwrap();
        let (hi, lo) = (sigma(&p, p.horizon()).ln(), sigma(&p, eps).ln());
        for (k, &t) in g.times().iter().enumerate() {
            let expected = hi + (lo - hi) * (k as f64 / steps as f64);
            let got = sigma(&p, t).ln();
            prop_assert!((got - expected).abs() <= SIGMA_RTOL * (1.0 + expected.abs()), "k = {k}: log σ = {got} vs {expected}");
        }
    }

    #[test]
    fn polyexponential_grid_is_a_power_of_the_ramp_in_log_sigma(which in 0usize..7, steps in 1usize..100, e in 1e-3f64..0.1, rho in 0.2f64..5.0) {
        let p = paths()[which];
        let eps = e * p.horizon();
        let g = TimeGrid::polyexponential(&p, steps, eps, rho).unwrap();
        let (hi, lo) = (sigma(&p, p.horizon()).ln(), sigma(&p, eps).ln());
        for (k, &t) in g.times().iter().enumerate() {
            let expected = lo + (1.0 - k as f64 / steps as f64).powf(rho) * (hi - lo);
            let got = sigma(&p, t).ln();
            prop_assert!((got - expected).abs() <= SIGMA_RTOL * (1.0 + expected.abs()), "k = {k}: log σ = {got} vs {expected}");
        }
        // ρ = 1 is the exponential grid.
        let one = TimeGrid::polyexponential(&p, steps, eps, 1.0).unwrap();
        let exp = TimeGrid::exponential(&p, steps, eps).unwrap();
        for (a, b) in one.times().iter().zip(exp.times()) {
            prop_assert!((a - b).abs() <= 1e-12 * p.horizon());
        }
    }

    #[test]
    fn karras_grid_is_uniform_in_sigma_to_the_one_over_rho_on_every_path(which in 0usize..7, steps in 1usize..100, e in 1e-3f64..0.1, rho in 1.0f64..10.0) {
        let p = paths()[which];
        let eps = e * p.horizon();
        let g = TimeGrid::karras(&p, steps, eps, rho).unwrap();
        let (hi, lo) = (sigma(&p, p.horizon()), sigma(&p, eps));
        for (k, &t) in g.times().iter().enumerate() {
            let r = k as f64 / steps as f64;
            let expected = (hi.powf(1.0 / rho) * (1.0 - r) + lo.powf(1.0 / rho) * r).powf(rho);
            let got = sigma(&p, t);
            prop_assert!((got - expected).abs() <= SIGMA_RTOL * expected, "k = {k}: σ = {got} vs {expected}");
        }
    }

    #[test]
    fn every_grid_decreases_strictly_from_t_to_eps_then_zero(which in 0usize..7, steps in 1usize..200, e in 1e-3f64..0.1) {
        let p = paths()[which];
        let eps = e * p.horizon();
        for g in [
            TimeGrid::uniform(&p, steps, eps).unwrap(),
            TimeGrid::quadratic(&p, steps, eps).unwrap(),
            TimeGrid::karras(&p, steps, eps, 7.0).unwrap(),
            TimeGrid::exponential(&p, steps, eps).unwrap(),
            TimeGrid::polyexponential(&p, steps, eps, 2.0).unwrap(),
            TimeGrid::log_snr_uniform(&p, steps, eps).unwrap(),
        ] {
            prop_assert_eq!(g.times()[0], p.horizon());
            prop_assert_eq!(g.times()[steps], eps);
            let z = g.clone().with_final_zero();
            prop_assert_eq!(z.steps(), steps + 1);
            prop_assert_eq!(&z.times()[..=steps], g.times());
            prop_assert_eq!(z.times()[steps + 1], 0.0);
            prop_assert!(z.times().windows(2).all(|w| w[1] < w[0]));
            // Idempotent: a grid ending at 0 is unchanged.
            prop_assert_eq!(z.clone().with_final_zero(), z);
        }
    }
}

/// EDM's own numbers: `num_steps = 18`, `σ_min = 0.002`, `σ_max = 80`, `ρ = 7` (Karras et al. 2022,
/// eq. 5 and Algorithm 1): `σ_i = (80^{1/7} + i/17 (0.002^{1/7} − 80^{1/7}))^7`, `i < 18`, then `σ_18 = 0`.
/// On the EDM path `t = σ`, so the grid's times are these σ.
#[test]
fn edm_grid_is_edms_num_steps_18() {
    let g = TimeGrid::karras(&Edm::default(), 17, 0.002, 7.0).unwrap().with_final_zero();
    assert_eq!(g.steps(), 18);
    let (hi, lo) = (80f64.powf(1.0 / 7.0), 0.002f64.powf(1.0 / 7.0));
    for i in 0..18 {
        let expected = (hi + i as f64 / 17.0 * (lo - hi)).powf(7.0);
        assert!((g.times()[i] - expected).abs() <= 1e-13 * expected, "i = {i}: {} vs {expected}", g.times()[i]);
    }
    assert_eq!(g.times()[18], 0.0);
}

/// The quadratic grid of 2 steps from 1 to 0 is 1, 1/4, 0 (sqrt-uniform: 1, 1/2, 0).
#[test]
fn quadratic_small_case_by_hand() {
    let g = TimeGrid::quadratic(&Flow::default(), 2, 0.0).unwrap();
    assert_eq!(g.times(), &[1.0, 0.25, 0.0]);
    let g = TimeGrid::quadratic(&Edm::default(), 1, 0.0).unwrap();
    assert_eq!(g.times(), &[80.0, 0.0]);
}

/// The flow path at `T = 1` has `σ(T) = ∞`: every grid in `σ` refuses it with a typed error; the
/// grids in `t` accept it.
#[test]
fn grids_in_sigma_refuse_flow_at_one() {
    let flow = Flow::default();
    for (name, r) in [
        ("karras", TimeGrid::karras(&flow, 10, 1e-3, 7.0)),
        ("exponential", TimeGrid::exponential(&flow, 10, 1e-3)),
        ("polyexponential", TimeGrid::polyexponential(&flow, 10, 1e-3, 2.0)),
        ("log-SNR", TimeGrid::log_snr_uniform(&flow, 10, 1e-3)),
    ] {
        match r {
            Err(ProcessError::Invalid { reason, .. }) => assert!(reason.contains("use T < 1"), "{name}: {reason}"),
            other => panic!("{name}: expected a typed refusal, got {other:?}"),
        }
    }
    assert!(TimeGrid::uniform(&flow, 10, 0.0).is_ok());
    assert!(TimeGrid::quadratic(&flow, 10, 0.0).is_ok());
    // Bad ρ, ε and step counts are typed errors too.
    assert!(matches!(TimeGrid::polyexponential(&Edm::default(), 10, 0.002, 0.0), Err(ProcessError::InvalidParameter { name: "rho", .. })));
    assert!(matches!(TimeGrid::exponential(&Edm::default(), 10, 0.0), Err(ProcessError::InvalidParameter { name: "eps", .. })));
    assert!(TimeGrid::quadratic(&Edm::default(), 0, 0.0).is_err());
    assert!(TimeGrid::quadratic(&Edm::default(), 3, -1.0).is_err());
}
