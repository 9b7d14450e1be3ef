"""Built-in modules: client sessions, reference data, and a counter for benchmarks."""
