"""mwaa-control-plane: an event-driven serverless control plane for Amazon MWAA."""

__version__ = "0.1.0"
