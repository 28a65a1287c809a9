"""Spiking networks: the graph IR and NIR import (graph.py), the numpy reference
simulator (refsim.py) and spike encoders (encoding.py)."""
