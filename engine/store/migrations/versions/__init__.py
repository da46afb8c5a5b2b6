"""One module per schema revision; each keeps its own copy of the table definitions."""
