use thiserror::Error;

/// Errors raised by processes, chains and grids.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ProcessError {
    /// A parameter is NaN, infinite, or outside its admissible range.
    #[error("invalid parameter `{name}` = {value}: {reason}")]
    InvalidParameter {
        /// Parameter name, as in the docs.
        name: &'static str,
        /// The offending value.
        value: f64,
        /// What the admissible range is.
        reason: &'static str,
    },
    /// A time outside the process horizon `[0, T]` (from [`crate::GaussianPath::at`]), or
    /// outside the times where the process is defined (from
    /// [`crate::GaussianPath::coefficients`], `horizon` = `defined_until()`).
    #[error("time t = {t} is outside [0, T] = [0, {horizon}]")]
    TimeOutOfRange {
        /// The requested time.
        t: f64,
        /// The horizon `T` (or the end of the domain of definition).
        horizon: f64,
    },
    /// A discrete chain or a grid that is empty or otherwise ill-formed.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// The object that is ill-formed.
        what: &'static str,
        /// Why.
        reason: String,
    },
}

impl From<crate::InvalidParameter> for ProcessError {
    fn from(e: crate::InvalidParameter) -> Self {
        ProcessError::InvalidParameter { name: e.name, value: e.value, reason: e.reason }
    }
}

/// [`crate::check_parameter`] with this crate's error.
pub(crate) fn check(name: &'static str, value: f64, ok: impl Fn(f64) -> bool, reason: &'static str) -> Result<f64, ProcessError> {
    Ok(crate::check_parameter(name, value, ok, reason)?)
}

/// An empty vector with room for `steps + extra` values, or [`ProcessError::Invalid`] when that
/// cannot be allocated (`steps = usize::MAX`, say), instead of a capacity-overflow panic.
pub(crate) fn room_for_steps(steps: usize, extra: usize) -> Result<Vec<f64>, ProcessError> {
    let mut v = Vec::new();
    match steps.checked_add(extra) {
        Some(len) if v.try_reserve_exact(len).is_ok() => Ok(v),
        _ => {
            Err(ProcessError::Invalid { what: "number of steps", reason: format!("{steps} steps need more memory than can be allocated") })
        }
    }
}
