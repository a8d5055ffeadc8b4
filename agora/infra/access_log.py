"""daphne's access log without secrets in URLs: ``python -m agora.server`` runs daphne with a
server class whose log lines pass through :func:`redact` (agora/infra/server_internals.py).

daphne writes every request's full URI, query string included, to its access log. Agora never
puts a secret in a URL (the receipt check is a POST), but an old bookmark, a hand-typed link or
a probing client may: such values are replaced before the line is written.
"""

from __future__ import annotations

import re

# Query parameters whose values never reach a log line.
SECRET_PARAMETERS = ("receipt", "idempotency_key", "password", "token")
# Plain (``?receipt=…``) or percent-encoded once or twice, as inside a login redirect's
# ``?next=/…%3Freceipt%3D…``. A value ends at a separator or at ``%`` (an encoded separator:
# receipts and keys are URL-safe, they never contain one).
_NAMES = "|".join(SECRET_PARAMETERS)
_SECRET = re.compile(r"((?:^|[?&;]|%3F|%26|%253F|%2526)(?:" + _NAMES + r")(?:=|%3D|%253D))[^&;#%\s]*", re.IGNORECASE)


def redact(path: str) -> str:
    """The path with the values of secret query parameters replaced by ``[redacted]``."""
    return _SECRET.sub(r"\1[redacted]", path)
