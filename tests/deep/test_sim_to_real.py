"""Sim-to-real at test size: a CNN trained on simulated ZTF-like triplets scores real alerts.

``benchmarks/bench_sim_to_real.py`` is the full-size check (>= 90% of the drb > 0.5
alerts scored Real); here a small braai-vgg6 trains briefly, so the bar is lower.
"""

import numpy as np
import pytest
from formats import SHARED_DATA

from benchmark.simulate.transfer import sim_to_real

ZTF = SHARED_DATA / "ztf_alerts"


@pytest.mark.slow
@pytest.mark.skipif(not ZTF.is_dir(), reason="../shared/data/ztf_alerts is not present")
def test_cnn_trained_on_simulated_triplets_calls_real_alerts_real():
    result = sim_to_real(ZTF, n=3000, params={"epochs": 6}, seed=0)
    assert len(result.scores) == 67 and np.isfinite(result.scores).all()
    assert ((result.scores >= 0) & (result.scores <= 1)).all()
    assert result.val_auc > 0.85  # it learnt the simulated task
    assert result.real_by_drb.sum() == 64
    # most alerts ZTF's own deep score calls real look real to it too
    assert result.recovered >= 0.7
    assert "scored Real" in result.summary()
