"""Receipts (收据) for confirmed payments: a page and a PDF."""
