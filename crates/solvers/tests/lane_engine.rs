//! The lane-wise exact-law engine (`LaneEngine`, what `output_law` runs for `Diag` coefficients)
//! against two other routes:
//!
//! 1. `LawEngine` (`law.rs`): a separate implementation of the same collapse, one coefficient
//!    vector per affine term and operation. For a sampler that draws noise, the lane engine does
//!    each lane's arithmetic in the same order, so the joint law of all state slots (means,
//!    variances, cross-covariances) must be the same **bit for bit** at every grid point; a
//!    noise-free run is kept in factored form (`Y_b = m_b + g_b Z`), different arithmetic for the
//!    same law, so it must agree to `FACTORED_TOLERANCE` (1e-12 of the largest magnitude the run's
//!    law has carried). Checked for
//!    every built-in sampler (stochastic, multistep, predictor–corrector, two slots), non-default
//!    parameters, five paths and a chain, three starts, and scores with a constant, a scalar matrix
//!    (an isotropic target) or a perturbation; and both engines must fail the same way where a run
//!    fails.
//! 2. The dense engine (`Dense` `d × d` matrices through faer products, and the dense score
//!    `−(a² Σ + b² I)⁻¹` from a factorisation instead of `−1/(a² λ + b²)`), on the same data written
//!    as a dense Gaussian with a diagonal covariance: a route with different arithmetic, so the
//!    agreement is to rounding, 1e-12 relative to the law's scale (see `dense_route_agrees`).
//! 3. Reproducibility: with enough lanes for the blocks to run in parallel, the law is the same bit
//!    for bit on 1 and on 4 threads, and each lane's law is that of the lane run alone.

use gmdiff_process::{Coefficients, DiscreteChain, Edm, Flow, Process, TimeGrid, Ve, VpLinear};
use gmdiff_solvers::{
    AffinePerturbation, Algebra, Builtin, Ddim, Dense, DenseGaussian, Diag, Dpom, Dpum, GaussLaw, Langevin, LawEngine, LawSampler,
    LawStart, LinearScore, Marginal, Op, PerturbedPrecision, Sampler, SamplerInfo, ScaledScore, Schedule, SolverError, SpectralGaussian,
    StepInfo, Underdamped, output_law, run,
};

/// Eigenvalues with a zero, a tiny and a large one, then 14 more in (0, 3) (21 lanes: two full
/// 8-lane steps of the replay kernels and a tail); a mean with a zero coordinate.
fn spectrum() -> Vec<f64> {
    let mut v = vec![0.0, 1e-4, 0.05, 0.3, 1.0, 2.5, 40.0];
    v.extend((1..15).map(|i| 3.0 * ((i * 37) % 29) as f64 / 29.0));
    v
}
fn mean() -> Vec<f64> {
    let mut m = vec![0.3, -1.0, 2.0, 0.0, 0.5, -0.2, 1.5];
    m.extend((1..15).map(|i| ((i * 53) % 17) as f64 / 8.0 - 1.0));
    m
}

/// A synthetic sampler with the shapes of the multistep and SDE samplers (issue 13): four slots
/// (position, two data predictions of earlier steps, a velocity), two noises per step, a score at
/// the step's midpoint (off the grid's end points), a history shift (`D₂ ← D₁`, an unchanged
/// block) and a slot left as it is on odd steps. Not a method of the literature: only the law
/// engines' bookkeeping is under test.
#[derive(Debug, Clone, Copy)]
struct Shapes;

impl SamplerInfo for Shapes {
    fn name(&self) -> &'static str {
        "shapes"
    }
    fn validate(&self, schedule: &Schedule) -> Result<(), SolverError> {
        if schedule.point(0)?.a > 0.0 { Ok(()) } else { Err(SolverError::Unsupported { sampler: "shapes", schedule: "a_T = 0" }) }
    }
}

impl<A: Algebra + ?Sized> Sampler<A> for Shapes {
    fn init(&self, alg: &mut A, x: A::Value) -> Vec<A::Value> {
        let v = alg.noise();
        vec![x.clone(), x.clone(), x, v]
    }
    fn step(&self, alg: &mut A, info: &StepInfo, mut st: Vec<A::Value>) -> Result<Vec<A::Value>, SolverError> {
        let (t, s) = (&info.from, &info.to);
        let d = alg.denoise(t, &st[0])?;
        let r = s.b / t.b;
        let x = alg.lin(&[(r, &st[0]), (0.6 * (s.a - r * t.a), &d), (0.3 * (s.a - r * t.a), &st[1]), (0.1 * (s.a - r * t.a), &st[2])]);
        let (xi1, xi2) = (alg.noise(), alg.noise());
        let x = alg.lin(&[(1.0, &x), (0.05 * s.b, &xi1), (-0.02 * s.b, &xi2)]);
        let mid = info.mid.unwrap_or(*s);
        let sm = alg.score(&mid, &x)?;
        st[2] = st[1].clone();
        st[1] = d;
        if info.index.is_multiple_of(2) {
            st[3] = alg.lin(&[(0.9, &st[3]), (0.01, &sm), (0.2, &xi2)]);
        }
        st[0] = alg.lin(&[(1.0, &x), (1e-3 * s.b * s.b, &sm)]);
        Ok(st)
    }
}

/// The built-ins with their defaults, and non-default parameters (η, corrector settings).
fn samplers() -> Vec<Builtin> {
    let mut s: Vec<Builtin> = Builtin::NAMES.iter().map(|n| Builtin::from_name(n).unwrap()).collect();
    s.push(Ddim { eta: 0.5 }.into());
    s.push(Ddim { eta: 1.0 }.into());
    s.push(Dpom(Langevin { every: 2, iterations: 3, step_scale: 0.1 }).into());
    s.push(Dpum(Underdamped { every: 3, iterations: 2, step_scale: 0.3, friction: 1.5 }).into());
    s
}

fn schedules() -> Vec<(&'static str, Schedule)> {
    let grid = |p: Process, g: TimeGrid| Schedule::grid(p, g);
    let vp = Process::Vp(VpLinear::default());
    let edm = Process::Edm(Edm::default());
    let ve = Process::Ve(Ve::default());
    let flow = Process::Flow(Flow::default());
    let flow9 = Process::Flow(Flow::new(0.9).unwrap());
    vec![
        ("vp uniform", grid(vp, TimeGrid::uniform(&vp, 23, 1e-3).unwrap())),
        ("vp to t = 0", grid(vp, TimeGrid::uniform(&vp, 11, 0.0).unwrap())),
        ("edm karras", grid(edm, TimeGrid::karras(&edm, 17, 0.002, 7.0).unwrap())),
        ("edm karras to σ = 0", grid(edm, TimeGrid::karras(&edm, 9, 0.002, 7.0).unwrap().with_final_zero())),
        ("ve uniform", grid(ve, TimeGrid::uniform(&ve, 19, 1e-3).unwrap())),
        ("flow from t = 1", grid(flow, TimeGrid::uniform(&flow, 13, 1e-3).unwrap())),
        ("flow from t = 0.9", grid(flow9, TimeGrid::uniform(&flow9, 13, 1e-3).unwrap())),
        ("chain", Schedule::Chain(DiscreteChain::li_yan(31, 2.0, 4.0).unwrap())),
    ]
}

/// An isotropic target `N(m, v I)` whose score matrix is a scalar (`Op::Scalar`), to exercise the
/// scalar folds.
struct Isotropic {
    var: f64,
    mean: Vec<f64>,
}

impl LinearScore<Diag> for Isotropic {
    fn dim(&self) -> usize {
        self.mean.len()
    }
    fn affine(&self, at: &Coefficients) -> Result<(Op<Diag>, Option<Vec<f64>>), SolverError> {
        let l = -1.0 / (at.a * at.a * self.var + at.b * at.b);
        Ok((Op::Scalar(l), Some(self.mean.iter().map(|m| -at.a * m * l).collect())))
    }
    fn marginal(&self, at: &Coefficients) -> Marginal<Diag> {
        Marginal { mean: Some(self.mean.iter().map(|m| at.a * m).collect()), cov: Op::Scalar(at.a * at.a * self.var + at.b * at.b) }
    }
    fn data_mean(&self) -> Option<Option<Vec<f64>>> {
        Some(Some(self.mean.clone()))
    }
}

fn start_law<T: LinearScore<Diag> + ?Sized>(start: &LawStart<Diag>, sched: &Schedule, target: &T) -> Result<Marginal<Diag>, SolverError> {
    Ok(match start {
        LawStart::Standard => Marginal { mean: None, cov: Op::Scalar(sched.start_std().powi(2)) },
        LawStart::Exact => target.marginal(&sched.point(0)?),
        LawStart::Law(m) => m.clone(),
    })
}

/// The joint law at every grid point through `output_law` (the lane engine) and through `LawEngine`.
type Trace = Result<(Vec<GaussLaw<Diag>>, usize), String>;

fn both<T: LinearScore<Diag> + ?Sized, S: LawSampler<Diag> + for<'a> Sampler<LawEngine<'a, Diag, T>> + ?Sized>(
    s: &S,
    sched: &Schedule,
    target: &T,
    start: &LawStart<Diag>,
) -> (Trace, Trace) {
    let mut lanes = Vec::new();
    let a = output_law(s, sched, target, start.clone(), |_, l| {
        lanes.push(l.joint().into_owned());
        Ok(())
    })
    .map(|o| (lanes, o.score_evals))
    .map_err(|e| format!("{e:?}"));
    let mut affine = Vec::new();
    let b = start_law(start, sched, target).map_err(|e| format!("{e:?}")).and_then(|m| {
        let mut engine = LawEngine::new(target, m);
        run(s, sched, &mut engine, |_, e| {
            affine.push(e.law().clone());
            Ok(())
        })
        .map_err(|e| format!("{e:?}"))?;
        let law = engine.law().position();
        // `output_law` refuses a NaN output; so must the reference route.
        if law.cov.to_full(target.dim()).0.iter().chain(law.mean.iter().flatten()).any(|v| v.is_nan()) {
            return Err(format!("{:?}", SolverError::NonFinite { what: "the exact output law", step: sched.steps() }));
        }
        Ok((affine, gmdiff_solvers::Algebra::score_evals(&engine)))
    });
    (a, b)
}

fn lanes(op: &Op<Diag>, d: usize) -> Vec<f64> {
    op.to_full(d).0
}

/// Bit-for-bit equality of two joint laws (values; `None` means and scalar blocks as their lanes).
fn same_bits(a: &GaussLaw<Diag>, b: &GaussLaw<Diag>, d: usize) -> Result<(), String> {
    if a.means.len() != b.means.len() {
        return Err(format!("{} vs {} slots", a.means.len(), b.means.len()));
    }
    let eq = |x: &[f64], y: &[f64]| x.len() == y.len() && x.iter().zip(y).all(|(x, y)| x.to_bits() == y.to_bits());
    for (i, (ma, mb)) in a.means.iter().zip(&b.means).enumerate() {
        let zero = vec![0.0; d];
        let (ma, mb) = (ma.as_deref().unwrap_or(&zero), mb.as_deref().unwrap_or(&zero));
        if !eq(ma, mb) {
            return Err(format!("mean of slot {i}: {ma:?} vs {mb:?}"));
        }
    }
    for i in 0..a.cov.len() {
        for j in 0..a.cov.len() {
            let (x, y) = (lanes(&a.cov[i][j], d), lanes(&b.cov[i][j], d));
            if !eq(&x, &y) {
                return Err(format!("cov block ({i}, {j}): {x:?} vs {y:?}"));
            }
        }
    }
    Ok(())
}

/// Runs every sampler on every schedule and start for `target`; returns the number of runs
/// compared (both succeeded) and asserts bit-identity, or the same error.
fn check_target<T: LinearScore<Diag> + ?Sized>(name: &str, target: &T) -> usize {
    let d = target.dim();
    let given = Marginal {
        mean: Some((0..d).map(|i| 0.1 * i as f64 - 0.2).collect()),
        cov: Op::Full(Diag((0..d).map(|i| 0.5 + 0.25 * i as f64).collect())),
    };
    let mut compared = 0;
    let mut worst = (0.0_f64, String::new());
    for (sname, sched) in schedules() {
        for start in [LawStart::Standard, LawStart::Exact, LawStart::Law(given.clone())] {
            let mut runs: Vec<(String, (Trace, Trace))> =
                samplers().iter().map(|s| (format!("{} ({s:?})", s.name()), both(s, &sched, target, &start))).collect();
            runs.push(("shapes (4 slots, 2 noises per step)".into(), both(&Shapes, &sched, target, &start)));
            let noisy: Vec<bool> =
                samplers().iter().map(|s| gmdiff_solvers::is_stochastic(s, &sched).unwrap_or(false)).chain([true]).collect();
            for ((sampler, run), stochastic) in runs.into_iter().zip(noisy) {
                let what = format!("{sampler} on {sname}, {name}, start {start:?}");
                match run {
                    (Ok((a, ea)), Ok((b, eb))) => {
                        assert_eq!(ea, eb, "{what}: score evaluations");
                        assert_eq!(a.len(), b.len(), "{what}: observed grid points");
                        let mut scale = 0.0_f64;
                        for (k, (x, y)) in a.iter().zip(&b).enumerate() {
                            scale = scale.max(magnitude(y, d));
                            let r = if stochastic { same_bits(x, y, d).map(|_| 0.0) } else { close(x, y, d, scale) };
                            match r {
                                Err(e) => panic!("{what}: grid point {k}: {e}"),
                                Ok(rel) if rel > worst.0 => worst = (rel, format!("{what}: grid point {k}")),
                                Ok(_) => {}
                            }
                        }
                        compared += 1;
                    }
                    (Err(a), Err(b)) => assert_eq!(a, b, "{what}: the engines fail differently"),
                    (a, b) => panic!("{what}: lanes {:?} vs affine {:?}", a.err(), b.err()),
                }
            }
        }
    }
    println!("{name}: worst factored difference {:.2e} ({})", worst.0, worst.1);
    compared
}

/// Agreement of a factored (noise-free) lane run with `LawEngine`, relative to the largest
/// magnitude the run's law has carried so far. The two routes round differently: the lane engine
/// forms each slot's `g_i = Σ_b a_ib g_b` and then `g_i V g_j`; `LawEngine` sums the `p²` products
/// `a_ib C_bb' a_jb'` of the joint covariance. Either rounding is a few ulps of the magnitudes
/// summed, and those can be far above the result (a VE run starts at variance σ_max² and ends near
/// the data's), so the scale is the largest `|value|` of any slot's mean or covariance up to this
/// grid point; a few ulps per step over ≤ 23 steps stay below 1e-12 of it.
const FACTORED_TOLERANCE: f64 = 1e-12;

/// The largest `|value|` of a joint law's means and covariance blocks.
fn magnitude(l: &GaussLaw<Diag>, d: usize) -> f64 {
    let means = l.means.iter().flatten().flatten().fold(0.0_f64, |m, v| m.max(v.abs()));
    l.cov.iter().flatten().fold(means, |m, c| lanes(c, d).iter().fold(m, |m, v| m.max(v.abs())))
}

/// The largest difference between two joint laws relative to `scale` (see `FACTORED_TOLERANCE`),
/// or an error naming a block beyond the tolerance.
fn close(a: &GaussLaw<Diag>, b: &GaussLaw<Diag>, d: usize, scale: f64) -> Result<f64, String> {
    if a.means.len() != b.means.len() {
        return Err(format!("{} vs {} slots", a.means.len(), b.means.len()));
    }
    let scale = scale.max(1e-300);
    let rel = |x: &[f64], y: &[f64]| x.iter().zip(y).fold(0.0_f64, |m, (x, y)| m.max((x - y).abs() / scale));
    let mut worst = 0.0_f64;
    let zero = vec![0.0; d];
    for (i, (ma, mb)) in a.means.iter().zip(&b.means).enumerate() {
        let r = rel(ma.as_deref().unwrap_or(&zero), mb.as_deref().unwrap_or(&zero));
        if r > FACTORED_TOLERANCE {
            return Err(format!("mean of slot {i}: difference {r:.2e} of the scale {scale:.3e}"));
        }
        worst = worst.max(r);
    }
    for i in 0..a.cov.len() {
        for j in 0..a.cov.len() {
            let r = rel(&lanes(&a.cov[i][j], d), &lanes(&b.cov[i][j], d));
            if r > FACTORED_TOLERANCE {
                return Err(format!("cov block ({i}, {j}): difference {r:.2e} of the scale {scale:.3e}"));
            }
            worst = worst.max(r);
        }
    }
    Ok(worst)
}

#[test]
fn lane_engine_is_the_affine_engine_bit_for_bit() {
    let noncentred = SpectralGaussian::new(spectrum(), Some(mean())).unwrap();
    let centred = SpectralGaussian::centred(spectrum()).unwrap();
    let scaled = ScaledScore::new(noncentred.clone(), 0.07);
    let e = Diag((0..spectrum().len()).map(|i| 0.01 * (i as f64 - 3.0)).collect());
    let precision = PerturbedPrecision::new(noncentred.clone(), e.clone());
    let affine = AffinePerturbation::new(centred.clone(), Some(e), Some(vec![0.02; spectrum().len()]));
    let iso = Isotropic { var: 0.7, mean: mean() };
    let mut total = 0;
    total += check_target("non-centred", &noncentred);
    total += check_target("centred", &centred);
    total += check_target("scaled score", &scaled);
    total += check_target("perturbed precision", &precision);
    total += check_target("affine perturbation", &affine);
    total += check_target("isotropic (scalar L)", &iso);
    // 8 schedules × 3 starts × 16 samplers × 6 targets, less the runs a sampler refuses.
    println!("{total} runs compared (stochastic: bit for bit; noise-free: to FACTORED_TOLERANCE)");
    assert!(total > 1500, "only {total} runs succeeded");
}

/// One run of `s` through the spectral (lane) and the dense engine: `None` when both refuse it
/// with the same error, else the largest relative difference (see `dense_route_agrees`).
fn dense_difference<S: LawSampler<Diag> + LawSampler<Dense> + ?Sized>(
    s: &S,
    sched: &Schedule,
    spectral: &SpectralGaussian,
    dense: &DenseGaussian,
) -> Option<(f64, String)> {
    let d = spectral.dim();
    let (a, b) = (
        output_law(s, sched, spectral, LawStart::<Diag>::Exact, |_, _| Ok(())),
        output_law(s, sched, dense, LawStart::<Dense>::Exact, |_, _| Ok(())),
    );
    let (a, b) = match (a, b) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(a), Err(b)) => {
            assert_eq!(std::mem::discriminant(&a), std::mem::discriminant(&b), "{a} vs {b}");
            return None;
        }
        (a, b) => panic!("spectral {:?} vs dense {:?}", a.err(), b.err()),
    };
    assert_eq!(a.score_evals, b.score_evals);
    let var = lanes(&a.law.cov, d);
    let cov = match &b.law.cov {
        Op::Full(Dense(c)) => c.clone(),
        Op::Scalar(v) => faer::Mat::from_fn(d, d, |i, j| if i == j { *v } else { 0.0 }),
    };
    let (ma, mb) = (a.law.mean.unwrap_or(vec![0.0; d]), b.law.mean.unwrap_or(vec![0.0; d]));
    let floor = 1e-3 * var.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    let mut worst = (0.0, String::new());
    for i in 0..d {
        for j in 0..d {
            let want = if i == j { var[i] } else { 0.0 };
            let rel = (cov[(i, j)] - want).abs() / want.abs().max(floor);
            if rel > worst.0 {
                worst = (rel, format!("cov ({i}, {j}) {} vs {want}", cov[(i, j)]));
            }
        }
        let rel = (ma[i] - mb[i]).abs() / ma[i].abs().max(1e-3);
        if rel > worst.0 {
            worst = (rel, format!("mean {i} {} vs {}", ma[i], mb[i]));
        }
    }
    Some(worst)
}

#[test]
fn dense_route_agrees() {
    // The same data as a dense Gaussian: Σ = diag(spectrum()), mean mean(). Tolerance: the two routes
    // differ by a rounding per operation (the dense score comes from a factorisation of
    // a² Σ + b² I); over ≤ 23 steps this stays below 1e-12 of the law's scale, taken as
    // max(|value|, 1e-3 · max variance) so that a variance that is exactly 0 in both routes is
    // compared absolutely.
    let (eig, d) = (spectrum(), spectrum().len());
    let spectral = SpectralGaussian::new(spectrum(), Some(mean())).unwrap();
    let dense = DenseGaussian::new(mean(), faer::Mat::from_fn(d, d, |i, j| if i == j { eig[i] } else { 0.0 })).unwrap();
    let mut worst: (f64, String) = (0.0, String::new());
    let mut worst_pndm: (f64, String) = (0.0, String::new());
    let mut compared = 0;
    for (sname, sched) in schedules() {
        let mut runs: Vec<(String, Option<(f64, String)>)> =
            samplers().iter().map(|s| (s.name().to_string(), dense_difference(s, &sched, &spectral, &dense))).collect();
        runs.push(("shapes".into(), dense_difference(&Shapes, &sched, &spectral, &dense)));
        for (name, diff) in runs {
            if let Some((rel, what)) = diff {
                compared += 1;
                let slot = if name == "pndm" { &mut worst_pndm } else { &mut worst };
                if rel > slot.0 {
                    *slot = (rel, format!("{name} on {sname}: {what}"));
                }
            }
        }
    }
    println!("{compared} runs, worst relative difference {:.2e} ({})", worst.0, worst.1);
    println!("pndm: worst relative difference {:.2e} ({})", worst_pndm.0, worst_pndm.1);
    assert!(compared > 80, "only {compared} runs succeeded");
    assert!(worst.0 < 1e-12, "{}: {:.2e}", worst.1, worst.0);
    // PNDM's PLMS extrapolates ε̂ = (x − a x̂₀)/b with Adams–Bashforth-4 weights
    // (|55| + |59| + |37| + |9|)/24 ≈ 6.7 per step on a grid whose last steps are long against the
    // score's 1/b² stiffness: it amplifies the routes' per-operation rounding about 5× more than the
    // other samplers (measured 4.8e-12 on `vp to t = 0`, 4.2e-12 on `edm karras` with ε = −b s). Held
    // to the same per-operation rounding times that amplification.
    assert!(worst_pndm.0 < 1e-11, "{}: {:.2e}", worst_pndm.1, worst_pndm.0);
}

#[test]
fn bit_identical_at_any_thread_count_and_lane_by_lane() {
    // 20 000 lanes: 40 blocks of 512, more than the 16 from which blocks run in parallel.
    let d = 20_000;
    let eig: Vec<f64> = (0..d).map(|i| 3.0 * ((i * 7919) % d) as f64 / d as f64).collect();
    let mean: Vec<f64> = (0..d).map(|i| ((i * 104_729) % 1000) as f64 / 500.0 - 1.0).collect();
    let target = SpectralGaussian::new(eig.clone(), Some(mean.clone())).unwrap();
    let sched = Schedule::uniform_vp(12, 1e-3).unwrap();
    let pool = |n: usize| rayon::ThreadPoolBuilder::new().num_threads(n).build().unwrap();
    for s in ["dpum", "dpmpp2m", "em"].map(|n| Builtin::from_name(n).unwrap()).into_iter().chain([Ddim { eta: 0.5 }.into()]) {
        let go = || output_law(&s, &sched, &target, LawStart::<Diag>::Standard, |_, _| Ok(())).unwrap().law;
        let (one, four) = (pool(1).install(go), pool(4).install(go));
        let bits = |m: &Marginal<Diag>| (lanes(&m.cov, d), m.mean.clone().unwrap()).clone();
        let ((v1, m1), (v4, m4)) = (bits(&one), bits(&four));
        assert!(v1.iter().zip(&v4).chain(m1.iter().zip(&m4)).all(|(a, b)| a.to_bits() == b.to_bits()), "{}: 1 vs 4 threads", s.name());
        // A few lanes alone (one block, no parallelism) give the same bits.
        for i in [0, 1, 511, 512, 9_999, d - 1] {
            let alone = SpectralGaussian::new(vec![eig[i]], Some(vec![mean[i]])).unwrap();
            let a = output_law(&s, &sched, &alone, LawStart::<Diag>::Standard, |_, _| Ok(())).unwrap().law;
            assert_eq!(lanes(&a.cov, 1)[0].to_bits(), v1[i].to_bits(), "{}: lane {i} variance", s.name());
            assert_eq!(a.mean.unwrap()[0].to_bits(), m1[i].to_bits(), "{}: lane {i} mean", s.name());
        }
    }
}
