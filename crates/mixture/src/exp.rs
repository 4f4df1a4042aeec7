//! `eˣ` over a slice, vectorised: the mixture's logsumexp spends most of its time here.
//!
//! The algorithm is fdlibm's `e_exp.c` (Sun Microsystems, 1993; the same as musl's and FreeBSD's
//! `exp`), written branch-free so that the compiler vectorises the loop:
//!
//! 1. `k = round(x / ln 2)` (by the `1.5·2⁵²` shifter), `hi = x − k·ln2_hi`, `lo = k·ln2_lo`,
//!    `r = hi − lo`, with `|r| ≤ ln 2 / 2` (Cody–Waite: `k·ln2_hi` is exact).
//! 2. `c = r − t(P₁ + t(P₂ + t(P₃ + t(P₄ + t P₅))))` with `t = r²` (a Remez fit of
//!    `r (eʳ + 1)/(eʳ − 1)` to degree 10, error below 2⁻⁵⁹), and
//!    `eʳ = 1 − ((lo − r c / (2 − c)) − hi)`.
//! 3. `eˣ = eʳ · 2^⌊k/2⌋ · 2^(k − ⌊k/2⌋)`: two exact scalings, so that a subnormal result is rounded
//!    once.
//!
//! Its error is below 1 ulp (fdlibm's bound), tested against the platform's `exp` on 1.55 million
//! arguments and the edge cases. It uses only IEEE additions, multiplications and one division,
//! never a fused multiply–add, so the result is bit-identical whichever instruction set
//! [`pulp::Arch`] selects at run time (AVX-512, AVX2 or scalar) and on any CPU: it differs from the
//! platform's `exp` (glibc's rounds almost correctly) in the last bit of about 8.5 % of
//! arguments.
//!
//! Why not a crate: `wide`'s `f64x4::exp` picks its instructions at compile time (`cfg`
//! `target_feature`: SSE2 in a portable build), with no run-time dispatch, and `sleef` needs
//! nightly Rust (`portable_simd`).

/// `1.5 · 2⁵²`: adding it rounds to an integer held in the low mantissa bits.
const SHIFTER: f64 = 6_755_399_441_055_744.0;
const INV_LN2: f64 = std::f64::consts::LOG2_E;
// fdlibm's constants, by their bit patterns (as e_exp.c gives them).
/// `ln 2` split so that `k · LN2_HI` is exact for `|k| < 2²¹` (its low 21 bits are zero).
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
const P1: f64 = f64::from_bits(0x3fc5_5555_5555_553e);
const P2: f64 = f64::from_bits(0xbf66_c16c_16be_bd93);
const P3: f64 = f64::from_bits(0x3f11_566a_af25_de2c);
const P4: f64 = f64::from_bits(0xbebb_bd41_c5d2_6bf1);
const P5: f64 = f64::from_bits(0x3e66_3769_72be_a4d0);
/// Below this `eˣ` is 0 in f64 (it rounds to zero below about −745.133).
const EXP_ZERO_BELOW: f64 = -745.2;
/// Above this `eˣ` overflows to `+∞` (`ln(f64::MAX) ≈ 709.7827`).
const EXP_INF_ABOVE: f64 = 709.782_712_893_384;

/// Replaces every `x` in `values` by `eˣ` (error below 1 ulp; `−∞ ↦ 0`, `+∞ ↦ +∞`, NaN stays NaN;
/// 0 below −745.2 and `+∞` above 709.7827, where the exact value rounds to them).
///
/// Bit-identical on every CPU and instruction set (see the module docs), vectorised with AVX-512 or AVX2 where
/// the CPU has it.
///
/// ```
/// let mut v = [0.0, -1.0, f64::NEG_INFINITY, -800.0];
/// gmdiff_mixture::exp_in_place(&mut v);
/// assert_eq!(v[0], 1.0);
/// assert!((v[1] - (-1.0f64).exp()).abs() <= f64::EPSILON * v[1]);
/// assert_eq!(&v[2..], &[0.0, 0.0]);
/// ```
pub fn exp_in_place(values: &mut [f64]) {
    pulp::Arch::new().dispatch(
        #[inline(always)]
        || {
            for v in values.iter_mut() {
                *v = exp(*v);
            }
        },
    );
}

/// One `eˣ`, exactly as [`exp_in_place`] computes it (same bits), branch-free so that it
/// vectorises inside a caller's own loop compiled for AVX2 or AVX-512 (the selects become
/// blends); always inlined, so it takes the caller's instruction set.
///
/// ```
/// assert_eq!(gmdiff_mixture::exp(0.0), 1.0);
/// assert_eq!(gmdiff_mixture::exp(f64::NEG_INFINITY), 0.0);
/// ```
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    let xc = x.clamp(-746.0, 710.0);
    let t = xc * INV_LN2 + SHIFTER;
    let kf = t - SHIFTER;
    // `t`'s mantissa holds 2⁵¹ + k; `k + 2048` is positive, so the halving is a logical shift.
    let kb = t.to_bits().wrapping_sub(SHIFTER.to_bits()).wrapping_add(2048);
    let k1 = kb >> 1;
    let k2 = kb - k1;
    let s1 = f64::from_bits((k1 - 1) << 52);
    let s2 = f64::from_bits((k2 - 1) << 52);
    let hi = xc - kf * LN2_HI;
    let lo = kf * LN2_LO;
    let r = hi - lo;
    let r2 = r * r;
    let c = r - r2 * (P1 + r2 * (P2 + r2 * (P3 + r2 * (P4 + r2 * P5))));
    let er = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);
    let y = er * s1 * s2;
    let y = if x < EXP_ZERO_BELOW { 0.0 } else { y };
    let y = if x > EXP_INF_ABOVE { f64::INFINITY } else { y };
    if x.is_nan() { x } else { y }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// The distance in units in the last place between two finite non-negative doubles.
    fn ulps(a: f64, b: f64) -> u64 {
        a.to_bits().abs_diff(b.to_bits())
    }

    fn ours(x: f64) -> f64 {
        let mut v = [x];
        exp_in_place(&mut v);
        v[0]
    }

    #[test]
    fn within_one_ulp_of_the_platform_exp_on_a_million_arguments() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut xs: Vec<f64> = (0..1_000_000).map(|_| rng.random_range(-745.1..709.7)).collect();
        xs.extend((0..200_000).map(|_| rng.random_range(-1.0..1.0)));
        xs.extend((0..100_000).map(|_| rng.random_range(-1e-6..1e-6)));
        // Log-uniform over [−708, −1e−12] (the MMD kernel's arguments).
        xs.extend((0..200_000).map(|i| -(10f64).powf(-12.0 + 14.85 * f64::from(i) / 200_000.0)));
        // Subnormal results: libm and fdlibm both round once here.
        xs.extend((0..50_000).map(|_| rng.random_range(-745.0..-708.0)));
        let mut ys = xs.clone();
        exp_in_place(&mut ys);
        let (mut worst, mut differ) = (0, 0usize);
        for (&x, &y) in xs.iter().zip(&ys) {
            let e = ulps(y, x.exp());
            worst = worst.max(e);
            differ += usize::from(e != 0);
        }
        assert!(worst <= 1, "worst error {worst} ulp");
        // fdlibm is not correctly rounded, glibc almost is: about 8.5 % of these last bits differ.
        assert!(differ * 10 < xs.len(), "{differ} of {} differ from the platform exp", xs.len());
    }

    #[test]
    fn edge_cases() {
        assert_eq!(ours(0.0), 1.0);
        assert_eq!(ours(-0.0), 1.0);
        // fdlibm's e¹ is 1 ulp above the correctly rounded e.
        assert_eq!(ulps(ours(1.0), std::f64::consts::E), 1);
        assert_eq!(ours(f64::NEG_INFINITY), 0.0);
        assert_eq!(ours(-745.3), 0.0);
        assert_eq!(ours(-1e300), 0.0);
        assert_eq!(ours(f64::INFINITY), f64::INFINITY);
        assert_eq!(ours(709.8), f64::INFINITY);
        assert!(ours(f64::NAN).is_nan());
        // The largest finite result and the smallest subnormal one.
        assert_eq!(ours(709.78), 709.78f64.exp());
        assert!(ulps(ours(-745.0), (-745.0f64).exp()) <= 1 && ours(-745.0) > 0.0);
        assert_eq!(ours(-744.44), f64::from_bits(1));
        // Exact powers of two: k·ln 2 reduces to r = 0 only approximately, yet the result rounds right.
        for k in [-1000i32, -500, -1, 1, 100, 1000] {
            let x = f64::from(k) * std::f64::consts::LN_2;
            assert!(ulps(ours(x), x.exp()) <= 1, "k = {k}");
        }
    }

    #[test]
    fn the_vector_and_scalar_paths_agree_bit_for_bit() {
        // A slice long enough to use the vector loop and its scalar remainder.
        let xs: Vec<f64> = (0..1003).map(|i| -745.0 + 1.45 * f64::from(i)).collect();
        let mut v = xs.clone();
        exp_in_place(&mut v);
        for (&x, &y) in xs.iter().zip(&v) {
            assert_eq!(y.to_bits(), exp(x).to_bits(), "x = {x}");
        }
    }
}
