"""Scoring against ground truth and the paper's metrics."""
