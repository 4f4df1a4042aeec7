//! Outward-rounded interval arithmetic on `f64`, for the certified Lipschitz enclosure.
//!
//! Every operation computes its endpoints in round-to-nearest and then moves the lower endpoint one
//! ulp down ([`f64::next_down`]) and the upper endpoint one ulp up ([`f64::next_up`]). For `+ − × ÷`
//! and `sqrt`, IEEE 754 rounds correctly (error ≤ ½ ulp), so the exact result of every operation
//! on members of the operands lies in the computed interval. `exp` and `ln` are not correctly
//! rounded by every libm: they are widened by **two** ulps on each side, which is rigorous as long
//! as the platform's `exp`/`ln` err by less than 1.5 ulp (glibc documents < 1 ulp for both).
//!
//! An endpoint `±∞` stands for "unbounded"; `0 × ∞` is taken as `0` (the product of zero and any
//! real number). A NaN endpoint can only come from `∞ − ∞` and is treated as "no information" by
//! the callers (an upper bound of `+∞`).

/// A closed interval `[lo, hi]` of real numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Iv {
    pub(crate) lo: f64,
    pub(crate) hi: f64,
}

/// One ulp down: a lower bound of a real whose round-to-nearest value is `x`.
#[inline]
pub(crate) fn dn(x: f64) -> f64 {
    x.next_down()
}

/// One ulp up: an upper bound of a real whose round-to-nearest value is `x`.
#[inline]
pub(crate) fn up(x: f64) -> f64 {
    x.next_up()
}

/// `a · b` with `0 · ±∞ = 0`.
#[inline]
fn times(a: f64, b: f64) -> f64 {
    if a == 0.0 || b == 0.0 { 0.0 } else { a * b }
}

/// An upper bound of `a + b` (one ulp up; exact when an operand is 0).
#[inline]
pub(crate) fn add_up(a: f64, b: f64) -> f64 {
    if a == 0.0 {
        b
    } else if b == 0.0 {
        a
    } else {
        up(a + b)
    }
}

/// An upper bound of `a · b` for `a, b ≥ 0` (exact when a factor is 0).
#[inline]
pub(crate) fn mul_up(a: f64, b: f64) -> f64 {
    if a == 0.0 || b == 0.0 { 0.0 } else { up(a * b) }
}

/// An upper bound of `sqrt(x)`, `x ≥ 0`.
#[inline]
pub(crate) fn sqrt_up(x: f64) -> f64 {
    if x == 0.0 { 0.0 } else { up(x.sqrt()) }
}

/// An upper bound of `a / b` for `a ≥ 0`, `b > 0`.
#[inline]
pub(crate) fn div_up(a: f64, b: f64) -> f64 {
    if a == 0.0 { 0.0 } else { up(a / b) }
}

/// A lower bound of `a · b` for `a, b ≥ 0`.
#[inline]
pub(crate) fn mul_dn(a: f64, b: f64) -> f64 {
    dn(times(a, b)).max(0.0)
}

impl Iv {
    /// The degenerate interval `[x, x]` (exact: no rounding).
    #[inline]
    pub(crate) fn point(x: f64) -> Self {
        Iv { lo: x, hi: x }
    }

    /// `[−r, r]` for `r ≥ 0`.
    #[inline]
    pub(crate) fn sym(r: f64) -> Self {
        Iv { lo: -r, hi: r }
    }

    /// The largest absolute value `max(|lo|, |hi|)`.
    #[inline]
    pub(crate) fn mag(self) -> f64 {
        self.lo.abs().max(self.hi.abs())
    }

    /// The smallest absolute value (0 when the interval contains 0).
    #[inline]
    pub(crate) fn mig(self) -> f64 {
        if self.lo > 0.0 {
            self.lo
        } else if self.hi < 0.0 {
            -self.hi
        } else {
            0.0
        }
    }

    /// True when an endpoint is NaN.
    #[inline]
    pub(crate) fn is_nan(self) -> bool {
        self.lo.is_nan() || self.hi.is_nan()
    }

    /// `self + other`.
    #[inline]
    pub(crate) fn add(self, o: Iv) -> Iv {
        Iv { lo: dn(self.lo + o.lo), hi: up(self.hi + o.hi) }
    }

    /// `self − other`.
    #[inline]
    pub(crate) fn sub(self, o: Iv) -> Iv {
        Iv { lo: dn(self.lo - o.hi), hi: up(self.hi - o.lo) }
    }

    /// `self · other`.
    #[inline]
    pub(crate) fn mul(self, o: Iv) -> Iv {
        let p = [times(self.lo, o.lo), times(self.lo, o.hi), times(self.hi, o.lo), times(self.hi, o.hi)];
        let lo = p.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = p.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Iv { lo: dn(lo), hi: up(hi) }
    }

    /// `self · x` for a point `x`.
    #[inline]
    pub(crate) fn scale(self, x: f64) -> Iv {
        let (a, b) = (times(self.lo, x), times(self.hi, x));
        Iv { lo: dn(a.min(b)), hi: up(a.max(b)) }
    }

    /// `self²` (non-negative).
    #[inline]
    pub(crate) fn sqr(self) -> Iv {
        let m = self.mig();
        let lo = if m == 0.0 { 0.0 } else { dn(m * m).max(0.0) };
        Iv { lo, hi: up(self.mag() * self.mag()) }
    }

    /// `self³` (monotone).
    #[inline]
    pub(crate) fn cube(self) -> Iv {
        let c = |x: f64, r: fn(f64) -> f64| r(r(x * x) * x);
        // x ↦ x³ is increasing; two roundings each way cover the two multiplications.
        let lo = if self.lo >= 0.0 { c(self.lo, dn) } else { -c(-self.lo, up) };
        let hi = if self.hi >= 0.0 { c(self.hi, up) } else { -c(-self.hi, dn) };
        Iv { lo, hi }
    }

    /// `exp(self)`, widened by two ulps each side (see the module docs).
    #[inline]
    pub(crate) fn exp(self) -> Iv {
        Iv { lo: dn(dn(self.lo.exp())).max(0.0), hi: up(up(self.hi.exp())) }
    }

    /// `ln(x)` of a point `x > 0`, widened by two ulps each side.
    #[inline]
    pub(crate) fn ln_point(x: f64) -> Iv {
        let l = x.ln();
        Iv { lo: dn(dn(l)), hi: up(up(l)) }
    }

    /// `1 / self` for `0 < lo`.
    #[inline]
    pub(crate) fn recip_pos(self) -> Iv {
        Iv { lo: dn(1.0 / self.hi), hi: up(1.0 / self.lo) }
    }
}

/// The range of `Σ_j r_j v_j` over all weight vectors with `r_j ∈ r[j]` and `Σ_j r_j = 1`, and all
/// `v_j ∈ v[j]`: an enclosure of a convex combination with uncertain weights.
///
/// Rigour comes from duality, not from the optimiser: for **any** scalar `μ`,
/// `Σ r_j v_j = μ + Σ r_j (v_j − μ)` because `Σ r_j = 1`, so `Σ r_j v_j ≤ μ + Σ_j sup(r[j] · (v[j] − μ))`
/// evaluated in interval arithmetic. The `μ` that makes this tight (the linear programme's dual
/// optimum) is found greedily: give every weight its lower bound, then pour the remaining mass into
/// the largest values first; `μ` is the value at which the mass runs out. Likewise for the minimum.
/// `order` is scratch space. Cost `O(k log k)`.
pub(crate) fn weighted_range(r: &[Iv], v: &[Iv], order: &mut Vec<usize>) -> Iv {
    let k = r.len();
    debug_assert_eq!(v.len(), k);
    if v.iter().any(|x| x.is_nan()) {
        return Iv { lo: f64::NEG_INFINITY, hi: f64::INFINITY };
    }
    let free = 1.0 - r.iter().map(|x| x.lo).sum::<f64>();
    // Only weights with some room move the breakpoint; the others keep their lower bound (any μ
    // is admissible, so ignoring a capacity below 1e-15 only costs optimality, never rigour).
    order.clear();
    order.extend((0..k).filter(|&j| r[j].hi - r[j].lo > 1e-15 * free.abs()));
    let fallback = (0..k).max_by(|&a, &b| r[a].lo.total_cmp(&r[b].lo)).expect("k ≥ 1");
    let breakpoint = |order: &[usize], value: &dyn Fn(usize) -> f64| {
        let mut mass = free;
        for &j in order {
            mass -= r[j].hi - r[j].lo;
            if mass <= 0.0 {
                return value(j);
            }
        }
        value(order.last().copied().unwrap_or(fallback))
    };
    // Σ r_j v_j = μ + Σ r_j (v_j − μ), each term bounded at the end of r_j that the sign of the
    // (outward-rounded) difference selects.
    let hi = if v.iter().any(|x| x.hi == f64::INFINITY) {
        f64::INFINITY
    } else {
        order.sort_unstable_by(|&a, &b| v[b].hi.total_cmp(&v[a].hi).then(a.cmp(&b)));
        let mu = breakpoint(order, &|j| v[j].hi);
        let mut s = mu;
        for j in 0..k {
            if r[j].hi == 0.0 {
                continue;
            }
            let t = up(v[j].hi - mu);
            let term = if t >= 0.0 { up(times(r[j].hi, t)) } else { up(times(r[j].lo, t)) };
            s = up(s + term);
        }
        s
    };
    let lo = if v.iter().any(|x| x.lo == f64::NEG_INFINITY) {
        f64::NEG_INFINITY
    } else {
        order.sort_unstable_by(|&a, &b| v[a].lo.total_cmp(&v[b].lo).then(a.cmp(&b)));
        let mu = breakpoint(order, &|j| v[j].lo);
        let mut s = mu;
        for j in 0..k {
            if r[j].hi == 0.0 {
                continue;
            }
            let t = dn(v[j].lo - mu);
            let term = if t <= 0.0 { dn(times(r[j].hi, t)) } else { dn(times(r[j].lo, t)) };
            s = dn(s + term);
        }
        s
    };
    Iv { lo, hi }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_encloses_exact_rationals() {
        // 0.1 + 0.2 is not 0.3 in f64; the interval must contain the exact sum of the two f64
        // inputs, which lies strictly between the neighbours of the rounded result.
        let s = Iv::point(0.1).add(Iv::point(0.2));
        assert!(s.lo < 0.1 + 0.2 && s.hi > 0.1 + 0.2);
        let p = Iv { lo: -2.0, hi: 3.0 }.mul(Iv { lo: -1.0, hi: 5.0 });
        assert!(p.lo <= -10.0 && p.hi >= 15.0 && p.lo > -10.0001 && p.hi < 15.0001);
        assert!(Iv { lo: 0.0, hi: 0.0 }.mul(Iv { lo: f64::NEG_INFINITY, hi: f64::INFINITY }).mag() <= 5e-324);
        let q = Iv { lo: -2.0, hi: 1.0 }.sqr();
        assert!(q.lo == 0.0 && q.hi >= 4.0);
        let c = Iv { lo: -2.0, hi: 3.0 }.cube();
        assert!(c.lo <= -8.0 && c.hi >= 27.0);
    }

    #[test]
    fn weighted_range_is_the_linear_programme_optimum() {
        // Three weights in [0.1, 0.6] summing to one, values 1, 2, 3: the maximum puts 0.6 on 3,
        // 0.3 on 2, 0.1 on 1 → 2.5; the minimum mirrors it → 1.5 (hand-solved LP).
        let r = vec![Iv { lo: 0.1, hi: 0.6 }; 3];
        let v: Vec<Iv> = [1.0, 2.0, 3.0].into_iter().map(Iv::point).collect();
        let w = weighted_range(&r, &v, &mut Vec::new());
        assert!(w.lo <= 1.5 && w.lo > 1.5 - 1e-14 && w.hi >= 2.5 && w.hi < 2.5 + 1e-14, "{w:?}");
    }
}
