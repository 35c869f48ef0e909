"""incident-tui: the war room in a terminal."""

__version__ = "0.1.0"
