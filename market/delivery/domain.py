from market.core.domain import Domain
from market.delivery import rounds
from market.delivery.controllers import ContractApi, ContractPages

DOMAIN = Domain("delivery", routes=[ContractPages, ContractApi], install=lambda _: rounds.register())
