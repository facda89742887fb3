"""Funding: money from funders and governments to projects, and from projects to providers. Every
movement is a ledger entry in integer fen (ledger/); pledges and their payments (pledges/, with
online payments in payments/); funds and their matching rounds (funds/); the resources list
(resources/); receipts (receipts/)."""
