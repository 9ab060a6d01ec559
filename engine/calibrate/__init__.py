"""Calibration of the engine's parameters and initial state from real data."""
