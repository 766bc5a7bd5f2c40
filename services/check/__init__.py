"""`db2ops check`: a read-only audit of one cluster across layers (Db2 configuration, Pacemaker, AWS).

finding.py holds the Finding shape; pacemaker_config.py reads `crm configure show`; hadr_timing.py and
overlay_rules.py hold the rules (pure functions); service.py reads the hosts and runs the rules;
cli.py prints the report for the headless command. No Textual here.
"""
