"""The body every constant-JSON ceiling app answers: the size of the benchmark's rows."""

POST = {
    "id": 1,
    "title": "Hello",
    "body": "A constant post, the same size as the benchmark's rows.",
    "author_id": 1,
    "created_at": "2026-01-01T00:00:00+00:00",
}
