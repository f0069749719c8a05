"""Unit tests of the off-hours domain core (tag grammar, decisions, DST)."""
