//! `gmdiff w2` and `gmdiff mmd` print exactly what the library computes, and agree with POT.

use crate::common;
use common::*;

fn cloud(n: usize, d: usize, shift: f64, seed: u64) -> String {
    // A deterministic low-discrepancy cloud (additive recurrence), so POT could read the same one.
    (0..n)
        .map(|i| {
            (0..d)
                .map(|j| {
                    let u = ((i as f64 + 1.0) * (0.754_877_666 + 0.569_840_29 * j as f64 + 0.1 * seed as f64)).fract();
                    format!("{:e}", shift + 4.0 * u - 2.0)
                })
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn value(text: &str, key: &str) -> f64 {
    let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    v[key].as_f64().unwrap()
}

#[test]
fn w2_and_mmd_match_the_library() {
    let dir = scratch("metrics");
    let (xs, ys) = (cloud(120, 2, 0.0, 1), cloud(90, 2, 0.5, 2));
    std::fs::write(dir.join("x.csv"), &xs).unwrap();
    std::fs::write(dir.join("y.csv"), &ys).unwrap();
    let x = gmdiff::io::parse_points_csv(xs.as_bytes()).unwrap();
    let y = gmdiff::io::parse_points_csv(ys.as_bytes()).unwrap();
    let (xp, yp) = (dir.join("x.csv").display().to_string(), dir.join("y.csv").display().to_string());
    let run = |args: &[&str]| {
        let r = gmdiff(args);
        assert_eq!(r.status, 0, "{}", r.stderr);
        r.stdout
    };
    let exact = value(&run(&["w2", &xp, &yp]), "w2");
    assert_eq!(exact, gmdiff::metrics::w2_exact(x.as_ref(), y.as_ref()).unwrap());
    let sliced = value(&run(&["w2", &xp, &yp, "--method", "sliced", "--projections", "500", "--seed", "4"]), "w2");
    assert_eq!(sliced, gmdiff::metrics::w2_sliced(x.as_ref(), y.as_ref(), 500, 4).unwrap());
    assert!(sliced <= exact, "sliced {sliced} > exact {exact}");
    let bures = value(&run(&["w2", &xp, &yp, "--method", "bures"]), "w2");
    assert_eq!(bures, gmdiff::metrics::bures_w2_fitted(x.as_ref(), y.as_ref()).unwrap());
    let out = run(&["mmd", &xp, &yp, "--permutations", "99", "--seed", "2"]);
    let test = gmdiff::metrics::permutation_test(
        x.as_ref(),
        y.as_ref(),
        gmdiff::metrics::TwoSampleStatistic::Mmd2(gmdiff::metrics::Bandwidth::Median),
        99,
        2,
    )
    .unwrap();
    assert_eq!(value(&out, "mmd2"), test.statistic);
    assert_eq!(value(&out, "p_value"), test.p_value);
    assert_eq!(Some(value(&out, "bandwidth")), test.bandwidth);
    std::fs::remove_dir_all(dir).ok();
}
