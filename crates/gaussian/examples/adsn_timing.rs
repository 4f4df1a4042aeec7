//! Times the exact laws on the ADSN spectrum (d = 196 608): every built-in sampler, 1000 steps,
//! ε = 1e-3, from N(0, I). Two columns per sampler, best of `REPEATS` runs:
//! - `scheme`: [`SpectralProblem::scheme`] (distinct eigenvalues only, lanes in parallel, W2 included);
//! - `output_law`: one [`gmdiff_solvers::output_law`] over all d eigenvalues (no deduplication, one
//!   thread), the cost bound of issue 12 ("at most 0.2 s per sampler").
//!
//! Usage: `cargo run --release -p gmdiff-gaussian --example adsn_timing [SPECTRUM.npy] [REPEATS]`
//! (default `data/adsn_fabric_eigenvalues.npy`, shipped in the repository; 3 repeats).
//!
//! A timing tool, not a check: it takes an argument and measures wall-clock time, so it asserts
//! nothing and `cargo test` does not run it. The W2 values it prints are checked elsewhere
//! (`w2_error_table` and the crate's tests).
use gmdiff_gaussian::{Init, SpectralProblem, SpectralScore, read_spectrum};
use gmdiff_solvers::{Builtin, Diag, LawStart, Schedule, SpectralGaussian, output_law};
use std::time::Instant;

fn best<T>(repeats: usize, mut f: impl FnMut() -> T) -> (T, f64) {
    let mut out = None;
    let mut best = f64::INFINITY;
    for _ in 0..repeats {
        let t0 = Instant::now();
        let r = f();
        best = best.min(t0.elapsed().as_secs_f64());
        out = Some(r);
    }
    (out.expect("repeats ≥ 1"), best)
}

fn main() {
    let path =
        std::env::args().nth(1).unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/adsn_fabric_eigenvalues.npy").into());
    let repeats: usize = std::env::args().nth(2).map_or(3, |r| r.parse().expect("REPEATS is a positive integer")).max(1);
    let spectrum = match read_spectrum(std::path::Path::new(&path)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let p = SpectralProblem::centred(spectrum.clone()).expect("valid spectrum");
    let all = SpectralGaussian::centred(spectrum).expect("valid spectrum");
    println!("d = {}, distinct eigenvalues = {}, best of {repeats}", p.dim(), p.lanes());
    let sched = Schedule::uniform_vp(1000, 1e-3).expect("grid");
    let total = Instant::now();
    for s in Builtin::NAMES {
        let sampler = Builtin::from_name(s).expect("built-in");
        let (r, t_scheme) = best(repeats, || p.scheme(&sampler, &sched, Init::Standard, &SpectralScore::Exact, false).expect("run"));
        let (_, t_law) = best(repeats, || output_law(&sampler, &sched, &all, LawStart::<Diag>::Standard, |_, _| Ok(())).expect("law"));
        println!("{s:>8}: W2 = {:.6}  scheme {t_scheme:.4} s  output_law {t_law:.4} s", r.w2);
    }
    println!("all samplers: {:.3} s", total.elapsed().as_secs_f64());
}
