//! `gmdiff smoothness`: one JSON line with the Lipschitz estimate, the bounds, the certified
//! enclosure and E‖x_t‖²; the estimate dominates an independent finite-difference search of the
//! same ball (done here from the CLI's own `logpdf` subcommand, not from the library's Hessian), the
//! enclosure contains that search's maximum and lies below the bounds, the second moment is the
//! closure formula, no progress bar is drawn when stderr is not a terminal, and bad input gives one
//! error line, status 2.

use crate::common;
use common::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The report: (estimate, bound, theory bound or null, enclosure object or null, second moment).
fn parse(stdout: &str) -> (f64, f64, serde_json::Value, serde_json::Value, f64) {
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    let mut keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    keys.sort();
    let expected = ["lipschitz_bound", "lipschitz_enclosure", "lipschitz_estimate", "second_moment", "theory_bound"];
    let with_note =
        ["lipschitz_bound", "lipschitz_enclosure", "lipschitz_enclosure_note", "lipschitz_estimate", "second_moment", "theory_bound"];
    assert!(keys == expected || keys == with_note, "{stdout}");
    let f = |k: &str| v[k].as_f64().unwrap_or_else(|| panic!("{k} missing in {stdout}"));
    (f("lipschitz_estimate"), f("lipschitz_bound"), v["theory_bound"].clone(), v["lipschitz_enclosure"].clone(), f("second_moment"))
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
    // Not a terminal: the progress bar hides itself.
    assert!(run.stderr.is_empty(), "stderr: {}", run.stderr);
    let (est, bound, theory, enclosure, m2) = parse(&run.stdout);
    assert!(bound >= est, "bound {bound} < estimate {est}");
    let theory = theory.as_f64().unwrap();
    let e = |k: &str| enclosure[k].as_f64().unwrap_or_else(|| panic!("{k} missing in {enclosure}"));
    let (lower, upper) = (e("lower"), e("upper"));
    assert_eq!(enclosure["converged"], true, "{enclosure}");
    assert_eq!(enclosure["stop"], "converged");
    assert!(lower <= upper && upper <= 1.05 * lower && (e("ratio") - upper / lower).abs() < 1e-12, "{enclosure}");
    assert!(upper <= bound && bound <= theory, "enclosure {upper}, bound {bound}, theory {theory}");
    assert!(est <= upper, "estimate {est} above the certified upper bound {upper}");
    assert!(e("boxes") >= 1.0 && e("max_boxes") == 1e6 && e("radius") == radius && e("value_at_argmax") >= lower * (1.0 - 1e-12));
    let argmax: Vec<f64> = enclosure["argmax"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    assert!(argmax.len() == 2 && argmax.iter().map(|v| v * v).sum::<f64>() <= radius * radius);

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
    // The second differences err by O(h²) ≈ 1e-6 relative (and rounding 1e-16/h² ≈ 1e-10): 1e-4.
    assert!(independent <= upper * (1.0 + 1e-4), "independent search {independent} above the enclosure's upper bound {upper}");
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
    let (est, bound, theory, enclosure, m2) = parse(&r.stdout);
    assert!((est - 3.0).abs() < 1e-9 && (bound - 4.0).abs() < 1e-10 && m2 == 5.0, "{}", r.stdout);
    // No ball: no theory bound (it grows with R) and no enclosure, with the reason.
    assert!(theory.is_null() && enclosure.is_null() && r.stdout.contains("pass --radius"), "{}", r.stdout);
    // With a ball: ½N(±2, 1) has sup |H| = max(μ² − 1, 1 − μ²/cosh²(μR)) = 3 at R = 3 (closed form).
    let r = gmdiff(&["smoothness", "--mixture", iso.to_str().unwrap(), "--time", "0", "--radius", "3", "--ratio", "1.001"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let (_, _, _, enclosure, _) = parse(&r.stdout);
    let (lower, upper) = (enclosure["lower"].as_f64().unwrap(), enclosure["upper"].as_f64().unwrap());
    assert!(lower <= 3.0 && 3.0 <= upper && upper <= 1.001 * lower, "{}", r.stdout);
    // --no-enclosure skips it, and says so.
    let r = gmdiff(&["smoothness", "--mixture", iso.to_str().unwrap(), "--time", "0", "--radius", "3", "--no-enclosure"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(parse(&r.stdout).3.is_null() && r.stdout.contains("--no-enclosure"), "{}", r.stdout);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn budget_and_bad_enclosure_options() {
    let dir = scratch("smoothness-budget");
    let m = random_mixture(77, 3, 4);
    let path = dir.join("m.json");
    std::fs::write(&path, mixture_json(&m)).unwrap();
    let p = path.to_str().unwrap();
    // A budget of 20 boxes stops the search: still a (wide) rigorous enclosure, flagged.
    let r = gmdiff(&["smoothness", "--mixture", p, "--time", "0.05", "--radius", "5", "--samples", "50", "--max-boxes", "20"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let (est, _, _, e, _) = parse(&r.stdout);
    assert_eq!(e["converged"], false, "{e}");
    assert_eq!(e["stop"], "box_budget");
    assert!(e["boxes"].as_f64().unwrap() <= 20.0 && e["lower"].as_f64().unwrap() <= e["upper"].as_f64().unwrap());
    assert!(est <= e["upper"].as_f64().unwrap());
    for bad in [&["--ratio", "1"][..], &["--ratio", "nan"], &["--time-limit", "0"], &["--time-limit", "-3"], &["--max-boxes", "0"]] {
        let mut args = vec!["smoothness", "--mixture", p, "--time", "0.05", "--radius", "5", "--samples", "10"];
        args.extend_from_slice(bad);
        let r = gmdiff(&args);
        assert_eq!(r.status, 2, "{bad:?}: {}", r.stdout);
        assert_eq!(r.stderr.lines().count(), 1, "{bad:?}: {}", r.stderr);
        assert!(r.stderr.starts_with("error:"), "{bad:?}: {}", r.stderr);
    }
    std::fs::remove_dir_all(&dir).ok();
}
