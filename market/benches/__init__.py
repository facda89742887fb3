"""Benchmarks that drive the whole product (`market bench fair`); they sit above the demo, which
they load."""
