"""Buyers as the providers and residents see them: providers' ratings of the buyer, and the buyer
scorecards of each district, street and community."""
