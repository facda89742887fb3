from market.accounts.controllers import AccountApi, AccountPages
from market.accounts.invitations import INVITATION_DAYS
from market.accounts.models import MIN_PASSWORD_LENGTH
from market.accounts.services import identity_for
from market.core.domain import Domain
from market.core.i18n import N_

DOMAIN = Domain(
    "accounts", routes=[AccountPages, AccountApi], template_globals={"MIN_PASSWORD_LENGTH": MIN_PASSWORD_LENGTH, "INVITATION_DAYS": INVITATION_DAYS},
    identify=identity_for,
    notification_kinds={"member_added": N_("%(who)s added you as a member of %(organisation)s. Switch to act for it here.")},
    done_messages={
        "password_reset": N_("Your new password is saved and you are logged in. Other devices have been logged out."),
        "joined": N_("You have joined the organisation and act for it now. Your account page switches whom you act for."),
    },
)
