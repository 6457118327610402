"""The engine's read side: plain functions taking a Session."""
