"""The HA setup runbook as a plan: params, the steps per runbook section, the plan and the headless CLI."""
