from market.core.domain import Domain
from market.core.i18n import N_
from market.core.settings import Settings
from market.storage.controllers import FileApi, FilePages
from market.storage.services import storage_from_settings


def _check(settings: Settings) -> list[str]:
    if settings.storage_backend == "s3" and not settings.s3_bucket:
        return ["MARKET_S3_BUCKET must be set for the s3 storage backend"]
    return []


DOMAIN = Domain("storage", routes=[FilePages, FileApi], check_settings=_check,
                state=lambda settings: {"storage": storage_from_settings(settings)},
                done_messages={"file_uploaded": N_("The file is uploaded. It is listed under Documents.")})
