"""Agora's PostgreSQL backend: Django's, with the connection health check at most once a second
(``agora.postgresql.base``)."""
