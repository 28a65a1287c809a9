"""Design-space exploration: sweeps over platform parameters (sweep.py)."""
