"""The incident timeline of a cluster (model.py) and what feeds it besides status events (sources.py:
db2diag records of interest and alarm history, read incrementally)."""
