"""scikit-learn baselines on Fashion-MNIST: the dataset repository's classifier grid, run on today's scikit-learn.

``python benchmark/runner.py --preset=quick`` runs jobs into JSON lines; ``python benchmark/summarize.py`` tables them.
"""
