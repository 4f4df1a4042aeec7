//! What a network predicts, and the one place that converts between the kinds.
//!
//! On a Gaussian path `x = a x₀ + b ε` (coefficients [`Coefficients`] at `t`), a model's output is
//! one of ([`Prediction`], named after diffusers' `prediction_type`):
//!
//! | kind | value | source |
//! |---|---|---|
//! | [`Prediction::Score`] | `s = ∇ log p_t(x) = −ε/b` | Song et al. 2021 |
//! | [`Prediction::Epsilon`] | `ε` | Ho et al. 2020 |
//! | [`Prediction::Sample`] | `x₀` | diffusers `"sample"` |
//! | [`Prediction::VPrediction`] | `v = a ε − b x₀` | Salimans and Ho 2022, §4 and App. D (`α = a`, `σ = b`) |
//! | [`Prediction::Velocity`] | `u = da/dt x₀ + db/dt ε`, the time derivative of the path; `ε − x₀` on flow | Lipman et al. 2023; Liu et al. 2023 |
//!
//! For a trained network the values are posterior means given `x` (Tweedie: `s = −E[ε | x]/b`), and
//! the conversions are the same maps. Every conversion is affine in `(x, value)`, so
//! [`Conversion`] computes its two coefficients once per time and applies them to scalars or slices
//! without allocating. `v` is Salimans–Ho's only on VP paths (`a² + b² = 1`), where
//! `x₀ = a x − b v` and `ε = b x + a v`; on other paths the same formula `v = a ε − b x₀` is used and
//! inverted with `a² + b²`.
//!
//! Where a conversion is undefined it is a [`PredictionError`], never a NaN:
//!
//! * `x₀` from `ε` or the score needs `a > 0` (at `a = 0`, `x = b ε` carries no `x₀`);
//! * `ε` from `x₀`, and the score at all, need `b > 0` (at `b = 0`, `x = a x₀` carries no `ε`);
//! * the velocity needs finite `da`, `db` (not on discrete chains) and, as a source,
//!   `D = a db − b da ≠ 0` (`D = 1` on flow; `D = β a/(2b)` on VP, infinite at `b = 0`).

use crate::process::Coefficients;
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// The kind of a model's output (diffusers' `prediction_type`, plus the score and the flow velocity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Prediction {
    /// The score `s = ∇_x log p_t(x) = −ε/b` (`"score"`).
    Score,
    /// The noise `ε` (`"epsilon"`).
    Epsilon,
    /// The clean sample `x₀` (`"sample"`).
    Sample,
    /// Salimans–Ho's `v = a ε − b x₀` (`"v_prediction"`).
    VPrediction,
    /// The flow velocity `u = dx/dt = da x₀ + db ε` (`"velocity"`; also read from `"flow"` and
    /// `"flow_prediction"`), `ε − x₀` on the flow path.
    Velocity,
}

impl Prediction {
    /// Every kind, in declaration order.
    pub const ALL: [Prediction; 5] =
        [Prediction::Score, Prediction::Epsilon, Prediction::Sample, Prediction::VPrediction, Prediction::Velocity];

    /// The canonical name: `score`, `epsilon`, `sample`, `v_prediction`, `velocity`.
    pub fn name(self) -> &'static str {
        match self {
            Prediction::Score => "score",
            Prediction::Epsilon => "epsilon",
            Prediction::Sample => "sample",
            Prediction::VPrediction => "v_prediction",
            Prediction::Velocity => "velocity",
        }
    }
}

impl fmt::Display for Prediction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Prediction {
    type Err = PredictionError;
    /// Reads the canonical names and the aliases `flow`, `flow_prediction` (velocity), `eps`,
    /// `x0` (sample), `v` (v-prediction).
    fn from_str(s: &str) -> Result<Self, PredictionError> {
        Ok(match s {
            "score" => Prediction::Score,
            "epsilon" | "eps" => Prediction::Epsilon,
            "sample" | "x0" => Prediction::Sample,
            "v_prediction" | "v" => Prediction::VPrediction,
            "velocity" | "flow" | "flow_prediction" => Prediction::Velocity,
            _ => return Err(PredictionError::UnknownKind(s.to_string())),
        })
    }
}

/// Why a conversion between prediction kinds is undefined.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum PredictionError {
    /// A name that is not a prediction kind.
    #[error("unknown prediction kind `{0}` (expected score, epsilon, sample, v_prediction or velocity)")]
    UnknownKind(String),
    /// The conversion is undefined at these coefficients.
    #[error("cannot convert a {from} prediction to {to} at t = {t}: {reason}")]
    Undefined {
        /// The source kind.
        from: Prediction,
        /// The target kind.
        to: Prediction,
        /// The time of the coefficients.
        t: f64,
        /// Why (which coefficient vanishes or is not finite).
        reason: &'static str,
    },
}

/// `x₀` or `ε` as `p x + q value`, or why it is undefined.
type Linear = Result<(f64, f64), &'static str>;

/// An affine conversion `out = p x + q value` from one prediction kind to another at one time.
///
/// ```
/// use gmdiff_process::{Conversion, Flow, GaussianPath, Prediction};
/// let c = Flow::default().at(0.25).unwrap(); // a = 0.75, b = 0.25
/// let (x0, eps) = (2.0, -1.0);
/// let x = c.a * x0 + c.b * eps;
/// let to_velocity = Conversion::new(Prediction::Sample, Prediction::Velocity, &c).unwrap();
/// assert!((to_velocity.apply(x, x0) - (eps - x0)).abs() < 1e-15);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Conversion {
    /// The coefficient of `x`.
    pub p: f64,
    /// The coefficient of the source value.
    pub q: f64,
}

impl Conversion {
    /// The conversion from `from` to `to` at coefficients `c`. `from == to` is the identity
    /// (`p = 0`, `q = 1`) at any coefficients.
    ///
    /// Errors: [`PredictionError::Undefined`] where the conversion does not exist (see the module
    /// docs) or a coefficient it needs is not finite.
    pub fn new(from: Prediction, to: Prediction, c: &Coefficients) -> Result<Self, PredictionError> {
        if from == to {
            return Ok(Self { p: 0.0, q: 1.0 });
        }
        let fail = |reason| PredictionError::Undefined { from, to, t: c.t, reason };
        let (a, b) = (c.a, c.b);
        if !(a.is_finite() && b.is_finite() && a >= 0.0 && b >= 0.0) {
            return Err(fail("a and b must be finite and ≥ 0"));
        }
        let (x0, eps) = source(from, c);
        // A target term with a zero weight does not need its factor (e.g. v = −b x₀ at a = 0).
        let term = |w: f64, lin: &Linear| -> Result<(f64, f64), &'static str> {
            if w == 0.0 {
                Ok((0.0, 0.0))
            } else if !w.is_finite() {
                Err("a time derivative da/dt or db/dt is not finite (a discrete chain, or db/dt at b = 0)")
            } else {
                let (p, q) = (*lin)?;
                Ok((w * p, w * q))
            }
        };
        let sum = |u: (f64, f64), v: (f64, f64)| (u.0 + v.0, u.1 + v.1);
        let (p, q) = match to {
            Prediction::Sample => x0,
            Prediction::Epsilon => eps,
            Prediction::Score => {
                if b > 0.0 {
                    eps.map(|(p, q)| (-p / b, -q / b))
                } else {
                    Err("the score needs b > 0")
                }
            }
            Prediction::VPrediction => term(a, &eps).and_then(|e| term(-b, &x0).map(|s| sum(e, s))),
            Prediction::Velocity => term(c.da, &x0).and_then(|s| term(c.db, &eps).map(|e| sum(s, e))),
        }
        .map_err(fail)?;
        if p.is_finite() && q.is_finite() { Ok(Self { p, q }) } else { Err(fail("a coefficient overflows")) }
    }

    /// `p x + q value`.
    #[inline]
    pub fn apply(&self, x: f64, value: f64) -> f64 {
        self.p * x + self.q * value
    }

    /// `out_i = p x_i + q value_i` over slices of equal length (panics otherwise, like a slice
    /// index).
    pub fn apply_slice(&self, x: &[f64], value: &[f64], out: &mut [f64]) {
        assert!(
            x.len() == out.len() && value.len() == out.len(),
            "apply_slice: lengths {}, {}, {} differ",
            x.len(),
            value.len(),
            out.len()
        );
        for ((o, &xi), &vi) in out.iter_mut().zip(x).zip(value) {
            *o = self.p * xi + self.q * vi;
        }
    }
}

/// `x₀` and `ε` as affine functions `p x + q value` of a `from` prediction.
fn source(from: Prediction, c: &Coefficients) -> (Linear, Linear) {
    let (a, b, da, db) = (c.a, c.b, c.da, c.db);
    let x0_from_eps_needs_a = "x₀ from ε or the score needs a > 0 (at a = 0, x = b ε carries no x₀)";
    let eps_needs_b = "ε from x₀ needs b > 0 (at b = 0, x = a x₀ carries no ε)";
    match from {
        Prediction::Sample => (Ok((0.0, 1.0)), if b > 0.0 { Ok((1.0 / b, -a / b)) } else { Err(eps_needs_b) }),
        Prediction::Epsilon => (if a > 0.0 { Ok((1.0 / a, -b / a)) } else { Err(x0_from_eps_needs_a) }, Ok((0.0, 1.0))),
        Prediction::Score => {
            if b > 0.0 {
                // ε = −b s, x₀ = (x − b ε)/a = (x + b² s)/a.
                (if a > 0.0 { Ok((1.0 / a, b * b / a)) } else { Err(x0_from_eps_needs_a) }, Ok((0.0, -b)))
            } else {
                let e = "the score is not defined at b = 0";
                (Err(e), Err(e))
            }
        }
        Prediction::VPrediction => {
            // x = a x₀ + b ε, v = a ε − b x₀: a rotation scaled by n = a² + b² > 0.
            let n = a * a + b * b;
            if n > 0.0 && n.is_finite() {
                (Ok((a / n, -b / n)), Ok((b / n, a / n)))
            } else {
                let e = "a² + b² must be finite and > 0";
                (Err(e), Err(e))
            }
        }
        Prediction::Velocity => {
            // x = a x₀ + b ε, u = da x₀ + db ε: solvable when D = a db − b da ≠ 0.
            let d = a * db - b * da;
            if d != 0.0 && d.is_finite() && da.is_finite() && db.is_finite() {
                (Ok((db / d, -b / d)), Ok((-da / d, a / d)))
            } else {
                let e = "the velocity needs finite da, db and D = a db − b da ≠ 0";
                (Err(e), Err(e))
            }
        }
    }
}

/// `x₀` from a `kind` prediction `value` at `x`: [`Conversion::new`]`(kind, Sample, c)`.
pub fn to_x0(kind: Prediction, c: &Coefficients, x: f64, value: f64) -> Result<f64, PredictionError> {
    Ok(Conversion::new(kind, Prediction::Sample, c)?.apply(x, value))
}

/// The `kind` prediction that corresponds to `x₀` at `x`: [`Conversion::new`]`(Sample, kind, c)`.
pub fn from_x0(kind: Prediction, c: &Coefficients, x: f64, x0: f64) -> Result<f64, PredictionError> {
    Ok(Conversion::new(Prediction::Sample, kind, c)?.apply(x, x0))
}

/// A `from` prediction `value` at `x`, as a `to` prediction.
pub fn convert(from: Prediction, to: Prediction, c: &Coefficients, x: f64, value: f64) -> Result<f64, PredictionError> {
    Ok(Conversion::new(from, to, c)?.apply(x, value))
}
