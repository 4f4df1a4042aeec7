"""Long calls release the GIL: another Python thread keeps running while gmdiff samples or scores.
With the GIL held, the main thread could not tick at all between the worker's start and end."""

import threading
import time

import numpy as np

import gmdiff


def ticks_during(call):
    started, done, ticks = threading.Event(), threading.Event(), [0]

    def work():
        started.set()
        call()
        done.set()

    t = threading.Thread(target=work)
    t.start()
    started.wait()
    t0 = time.perf_counter()
    while not done.is_set():
        ticks[0] += 1
        time.sleep(0.0005)
    t.join()
    return ticks[0], time.perf_counter() - t0


def test_sample_releases_the_gil():
    m = gmdiff.GaussianMixture([0.5, 0.5], [[0.0, 0.0], [2.0, 1.0]], [1.0, 0.5])
    ticks, seconds = ticks_during(lambda: gmdiff.sample(m, sampler="heun", steps=40, n=200_000, seed=1))
    assert seconds > 0.05, "the call was too short to tell"
    assert ticks >= 10, f"only {ticks} ticks of the main thread in {seconds:.3f} s: the GIL was held"


def test_score_releases_the_gil():
    rng = np.random.default_rng(0)
    m = gmdiff.GaussianMixture(np.full(8, 1 / 8), rng.normal(size=(8, 16)), np.ones(8))
    x = rng.normal(size=(200_000, 16))
    ticks, seconds = ticks_during(lambda: [m.score(x) for _ in range(3)])
    assert seconds > 0.05, "the call was too short to tell"
    assert ticks >= 10, f"only {ticks} ticks of the main thread in {seconds:.3f} s: the GIL was held"
