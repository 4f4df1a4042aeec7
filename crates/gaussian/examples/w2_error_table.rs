//! Exact Wasserstein errors of the samplers on Gaussian data, as a table of error against steps.
//!
//! Data `N(0, Σ)` are given by the eigenvalues of `Σ` (here a small spectrum with a zero eigenvalue,
//! `d = 10`). For a sampler started from `N(0, I)` on the VP linear process, uniform grid from
//! `T = 1` to `ε = 10⁻³`, the output is exactly Gaussian and diagonal in the same basis, so
//! `W2(output, p_0)² = Σ_i (sqrt(v_i) − sqrt(λ_i))²` is exact (no sampling) — Pierret–Galerne's
//! setting. The example prints
//!
//! 1. W2 for each scheme against the number of steps (DDPM refuses grids where its rate
//!    `β_k = h β(t_k)` reaches 1);
//! 2. the step-free limits: the exact reverse SDE and flow ODE from `N(0, I)` read at `ε`, the
//!    truncation `W2(p_ε, p_0)` and the initialisation gap `W2(N(0, I), p_T)`;
//! 3. the discretisation part of the error (scheme from the exact `p_T` against `p_ε`) at 1000 and
//!    2000 steps, and the observed order `log₂(e₁₀₀₀ / e₂₀₀₀)`: 1 for the Euler-type schemes, 2 for
//!    Heun and DPM-Solver++(2M), about 4 for RK4. The orders only show once `h` is small against
//!    the stiffness `~ β(ε)/σ_ε²` of the score near `ε` (a zero eigenvalue gives `σ_ε² ≈ 10⁻⁴`); at
//!    100 steps they are still blurred.
//!
//! Run: `cargo run --release -p gmdiff-gaussian --example w2_error_table`
use gmdiff_gaussian::{Dynamics, GaussianError, Init, SpectralProblem, SpectralScore};
use gmdiff_process::Process;
use gmdiff_solvers::{Builtin, Schedule, SolverError};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let spectrum = vec![0.0, 1e-3, 0.01, 0.05, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0];
    let p = SpectralProblem::centred(spectrum.clone())?;
    let process = Process::default();
    let eps = 1e-3;
    let schemes = ["em", "ei", "ddpm", "ddim", "euler", "heun", "rk4", "dpmpp2m"];
    let step_counts = [10, 25, 50, 100, 250, 500, 1000];
    println!("spectrum {spectrum:?} (d = {}), VP linear, ε = {eps}, start N(0, I)\n", p.dim());

    println!("1. W2(output, p_0)");
    print!("{:<8}", "steps");
    for s in schemes {
        print!(" {s:>10}");
    }
    println!();
    for steps in step_counts {
        let sched = Schedule::uniform_vp(steps, eps)?;
        print!("{steps:<8}");
        for s in schemes {
            let sampler = Builtin::from_name(s).ok_or("unknown sampler")?;
            match p.scheme(&sampler, &sched, Init::Standard, &SpectralScore::Exact, false) {
                Ok(r) => print!(" {:>10.6}", r.w2),
                // DDPM's rate β_k = h β(t_k) must stay below 1: coarse uniform grids are refused.
                Err(GaussianError::Solver(SolverError::DdpmRate { .. })) => print!(" {:>10}", "β_k ≥ 1"),
                Err(e) => return Err(e.into()),
            }
        }
        println!();
    }

    println!("\n2. Limits as steps → ∞");
    let sde = p.continuous(Dynamics::Sde, &process, eps, Init::Standard, None)?.w2;
    let ode = p.continuous(Dynamics::Ode, &process, eps, Init::Standard, None)?.w2;
    println!("   reverse SDE (em, ei, ddpm): {sde:.6}");
    println!("   flow ODE (ddim, euler, heun, rk4, dpmpp2m): {ode:.6}");
    let (truncation, init_gap) = (p.truncation(&process, eps)?, p.init_gap(&process)?);
    println!("   truncation W2(p_ε, p_0) = {truncation:.6}, initialisation W2(N(0, I), p_T) = {init_gap:.3e}");
    // Independent closed forms, by hand for VP linear (β_min = 0.1, β_max = 20):
    // B(t) = 0.1 t + 9.95 t², a_t² = exp(−B(t)), p_t = N(0, diag(a_t² λ_i + 1 − a_t²)), and between
    // commuting centred Gaussians W2² = Σ_i (sqrt(v_i) − sqrt(u_i))². Only rounding separates them.
    let a2 = |t: f64| (-(0.1 * t + 9.95 * t * t)).exp();
    let w2_diag =
        |u: &dyn Fn(f64) -> f64, v: &dyn Fn(f64) -> f64| spectrum.iter().map(|&l| (u(l).sqrt() - v(l).sqrt()).powi(2)).sum::<f64>().sqrt();
    let by_hand_trunc = w2_diag(&|l| a2(eps) * l + 1.0 - a2(eps), &|l| l);
    let by_hand_init = w2_diag(&|_| 1.0, &|l| a2(1.0) * l + 1.0 - a2(1.0));
    assert!((truncation - by_hand_trunc).abs() < 1e-12, "truncation {truncation} vs closed form {by_hand_trunc}");
    assert!((init_gap - by_hand_init).abs() < 1e-12 * (1.0 + by_hand_init), "init gap {init_gap:e} vs closed form {by_hand_init:e}");

    println!("\n3. Discretisation error (from the exact p_T, against p_ε) and observed order");
    println!("{:<8} {:>12} {:>12} {:>7}", "scheme", "1000 steps", "2000 steps", "order");
    for s in schemes {
        let sampler = Builtin::from_name(s).ok_or("unknown sampler")?;
        let e = |steps| p.decompose(&sampler, &process, steps, eps, Init::Standard, &SpectralScore::Exact).map(|d| d.discretization);
        let (e1, e2) = (e(1000)?, e(2000)?);
        let order = (e1 / e2).log2();
        println!("{s:<8} {e1:>12.3e} {e2:>12.3e} {order:>7.2}");
        // The theoretical orders of the schemes (module doc): 1 for the Euler-type schemes, 2 for
        // Heun and DPM-Solver++(2M), 4 for RK4. At 1000/2000 steps the error is in its asymptotic
        // regime, so the observed order is within ±TOL of it (higher-order terms shift it by O(h)).
        let (expected, tol) = match s {
            "heun" | "dpmpp2m" => (2.0, 0.15),
            "rk4" => (4.0, 0.5),
            _ => (1.0, 0.15),
        };
        assert!((order - expected).abs() < tol, "{s}: observed order {order:.3}, expected {expected} ± {tol}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn example_runs_and_its_checks_hold() {
        super::main().unwrap();
    }
}
