from market.core.domain import Domain
from market.core.i18n import N_
from market.surveys import files, models
from market.surveys.controllers import PublicSurveyApi, PublicSurveyPages, SurveyApi, SurveyPages

DOMAIN = Domain(
    "surveys",
    routes=[PublicSurveyPages, PublicSurveyApi, SurveyPages, SurveyApi],
    template_globals={
        "SURVEY_STATUS_NAMES": models.SURVEY_STATUS_NAMES, "SURVEY_ACTION_NAMES": models.SURVEY_ACTION_NAMES,
        "SURVEY_TEXT_STATUS_NAMES": models.TEXT_STATUS_NAMES, "SURVEY_TEXT_ACTION_NAMES": models.TEXT_ACTION_NAMES,
        "SURVEY_KIND_NAMES": models.KIND_NAMES, "SURVEY_SCALE": models.SCALE, "SURVEY_SCALE_NAMES": models.SCALE_NAMES,
        "SURVEY_NOT_SHOWN": models.NOT_SHOWN, "survey_qr": files.qr_svg,
    },
    notification_kinds={
        "survey_opened": N_("The residents' survey of “%(title)s” is open: print its poster and hand out the code "
                            "slips."),
        "survey_below_threshold": N_("The residents' survey of “%(title)s” closed with fewer than %(threshold)s%% "
                                     "of residents satisfied."),
    },
    done_messages={
        "survey_open": N_("The survey is open: residents can answer at its link."),
        "survey_close": N_("The survey is closed."),
        "survey_reopen": N_("The survey is open again."),
        "survey_codes": N_("The codes are made: print the slips."),
        "survey_text_publish": N_("The comment is published."),
        "survey_text_hide": N_("The comment is hidden."),
        "survey_answered": N_("Thank you: your answer is kept."),
        "sms_sent": N_("A code is on its way to your phone by text message."),
    },
)
