from market.core.domain import Domain
from market.dashboard.controllers import DashboardApi, DashboardPages

DOMAIN = Domain("dashboard", routes=[DashboardPages, DashboardApi])
