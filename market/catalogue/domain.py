from market.catalogue import models, workflow
from market.catalogue.controllers import CatalogueApi, CataloguePages
from market.core.domain import Domain
from market.core.i18n import N_
from market.core.web import localized

DOMAIN = Domain(
    "catalogue", routes=[CataloguePages, CatalogueApi],
    template_globals={
        "VERSION_STATUS_NAMES": models.VERSION_STATUS_NAMES, "SCOPE_NAMES": models.SCOPE_NAMES,
        "CATALOGUE_ACTION_NAMES": workflow.ACTION_NAMES,
        "catalogue_choices": lambda items: [(i["id"], f"{i['code']} {localized(i)}") for i in items],
        "version_choices": lambda versions: [(v.id, f"{v.year} · {localized(v, 'title')}") for v in versions],
    },
    done_messages={
        "catalogue_draft_created": N_("The draft catalogue is created. Import its items from a file, then publish it."),
        "catalogue_draft_deleted": N_("The draft catalogue is deleted."),
        "catalogue_published": N_("The catalogue is published; the one it replaces, if any, is retired."),
        "catalogue_retired": N_("The catalogue is retired."),
    },
)
