"""Small experiment configurations the runner, Dask and sweep tests share."""

#: A tiny real/bogus experiment: 600 simulated stamps, two feature sets, three methods.
SMALL = """
name = "small"
description = "tiny real/bogus run"
published = "du-buisson-2015"

[dataset]
source = "sim-sdss-sn"
scheme = "binary"
[dataset.params]
n = 600
seed = 1

[features]
handcrafted = {}
pca = { n_components = 5 }

[methods]
logreg = {}
nb = {}
decision-tree = {}

[run]
n_candidates = 0
n_bootstrap = 50
"""
