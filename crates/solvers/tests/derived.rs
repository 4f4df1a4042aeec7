//! The costs derived from the step code (`score_evals`, `is_stochastic`, `slots`, run on the
//! counting algebra) against the numbers that follow from each sampler's definition (its docs,
//! `docs/solvers.md`): S steps of one evaluation, Heun 2 per step, RK4 4 per step, DPOM one
//! predictor evaluation per step plus `iterations` per correction, DPUM plus `2 · iterations`, where a
//! correction follows every `every`-th step except the last, i.e. `⌊(S − 1)/every⌋` corrections.

use gmdiff_process::DiscreteChain;
use gmdiff_solvers::{
    Builtin, Ddim, Ddpm, DpmSolver2M, DpmSolver2MSde, DpmSolver2SAncestral, DpmSolver3M, DpmSolver3MSde, DpmSolverSde, Dpom, Dpum, Euler,
    EulerMaruyama, ExponentialIntegrator, Heun, Langevin, OdeExponential, Rk4, Sampler, Schedule, SolverError, Underdamped, is_stochastic,
    score_evals, slots,
};

/// `(score evaluations, draws noise, slots)` from the definition of each built-in sampler.
fn by_definition(s: &Builtin, steps: usize) -> (usize, bool, usize) {
    let corrections = |every: usize| (steps - 1) / every;
    match s {
        Builtin::EulerMaruyama(_) | Builtin::ExponentialIntegrator(_) | Builtin::Ddpm(_) => (steps, true, 1),
        Builtin::Ddim(Ddim { eta }) => (steps, *eta > 0.0, 1),
        Builtin::Euler(_) | Builtin::OdeExponential(_) => (steps, false, 1),
        Builtin::Heun(_) => (2 * steps, false, 1),
        Builtin::Rk4(_) => (4 * steps, false, 1),
        Builtin::DpmSolver2M(_) => (steps, false, 2),
        Builtin::DpmSolver3M(_) => (steps, false, 3),
        // On this grid (b_s > 0 throughout) noise is drawn at every step when η s_noise > 0.
        Builtin::DpmSolver2SAncestral(c) => (2 * steps, c.eta * c.s_noise > 0.0, 1),
        Builtin::DpmSolverSde(c) => (2 * steps, c.eta * c.s_noise > 0.0, 1),
        Builtin::DpmSolver2MSde(c) => (steps, c.eta * c.s_noise > 0.0, 2),
        Builtin::DpmSolver3MSde(c) => (steps, c.eta * c.s_noise > 0.0, 3),
        Builtin::Dpom(Dpom(c)) => {
            let k = c.iterations * corrections(c.every);
            (steps + k, k > 0, 1)
        }
        // The velocity is drawn from N(0, I) at the start, so DPUM always draws noise.
        Builtin::Dpum(Dpum(c)) => (steps + 2 * c.iterations * corrections(c.every), true, 2),
        // k-diffusion / EDM (issue 13; the uniform VP grids here end at ε > 0, so no step goes to σ = 0).
        Builtin::EulerAncestral(s) => (steps, s.eta * s.s_noise > 0.0, 1),
        Builtin::EdmHeun(_) | Builtin::Dpm2(_) => (2 * steps, false, 1),
        Builtin::EdmSde(s) => (2 * steps, s.s_churn * s.s_noise > 0.0, 1),
        Builtin::Dpm2Ancestral(s) => (2 * steps, s.eta * s.s_noise > 0.0, 1),
        // UniC reuses the next step's evaluation: the position, `order − 1` data predictions and,
        // with the corrector, the known part of the next correction.
        Builtin::UniPc(u) => (steps, false, 1 + usize::from(u.use_corrector) + u.order - 1),
        Builtin::Deis(d) => (steps, false, d.order),
        Builtin::Lms(l) => (steps, false, l.order),
        // The position, the block's start and the two previous data predictions.
        Builtin::DpmSolverSinglestep(_) => (steps, false, 4),
        // Runge–Kutta warm-up: four evaluations in each of the first three steps; else a pseudo
        // improved Euler first step (two). The position and three noise predictions.
        Builtin::Pndm(p) if p.prk => (4 * steps.min(3) + steps.saturating_sub(3), false, 4),
        Builtin::Pndm(_) => (if steps > 1 { steps + 1 } else { steps }, false, 4),
    }
}

fn every_configuration() -> Vec<Builtin> {
    let mut v: Vec<Builtin> = Builtin::NAMES.iter().map(|n| Builtin::from_name(n).unwrap()).collect();
    v.extend([Builtin::Ddim(Ddim { eta: 0.3 }), Builtin::Ddim(Ddim { eta: 1.0 })]);
    for every in [1, 2, 3, 7] {
        for iterations in [0, 1, 3] {
            v.push(Builtin::Dpom(Dpom(Langevin { every, iterations, ..Langevin::default() })));
            v.push(Builtin::Dpum(Dpum(Underdamped { every, iterations, ..Underdamped::default() })));
        }
    }
    v
}

#[test]
fn derived_costs_equal_the_definitions_for_every_builtin_and_step_count() {
    let mut checked = 0;
    for s in every_configuration() {
        for steps in [1usize, 2, 3, 7, 12, 50, 100] {
            let sched = Schedule::uniform_vp(steps, 1e-3).unwrap();
            let (evals, noisy, n_slots) = by_definition(&s, steps);
            // DDPM refuses a grid whose rate h β(t) reaches 1 (few steps): the count errors as a run does.
            if matches!(s, Builtin::Ddpm(_)) && steps < 20 {
                assert!(matches!(score_evals(&s, &sched), Err(SolverError::DdpmRate { .. })), "{steps}");
                continue;
            }
            assert_eq!(score_evals(&s, &sched).unwrap(), evals, "{s:?}, {steps} steps");
            assert_eq!(is_stochastic(&s, &sched).unwrap(), noisy, "{s:?}, {steps} steps");
            assert_eq!(slots(&s), n_slots, "{s:?}");
            checked += 1;
        }
    }
    assert!(checked > 150, "{checked}");
}

#[test]
fn today_s_stochastic_table_holds_whenever_a_corrector_runs() {
    // The former hand-written rule: em, ei, ddpm, dpom, dpum and ddim with η > 0 draw noise.
    let sched = Schedule::uniform_vp(50, 1e-3).unwrap();
    for name in Builtin::NAMES {
        let s = Builtin::from_name(name).unwrap();
        let expected = matches!(
            name,
            "em" | "ei"
                | "ddpm"
                | "dpom"
                | "dpum"
                | "euler-a"
                | "edm-sde"
                | "dpm2-a"
                | "dpmpp2s-a"
                | "dpmpp-sde"
                | "dpmpp2m-sde"
                | "dpmpp3m-sde"
        );
        assert_eq!(is_stochastic(&s, &sched).unwrap(), expected, "{name}");
    }
}

#[test]
fn the_structs_and_the_enum_agree() {
    let sched = Schedule::uniform_vp(30, 1e-3).unwrap();
    fn check<S: Sampler<gmdiff_solvers::Count>>(s: S, b: Builtin, sched: &Schedule) {
        assert_eq!(s.name(), b.name());
        assert_eq!(Builtin::from_name(s.name()), Some(b));
        assert_eq!(score_evals(&s, sched).unwrap(), score_evals(&b, sched).unwrap());
    }
    check(EulerMaruyama, Builtin::EulerMaruyama(EulerMaruyama), &sched);
    check(ExponentialIntegrator, Builtin::ExponentialIntegrator(ExponentialIntegrator), &sched);
    check(Ddpm::default(), Builtin::Ddpm(Ddpm::default()), &sched);
    check(Ddim { eta: 0.0 }, Builtin::Ddim(Ddim { eta: 0.0 }), &sched);
    check(Euler, Builtin::Euler(Euler), &sched);
    check(Heun, Builtin::Heun(Heun), &sched);
    check(Rk4, Builtin::Rk4(Rk4), &sched);
    check(OdeExponential, Builtin::OdeExponential(OdeExponential), &sched);
    check(DpmSolver2M::default(), Builtin::DpmSolver2M(DpmSolver2M::default()), &sched);
    check(Dpom(Langevin::default()), Builtin::Dpom(Dpom(Langevin::default())), &sched);
    check(Dpum(Underdamped::default()), Builtin::Dpum(Dpum(Underdamped::default())), &sched);
    check(DpmSolver2SAncestral::default(), Builtin::DpmSolver2SAncestral(DpmSolver2SAncestral::default()), &sched);
    check(DpmSolverSde::default(), Builtin::DpmSolverSde(DpmSolverSde::default()), &sched);
    check(DpmSolver3M::default(), Builtin::DpmSolver3M(DpmSolver3M::default()), &sched);
    check(DpmSolver2MSde::default(), Builtin::DpmSolver2MSde(DpmSolver2MSde::default()), &sched);
    check(DpmSolver3MSde::default(), Builtin::DpmSolver3MSde(DpmSolver3MSde::default()), &sched);
    assert_eq!(
        Builtin::NAMES,
        [
            "em",
            "ei",
            "ddpm",
            "ddim",
            "euler",
            "heun",
            "rk4",
            "ode-ei",
            "dpmpp2m",
            "dpom",
            "dpum",
            "euler-a",
            "edm-heun",
            "edm-sde",
            "dpm2",
            "dpm2-a",
            "dpmpp2s-a",
            "dpmpp-sde",
            "dpmpp3m",
            "dpmpp2m-sde",
            "dpmpp3m-sde",
            "unipc",
            "deis",
            "lms",
            "dpmpp-single",
            "pndm"
        ]
    );
    assert_eq!(Builtin::from_name("ddpn"), None);
}

#[test]
fn only_the_samplers_written_on_grid_points_run_on_a_chain() {
    let chain = Schedule::Chain(DiscreteChain::ho_linear(100, 1e-4, 0.02).unwrap());
    for name in Builtin::NAMES {
        let s = Builtin::from_name(name).unwrap();
        let r = score_evals(&s, &chain);
        if matches!(
            name,
            "ddpm" | "ddim" | "dpmpp2m" | "euler-a" | "dpmpp3m" | "dpmpp2m-sde" | "dpmpp3m-sde" | "unipc" | "deis" | "lms" | "dpmpp-single"
        ) {
            assert_eq!(r.unwrap(), 100, "{name}");
        } else if name == "edm-heun" {
            // Two evaluations per step, one on the last step to the chain's b_0 = 0.
            assert_eq!(r.unwrap(), 199, "{name}");
        } else {
            assert!(matches!(r, Err(SolverError::Unsupported { .. })), "{name}: {r:?}");
        }
    }
}

#[test]
fn counts_on_flow_at_t_1_include_the_x0_predictions() {
    // At a_T = 0 the first evaluation is the x₀ prediction (the data mean), a model call like any
    // other: the counting algebra must count it (it used to refuse it with NoDenoiser, so
    // `score_evals` failed for Heun and RK4 on flow at T = 1), and agree with the law engine's own
    // count of the same run, for every sampler that runs there.
    use gmdiff_process::{Flow, Process, TimeGrid};
    use gmdiff_solvers::{LawStart, SpectralGaussian, output_law};
    let p = Process::Flow(Flow::default());
    let target = SpectralGaussian::new(vec![0.5, 2.0], Some(vec![1.0, -1.0])).unwrap();
    let mut ran = 0;
    for steps in [1, 2, 5, 10] {
        let sched = Schedule::grid(p, TimeGrid::uniform(&p, steps, 0.0).unwrap());
        for s in every_configuration() {
            match output_law(&s, &sched, &target, LawStart::Standard, |_, _| Ok(())) {
                Ok(out) => {
                    assert_eq!(score_evals(&s, &sched).unwrap(), out.score_evals, "{s:?}, {steps} steps");
                    ran += 1;
                }
                Err(e) => assert!(matches!(e, SolverError::Unsupported { .. }), "{s:?}: {e}"),
            }
        }
    }
    assert!(ran >= 4 * 5, "the ODE samplers run on flow at T = 1 ({ran} runs)");
}
