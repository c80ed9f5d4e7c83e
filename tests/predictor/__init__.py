"""Tests of the degradation predictor."""
