"""The ``mwaa-cp`` command line."""
