"""Benchmarks and the load test: `make bench`, `make load` (see bench/README.md)."""
