"""MS-CHAPv2 (RFC 2759) as carried in RADIUS (RFC 2548): checking the peer's NT-Response against the
service's network password and computing the authenticator response the peer checks in turn.

Why our own MD4: OpenSSL 3 moved MD4 to its legacy provider, so `hashlib.new("md4")` is gone on current
systems, and MS-CHAP's password hash *is* MD4 of the UTF-16LE password; the 48 lines below are RFC 1320.
DES (three single-DES encryptions of the challenge hash) comes from `cryptography` as triple DES with
the key repeated, which is single DES.

MPPE keys (MS-MPPE-Send-Key/Recv-Key, RFC 3079) are not sent: they matter only for PPTP/L2TP
encryption; PPPoE and hotspot logins do not use them.
"""

from __future__ import annotations

import hashlib
import hmac
import struct

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

MICROSOFT = 311
MS_CHAP_ERROR = 2
MS_CHAP_CHALLENGE = 11
MS_CHAP2_RESPONSE = 25
MS_CHAP2_SUCCESS = 26
_MAGIC1 = b"Magic server to client signing constant"
_MAGIC2 = b"Pad to make it do more than one iteration"


def _rol(x: int, n: int) -> int:
    x &= 0xFFFFFFFF
    return ((x << n) | (x >> (32 - n))) & 0xFFFFFFFF


def md4(data: bytes) -> bytes:
    """RFC 1320."""
    length = len(data) * 8
    data += b"\x80" + bytes((55 - len(data)) % 64) + struct.pack("<Q", length)
    h = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476]
    for offset in range(0, len(data), 64):
        x = struct.unpack("<16I", data[offset:offset + 64])
        a, b, c, d = h
        for i in (0, 4, 8, 12):  # round 1
            a = _rol(a + ((b & c) | (~b & d)) + x[i], 3)
            d = _rol(d + ((a & b) | (~a & c)) + x[i + 1], 7)
            c = _rol(c + ((d & a) | (~d & b)) + x[i + 2], 11)
            b = _rol(b + ((c & d) | (~c & a)) + x[i + 3], 19)
        for i in (0, 1, 2, 3):  # round 2
            a = _rol(a + ((b & c) | (b & d) | (c & d)) + x[i] + 0x5A827999, 3)
            d = _rol(d + ((a & b) | (a & c) | (b & c)) + x[i + 4] + 0x5A827999, 5)
            c = _rol(c + ((d & a) | (d & b) | (a & b)) + x[i + 8] + 0x5A827999, 9)
            b = _rol(b + ((c & d) | (c & a) | (d & a)) + x[i + 12] + 0x5A827999, 13)
        for i in (0, 2, 1, 3):  # round 3
            a = _rol(a + (b ^ c ^ d) + x[i] + 0x6ED9EBA1, 3)
            d = _rol(d + (a ^ b ^ c) + x[i + 8] + 0x6ED9EBA1, 9)
            c = _rol(c + (d ^ a ^ b) + x[i + 4] + 0x6ED9EBA1, 11)
            b = _rol(b + (c ^ d ^ a) + x[i + 12] + 0x6ED9EBA1, 15)
        h = [(v + n) & 0xFFFFFFFF for v, n in zip(h, (a, b, c, d), strict=True)]
    return struct.pack("<4I", *h)


def nt_password_hash(password: str) -> bytes:
    return md4(password.encode("utf-16-le"))


def challenge_hash(peer_challenge: bytes, authenticator_challenge: bytes, user_name: str) -> bytes:
    user = user_name.split("\\", 1)[-1]  # a "DOMAIN\user" name is hashed without its domain (RFC 2759 §4)
    return hashlib.sha1(peer_challenge + authenticator_challenge + user.encode("utf-8")).digest()[:8]  # noqa: S324


def _des_key(seven: bytes) -> bytes:
    """56 key bits → 8 octets (parity bits left zero: DES ignores them)."""
    bits = int.from_bytes(seven, "big")
    return bytes(((bits >> (56 - 7 * (i + 1))) & 0x7F) << 1 for i in range(8))


def _des(key7: bytes, block: bytes) -> bytes:
    key = _des_key(key7)
    encryptor = Cipher(TripleDES(key * 3), modes.ECB()).encryptor()  # noqa: S305 - DES is what MS-CHAP is
    return encryptor.update(block) + encryptor.finalize()


def nt_response(challenge: bytes, password_hash: bytes) -> bytes:
    key = password_hash + bytes(5)
    return b"".join(_des(key[i:i + 7], challenge) for i in (0, 7, 14))


def authenticator_response(password_hash: bytes, response: bytes, challenge: bytes) -> str:
    digest = hashlib.sha1(md4(password_hash) + response + _MAGIC1).digest()  # noqa: S324
    return "S=" + hashlib.sha1(digest + challenge + _MAGIC2).hexdigest().upper()  # noqa: S324


def verify(user_name: str, password: str, authenticator_challenge: bytes, chap2_response: bytes) -> bytes | None:
    """The MS-CHAP2-Success value (ident + "S=…") when the response proves the password, else None.

    `chap2_response` is the MS-CHAP2-Response value: ident, flags, peer challenge (16), reserved (8),
    NT-Response (24)."""
    if len(chap2_response) != 50 or len(authenticator_challenge) != 16:
        return None
    ident, peer_challenge, given = chap2_response[:1], chap2_response[2:18], chap2_response[26:50]
    challenge = challenge_hash(peer_challenge, authenticator_challenge, user_name)
    password_hash = nt_password_hash(password)
    if not hmac.compare_digest(nt_response(challenge, password_hash), given):
        return None
    return ident + authenticator_response(password_hash, given, challenge).encode()


def failure(chap2_response: bytes) -> bytes:
    """The MS-CHAP-Error value for a wrong password (E=691: authentication failure, no retry)."""
    ident = chap2_response[:1] if chap2_response else b"\x00"
    return ident + b"E=691 R=0 V=3"


def vsa(vendor_type: int, value: bytes) -> bytes:
    """A Microsoft Vendor-Specific attribute, encoded."""
    return bytes((26, len(value) + 8)) + MICROSOFT.to_bytes(4, "big") + bytes((vendor_type, len(value) + 2)) + value
