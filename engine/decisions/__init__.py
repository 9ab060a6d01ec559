"""Decision tools on common random numbers: pace sweeps, the required pace, sensitivities.

Every tool runs several variants of one config on the same paths and seed, so the variants see
the same shocks and their differences carry far less Monte Carlo noise than their levels.
"""
