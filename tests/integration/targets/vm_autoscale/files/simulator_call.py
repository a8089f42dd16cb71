"""Test helper: one signed call to the simulator (its simulator-only commands have no module), printed as JSON.

Usage: simulator_call.py COMMAND [name=value ...]; the connection comes from CLOUDSTACK_ENDPOINT, CLOUDSTACK_KEY and
CLOUDSTACK_SECRET (as the modules read it). Stdlib only, so it runs from ansible-test's copy of the target too.
Requests are signed as every CloudStack client signs them (sorted, URL-encoded, lower-cased, HMAC-SHA1, Base64).
"""

import base64
import hashlib
import hmac
import json
import os
import sys
import urllib.parse
import urllib.request


def encode(value):
    """Java URLEncoder's form, as CloudStack verifies it (a space is %20)."""
    return urllib.parse.quote_plus(str(value)).replace("+", "%20")


def main(command, *pairs):
    params = dict(pair.split("=", 1) for pair in pairs)
    params.update(command=command, response="json", apiKey=os.environ["CLOUDSTACK_KEY"])
    query = "&".join("%s=%s" % (key, encode(value)) for key, value in sorted(params.items(), key=lambda i: i[0].lower()))
    digest = hmac.new(os.environ["CLOUDSTACK_SECRET"].encode(), query.lower().encode(), hashlib.sha1).digest()
    url = "%s?%s&signature=%s" % (os.environ["CLOUDSTACK_ENDPOINT"], query, encode(base64.b64encode(digest).decode()))
    with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 - the simulator on loopback
        print(json.dumps(next(iter(json.loads(answer.read()).values()))))


if __name__ == "__main__":
    main(*sys.argv[1:])
