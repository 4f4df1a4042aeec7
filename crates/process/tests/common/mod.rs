//! Independent numerical routes shared by the integration tests.

/// Adaptive Gauss–Legendre (5 nodes) quadrature of `f` on `[0, t]`, an independent route to `∫β`.
///
/// A panel is halved until its two halves agree with it to `1e-14` of the whole integral, so the
/// steep end of the cosine schedule's β is resolved too.
pub fn quadrature(f: impl Fn(f64) -> f64, t: f64) -> f64 {
    const NODES: [f64; 5] = [0.0, -0.538_469_310_105_683_1, 0.538_469_310_105_683_1, -0.906_179_845_938_664, 0.906_179_845_938_664];
    const WEIGHTS: [f64; 5] =
        [0.568_888_888_888_888_9, 0.478_628_670_499_366_5, 0.478_628_670_499_366_5, 0.236_926_885_056_189_1, 0.236_926_885_056_189_1];
    let panel =
        |a: f64, b: f64| NODES.iter().zip(WEIGHTS).map(|(x, w)| w * f(0.5 * (a + b) + 0.5 * (b - a) * x)).sum::<f64>() * 0.5 * (b - a);
    fn refine(panel: &dyn Fn(f64, f64) -> f64, a: f64, b: f64, whole: f64, tol: f64, depth: u32) -> f64 {
        let m = 0.5 * (a + b);
        let (left, right) = (panel(a, m), panel(m, b));
        if depth == 0 || (left + right - whole).abs() <= tol {
            left + right
        } else {
            refine(panel, a, m, left, tol, depth - 1) + refine(panel, m, b, right, tol, depth - 1)
        }
    }
    refine(&panel, 0.0, t, panel(0.0, t), 1e-14 * panel(0.0, t).abs().max(1.0), 30)
}
