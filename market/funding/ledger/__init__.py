"""The double-entry ledger, in integer fen, and the payments to providers it books."""
