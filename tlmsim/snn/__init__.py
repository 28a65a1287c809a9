"""Spiking networks: the graph IR and NIR import (graph.py), the numpy reference
simulator (refsim.py), spike encoders (encoding.py) and the mapping of a graph to
tlmsim workload layers with their recorded spikes (to_workload.py)."""
