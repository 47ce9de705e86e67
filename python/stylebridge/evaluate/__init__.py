"""Measuring models: fidelity against a reference output (more measures in later issues)."""
