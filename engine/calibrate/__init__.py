"""Calibration of the engine's parameters and initial state from real data."""

CURVE_LEVELS = ("local", "fixed")  # the curve's level: a local level (curve_level.py), or one α
