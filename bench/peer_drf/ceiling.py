"""The ceiling of Django: no apps, no middleware, one view answering constant JSON."""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, JsonResponse
from django.urls import path

POST = {
    "id": 1,
    "title": "Hello",
    "body": "A constant post, the same size as the benchmark's rows.",
    "author_id": 1,
    "created_at": "2026-01-01T00:00:00+00:00",
}


def post(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"data": POST})


urlpatterns = [path("post", post)]
settings.configure(
    SECRET_KEY=os.environ["PEER_SECRET_KEY"],
    DEBUG=False,
    ALLOWED_HOSTS=["127.0.0.1"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
)
application = get_wsgi_application()
