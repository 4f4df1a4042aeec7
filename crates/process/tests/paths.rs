//! The built-in Gaussian paths against references written from each path's definition.
//!
//! For every path (vp, vp-cosine, ou, sub-vp, ve, edm, flow) a [`Reference`] gives `a_t` and
//! `b_t²` from the paper's formula, never from gmdiff's code:
//!
//! | path | reference |
//! |---|---|
//! | vp | `β(t) = β_min + t (β_max − β_min)/T`; `B = ∫₀ᵗ β` by adaptive Gauss–Legendre quadrature; `a = e^{−B/2}`, `b² = 1 − e^{−B}` |
//! | vp-cosine | Nichol–Dhariwal `ᾱ(t) = h(t)/h(0)`, `h(t) = cos²(π/2 (t/T + s)/(1 + s))`; `a² = ᾱ`, `b² = 1 − ᾱ` |
//! | ou | `a = e^{−t}`, `b² = 1 − e^{−2t}` |
//! | sub-vp | as vp, but `b = 1 − e^{−B}` (Song et al. 2021, App. B) |
//! | ve | `a = 1`, `b² = σ_min² ((σ_max/σ_min)^{2t} − 1)` (Song et al. 2021, App. B, eq. 29) |
//! | edm | `a = 1`, `b = t` (Karras et al. 2022, Table 1) |
//! | flow | `a = 1 − t`, `b = t` (Lipman et al. 2023; Liu et al. 2023) |
//!
//! The derivatives are checked against 5-point central finite differences of these references, the
//! SDE coefficients against `f = (da/dt)/a` and `g² = d(b²)/dt − 2 f b²` of the references, and `g²`
//! once more through the marginal-variance ODE `dV/dt = 2 f V + g²`, `V(0) = 0`, integrated by RK4:
//! its solution must be the reference `b_t²`.

use crate::common;

use common::quadrature;
use gmdiff_process::*;
use proptest::prelude::*;
use std::f64::consts::FRAC_PI_2;

/// A path and its reference `a_t`, `b_t²` from the definition.
struct Reference {
    name: &'static str,
    path: Process,
    /// `a_t` from the definition.
    a: Box<dyn Fn(f64) -> f64>,
    /// `b_t²` from the definition.
    b2: Box<dyn Fn(f64) -> f64>,
    /// `β(t)` of the SDE `dx = −½ β x dt + sqrt(β) dw`, for the VP paths only.
    vp_beta: Option<Box<dyn Fn(f64) -> f64>>,
}

/// `∫₀ᵗ β` for the linear rate `β(s) = β_min + s (β_max − β_min)/T`, by quadrature.
fn linear_integral(beta_min: f64, beta_max: f64, horizon: f64) -> impl Fn(f64) -> f64 + Clone {
    move |t| quadrature(|s| beta_min + s * (beta_max - beta_min) / horizon, t)
}

/// The reference of path `which` (0..7, in the order of [`Process::NAMES`]) with parameters drawn
/// from `u ∈ [0, 1]³`.
fn reference(which: usize, u: [f64; 3]) -> Reference {
    match which {
        0 | 3 => {
            let beta_min = 0.01 + 0.99 * u[0];
            let beta_max = beta_min + 1.0 + 29.0 * u[1];
            let horizon = 0.5 + 1.5 * u[2];
            let vp = VpLinear::new(beta_min, beta_max, horizon).unwrap();
            let big_b = linear_integral(beta_min, beta_max, horizon);
            let beta = move |t: f64| beta_min + t * (beta_max - beta_min) / horizon;
            let b_a = big_b.clone();
            if which == 0 {
                Reference {
                    name: "vp",
                    path: Process::Vp(vp),
                    a: Box::new(move |t| (-0.5 * b_a(t)).exp()),
                    b2: Box::new(move |t| -(-big_b(t)).exp_m1()),
                    vp_beta: Some(Box::new(beta)),
                }
            } else {
                Reference {
                    name: "sub-vp",
                    path: Process::SubVp(SubVp::new(vp)),
                    a: Box::new(move |t| (-0.5 * b_a(t)).exp()),
                    b2: Box::new(move |t| (-big_b(t)).exp_m1().powi(2)),
                    vp_beta: None,
                }
            }
        }
        1 => {
            let s = 0.001 + 0.019 * u[0];
            let scale = 0.5 + 1.5 * u[1];
            let t_max = scale * (0.9 + 0.0946 * u[2]);
            let h = move |t: f64| (FRAC_PI_2 * (t / scale + s) / (1.0 + s)).cos().powi(2);
            // β = −d log ᾱ/dt = π/(T(1+s)) tan(π/2 (t/T + s)/(1 + s)) (Nichol–Dhariwal's ᾱ differentiated by hand).
            let beta = move |t: f64| std::f64::consts::PI / (scale * (1.0 + s)) * (FRAC_PI_2 * (t / scale + s) / (1.0 + s)).tan();
            Reference {
                name: "vp-cosine",
                path: Process::VpCosine(VpCosine::new(s, scale, t_max).unwrap()),
                a: Box::new(move |t| (h(t) / h(0.0)).sqrt()),
                // 1 − cos²θ/cos²θ₀ = sin(θ − θ₀) sin(θ + θ₀)/cos²θ₀ (cos²A − cos²B = sin(B − A) sin(B + A)),
                // with θ − θ₀ = π/2 (t/T)/(1 + s) formed directly: `1 − h(t)/h(0)` cancels at small t
                // (relative error ~ε/b², 6e-11 at b² = 2e-6).
                b2: Box::new(move |t| {
                    let theta0 = FRAC_PI_2 * s / (1.0 + s);
                    let diff = FRAC_PI_2 * (t / scale) / (1.0 + s);
                    diff.sin() * (2.0 * theta0 + diff).sin() / theta0.cos().powi(2)
                }),
                vp_beta: Some(Box::new(beta)),
            }
        }
        2 => Reference {
            name: "ou",
            path: Process::Ou(Ou::new(0.5 + 4.5 * u[0]).unwrap()),
            a: Box::new(|t| (-t).exp()),
            b2: Box::new(|t| -(-2.0 * t).exp_m1()),
            vp_beta: Some(Box::new(|_| 2.0)),
        },
        4 => {
            let sigma_min = 1e-3 * 100f64.powf(u[0]);
            let sigma_max = 100f64.powf(u[1]).max(2.0 * sigma_min);
            Reference {
                name: "ve",
                path: Process::Ve(Ve::new(sigma_min, sigma_max).unwrap()),
                a: Box::new(|_| 1.0),
                b2: Box::new(move |t| sigma_min * sigma_min * ((sigma_max / sigma_min).powf(2.0 * t) - 1.0)),
                vp_beta: None,
            }
        }
        5 => Reference {
            name: "edm",
            path: Process::Edm(Edm::new(1.0 + 99.0 * u[0]).unwrap()),
            a: Box::new(|_| 1.0),
            b2: Box::new(|t| t * t),
            vp_beta: None,
        },
        6 => Reference {
            name: "flow",
            path: Process::Flow(Flow::new(0.5 + 0.5 * u[0]).unwrap()),
            a: Box::new(|t| 1.0 - t),
            b2: Box::new(|t| t * t),
            vp_beta: None,
        },
        _ => unreachable!(),
    }
}

/// The 5-point central difference `(f(t−2h) − 8f(t−h) + 8f(t+h) − f(t+2h)) / 12h`: truncation error
/// `h⁴ f⁽⁵⁾/30`, rounding error about `1.5 ε max|f| / h`.
fn derivative(f: impl Fn(f64) -> f64, t: f64, h: f64) -> f64 {
    (f(t - 2.0 * h) - 8.0 * f(t - h) + 8.0 * f(t + h) - f(t + 2.0 * h)) / (12.0 * h)
}

/// `|x − y| ≤ tol · scale`, with a message naming the path.
fn close(name: &str, what: &str, t: f64, x: f64, y: f64, tol: f64, scale: f64) -> Result<(), TestCaseError> {
    prop_assert!(
        (x - y).abs() <= tol * scale,
        "{name}, {what} at t = {t}: {x} vs reference {y} (|Δ| = {:.2e} > {:.2e})",
        (x - y).abs(),
        tol * scale
    );
    Ok(())
}

const PATHS: usize = 7;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// `a`, `b`, `λ = log(a/b)` and `c² = a² + b²` equal the definition.
    ///
    /// Bound `1e-12` relative: the quadrature of `B` is accurate to `1e-14 max(B, 1)` and `B ≤ 60`
    /// here, which moves `a = e^{−B/2}` by at most `3e-13` relatively; the closed forms are a few
    /// roundings. For VE the reference `(σ_max/σ_min)^{2t} − 1` cancels at small `t`, so `b²` is
    /// compared relative to `σ(t)² = σ_min² (σ_max/σ_min)^{2t}`.
    #[test]
    fn coefficients_equal_the_definition(which in 0..PATHS, u in prop::array::uniform3(0.0f64..=1.0), frac in 0.0f64..=1.0) {
        let r = reference(which, u);
        let t = frac * r.path.horizon();
        let c = r.path.at(t).unwrap();
        let (a, b2) = ((r.a)(t), (r.b2)(t));
        let b = b2.sqrt();
        prop_assert_eq!(c.t, t);
        close(r.name, "a", t, c.a, a, 1e-12, a)?;
        let b2_scale = if r.name == "ve" { ve_sigma_sq(&r.path, t) } else { b2 };
        close(r.name, "b²", t, c.b * c.b, b2, 1e-12, b2_scale)?;
        close(r.name, "c² = a² + b²", t, c.c2, a * a + b2, 1e-12, a * a + b2)?;
        if b > 0.0 && a > 0.0 {
            // λ = log a − log b: an absolute error of the relative errors of a and b.
            let lambda = a.ln() - 0.5 * b2.ln();
            close(r.name, "λ", t, c.lambda, lambda, 1e-12, 1.0 + if r.name == "ve" { ve_sigma_sq(&r.path, t) / b2 } else { 0.0 })?;
            close(r.name, "log a", t, c.log_a, a.ln(), 1e-12, 1.0)?;
            close(r.name, "σ = b/a", t, c.sigma(), b / a, 1e-12, b / a * (1.0 + if r.name == "ve" { ve_sigma_sq(&r.path, t) / b2 } else { 0.0 }))?;
        }
    }

    /// `da`, `db`, `f = (da/dt)/a` and `g² = d(b²)/dt − 2 f b²` agree with 5-point central finite
    /// differences of the reference `a`, `b` (`h = 10⁻⁴ T`, `t ∈ [0.05 T, T]`, away from the `sqrt(t)`
    /// behaviour of `b` at 0).
    ///
    /// Bound `1e-8` relative to `|exact| + |value|/T`: truncation `h⁴ f⁽⁵⁾/30` is below `1e-10` of
    /// the scale for the steepest case (VE with `2 log(σ_max/σ_min) ≈ 23`, `(23 · 10⁻⁴)⁴ ≈ 3e-11`),
    /// the rounding `1.5 ε/h ≈ 3e-12`, the quadrature noise `1e-14/h ≈ 1e-10`.
    #[test]
    fn derivatives_match_finite_differences(which in 0..PATHS, u in prop::array::uniform3(0.0f64..=1.0), frac in 0.05f64..=1.0) {
        let r = reference(which, u);
        let horizon = r.path.horizon();
        let h = 1e-4 * horizon;
        let t = frac * horizon;
        // The flow path has a = 0 at t = 1; its f and g² are checked at t ≤ 1 − 10⁻³ (and at 1 below).
        let t = if r.name == "flow" { t.min(1.0 - 1e-3) } else { t };
        let c = r.path.at(t).unwrap();
        let (a, b2) = ((r.a)(t), (r.b2)(t));
        let b = b2.sqrt();
        let da = derivative(&r.a, t, h);
        let db = derivative(|s| (r.b2)(s).sqrt(), t, h);
        let db2 = derivative(&r.b2, t, h);
        let tol = 1e-8;
        close(r.name, "da/dt", t, c.da, da, tol, da.abs() + a / horizon)?;
        close(r.name, "db/dt", t, c.db, db, tol, db.abs() + b / horizon)?;
        let f = da / a;
        close(r.name, "f = d log a/dt", t, c.f, f, tol, f.abs() + 1.0 / horizon)?;
        let g2 = db2 - 2.0 * f * b2;
        close(r.name, "g² = d(b²)/dt − 2 f b²", t, c.g2, g2, tol, db2.abs() + (2.0 * f * b2).abs() + b2 / horizon)?;
        if let Some(beta) = &r.vp_beta {
            // The VP SDE dx = −½β x dt + sqrt(β) dw: f = −β/2, g² = β, and its second-moment ODE
            // d(b²)/dt = 2 f b² + g² = β (1 − b²) holds for the reference b.
            let beta = beta(t);
            close(r.name, "f = −β/2", t, c.f, -0.5 * beta, 1e-13, beta)?;
            close(r.name, "g² = β", t, c.g2, beta, 1e-13, beta)?;
            close(r.name, "d(b²)/dt = 2 f b² + g²", t, db2, beta * (1.0 - b2), tol, beta + b2 / horizon)?;
        }
    }

    /// The marginal-variance ODE of the forward SDE `dx = f x dt + g dw` started at a point,
    /// `dV/dt = 2 f V + g²`, `V(0) = 0`, integrated by classical RK4 (4000 steps) with the path's own
    /// `f` and `g²`, ends at the reference `b_t²`: an independent route for `g²` (an error in `g²`
    /// or `f` changes `V`). RK4's global error here is below `(h · max|2f| + h · max|g²'/g²|)⁴`,
    /// `≲ 1e-11`; bound `1e-9` relative.
    #[test]
    fn marginal_variance_ode_reaches_b_squared(which in 0..PATHS, u in prop::array::uniform3(0.0f64..=1.0), frac in 0.05f64..=1.0) {
        let r = reference(which, u);
        let end = frac * r.path.horizon();
        // Flow: f = −1/(1 − t) is singular at 1; stop at 0.99.
        let end = if r.name == "flow" { end.min(0.99) } else { end };
        let n = 4000;
        let h = end / n as f64;
        let rhs = |t: f64, v: f64| {
            let c = r.path.eval(t);
            2.0 * c.f * v + c.g2
        };
        let mut v = 0.0;
        for k in 0..n {
            let t = k as f64 * h;
            let k1 = rhs(t, v);
            let k2 = rhs(t + 0.5 * h, v + 0.5 * h * k1);
            let k3 = rhs(t + 0.5 * h, v + 0.5 * h * k2);
            let k4 = rhs(t + h, v + h * k3);
            v += h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
        }
        let b2 = (r.b2)(end);
        close(r.name, "V(t) from dV/dt = 2fV + g²", end, v, b2, 1e-9, b2)?;
    }

    /// `time_of_lambda(λ(t)) = t` and `time_of_sigma(σ(t)) = t`.
    ///
    /// Bound `1e-12` relative to `t` for every path (the cosine inverse solves for `θ − θ₀`
    /// without cancellation; the former `acos` route erred by up to `~1/θ₀²` ulps at small `t`).
    #[test]
    fn inverses_round_trip(which in 0..PATHS, u in prop::array::uniform3(0.0f64..=1.0), frac in 1e-6f64..=1.0) {
        let r = reference(which, u);
        let horizon = r.path.horizon();
        let t = frac * horizon;
        let t = if r.name == "flow" { t.min(1.0 - 1e-9) } else { t };
        let c = r.path.at(t).unwrap();
        let back_l = r.path.time_of_lambda(c.lambda);
        let back_s = r.path.time_of_sigma(c.sigma());
        let bound = 1e-12 * t;
        prop_assert!((back_l - t).abs() <= bound, "{}: time_of_lambda(λ({t})) = {back_l}, |Δ| = {:.2e}", r.name, (back_l - t).abs());
        prop_assert!((back_s - t).abs() <= bound, "{}: time_of_sigma(σ({t})) = {back_s}, |Δ| = {:.2e}", r.name, (back_s - t).abs());
        // sigma_at is b/a.
        prop_assert!((r.path.sigma_at(t) - c.b / c.a).abs() <= 1e-13 * c.b / c.a, "{}: sigma_at", r.name);
    }
}

/// `σ(t)² = σ_min² (σ_max/σ_min)^{2t}` of a VE path, the scale of its `b²` before the `− σ_min²`.
fn ve_sigma_sq(p: &Process, t: f64) -> f64 {
    match p {
        Process::Ve(ve) => ve.sigma_min().powi(2) * (ve.sigma_max() / ve.sigma_min()).powf(2.0 * t),
        _ => 0.0,
    }
}

/// Flow at `t = 1`: `a = 0`, `b = 1`, `f = −∞`, `g² = +∞`, `λ = −∞`, but `da = −1`, `db = 1` finite
/// (Lipman et al.: `a = 1 − t`, `b = t`).
#[test]
fn flow_at_one_has_a_zero_and_finite_velocity_coefficients() {
    let c = Flow::default().at(1.0).unwrap();
    assert_eq!((c.a, c.b, c.da, c.db), (0.0, 1.0, -1.0, 1.0));
    assert_eq!(c.f, f64::NEG_INFINITY);
    assert_eq!(c.g2, f64::INFINITY);
    assert_eq!(c.lambda, f64::NEG_INFINITY);
    assert_eq!(c.log_a, f64::NEG_INFINITY);
    assert_eq!(c.c2, 1.0);
    assert_eq!(c.sigma(), f64::INFINITY);
    // The inverses map the endpoints back.
    let flow = Flow::default();
    assert_eq!(flow.time_of_lambda(f64::NEG_INFINITY), 1.0);
    assert_eq!(flow.time_of_sigma(f64::INFINITY), 1.0);
}

/// At `t = 0` every path is the data: `a = 1`, `b = 0` (`λ = +∞`).
#[test]
fn every_path_starts_at_the_data() {
    for which in 0..PATHS {
        let r = reference(which, [0.5; 3]);
        let c = r.path.at(0.0).unwrap();
        assert_eq!((c.a, c.b), (1.0, 0.0), "{}", r.name);
        assert_eq!(c.lambda, f64::INFINITY, "{}", r.name);
        assert_eq!(r.path.time_of_lambda(f64::INFINITY), 0.0, "{}", r.name);
    }
}
