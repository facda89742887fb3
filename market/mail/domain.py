from market.core.domain import Domain
from market.mail.services import mailer_from_settings

DOMAIN = Domain("mail", state=lambda settings: {"mailer": mailer_from_settings(settings)})
