"""GaussianMixture against independent routes: scipy's multivariate normal, central finite
differences, the closure lemma in closed form, and moments of exact draws (CLT tolerances)."""

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

import gmdiff
from conftest import vp_coefficients


def scipy_logpdf(x, w, mu, cov):
    """log sum_i w_i N(x; mu_i, cov_i) by scipy (independent of gmdiff)."""
    comps = [np.log(wi) + multivariate_normal(m, c).logpdf(x) for wi, m, c in zip(w, mu, cov)]
    return logsumexp(np.stack(comps), axis=0)


def test_logpdf_matches_scipy(mix2):
    m, (w, mu, cov) = mix2
    x = np.random.default_rng(0).normal(size=(50, 2)) * 2
    np.testing.assert_allclose(m.logpdf(x), scipy_logpdf(x, w, mu, cov), rtol=1e-12, atol=1e-12)


def test_covariance_forms_agree():
    """Isotropic (k,), diagonal (k, d) and full (k, d, d) covariances of the same law give the same density."""
    mu = np.array([[0.0, 1.0], [2.0, -1.0]])
    x = np.random.default_rng(1).normal(size=(20, 2))
    iso = gmdiff.GaussianMixture([0.5, 0.5], mu, [2.0, 0.5])
    diag = gmdiff.GaussianMixture([0.5, 0.5], mu, [[2.0, 2.0], [0.5, 0.5]])
    full = gmdiff.GaussianMixture([0.5, 0.5], mu, [np.eye(2) * 2.0, np.eye(2) * 0.5])
    ref = scipy_logpdf(x, [0.5, 0.5], mu, [np.eye(2) * 2.0, np.eye(2) * 0.5])
    for m in (iso, diag, full):
        np.testing.assert_allclose(m.logpdf(x), ref, rtol=1e-12)
    np.testing.assert_array_equal(full.covariances, np.stack([np.eye(2) * 2.0, np.eye(2) * 0.5]))
    np.testing.assert_array_equal(full.means, mu)
    np.testing.assert_array_equal(full.weights, [0.5, 0.5])


def test_score_is_gradient_of_logpdf(mix2):
    """Central differences of logpdf, h = 1e-5: truncation O(h^2) ~ 1e-10, rounding ~ 1e-16/h ~ 1e-11."""
    m, _ = mix2
    x = np.random.default_rng(2).normal(size=(30, 2)) * 2
    h = 1e-5
    fd = np.stack([(m.logpdf(x + h * e) - m.logpdf(x - h * e)) / (2 * h) for e in np.eye(2)], axis=1)
    np.testing.assert_allclose(m.score(x), fd, rtol=1e-7, atol=1e-8)


def test_hessian_is_jacobian_of_score(mix2):
    m, _ = mix2
    x = np.random.default_rng(3).normal(size=(30, 2)) * 2
    h = 1e-5
    fd = np.stack([(m.score(x + h * e) - m.score(x - h * e)) / (2 * h) for e in np.eye(2)], axis=2)
    np.testing.assert_allclose(m.hessian(x), fd, rtol=1e-6, atol=1e-7)


def test_responsibilities_match_scipy(mix2):
    m, (w, mu, cov) = mix2
    x = np.random.default_rng(4).normal(size=(10, 2))
    comps = np.stack([np.log(wi) + multivariate_normal(a, c).logpdf(x) for wi, a, c in zip(w, mu, cov)], axis=1)
    np.testing.assert_allclose(m.responsibilities(x), np.exp(comps - logsumexp(comps, axis=1, keepdims=True)), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("t", [0.05, 0.5, 1.0])
def test_diffuse_is_the_closure_lemma(mix2, t):
    """p_t = sum w_i N(a mu_i, a^2 S_i + b^2 I), with (a, b) of VP linear in closed form."""
    m, (w, mu, cov) = mix2
    a, b = vp_coefficients(t)
    np.testing.assert_allclose(gmdiff.Path("vp").coefficients(t), (a, b), rtol=1e-14)
    pt = m.diffuse(gmdiff.Path("vp"), t)
    np.testing.assert_allclose(pt.means, a * mu, rtol=1e-14)
    np.testing.assert_allclose(pt.covariances, a * a * cov + b * b * np.eye(2), rtol=1e-14)
    x = np.random.default_rng(5).normal(size=(10, 2))
    np.testing.assert_allclose(pt.logpdf(x), scipy_logpdf(x, w, a * mu, a * a * cov + b * b * np.eye(2)), rtol=1e-12)


@pytest.mark.parametrize("kind,path,t", [("vp", {}, 0.3), ("sub-vp", {}, 0.3), ("ve", {}, 0.5), ("edm", {}, 2.0), ("flow", {}, 0.4),
                                        ("ou", {"horizon": 2.0}, 1.5), ("vp-cosine", {}, 0.5)])
def test_predictions_convert_the_score(mix2, kind, path, t):
    """eps = -b s, x0 = (x + b^2 s)/a (Tweedie), v = a eps - b x0, for every path."""
    m, _ = mix2
    p = gmdiff.Path(kind, **path)
    a, b = p.coefficients(t)
    x = np.random.default_rng(6).normal(size=(8, 2))
    s = m.diffuse(p, t).score(x)
    eps = -b * s
    x0 = (x + b * b * s) / a
    np.testing.assert_allclose(m.predict(x, p, t, "score"), s, rtol=1e-13)
    np.testing.assert_allclose(m.predict(x, p, t, "eps"), eps, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(m.predict(x, p, t, "x0"), x0, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(m.predict(x, kind, t, "v") if not path else m.predict(x, p, t, "v"), a * eps - b * x0, rtol=1e-11, atol=1e-12)


def test_flow_velocity_is_eps_minus_x0(mix2):
    """On flow (a = 1 - t, b = t) the velocity is eps - x0 (Lipman et al.; Liu et al.)."""
    m, _ = mix2
    x = np.random.default_rng(7).normal(size=(8, 2))
    eps, x0 = m.predict(x, "flow", 0.4, "eps"), m.predict(x, "flow", 0.4, "x0")
    np.testing.assert_allclose(m.predict(x, "flow", 0.4, "velocity"), eps - x0, rtol=1e-12, atol=1e-13)


def test_sample_moments(mix2):
    """Exact draws: the sample mean and covariance agree with sum w mu and sum w (S + mu mu^T) - m m^T within 5 standard errors."""
    m, (w, mu, cov) = mix2
    n = 200_000
    x = m.sample(n, seed=11)
    assert x.shape == (n, 2) and x.dtype == np.float64
    mean = w @ mu
    second = sum(wi * (c + np.outer(a, a)) for wi, a, c in zip(w, mu, cov))
    c_true = second - np.outer(mean, mean)
    np.testing.assert_array_less(np.abs(x.mean(0) - mean), 5 * np.sqrt(np.diag(c_true) / n))
    np.testing.assert_allclose(m.mean(), mean, rtol=1e-15)
    np.testing.assert_allclose(m.covariance(), c_true, rtol=1e-14)
    # Each covariance entry's variance is bounded by E[(x_i x_j)^2]/n; 5 sigma on that bound.
    fourth = np.mean(((x - mean)[:, :, None] * (x - mean)[:, None, :]) ** 2, axis=0)
    np.testing.assert_array_less(np.abs(np.cov(x.T) - c_true), 5 * np.sqrt(fourth / n))


def test_sample_is_seeded(mix2):
    m, _ = mix2
    np.testing.assert_array_equal(m.sample(100, seed=3), m.sample(100, seed=3))
    assert not np.array_equal(m.sample(100, seed=3), m.sample(100, seed=4))
    # Draw i depends on (seed, i) only: the first 10 of 100 are the 10 of a 10-draw call.
    np.testing.assert_array_equal(m.sample(100, seed=3)[:10], m.sample(10, seed=3))


def test_inputs_are_converted(mix2):
    """Lists, integer and Fortran-ordered arrays are read as float64; the result does not depend on the layout."""
    m, _ = mix2
    x = np.asfortranarray(np.random.default_rng(8).normal(size=(6, 2)))
    np.testing.assert_array_equal(m.score(x), m.score(np.ascontiguousarray(x)))
    np.testing.assert_array_equal(m.logpdf([[0, 1], [2, 3]]), m.logpdf(np.array([[0.0, 1.0], [2.0, 3.0]])))
    np.testing.assert_array_equal(m.score(x[::2]), m.score(np.ascontiguousarray(x[::2])))


def test_json_round_trip(mix2):
    m, _ = mix2
    again = gmdiff.GaussianMixture.from_json(m.to_json())
    x = np.random.default_rng(9).normal(size=(5, 2))
    np.testing.assert_array_equal(again.logpdf(x), m.logpdf(x))
