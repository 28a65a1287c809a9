"""Checkers written independently of the models they check."""
