"""Delivery: what happens once a contract is signed — its milestones accepted by the buyer, each
in its order and behind its gates (due date, a passed evaluation), and funding asked to pay the
provider for a payment milestone. The contract page, which shows all of it, is composed here."""
