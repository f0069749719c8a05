"""Tests of the static DAG validator."""
