"""Characterisation benches of single components (``tlmsim bench ...``)."""
