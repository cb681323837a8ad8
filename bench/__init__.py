"""Benchmarks: request counts against the minimum possible, speed against the rate-limit floor.

Figures are ratios (to the floor, to the minimum, or between dialects), never bare seconds
alone: the machines are shared and noisy. ``python -m bench [NAME ...]`` runs them.
"""
