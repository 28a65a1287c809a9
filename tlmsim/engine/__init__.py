"""The simulation engine: transactions, components, statistics, traces, the runner."""
