"""Battery degradation predictor: NASA PCoE loaders, features, baselines and an LSTM."""
