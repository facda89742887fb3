"""Paying online: the payment service behind one small interface, and what its events do."""
