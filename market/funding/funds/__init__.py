"""Funds (基金) and their matching rounds (配捐): rules, the arithmetic of matching, charts, pages."""
