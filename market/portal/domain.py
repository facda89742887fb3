from market.core.domain import Domain
from market.portal.controllers import ListsApi, ListsPage

DOMAIN = Domain("portal", routes=[ListsPage, ListsApi])
