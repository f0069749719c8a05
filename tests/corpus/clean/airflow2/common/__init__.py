"""Helpers shared by the DAGs of this folder."""
