from market.core.domain import Domain
from market.sms.services import check_settings, sender_from_settings

DOMAIN = Domain("sms", state=lambda settings: {"sms": sender_from_settings(settings)},
                check_settings=check_settings)
