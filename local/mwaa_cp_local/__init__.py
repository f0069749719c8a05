"""Offline stand-ins for the AWS services the control plane drives (moto plugins and helpers)."""
