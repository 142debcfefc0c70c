"""Runs scim2-tester (PyPI, by the python-scim project) against a live patdesk server.

Usage: scim-check.py BASE_URL SECRET. Prints one line per check; exits 1 when any check ends in
ERROR or CRITICAL (a MUST of RFC 7643/7644 broken), 0 otherwise. Which checks are skipped, and
why, is in the README's SCIM paragraph and docs/scim.md.
"""

import sys

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

FAILING = {Status.ERROR, Status.CRITICAL}


def main() -> int:
    base_url, secret = sys.argv[1], sys.argv[2]
    http = Client(base_url=base_url, headers={"Authorization": f"Bearer {secret}"}, timeout=30)
    results = check_server(SyncSCIMClient(http))
    failed = 0
    counts: dict[str, int] = {}
    for result in results:
        name = result.status.name
        counts[name] = counts.get(name, 0) + 1
        where = f"[{result.resource_type}] " if getattr(result, "resource_type", None) else ""
        print(f"{name:10} {where}{result.title}: {result.reason}")
        if result.status in FAILING:
            failed += 1
    summary = ", ".join(f"{n} {status.lower()}" for status, n in sorted(counts.items()))
    print(f"scim2-tester: {len(results)} checks: {summary}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
