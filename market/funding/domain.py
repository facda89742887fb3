from litestar.datastructures import State

from market.core.domain import Domain
from market.core.i18n import N_
from market.core.settings import Settings
from market.funding.funds.controllers import FundApi, FundPages, PledgeFormPages
from market.funding.payments import online
from market.funding.payments.controllers import StripeWebhook
from market.funding.payments.gateways import gateway_from_settings
from market.funding.pledges import models
from market.funding.pledges import services as pledges
from market.funding.pledges.controllers import FundingApi, PledgePages
from market.funding.receipts.controllers import ReceiptApi, ReceiptPages
from market.funding.resources import display
from market.funding.resources.controllers import ResourceApi, ResourcePages


def _check(settings: Settings) -> list[str]:
    if settings.payment_backend == "stripe" and not settings.stripe_api_key:
        return ["MARKET_STRIPE_API_KEY must be set for the stripe payment backend"]
    return []


async def _settle(state: State) -> None:
    await pledges.settle_due(state.pool)


async def _lapse(state: State) -> None:
    await pledges.lapse_due(state.pool, state.settings.timezone)


async def _refund(state: State) -> None:
    await online.send_refunds(state.pool, state.payments)


DOMAIN = Domain(
    "funding",
    routes=[FundingApi, PledgePages, StripeWebhook, ReceiptPages, ReceiptApi, ResourcePages, ResourceApi, FundPages,
            PledgeFormPages, FundApi],
    notification_kinds={
        "pledge_made": N_("%(funder)s pledged %(amount)s to “%(title)s”."),
        "pledge_made_no_bank": N_("%(funder)s pledged %(amount)s to “%(title)s”, but cannot pay it before your "
                                  "organisation gives the bank account to pay into: its administrator gives it under "
                                  "Edit profile."),
        "payment_recorded": N_("%(funder)s recorded a bank transfer of %(amount)s for “%(title)s”: confirm it once the "
                               "money has arrived."),
        "transfer_overdue": N_("%(funder)s's bank transfer of %(amount)s for “%(title)s” was recorded %(days)s days ago "
                               "and still waits for your word: confirm it once the money has arrived, or send it back."),
        "payment_confirmed": N_("Your payment of %(amount)s for “%(title)s” was confirmed: the money has arrived."),
        "payment_rejected": N_("Your bank transfer of %(amount)s for “%(title)s” was sent back: %(reason)s"),
        "pledge_due_soon": N_("Your pledge of %(amount)s to “%(title)s” is to be paid by %(due)s, or it lapses."),
        "pledge_lapsed": N_("Your pledge of %(amount)s to “%(title)s” lapsed: it was not paid by %(due)s."),
        "pledge_lapsed_receiver": N_("%(funder)s's pledge of %(amount)s to “%(title)s” lapsed: it was not paid by "
                                     "%(due)s."),
        "pledge_disbursed": N_("%(amount)s of your pledge to “%(title)s” was paid to %(provider)s for work the buyer "
                               "accepted."),
    },
    template_globals={
        "PLEDGE_STATUS_NAMES": models.PLEDGE_STATUS_NAMES, "PAYMENT_STATUS_NAMES": models.PAYMENT_STATUS_NAMES,
        "PAYMENT_METHOD_NAMES": models.PAYMENT_METHOD_NAMES, "MOVEMENT_NAMES": models.MOVEMENT_NAMES,
        "EVALUATION_STAGE_NAMES": models.EVALUATION_STAGE_NAMES,
        "resource_offer": display.offer, "resource_period": display.period, "resource_badges": display.badges,
    },
    check_settings=_check,
    state=lambda settings: {"payments": gateway_from_settings(settings), "pledge_pay_days": pledges.configure(settings)},
    jobs=[_settle, _lapse, _refund],
    # A reminder in the daily digest could come after the pledge's date.
    urgent_notices=frozenset({"pledge_due_soon"}),
    # Stripe signs its deliveries instead; the webhook verifies the signature.
    csrf_exempt=["/stripe/webhook"],
    done_messages={
        "fund_created": N_("The fund is set up."),
        "fund_saved": N_("Your changes to the fund are saved."),
        "pledge_made": N_("Your pledge is recorded. Pay it from this page, online or by bank transfer."),
        "transfer_recorded": N_("The transfer is recorded. The receiving organisation's finance staff will confirm "
                                "it when the money arrives."),
        "pledge_cancelled": N_("The pledge is cancelled."),
        "pledge_refunded": N_("The pledge is refunded: its money goes back to the funder."),
        "payment_checked": N_("The payment service was asked again: the payment below is as it answered."),
        "payment_confirmed": N_("The payment is confirmed: the money is in."),
        "payment_rejected": N_("The payment is rejected with your reason; the pledge still waits for its money."),
        "fund_round_closed": N_("The matching round is closed: each project's match is paid from the fund."),
        "pledge_allocated": N_("The pledge is allocated to the project."),
        "fund_project_added": N_("The project takes part in the fund."),
        "fund_project_removed": N_("The project no longer takes part in the fund."),
        "resource_listed": N_("The resource is listed. Anyone can find it among the resources."),
        "resource_listed_private": N_("The resource is listed, privately: only your organisation and the platform see it."),
        "resource_saved": N_("Your changes to the resource are saved."),
        "resource_withdrawn": N_("The resource is withdrawn: it is no longer listed, and you keep its record."),
    },
)
