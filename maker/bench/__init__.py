"""Offline workloads: the scripted demo oracle and the benchmarks built on it."""
