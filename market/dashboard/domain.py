from market.core.domain import Domain
from market.dashboard.controllers import DashboardApi, DashboardPages, HomeApi

DOMAIN = Domain("dashboard", routes=[DashboardPages, DashboardApi, HomeApi])
