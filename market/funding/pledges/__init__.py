"""Pledges to projects, needs and funds, their life cycle, and the payments that settle them."""
