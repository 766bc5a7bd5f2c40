"""The inventory: its YAML loader (loader.py), the typed model (model.py), the name rules every command
builder relies on (names.py), and the alias- and merge-bounded YAML reader it shares with settings.yaml."""
