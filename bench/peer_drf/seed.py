"""Tables, one superuser with a token and ``rows`` items; prints the token and an item's id."""

import json
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer_drf.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from peer_drf.models import Item  # noqa: E402

rows = int(sys.argv[1])
# The app has no migrations: its table is made (run_syncdb) once auth's tables exist.
call_command("migrate", verbosity=0)
call_command("migrate", run_syncdb=True, verbosity=0)
admin = get_user_model().objects.create_superuser("admin", "admin@example.com", "x")
items = Item.objects.bulk_create(
    Item(title=f"Item {i}", description="Some text " * 20, owner=admin) for i in range(rows)
)
print(json.dumps({"token": Token.objects.create(user=admin).key, "item": items[rows // 2].id}))
