"""Cluster status: the snapshot model, the gather (service.py: one typed task per part, deadlines, the one
last-good cache), the poll loop (poll.py), verdicts and events derived from snapshots, and the headless
renderings (render_json.py, render_text.py)."""
