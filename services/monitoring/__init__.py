"""The monitoring runbook as plan steps (see services/monitoring_setup.py for the plan builder)."""
