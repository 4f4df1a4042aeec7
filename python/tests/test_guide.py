"""gmdiff.guide against independent routes: the confidence is the mean posterior of the class
computed from GaussianMixture.responsibilities; with one class guidance does nothing, so the exact
(map-route) entropy equals the Gaussian entropy of output_law's covariance; guidance raises the
confidence (Wu et al.)."""

import numpy as np
import pytest
from scipy.stats import multivariate_normal

import gmdiff


@pytest.fixture
def two_classes():
    return gmdiff.GaussianMixture([0.5, 0.5], [[-1.5, 0.0], [1.5, 0.0]], [0.5, 0.5])


def test_confidence_is_the_mean_posterior(two_classes):
    r = gmdiff.guide(two_classes, class_=1, strength=2.0, sampler="ddim", steps=30, n=500, seed=3)
    post = two_classes.responsibilities(r["samples"])[:, 1]
    assert r["confidence"] == pytest.approx(post.mean(), rel=1e-12)
    assert r["confidence_stderr"] == pytest.approx(post.std(ddof=1) / np.sqrt(len(post)), rel=1e-9)
    assert r["entropy_route"] == "map"


def test_guidance_raises_confidence(two_classes):
    c0 = gmdiff.guide(two_classes, class_=1, strength=0.0, sampler="ddim", steps=30, n=2000, seed=1)
    c4 = gmdiff.guide(two_classes, class_=1, strength=4.0, sampler="ddim", steps=30, n=2000, seed=1)
    assert c4["confidence"] - c0["confidence"] > 5 * np.hypot(c4["confidence_stderr"], c0["confidence_stderr"])
    cfg = gmdiff.guide(two_classes, class_=1, strength=4.0, sampler="ddim", steps=30, n=2000, seed=1, guidance="cfg")
    assert cfg["confidence"] > c0["confidence"]


def test_one_class_entropy_is_the_exact_law_entropy():
    """One Gaussian component = one class: the guided field is the score; DDIM (eta = 0) on the OU path with T = 5
    (guide's default) maps N(0, I) linearly, so the entropy is that of output_law's Gaussian."""
    mean, cov = np.array([0.5, -0.5]), np.array([[1.0, 0.3], [0.3, 0.6]])
    m = gmdiff.GaussianMixture([1.0], [mean], [cov])
    r = gmdiff.guide(m, class_=0, strength=3.0, sampler="ddim", steps=20, n=400, seed=2)
    _, c = gmdiff.output_law(mean, cov, sampler="ddim", steps=20, path=gmdiff.Path("ou", horizon=5.0), eps=1e-3)
    h = multivariate_normal(mean, c).entropy()
    # The route's entropy is the Monte Carlo mean of -log p_out(x_i) (exact densities): within 5 standard errors.
    assert abs(r["entropy"] - h) < 5 * r["entropy_stderr"]
