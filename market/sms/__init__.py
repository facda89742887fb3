"""Texts to phones behind one interface: the local outbox (the default) or a provider's HTTP API."""
