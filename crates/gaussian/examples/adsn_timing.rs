//! Times the spectral fast path on the ADSN spectrum (d = 196 608): the six Pierret–Galerne schemes,
//! 1000 steps, ε = 1e-3, from N(0, I). Usage: `cargo run --release -p gmdiff-gaussian --example
//! adsn_timing [SPECTRUM.npy]` (default `data/adsn_fabric_eigenvalues.npy`, shipped in the repository).
//!
//! A timing tool, not a check: it takes an argument and measures wall-clock time, so it asserts
//! nothing and `cargo test` does not run it. The W2 values it prints are checked elsewhere
//! (`w2_error_table` and the crate's tests).
use gmdiff_gaussian::{Init, SpectralProblem, SpectralScore, read_spectrum};
use gmdiff_solvers::{Builtin, Schedule};

fn main() {
    let path =
        std::env::args().nth(1).unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/adsn_fabric_eigenvalues.npy").into());
    let spectrum = match read_spectrum(std::path::Path::new(&path)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let p = SpectralProblem::centred(spectrum).expect("valid spectrum");
    println!("d = {}, distinct eigenvalues = {}", p.dim(), p.lanes());
    let sched = Schedule::uniform_vp(1000, 1e-3).expect("grid");
    let total = std::time::Instant::now();
    for s in ["em", "ei", "ddpm", "euler", "heun", "rk4"] {
        let t0 = std::time::Instant::now();
        let r = p.scheme(&Builtin::from_name(s).expect("scheme"), &sched, Init::Standard, &SpectralScore::Exact, false).expect("run");
        println!("{s:>5}: W2 = {:.4}  ({:.3} s)", r.w2, t0.elapsed().as_secs_f64());
    }
    println!("six schemes: {:.3} s", total.elapsed().as_secs_f64());
}
