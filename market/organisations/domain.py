from market.core.domain import Domain
from market.core.i18n import N_
from market.organisations import models, workflow
from market.organisations.controllers import OrganisationApi, OrganisationPages
from market.places.models import LEVEL_NAMES

DOMAIN = Domain(
    "organisations", routes=[OrganisationPages, OrganisationApi],
    template_globals={
        "KIND_NAMES": models.KIND_NAMES, "SUBTYPE_NAMES": models.SUBTYPE_NAMES, "STATUS_NAMES": models.STATUS_NAMES,
        "LEVEL_NAMES": LEVEL_NAMES, "SUBTYPES": models.SUBTYPES, "ACTION_NAMES": workflow.ACTION_NAMES,
    },
    notification_kinds={
        "organisation_verified": N_("The platform has verified %(organisation)s: it may now act on the platform."),
        "organisation_rejected": N_("The platform did not verify %(organisation)s (%(reason)s). Put it right on its page "
                                    "and ask for verification again."),
        "organisation_suspended": N_("The platform suspended %(organisation)s (%(reason)s)."),
        "organisation_reinstated": N_("The platform reinstated %(organisation)s: it may act on the platform again."),
    },
    done_messages={
        "verified": N_("The organisation is verified: it may now act on the platform."),
        "organisation_registered": N_("Your organisation is registered and waits for the platform to verify it."),
        "organisation_saved": N_("Your changes to the organisation are saved."),
        "organisation_resubmitted": N_("Your organisation is sent to the platform to be verified again."),
        "member_added": N_("The member is added."),
        "member_invited": N_("No account uses that address yet, so we have emailed it an invitation to join. It is listed below until it is taken up."),
        "invitation_withdrawn": N_("The invitation is withdrawn: its link no longer works."),
        "member_removed": N_("The member is removed."),
    },
)
