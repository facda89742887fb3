"""Rectification (整改): findings become items with an owner, a deadline and the evidence required."""
