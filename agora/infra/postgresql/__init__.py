"""Django's PostgreSQL backend with a cheaper check of a pooled connection when it is lent (base.py)."""
