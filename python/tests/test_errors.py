"""Every error path: the exception type (a ValueError subclass per Rust error type) and the Rust
message, word for word (the message formats are those of the crates' `#[error]` attributes and
the CLI's usage errors)."""

import re

import numpy as np
import pytest

import gmdiff

W, MU, COV = [0.5, 0.5], [[0.0, 0.0], [1.0, 1.0]], [1.0, 2.0]


def raises(cls, message):
    return pytest.raises(cls, match="^" + re.escape(message) + "$")


def test_hierarchy():
    for cls in (gmdiff.MixtureError, gmdiff.ProcessError, gmdiff.PredictionError, gmdiff.SolverError, gmdiff.MetricsError,
                gmdiff.GaussianError, gmdiff.GuidanceError, gmdiff.UsageError, gmdiff.ShapeError):
        assert issubclass(cls, gmdiff.GmdiffError) and issubclass(cls, ValueError)
    assert issubclass(gmdiff.InternalError, RuntimeError)


def test_mixture_errors():
    with raises(gmdiff.MixtureError, "weights sum to 0.9, not 1 (tolerance 1e-9)"):
        gmdiff.GaussianMixture([0.5, 0.4], MU, COV)
    with raises(gmdiff.MixtureError, "weight 0 is negative (-0.5)"):
        gmdiff.GaussianMixture([-0.5, 1.5], MU, COV)
    with raises(gmdiff.MixtureError, "covariance of component 1 is not positive semi-definite (smallest eigenvalue -1)"):
        gmdiff.GaussianMixture(W, MU, [[1.0, 1.0], [1.0, -1.0]])
    with raises(gmdiff.MixtureError, "covariance of component 0 is singular, so the law has no density (use t > 0 or a non-singular covariance)"):
        gmdiff.GaussianMixture(W, MU, [0.0, 1.0]).logpdf([[0.0, 0.0]])


def test_shape_errors():
    m = gmdiff.GaussianMixture(W, MU, COV)
    with raises(gmdiff.ShapeError, "x must have shape (n, d) = (any, 2), got [3, 3]"):
        m.score(np.zeros((3, 3)))
    with raises(gmdiff.ShapeError, "x must have shape (n, d) = (any, 2), got [2]"):
        m.logpdf(np.zeros(2))
    with raises(gmdiff.ShapeError, "means must have shape (k, d) = (2, any), got [3, 2]"):
        gmdiff.GaussianMixture(W, np.zeros((3, 2)), COV)
    with raises(gmdiff.ShapeError, "covariances must have shape (k, d, d) (full) = (2, 2, 2), got [2, 2, 3]"):
        gmdiff.GaussianMixture(W, MU, np.zeros((2, 2, 3)))
    with raises(gmdiff.ShapeError, "s1 must have shape (d, d) = (2, 2), got [3, 3]"):
        gmdiff.bures_w2([0.0, 0.0], np.eye(3), [0.0, 0.0], np.eye(2))


def test_process_and_prediction_errors():
    m = gmdiff.GaussianMixture(W, MU, COV)
    with raises(gmdiff.ProcessError, "time t = 1 is outside [0, T] = [0, 0.9946]"):
        m.diffuse("vp-cosine", 1.0)
    with raises(gmdiff.ProcessError, "invalid parameter `sigma_max` = -1: must be finite and > 0"):
        gmdiff.Path("edm", sigma_max=-1.0)
    with raises(gmdiff.UsageError, "--beta-min/--beta-max apply only to --process vp and sub-vp, not edm"):
        gmdiff.Path("edm", beta_min=0.2)
    with raises(gmdiff.UsageError, "unknown path `vq`: expected one of vp, vp-cosine, ou, sub-vp, ve, edm, flow"):
        gmdiff.Path("vq")
    with raises(gmdiff.PredictionError, "cannot convert a score prediction to sample at t = 1: x₀ from ε or the score needs a > 0 (at a = 0, x = b ε carries no x₀)"):
        m.predict([[0.0, 0.0]], "flow", 1.0, "x0")
    with raises(gmdiff.PredictionError, "unknown prediction kind `z` (expected score, epsilon, sample, v_prediction or velocity)"):
        m.predict([[0.0, 0.0]], "vp", 0.5, "z")


def test_sampler_usage_errors():
    m = gmdiff.GaussianMixture(W, MU, COV)
    with pytest.raises(gmdiff.UsageError, match="^unknown sampler `ddimm`: expected one of em, "):
        gmdiff.sample(m, sampler="ddimm", steps=5, n=3)
    with raises(gmdiff.UsageError, "--eta applies only to --sampler ddim, euler-a, dpm2-a, dpmpp2s-a, dpmpp-sde, dpmpp2m-sde and dpmpp3m-sde "
                                   "(the samplers with a stochasticity η), not heun"):
        gmdiff.sample(m, sampler="heun", steps=5, n=3, eta=0.5)
    with raises(gmdiff.UsageError, "--rho applies only to --grid karras and polyexponential, not uniform"):
        gmdiff.sample(m, sampler="ddim", steps=5, n=3, rho=3.0)
    with raises(gmdiff.UsageError, "steps is required for sampler ddim (the number of sampler steps)"):
        gmdiff.sample(m, sampler="ddim", n=3)
    with raises(gmdiff.UsageError, "unknown grid `karas`: expected one of uniform, karras, log-snr, quadratic, exponential, polyexponential"):
        gmdiff.sample(m, sampler="ddim", steps=5, n=3, grid="karas")
    with pytest.raises(TypeError, match="^sample\\(\\) got an unexpected keyword argument 'etta'"):
        gmdiff.sample(m, sampler="ddim", steps=5, n=3, etta=0.5)


def test_solver_errors():
    m = gmdiff.GaussianMixture(W, MU, COV)
    # Δ β(1) = (1 − 10⁻³)/10 · 20 (the uniform step from T = 1 to ε = 10⁻³, β_max = 20), up to the grid's rounding.
    with pytest.raises(gmdiff.SolverError) as e:
        gmdiff.sample(m, sampler="ddpm", steps=10, n=3)
    head, rate, tail = re.match(r"^(DDPM step 0 has rate β_k = )(\S+)( ∉ .*)$", str(e.value)).groups()
    assert float(rate) == pytest.approx((1.0 - 1e-3) / 10 * 20.0, rel=1e-14)
    assert tail == " ∉ (0, 1) (β_k = Δ·β(t_k) at t_k = 1): use more steps, a smaller β_max, or a discrete chain"


def test_metrics_errors():
    with raises(gmdiff.MetricsError, "`s1` is not positive semi-definite (smallest eigenvalue -1e0)"):
        gmdiff.bures_w2([0.0, 0.0], [[1.0, 0.0], [0.0, -1.0]], [0.0, 0.0], np.eye(2))


    with raises(gmdiff.MetricsError, "dimension mismatch for `q (dimension)`: expected 2, got 1"):
        gmdiff.mixture_kl(gmdiff.GaussianMixture(W, MU, COV), gmdiff.GaussianMixture([1.0], [[0.0]], [1.0]), samples=10)
    with raises(gmdiff.MetricsError, "`y` contains a non-finite value at index 0"):
        gmdiff.w2_exact([[0.0]], [[float("nan")]])


def test_non_finite_points():
    with raises(gmdiff.MixtureError, "non-finite value NaN in points (column 0)"):
        gmdiff.GaussianMixture(W, MU, COV).score([[float("nan"), 0.0]])


def test_gaussian_errors():
    with raises(gmdiff.GaussianError, "invalid parameter `covariance eigenvalue` = -1: covariance must be positive semi-definite"):
        gmdiff.gaussian_error([0.0, 0.0], [[1.0, 0.0], [0.0, -1.0]], sampler="ddim", steps=5)
    with raises(gmdiff.UsageError, "output_law gives the output law of a discrete sampler, not of the exact ode "
                                   "(its law is not exposed by the library)"):
        gmdiff.output_law([0.0, 0.0], np.eye(2), sampler="ode", steps=3)
    with raises(gmdiff.UsageError, "give spectrum=..., or mean=... and covariance=... (not both)"):
        gmdiff.gaussian_error([0.0, 0.0], sampler="ddim", steps=3)


def test_guidance_errors():
    m = gmdiff.GaussianMixture(W, MU, COV)
    with raises(gmdiff.GuidanceError, "class 5 is out of range: the model has 2 classes (0..2)"):
        gmdiff.guide(m, class_=5, strength=1.0, sampler="ddim", steps=5, n=10)
    with raises(gmdiff.GuidanceError, "invalid classes: component 0 is in classes 0 and 1"):
        gmdiff.guide(m, class_=0, strength=1.0, sampler="ddim", steps=5, n=10, classes=[[0], [0]])
    with raises(gmdiff.UsageError, "strength must be finite and ≥ 0, got -1"):
        gmdiff.guide(m, class_=0, strength=-1.0, sampler="ddim", steps=5, n=10)


def test_exact_sampler_refuses_steps():
    with raises(gmdiff.UsageError, "sampler 'exact' draws the target p_0 itself: steps, eps, init and path do not apply"):
        gmdiff.sample(gmdiff.GaussianMixture(W, MU, COV), sampler="exact", n=3, steps=4)


@pytest.mark.parametrize("on_worker", [False, True])
def test_panic_becomes_internal_error(on_worker):
    """A Rust panic (on the calling thread, or on a rayon worker) reaches Python as InternalError, never an abort."""
    with pytest.raises(gmdiff.InternalError, match="^internal error \\(please report\\): deliberate panic"):
        gmdiff._gmdiff._panic_for_test(on_worker)
