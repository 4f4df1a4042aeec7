"""Shared fixtures of the gmdiff Python tests."""

import numpy as np
import pytest

import gmdiff


@pytest.fixture
def mix2():
    """A 2-D, 2-component mixture with full covariances (the crate docs' example)."""
    w = np.array([0.3, 0.7])
    mu = np.array([[0.0, 0.0], [3.0, 1.0]])
    cov = np.array([[[1.0, 0.2], [0.2, 0.5]], [[2.0, 0.0], [0.0, 1.0]]])
    return gmdiff.GaussianMixture(w, mu, cov), (w, mu, cov)


def vp_coefficients(t, beta_min=0.1, beta_max=20.0):
    """(a_t, b_t) of VP linear in closed form: a = exp(-B/2), B = beta_min t + (beta_max - beta_min) t^2 / 2, b = sqrt(1 - a^2)."""
    big_b = beta_min * t + 0.5 * (beta_max - beta_min) * t * t
    a = np.exp(-0.5 * big_b)
    return a, np.sqrt(-np.expm1(-big_b))
