//! `gmdiff smoothness`: one JSON line with the Lipschitz estimate, the bound and E‖x_t‖²; the
//! estimate dominates an independent finite-difference search of the same ball (done here from the
//! CLI's own `logpdf` subcommand, not from the library's Hessian), the bound dominates the
//! estimate, the second moment is the closure formula, and bad input gives one error line, status 2.

mod common;
use common::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn parse(stdout: &str) -> (f64, f64, f64) {
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 3, "{stdout}");
    let f = |k: &str| v[k].as_f64().unwrap_or_else(|| panic!("{k} missing in {stdout}"));
    (f("lipschitz_estimate"), f("lipschitz_bound"), f("second_moment"))
}

#[test]
fn estimate_bound_and_second_moment_on_a_held_out_mixture() {
    let dir = scratch("smoothness");
    let m = random_mixture(4242, 2, 3);
    let path = dir.join("m.json");
    std::fs::write(&path, mixture_json(&m)).unwrap();
    let p = path.to_str().unwrap();
    let (t, radius): (f64, f64) = (0.05, 3.0);
    let run = gmdiff(&["smoothness", "--mixture", p, "--time", "0.05", "--radius", "3"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let (est, bound, m2) = parse(&run.stdout);
    assert!(bound >= est, "bound {bound} < estimate {est}");

    // E‖x_t‖² = Σ w (a² ‖μ‖² + a² tr Σ + b² d), VP linear 0.1–20: B(t) = 0.1 t + 9.95 t².
    let big_b = 0.1 * t + 9.95 * t * t;
    let (a2, b2) = ((-big_b).exp(), -(-big_b).exp_m1());
    let expected: f64 =
        (0..3).map(|i| m.0[i] * (a2 * m.1[i].iter().map(|v| v * v).sum::<f64>() + a2 * (m.2[i][0][0] + m.2[i][1][1]) + 2.0 * b2)).sum();
    assert!((m2 - expected).abs() < 1e-12 * expected, "{m2} vs {expected}");

    // Independent search: random points in the ball, Hessian norms by central second differences of
    // `gmdiff logpdf` (h = 1e-3), in one CLI call.
    let mut rng = ChaCha8Rng::seed_from_u64(77);
    let h = 1e-3;
    let centres: Vec<[f64; 2]> = (0..3000)
        .map(|_| {
            loop {
                let x = [radius * (2.0 * rng.random::<f64>() - 1.0), radius * (2.0 * rng.random::<f64>() - 1.0)];
                if x[0] * x[0] + x[1] * x[1] <= radius * radius {
                    break x;
                }
            }
        })
        .collect();
    let offsets = [(0.0, 0.0), (h, 0.0), (-h, 0.0), (0.0, h), (0.0, -h), (h, h), (h, -h), (-h, h), (-h, -h)];
    let mut csv = String::new();
    for c in &centres {
        for o in &offsets {
            csv.push_str(&format!("{:e},{:e}\n", c[0] + o.0, c[1] + o.1));
        }
    }
    let pts = dir.join("pts.csv");
    std::fs::write(&pts, csv).unwrap();
    let lp = gmdiff(&["logpdf", "--mixture", p, "--time", "0.05", "--points", pts.to_str().unwrap()]);
    assert_eq!(lp.status, 0, "{}", lp.stderr);
    let f: Vec<f64> = lp.stdout.lines().map(|l| l.parse().unwrap()).collect();
    let mut independent = 0.0f64;
    for c in f.chunks(9) {
        let hxx = (c[1] - 2.0 * c[0] + c[2]) / (h * h);
        let hyy = (c[3] - 2.0 * c[0] + c[4]) / (h * h);
        let hxy = (c[5] - c[6] - c[7] + c[8]) / (4.0 * h * h);
        let norm = (0.5 * (hxx + hyy)).abs() + (0.5 * (hxx - hyy)).hypot(hxy);
        independent = independent.max(norm);
    }
    assert!(est >= independent * (1.0 - 1e-4), "estimate {est} < independent search {independent}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn equal_precisions_need_no_radius() {
    let dir = scratch("smoothness-iso");
    // Equal precisions: R^d works without a radius.
    let iso = dir.join("iso.json");
    std::fs::write(&iso, r#"{"weights":[0.5,0.5],"means":[[-2.0],[2.0]],"covariances":[1.0,1.0]}"#).unwrap();
    let r = gmdiff(&["smoothness", "--mixture", iso.to_str().unwrap(), "--time", "0"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let (est, bound, m2) = parse(&r.stdout);
    assert!((est - 3.0).abs() < 1e-9 && (bound - 4.0).abs() < 1e-10 && m2 == 5.0, "{}", r.stdout);
    std::fs::remove_dir_all(&dir).ok();
}
