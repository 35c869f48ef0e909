"""The incident model: events, the fold, the command language. No I/O frameworks here."""
