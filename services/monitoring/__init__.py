"""The monitoring runbook as plan steps (see services/monitoring/plan.py for the plan builder)."""
