//! gmdiff's samplers against the anchors' OWN implementations (issue 13): k-diffusion's
//! `sampling.sample_*` and diffusers' `UniPCMultistepScheduler`, `DEISMultistepScheduler` and
//! `DPMSolverMultistepScheduler`, run in float64 on a Gaussian denoiser by
//! `tests/peer/make_fixtures.py` (provenance, versions and the regeneration command in
//! `tests/peer/README.md`). The expected values are the anchors' outputs; nothing here is computed
//! by gmdiff's own code.
//!
//! Two kinds of fixture:
//!
//! * **Replay** (`kd_*.json`, `df_*.json`): the anchor's start `x_start`, every standard normal it
//!   used (`noises`, in order) and its output `x_final`, all in gmdiff's `x = a x̃` space. The
//!   sampler runs here on [`Replay`], an [`Algebra`] whose score is the exact score of
//!   `N(a μ, a² Σ + b² I)` at the step's coefficients and whose `noise()` pops the fixture's next
//!   `ξ`. Assertions: `x_final` to 1e-10 relative (`max |Δ| / max |x_final|`), every `ξ` consumed
//!   and none asked for beyond them, and the score evaluations equal to the anchor's model calls.
//! * **Particles** (`particles_*.json`): the anchor with its own noise (k-diffusion's Brownian tree
//!   for `dpmpp-sde`, whose overlapping increments cannot be replayed as independent draws) on `n`
//!   particles from gmdiff's standard start; its sample mean and covariance against gmdiff's exact
//!   law ([`output_law`]) with `z ≤ 5`, standard errors `sqrt(P_ii/n)` for the mean and
//!   `sqrt((P_ii P_jj + P_ij²)/n)` for the covariance (Gaussian fourth moments).
//!
//! The schedule is rebuilt from the fixture's `σ` grid: `t_k = time_of_sigma(σ_k)` on the EDM path
//! (`σ_max = 80`) or on linear VP (`β_min = 0.1`, `β_max = 20`), whose horizon is raised to `t_0`
//! when diffusers' first `σ` lies above `σ(1)` (the linear VP path is defined for every `t ≥ 0`).
//!
//! A fixture whose sampler [`build`] cannot build FAILS the test, unless it is listed in [`PENDING`]
//! (the samplers being written on other branches); a listed fixture that now builds fails too, so
//! that the list is shortened as soon as an arm is added.

use gmdiff::faer::Mat;
use gmdiff::process::{Coefficients, Edm, GaussianPath, Process, TimeGrid, VpLinear};
use gmdiff::solvers::{
    Algebra, Builtin, Carrier, Ddim, Deis, Dense, DenseGaussian, Dpm2, Dpm2Ancestral, DpmSolver2M, DpmSolver2MSde, DpmSolver2SAncestral,
    DpmSolver3M, DpmSolver3MSde, DpmSolverSde, DpmSolverType, EdmHeun, EdmSde, EulerAncestral, LawStart, Lms, Schedule, SolverError, UniPc,
    UniPcVariant, output_law, run, score_evals,
};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// Agreement of a replayed output with the anchor's, relative to `max |x_final|` (issue 13).
const REPLAY_TOL: f64 = 1e-10;
/// The largest |z| accepted against the anchor's particles (issue 13).
const Z_MAX: f64 = 5.0;

/// Fixtures whose sampler is not on this branch yet (written in parallel on other branches). An
/// entry is a sampler's CLI name (all its fixtures) or a fixture's file stem. The test reports them
/// and checks that they parse, but does not run them. AFTER MERGING A SAMPLER: add its arm to
/// [`build`] and delete its entry here; the test then checks its fixtures (and fails while a
/// listed fixture builds, so an entry cannot be forgotten).
const PENDING: &[&str] = &[];

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peer/fixtures")
}

#[derive(Debug, Deserialize)]
struct Fixture {
    anchor: String,
    sampler: String,
    options: Map<String, Value>,
    path: String,
    sigmas: Vec<f64>,
    mean: Vec<f64>,
    cov: Vec<Vec<f64>>,
    score_evals: usize,
    x_start: Option<Vec<f64>>,
    noises: Option<Vec<Vec<f64>>>,
    x_final: Option<Vec<f64>>,
    particles: Option<ParticleStats>,
}

#[derive(Debug, Deserialize)]
struct ParticleStats {
    n: usize,
    mean: Vec<f64>,
    cov: Vec<Vec<f64>>,
}

/// The fixture's options, each read once; [`Options::finish`] refuses any option no arm read, so
/// an arm cannot silently ignore a setting of the anchor.
struct Options<'a> {
    map: &'a Map<String, Value>,
    read: Vec<&'a str>,
}

impl<'a> Options<'a> {
    fn new(map: &'a Map<String, Value>) -> Self {
        Self { map, read: Vec::new() }
    }
    fn get(&mut self, key: &'a str) -> Result<&'a Value, String> {
        self.read.push(key);
        self.map.get(key).ok_or_else(|| format!("option `{key}` missing"))
    }
    fn f64(&mut self, key: &'a str) -> Result<f64, String> {
        self.get(key)?.as_f64().ok_or_else(|| format!("option `{key}` is not a number"))
    }
    fn usize(&mut self, key: &'a str) -> Result<usize, String> {
        let v = self.get(key)?;
        v.as_u64().map(|u| u as usize).ok_or_else(|| format!("option `{key}` is not a count"))
    }
    fn bool(&mut self, key: &'a str) -> Result<bool, String> {
        self.get(key)?.as_bool().ok_or_else(|| format!("option `{key}` is not a bool"))
    }
    fn str(&mut self, key: &'a str) -> Result<&'a str, String> {
        self.get(key)?.as_str().ok_or_else(|| format!("option `{key}` is not a string"))
    }
    fn finish(self) -> Result<(), String> {
        match self.map.keys().find(|k| !self.read.contains(&k.as_str())) {
            Some(k) => Err(format!("option `{k}` is not understood by this arm")),
            None => Ok(()),
        }
    }
}

/// The gmdiff sampler of a fixture: ONE function from `(CLI name, options)` (field names of
/// SAMPLERS13.md). Every option must be read; an unknown sampler or option value is an error.
fn build(name: &str, options: &Map<String, Value>) -> Result<Builtin, String> {
    let mut o = Options::new(options);
    let sampler: Builtin = match name {
        "ddim" => Ddim { eta: o.f64("eta")? }.into(),
        "dpmpp2m" => DpmSolver2M { lower_order_final: o.bool("lower_order_final")? }.into(),
        "dpmpp3m" => DpmSolver3M { lower_order_final: o.bool("lower_order_final")? }.into(),
        "dpmpp2s-a" => DpmSolver2SAncestral { eta: o.f64("eta")?, s_noise: o.f64("s_noise")? }.into(),
        "dpmpp-sde" => DpmSolverSde { eta: o.f64("eta")?, s_noise: o.f64("s_noise")?, r: o.f64("r")? }.into(),
        "dpmpp2m-sde" => {
            let name = o.str("solver_type")?;
            let solver_type = DpmSolverType::from_name(name).ok_or_else(|| format!("unknown solver_type `{name}`"))?;
            DpmSolver2MSde { eta: o.f64("eta")?, s_noise: o.f64("s_noise")?, solver_type }.into()
        }
        "dpmpp3m-sde" => DpmSolver3MSde { eta: o.f64("eta")?, s_noise: o.f64("s_noise")? }.into(),
        "unipc" => {
            let name = o.str("variant")?;
            let variant = UniPcVariant::from_name(name).ok_or_else(|| format!("unknown UniPC variant `{name}`"))?;
            UniPc {
                variant,
                order: o.usize("order")?,
                use_corrector: o.bool("use_corrector")?,
                lower_order_final: o.bool("lower_order_final")?,
            }
            .into()
        }
        "deis" => Deis { order: o.usize("order")?, lower_order_final: o.bool("lower_order_final")? }.into(),
        "lms" => Lms { order: o.usize("order")? }.into(),
        "euler-a" => EulerAncestral { eta: o.f64("eta")?, s_noise: o.f64("s_noise")? }.into(),
        "edm-heun" => EdmHeun.into(),
        "edm-sde" => {
            EdmSde { s_churn: o.f64("s_churn")?, s_tmin: o.f64("s_tmin")?, s_tmax: o.f64("s_tmax")?, s_noise: o.f64("s_noise")? }.into()
        }
        "dpm2" => Dpm2.into(),
        "dpm2-a" => Dpm2Ancestral { eta: o.f64("eta")?, s_noise: o.f64("s_noise")? }.into(),
        _ => return Err(format!("no arm for sampler `{name}` in build()")),
    };
    o.finish()?;
    Ok(sampler)
}

/// The schedule on the fixture's σ grid: `t_k = time_of_sigma(σ_k)` on the fixture's path.
fn schedule(f: &Fixture) -> Result<Schedule, String> {
    let s0 = f.sigmas[0];
    let process = match f.path.as_str() {
        "edm" => Process::Edm(if s0 <= 80.0 { Edm::default() } else { Edm::new(s0).map_err(|e| e.to_string())? }),
        "vp" => {
            let t0 = VpLinear::default().time_of_sigma(s0);
            if t0 <= 1.0 {
                Process::Vp(VpLinear::default())
            } else {
                // The same line β(t) = 0.1 + 19.9 t, with the horizon at t_0.
                Process::Vp(VpLinear::new(0.1, 0.1 + 19.9 * t0, t0).map_err(|e| e.to_string())?)
            }
        }
        other => return Err(format!("unknown path `{other}`")),
    };
    let times: Vec<f64> = f.sigmas.iter().map(|&s| process.time_of_sigma(s)).collect();
    // The rebuilt grid must give back the fixture's σ (a = 1/sqrt(1 + σ²) on VP, 1 on EDM).
    for (&t, &s) in times.iter().zip(&f.sigmas) {
        let back = process.sigma_at(t);
        if (back - s).abs() > 1e-13 * s {
            return Err(format!("σ(time_of_sigma({s})) = {back}"));
        }
    }
    let grid = TimeGrid::from_times(&process, times).map_err(|e| e.to_string())?;
    Ok(Schedule::grid(process, grid))
}

/// The replay carrier: values are points of `R^d`, the score is the exact score of the diffused
/// data `N(a μ, a² Σ + b² I)`, and `noise()` returns the fixture's next `ξ`.
struct Replay<'a> {
    mean: &'a [f64],
    cov: &'a [Vec<f64>],
    noises: &'a [Vec<f64>],
    used: usize,
    overrun: usize,
    evals: usize,
    state: Vec<Vec<f64>>,
}

impl Algebra for Replay<'_> {
    type Value = Vec<f64>;
    fn lin(&mut self, terms: &[(f64, &Vec<f64>)]) -> Vec<f64> {
        let mut out = vec![0.0; terms[0].1.len()];
        for (c, v) in terms {
            for (o, x) in out.iter_mut().zip(v.iter()) {
                *o += c * x;
            }
        }
        out
    }
    /// `s = −(a² Σ + b² I)^{-1} (x − a μ)`, by Cholesky.
    fn score(&mut self, at: &Coefficients, x: &Vec<f64>) -> Result<Vec<f64>, SolverError> {
        self.evals += 1;
        let d = self.mean.len();
        let m: Vec<Vec<f64>> =
            (0..d).map(|i| (0..d).map(|j| at.a * at.a * self.cov[i][j] + if i == j { at.b * at.b } else { 0.0 }).collect()).collect();
        let r: Vec<f64> = (0..d).map(|i| x[i] - at.a * self.mean[i]).collect();
        Ok(cholesky_solve(&m, &r).into_iter().map(|v| -v).collect())
    }
    fn noise(&mut self) -> Vec<f64> {
        match self.noises.get(self.used) {
            Some(xi) => {
                self.used += 1;
                xi.clone()
            }
            None => {
                self.overrun += 1;
                vec![f64::NAN; self.mean.len()]
            }
        }
    }
    fn score_evals(&self) -> usize {
        self.evals
    }
}

impl Carrier for Replay<'_> {
    fn open(&mut self) -> Vec<Vec<f64>> {
        std::mem::take(&mut self.state)
    }
    fn close(&mut self, values: Vec<Vec<f64>>) -> Result<(), SolverError> {
        self.state = values;
        Ok(())
    }
}

/// `M^{-1} r` for a symmetric positive definite `M` (d ≤ 3 here), by `M = L Lᵀ`.
fn cholesky_solve(m: &[Vec<f64>], r: &[f64]) -> Vec<f64> {
    let d = r.len();
    let mut l = vec![vec![0.0; d]; d];
    for i in 0..d {
        for j in 0..=i {
            let s = m[i][j] - (0..j).map(|k| l[i][k] * l[j][k]).sum::<f64>();
            l[i][j] = if i == j { s.sqrt() } else { s / l[j][j] };
        }
    }
    let mut y = vec![0.0; d];
    for i in 0..d {
        y[i] = (r[i] - (0..i).map(|k| l[i][k] * y[k]).sum::<f64>()) / l[i][i];
    }
    let mut x = vec![0.0; d];
    for i in (0..d).rev() {
        x[i] = (y[i] - (i + 1..d).map(|k| l[k][i] * x[k]).sum::<f64>()) / l[i][i];
    }
    x
}

/// Replays a fixture; returns the relative error `max |Δ| / max |x_final|`.
fn check_replay(f: &Fixture, sampler: &Builtin, sched: &Schedule) -> Result<f64, String> {
    let (x_start, noises, x_final) = match (&f.x_start, &f.noises, &f.x_final) {
        (Some(a), Some(b), Some(c)) => (a, b, c),
        _ => return Err("a replay fixture needs x_start, noises and x_final".into()),
    };
    let mut c = Replay { mean: &f.mean, cov: &f.cov, noises, used: 0, overrun: 0, evals: 0, state: vec![x_start.clone()] };
    run(sampler, sched, &mut c, |_, _| Ok(())).map_err(|e| format!("run: {e}"))?;
    if c.overrun > 0 || c.used != noises.len() {
        return Err(format!("noise: the sampler drew {} normals, the anchor used {}", c.used + c.overrun, noises.len()));
    }
    if c.evals != f.score_evals {
        return Err(format!("score evaluations: {} here, {} model calls in the anchor", c.evals, f.score_evals));
    }
    let counted = score_evals(sampler, sched).map_err(|e| e.to_string())?;
    if counted != c.evals {
        return Err(format!("score_evals() = {counted} but the run made {}", c.evals));
    }
    let x = &c.state[0];
    let scale = x_final.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let err = x.iter().zip(x_final).fold(0.0f64, |m, (a, b)| m.max((a - b).abs())) / scale;
    if err.is_nan() || err > REPLAY_TOL {
        return Err(format!("x_final: relative error {err:.3e} > {REPLAY_TOL:e} (gmdiff {x:?}, anchor {x_final:?})"));
    }
    Ok(err)
}

/// The largest |z| of the anchor's particle mean and covariance against gmdiff's exact law.
fn particle_z(f: &Fixture, p: &ParticleStats, sampler: &Builtin, sched: &Schedule) -> Result<f64, String> {
    let d = f.mean.len();
    let cov = Mat::from_fn(d, d, |i, j| f.cov[i][j]);
    let target = DenseGaussian::new(f.mean.clone(), cov).map_err(|e| e.to_string())?;
    let out = output_law(sampler, sched, &target, LawStart::<Dense>::Standard, |_, _| Ok(())).map_err(|e| e.to_string())?;
    if out.score_evals != f.score_evals {
        return Err(format!("score evaluations: {} here, {} model calls in the anchor", out.score_evals, f.score_evals));
    }
    let mean = out.law.mean.unwrap_or_else(|| vec![0.0; d]);
    let big_p = out.law.cov.to_full(d).0;
    let n = p.n as f64;
    let mut z: f64 = 0.0;
    for i in 0..d {
        z = z.max((p.mean[i] - mean[i]).abs() / (big_p[(i, i)] / n).sqrt());
        for j in 0..d {
            let se = ((big_p[(i, i)] * big_p[(j, j)] + big_p[(i, j)] * big_p[(i, j)]) / n).sqrt();
            z = z.max((p.cov[i][j] - big_p[(i, j)]).abs() / se);
        }
    }
    if z.is_nan() { Err("z is NaN".into()) } else { Ok(z) }
}

fn load_all() -> Vec<(String, Fixture)> {
    let dir = fixtures_dir();
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|p| {
            let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&p).unwrap();
            let f: Fixture = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{stem}: {e}"));
            (stem, f)
        })
        .collect()
}

fn is_pending(stem: &str, f: &Fixture) -> bool {
    PENDING.iter().any(|&p| p == f.sampler || p == stem)
}

fn check(f: &Fixture) -> Result<String, String> {
    let sampler = build(&f.sampler, &f.options)?;
    let sched = schedule(f)?;
    if f.sigmas.len() != sched.steps() + 1 || f.mean.len() != f.cov.len() {
        return Err("malformed fixture".into());
    }
    match &f.particles {
        Some(p) => {
            let z = particle_z(f, p, &sampler, &sched)?;
            if z > Z_MAX { Err(format!("particles: max |z| = {z:.2} > {Z_MAX}")) } else { Ok(format!("max |z| = {z:.2} (n = {})", p.n)) }
        }
        None => check_replay(f, &sampler, &sched).map(|e| format!("rel err {e:.2e}")),
    }
}

#[test]
fn anchors_agree_with_gmdiff() {
    let all = load_all();
    assert!(all.len() >= 20, "expected the committed fixtures in {}, found {}", fixtures_dir().display(), all.len());
    for p in PENDING {
        assert!(all.iter().any(|(stem, f)| f.sampler == *p || stem == p), "PENDING entry `{p}` matches no fixture");
    }
    let (mut failures, mut pending, mut worst) = (Vec::new(), Vec::new(), 0.0f64);
    for (stem, f) in &all {
        if is_pending(stem, f) {
            if build(&f.sampler, &f.options).is_ok() {
                failures.push(format!("{stem}: listed in PENDING but build() now succeeds: delete the entry so it is checked"));
            } else {
                pending.push(stem.as_str());
            }
            continue;
        }
        match check(f) {
            Ok(msg) => {
                if let Some(e) = msg.strip_prefix("rel err ").and_then(|m| m.parse::<f64>().ok()) {
                    worst = worst.max(e);
                }
                println!("ok   {stem} [{}] {msg}", f.anchor);
            }
            Err(e) => failures.push(format!("{stem} [{}]: {e}", f.anchor)),
        }
    }
    println!("worst replay error {worst:.2e}; pending ({}), not yet checked: {}", pending.len(), pending.join(", "));
    assert!(failures.is_empty(), "{} fixture(s) failed:\n{}", failures.len(), failures.join("\n"));
}

/// The harness can fail: the DPM-Solver++(2M) anchor's output is NOT reproduced by DDIM, and the
/// Euler particles of k-diffusion are rejected by DPM-Solver++(2M)'s exact law.
#[test]
fn harness_discriminates() {
    let all = load_all();
    let (_, f) = all.iter().find(|(s, _)| s == "kd_dpmpp2m_vp0").expect("fixture kd_dpmpp2m_vp0");
    let sched = schedule(f).unwrap();
    let ddim: Builtin = Ddim { eta: 0.0 }.into();
    let err = check_replay(f, &ddim, &sched).expect_err("DDIM must not reproduce DPM-Solver++(2M)");
    assert!(err.contains("x_final"), "{err}");
    println!("ddim on the 2M fixture: {err}");

    let (_, f) = all.iter().find(|(s, _)| s == "particles_kd_ddim_vp0").expect("fixture particles_kd_ddim_vp0");
    let sched = schedule(f).unwrap();
    let z = particle_z(f, f.particles.as_ref().unwrap(), &DpmSolver2M::default().into(), &sched).unwrap();
    println!("2M exact law against the Euler particles: max |z| = {z:.1}");
    assert!(z > 10.0 * Z_MAX, "the 2M law should be rejected by the Euler particles, z = {z}");
}

/// Pending fixtures whose anchor is DDIM(η = 0) in exact arithmetic, checked now against `Ddim`:
/// DEIS of order 1 (Zhang & Chen 2023: DEIS-1 is DDIM), UniPC's order-1 predictor without corrector
/// (its `x_t = (σ_t/σ_s) x − α_t (e^{−h} − 1) x̂₀`), and Euler ancestral at `η = 0` (no noise). This
/// also runs the diffusers fixtures' grids (raised VP horizon, final `sigma_min`) end to end.
#[test]
fn anchors_that_are_ddim() {
    let all = load_all();
    let ddim: Builtin = Ddim { eta: 0.0 }.into();
    for name in ["df_deis_o1", "df_unipc_bh1_o1_p", "df_unipc_bh2_o1_p", "kd_euler-a_edm_eta0"] {
        let (_, f) = all.iter().find(|(s, _)| s == name).unwrap_or_else(|| panic!("fixture {name}"));
        let sched = schedule(f).unwrap();
        let err = check_replay(f, &ddim, &sched).unwrap_or_else(|e| panic!("{name}: {e}"));
        println!("{name} as ddim: rel err {err:.2e}");
    }
}

/// A fixture with an option no arm reads, or an unknown sampler, is an error (never a silent pass).
#[test]
fn build_refuses_what_it_cannot_build() {
    let opts: Map<String, Value> = serde_json::from_str(r#"{"eta": 0.0, "s_noise": 1.0}"#).unwrap();
    assert!(build("ddim", &opts).unwrap_err().contains("s_noise"));
    assert!(build("no-such-sampler", &Map::new()).unwrap_err().contains("no arm"));
    let opts: Map<String, Value> = serde_json::from_str(r#"{"lower_order_final": "yes"}"#).unwrap();
    assert!(build("dpmpp2m", &opts).unwrap_err().contains("not a bool"));
}
