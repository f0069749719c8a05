"""MWAA environments: inventory, health, and (later) schedules and hibernation."""
