from market.core.domain import Domain
from market.delivery.controllers import ContractApi, ContractPages

DOMAIN = Domain("delivery", routes=[ContractPages, ContractApi])
