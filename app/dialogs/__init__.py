"""Dialogs (settings)."""
