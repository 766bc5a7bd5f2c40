"""Shared widgets of the console: header, panels, verdict banner, topology, events."""
