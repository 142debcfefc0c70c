"""detect-secrets plugin for patdesk personal access tokens.

    detect-secrets scan --plugin contrib/secret-scanning/detect_secrets_patdesk.py

A token is `pdk_` + 32 random base62 characters + a 6-character base62 CRC32 checksum. Run the
matches through `patdesk token check VALUE` (offline) to drop look-alikes whose checksum is
wrong before reporting them to POST /api/v1/credentials/revoke.
"""

import re

from detect_secrets.plugins.base import RegexBasedDetector


class PatdeskTokenDetector(RegexBasedDetector):
    """Scans for patdesk personal access tokens."""

    secret_type = "patdesk personal access token"

    denylist = [re.compile(r"\b(pdk_[0-9A-Za-z]{38})\b")]


class PatdeskScimCredentialDetector(RegexBasedDetector):
    """Scans for patdesk SCIM credentials (`pdkscim_` + 38 base62; docs/scim.md)."""

    secret_type = "patdesk SCIM credential"

    denylist = [re.compile(r"\b(pdkscim_[0-9A-Za-z]{38})\b")]
