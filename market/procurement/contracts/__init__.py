"""Contracts: prepared from an award, their milestones set by the buyer, signed by both parties,
printed as a PDF. Accepting the milestones of a signed contract is delivery's (market.delivery)."""
