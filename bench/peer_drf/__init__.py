"""The Django REST framework peer: what cookiecutter-django's API does, for items.

A ModelViewSet with a ModelSerializer, token authentication (and session authentication,
as that template configures both), IsAuthenticated, page-number pagination with a count,
requests in a transaction (ATOMIC_REQUESTS) on persistent connections (CONN_MAX_AGE),
Django's standard middleware. Served as that template ships it: gunicorn, sync workers,
on the WSGI application. Written here for bench/peers.py; not a copy of its code.
"""
