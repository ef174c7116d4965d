"""Benchmarks: `attune bench pipeline` measures raw JetStream and the execution pipeline."""
