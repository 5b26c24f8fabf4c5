"""Benchmarks: `make bench-kb` and `make bench-nlu` print measured figures."""
