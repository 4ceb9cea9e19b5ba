"""Keys mcp-kernel loads: the private key a server's ``oauth.privateKey`` names, checked when the settings
are read (so a bad key fails there, named) and used when the client signs its assertion.

A low room of its own, so that reading settings does not load the sign-in machinery (auth.py).

>>> signing_key("not a key", "server 'x'")                         # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
...
mcp_kernel.errors.ConfigError: server 'x': neither PEM text nor a readable PEM file (...)
"""

from __future__ import annotations

from pathlib import Path

from .errors import ConfigError

__all__ = ["signing_key"]


def signing_key(private_key: str, where: str) -> tuple[str, str]:
    """The PEM text of ``private_key`` (PEM text or the path of a PEM file) and the JWT algorithm its type
    signs with: RS256 (RSA), ES256/384/512 (EC), EdDSA (Ed25519). Errors say ``where`` the key was given and
    what is wrong with it, never what it holds.
    """
    # cryptography: only when a private key is configured
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    pem = private_key
    if not pem.lstrip().startswith("-----BEGIN"):
        try:
            pem = Path(pem).expanduser().read_text(encoding="utf-8")
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"{where}: neither PEM text nor a readable PEM file ({type(exc).__name__}). Give "
                "the key as ${VAR} holding the PEM, or the path of a .pem file."
            ) from None
    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        kind = (
            "it is encrypted; give an unencrypted key"
            if isinstance(exc, TypeError)
            else "not a PEM private key"
        )
        raise ConfigError(f"{where}: cannot load the key ({kind}).") from None
    curves = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
    if isinstance(key, rsa.RSAPrivateKey):
        return pem, "RS256"
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name in curves:
        return pem, curves[key.curve.name]
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return pem, "EdDSA"
    raise ConfigError(
        f"{where}: a {type(key).__name__} cannot sign a client assertion; use an RSA, EC "
        "(P-256/384/521) or Ed25519 key."
    )
