from market.audit.controllers import AuditApi, AuditPages
from market.audit.models import VERB_NAMES
from market.core.domain import Domain

DOMAIN = Domain("audit", routes=[AuditPages, AuditApi],
                template_globals={"VERB_NAMES": {verb.value: name for verb, name in VERB_NAMES.items()}})
