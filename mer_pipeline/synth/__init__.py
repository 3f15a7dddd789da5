"""The embedded synthetic dataset: CASME II layout, known classes, timings and displacements."""
