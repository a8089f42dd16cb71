"""Request signatures exactly as CloudStack's ApiServer.verifyRequest computes them (spec 1.2)."""

import base64
import hashlib
import hmac
from urllib.parse import quote


def java_url_encode(value):
    """URLEncoder.encode(value, "UTF-8") with '+' replaced by %20."""
    return quote(value, safe="*").replace("~", "%7E")


def signature(params, secret):
    """Base64 HMAC-SHA1 over the sorted, encoded, lower-cased parameters (every one except signature)."""
    pairs = sorted((name, value) for name, value in params.items() if name != "signature")
    message = "&".join(f"{name}={java_url_encode(value)}" for name, value in pairs).lower()
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signature_matches(params, secret, given):
    """Constant-time comparison of the expected and the given signature."""
    return hmac.compare_digest(signature(params, secret).encode(), given.encode())
