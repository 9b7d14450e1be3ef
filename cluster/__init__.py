"""Cluster: the log store, single-node runtime, tools and CLI (Raft in later issues)."""
