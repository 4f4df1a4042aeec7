//! Orders of two point clouds that make a north-west-corner plan nearly local.
//!
//! Both clouds are split recursively at their own medians along one shared axis (the axis of
//! largest pooled spread in the current cell), low half first. After `L` levels the `k`-th cell
//! of `x` and the `k`-th cell of `y` hold the same share of points and sit in matching quantile
//! boxes, so pairing the two orders rank by rank (what the north-west corner does for uniform
//! weights) already moves mass only locally. In one dimension this is plain sorting and the
//! north-west corner is then the optimal plan.

use faer::MatRef;

/// Returns the orders of the rows of `x` and of `y`.
pub(crate) fn paired_orders(x: MatRef<'_, f64>, y: MatRef<'_, f64>) -> (Vec<usize>, Vec<usize>) {
    let mut ox: Vec<usize> = (0..x.nrows()).collect();
    let mut oy: Vec<usize> = (0..y.nrows()).collect();
    split(x, y, &mut ox, &mut oy);
    (ox, oy)
}

fn split(x: MatRef<'_, f64>, y: MatRef<'_, f64>, ox: &mut [usize], oy: &mut [usize]) {
    let d = x.ncols();
    if d == 1 {
        ox.sort_unstable_by(|&a, &b| x[(a, 0)].total_cmp(&x[(b, 0)]));
        oy.sort_unstable_by(|&a, &b| y[(a, 0)].total_cmp(&y[(b, 0)]));
        return;
    }
    if ox.len() <= 1 && oy.len() <= 1 {
        return;
    }
    // Axis of largest pooled range.
    let mut axis = 0;
    let mut widest = -1.0;
    for k in 0..d {
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        for &i in ox.iter() {
            lo = lo.min(x[(i, k)]);
            hi = hi.max(x[(i, k)]);
        }
        for &j in oy.iter() {
            lo = lo.min(y[(j, k)]);
            hi = hi.max(y[(j, k)]);
        }
        if hi - lo > widest {
            widest = hi - lo;
            axis = k;
        }
    }
    if widest <= 0.0 {
        return;
    }
    let hx = ox.len() / 2;
    let hy = oy.len() / 2;
    if ox.len() >= 2 {
        ox.select_nth_unstable_by(hx, |&a, &b| x[(a, axis)].total_cmp(&x[(b, axis)]));
    }
    if oy.len() >= 2 {
        oy.select_nth_unstable_by(hy, |&a, &b| y[(a, axis)].total_cmp(&y[(b, axis)]));
    }
    let (xl, xr) = ox.split_at_mut(hx);
    let (yl, yr) = oy.split_at_mut(hy);
    split(x, y, xl, yl);
    split(x, y, xr, yr);
}
