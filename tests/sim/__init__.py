"""The deterministic cluster simulator (DESIGN §7.3): full nodes (the real Raft core and the
real engine) in one process, a faulty network, crashes that lose unsynced writes, clock
drift and retrying clients, all driven by one seed. ``simulation.run_history(seed)`` runs
one history; ``scripts/simulate.py`` runs sweeps."""
