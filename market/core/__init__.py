"""The core: what every domain stands on and which knows none of them (web, errors, database,
settings, languages, money, validation, access, clock, workflow, forms, views). Domains register
with the app factory through `market.core.domain.Domain`."""
