from market.core.domain import Domain
from market.opendata.controllers import OcdsApi

DOMAIN = Domain("opendata", routes=[OcdsApi])
