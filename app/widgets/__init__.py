"""Small reusable widgets (legend, start page, task status)."""
