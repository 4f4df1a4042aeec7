//! The costs derived from the step code (`score_evals`, `is_stochastic`, `slots`, run on the
//! counting algebra) against the numbers that follow from each sampler's definition (its docs,
//! `docs/solvers.md`): S steps of one evaluation, Heun 2 per step, RK4 4 per step, DPOM one
//! predictor evaluation per step plus `iterations` per correction, DPUM plus `2 · iterations`, where a
//! correction follows every `every`-th step except the last, i.e. `⌊(S − 1)/every⌋` corrections.

use gmdiff_process::DiscreteChain;
use gmdiff_solvers::{
    Builtin, Ddim, Ddpm, DpmSolver2M, Dpom, Dpum, Euler, EulerMaruyama, ExponentialIntegrator, Heun, Langevin, OdeExponential, Rk4,
    Sampler, Schedule, SolverError, Underdamped, is_stochastic, score_evals, slots,
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
        Builtin::Dpom(Dpom(c)) => {
            let k = c.iterations * corrections(c.every);
            (steps + k, k > 0, 1)
        }
        // The velocity is drawn from N(0, I) at the start, so DPUM always draws noise.
        Builtin::Dpum(Dpum(c)) => (steps + 2 * c.iterations * corrections(c.every), true, 2),
        // UniC reuses the next step's evaluation: the position, `order − 1` data predictions and,
        // with the corrector, the known part of the next correction.
        Builtin::UniPc(u) => (steps, false, 1 + usize::from(u.use_corrector) + u.order - 1),
        Builtin::Deis(d) => (steps, false, d.order),
        Builtin::Lms(l) => (steps, false, l.order),
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
        let expected = matches!(name, "em" | "ei" | "ddpm" | "dpom" | "dpum");
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
    check(Ddpm, Builtin::Ddpm(Ddpm), &sched);
    check(Ddim { eta: 0.0 }, Builtin::Ddim(Ddim { eta: 0.0 }), &sched);
    check(Euler, Builtin::Euler(Euler), &sched);
    check(Heun, Builtin::Heun(Heun), &sched);
    check(Rk4, Builtin::Rk4(Rk4), &sched);
    check(OdeExponential, Builtin::OdeExponential(OdeExponential), &sched);
    check(DpmSolver2M, Builtin::DpmSolver2M(DpmSolver2M), &sched);
    check(Dpom(Langevin::default()), Builtin::Dpom(Dpom(Langevin::default())), &sched);
    check(Dpum(Underdamped::default()), Builtin::Dpum(Dpum(Underdamped::default())), &sched);
    assert_eq!(
        Builtin::NAMES,
        ["em", "ei", "ddpm", "ddim", "euler", "heun", "rk4", "ode-ei", "dpmpp2m", "dpom", "dpum", "unipc", "deis", "lms"]
    );
    assert_eq!(Builtin::from_name("ddpn"), None);
}

#[test]
fn only_ddpm_ddim_and_the_multistep_samplers_run_on_a_chain() {
    let chain = Schedule::Chain(DiscreteChain::ho_linear(100, 1e-4, 0.02).unwrap());
    for name in Builtin::NAMES {
        let s = Builtin::from_name(name).unwrap();
        let r = score_evals(&s, &chain);
        if matches!(name, "ddpm" | "ddim" | "dpmpp2m" | "unipc" | "deis" | "lms") {
            assert_eq!(r.unwrap(), 100, "{name}");
        } else {
            assert!(matches!(r, Err(SolverError::Unsupported { .. })), "{name}: {r:?}");
        }
    }
}
