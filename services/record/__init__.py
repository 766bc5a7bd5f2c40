"""Record, replay and bundle: the console's snapshots, events and evidence kept on disk (issue 13)."""
