"""RADIUS on the wire: parsing, the authenticators, Message-Authenticator, attribute encoding.

Our own codec rather than pyrad's `Packet` on the hot path: pyrad builds a dictionary-decoded object
for every packet, which costs more than everything else the server does for a cached subscriber. Here
a packet is its raw bytes and a list of (type, value) pairs in wire order; values are decoded only when
asked for. The dictionary (pyrad's parser over `radius/dictionary/`) is used to encode reply attributes
by name, once per cached profile, and to decode by name for the accounting store and the CoA client.

The rules (RFC 2865 §3, RFC 2866 §3, RFC 3579 §3.2, RFC 5176 §2.3):
- Access-Request: the Request Authenticator is random; Message-Authenticator (80) is HMAC-MD5 under
  the shared secret of the whole packet with its own value zeroed.
- Accounting-, CoA- and Disconnect-Request: the Request Authenticator is MD5(code+id+length+16 zero
  octets+attributes+secret); a Message-Authenticator in them is computed with the authenticator zeroed.
- Replies: Message-Authenticator is computed with the request's authenticator in the header, then the
  Response Authenticator MD5(code+id+length+request authenticator+attributes+secret) over the result.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import struct
from dataclasses import dataclass, field

from pyrad import tools

from radius.dictionary import load as load_dictionary

ACCESS_REQUEST = 1
ACCESS_ACCEPT = 2
ACCESS_REJECT = 3
ACCOUNTING_REQUEST = 4
ACCOUNTING_RESPONSE = 5
ACCESS_CHALLENGE = 11
STATUS_SERVER = 12
DISCONNECT_REQUEST = 40
DISCONNECT_ACK = 41
DISCONNECT_NAK = 42
COA_REQUEST = 43
COA_ACK = 44
COA_NAK = 45

USER_NAME = 1
USER_PASSWORD = 2
CHAP_PASSWORD = 3
REPLY_MESSAGE = 18
VENDOR_SPECIFIC = 26
PROXY_STATE = 33
CHAP_CHALLENGE = 60
MESSAGE_AUTHENTICATOR = 80

HEADER = struct.Struct("!BBH16s")
MIN_LENGTH = 20
MAX_LENGTH = 4096
_ZERO16 = bytes(16)
_EMPTY_MA = bytes((MESSAGE_AUTHENTICATOR, 18)) + _ZERO16


class Malformed(ValueError):
    """The bytes are not a RADIUS packet (RFC 2865 §3: silently discarded)."""


@dataclass(slots=True)
class Packet:
    """A received packet: header fields, the attributes in wire order, and the raw bytes.

    `ma_offset` is where the Message-Authenticator's value starts in `raw` (None when absent).
    """

    code: int
    id: int
    authenticator: bytes
    attributes: list[tuple[int, bytes]]
    raw: bytes
    ma_offset: int | None = None
    _names: dict = field(default_factory=dict, repr=False)

    def get(self, attr_type: int) -> bytes | None:
        for t, v in self.attributes:
            if t == attr_type:
                return v
        return None

    def all(self, attr_type: int) -> list[bytes]:
        return [v for t, v in self.attributes if t == attr_type]

    def vendor(self, vendor_id: int, vendor_type: int) -> list[bytes]:
        """Values of a vendor attribute (every sub-attribute of every Vendor-Specific, RFC 2865 §5.26)."""
        found = []
        for t, v in self.attributes:
            if t == VENDOR_SPECIFIC and len(v) > 4 and int.from_bytes(v[:4], "big") == vendor_id:
                found += [value for sub, value in _vsa_items(v[4:]) if sub == vendor_type]
        return found

    def string(self, attr_type: int) -> str | None:
        value = self.get(attr_type)
        return None if value is None else value.decode("utf-8", "replace")

    def integer(self, attr_type: int) -> int | None:
        value = self.get(attr_type)
        return int.from_bytes(value, "big") if value is not None and len(value) == 4 else None

    # -- by dictionary name (slower; for the accounting store, the CoA client and tests) ---------------
    def values(self, name: str) -> list:
        """Every value of the attribute `name`, decoded by its dictionary type (integers with named
        values stay integers)."""
        attr = load_dictionary().attributes[name]
        raw = self.vendor(load_dictionary().vendors[attr.vendor], attr.code) if attr.vendor else self.all(attr.code)
        out = []
        for value in raw:
            try:
                out.append(tools.DecodeAttr(attr.type, value))
            except Exception as exc:  # noqa: BLE001 - a bad value is the sender's fault: say which
                raise Malformed(f"{name}: undecodable value {value!r}") from exc
        return out

    def value(self, name: str, default=None):
        found = self.values(name)
        return found[0] if found else default


def _vsa_items(data: bytes) -> list[tuple[int, bytes]]:
    """Sub-attributes of a Vendor-Specific value (after the vendor id), RFC 2865's suggested format.
    Anything not in that format comes back as no items."""
    items, pos = [], 0
    while pos + 2 <= len(data):
        sub, length = data[pos], data[pos + 1]
        if length < 2 or pos + length > len(data):
            return []
        items.append((sub, data[pos + 2:pos + length]))
        pos += length
    return items


def parse(data: bytes) -> Packet:
    """Parse a datagram; raise Malformed for anything RFC 2865 §3 says to discard.

    Octets beyond the Length field are padding and ignored; a Length beyond the datagram, an attribute
    running past the end or shorter than 2 octets, or a Message-Authenticator of the wrong size is not.
    """
    if len(data) < MIN_LENGTH:
        raise Malformed(f"{len(data)} octets, shorter than a header")
    code, ident, length, authenticator = HEADER.unpack_from(data)
    if length < MIN_LENGTH or length > MAX_LENGTH or length > len(data):
        raise Malformed(f"length field {length} for a {len(data)}-octet datagram")
    raw = data[:length] if length != len(data) else data
    attributes = []
    ma_offset = None
    pos = MIN_LENGTH
    while pos < length:
        if pos + 2 > length:
            raise Malformed("truncated attribute header")
        attr_type, attr_len = raw[pos], raw[pos + 1]
        if attr_len < 2 or pos + attr_len > length:
            raise Malformed(f"attribute {attr_type} with length {attr_len} at {pos}")
        if attr_type == MESSAGE_AUTHENTICATOR:
            if attr_len != 18 or ma_offset is not None:
                raise Malformed("Message-Authenticator of the wrong size, or twice")
            ma_offset = pos + 2
        attributes.append((attr_type, raw[pos + 2:pos + attr_len]))
        pos += attr_len
    return Packet(code, ident, authenticator, attributes, raw, ma_offset)


# -- authenticators ----------------------------------------------------------------------------------
def _md5(data: bytes) -> bytes:
    return hashlib.md5(data).digest()  # noqa: S324 - the protocol's own construction (RFC 2865), not our choice


def _hmac(secret: bytes, data: bytes) -> bytes:
    return hmac.new(secret, data, hashlib.md5).digest()


def message_authenticator_ok(packet: Packet, secret: bytes, *, zero_authenticator: bool = False) -> bool:
    """Whether the packet's Message-Authenticator is right (False when it has none).

    `zero_authenticator` for Accounting/CoA/Disconnect-Requests, whose MA is computed with 16 zero
    octets in place of the Request Authenticator.
    """
    at = packet.ma_offset
    if at is None:
        return False
    raw = packet.raw
    if zero_authenticator:
        data = raw[:4] + _ZERO16 + raw[20:at] + _ZERO16 + raw[at + 16:]
    else:
        data = raw[:at] + _ZERO16 + raw[at + 16:]
    return hmac.compare_digest(_hmac(secret, data), raw[at:at + 16])


def request_authenticator_ok(packet: Packet, secret: bytes) -> bool:
    """RFC 2866 §3 (and RFC 5176 §2.3): the Request Authenticator of an Accounting/CoA/Disconnect-Request."""
    raw = packet.raw
    expected = _md5(raw[:4] + _ZERO16 + raw[20:] + secret)
    return hmac.compare_digest(expected, packet.authenticator)


def reply_authenticator_ok(raw: bytes, request_authenticator: bytes, secret: bytes, *,
                           to_status_server: bool = False) -> bool:
    """A reply's Response Authenticator and, when present, its Message-Authenticator (for clients: the
    CoA sender and the tests)."""
    reply = parse(raw)
    expected = _md5(reply.raw[:4] + request_authenticator + reply.raw[20:] + secret)
    if not hmac.compare_digest(expected, reply.authenticator):
        return False
    if reply.ma_offset is None:
        return True
    at = reply.ma_offset
    vector = _ma_vector(reply.code, request_authenticator, to_status_server)
    data = reply.raw[:4] + vector + reply.raw[20:at] + _ZERO16 + reply.raw[at + 16:]
    return hmac.compare_digest(_hmac(secret, data), reply.raw[at:at + 16])


def _ma_vector(code: int, request_authenticator: bytes, to_status_server: bool) -> bytes:
    """The authenticator field a reply's Message-Authenticator is computed over: the request's, except in
    an Accounting-Response to an Accounting-Request, where FreeRADIUS (and so the NAS and radclient that
    interoperate with it) uses zeros, as in the request itself."""
    if code == ACCOUNTING_RESPONSE and not to_status_server:
        return _ZERO16
    return request_authenticator


def sign_reply(code: int, ident: int, request_authenticator: bytes, attributes: bytes, secret: bytes,
               *, proxy_states: list[bytes] = (), to_status_server: bool = False) -> bytes:
    """A reply: Message-Authenticator first (the BlastRADIUS guidance), then `attributes` (encoded),
    then the request's Proxy-States, byte for byte and in order (RFC 2865 §5.33)."""
    tail = b"".join(bytes((PROXY_STATE, len(ps) + 2)) + ps for ps in proxy_states)
    length = MIN_LENGTH + 18 + len(attributes) + len(tail)
    if length > MAX_LENGTH:
        raise ValueError(f"a reply of {length} octets is over the {MAX_LENGTH}-octet limit")
    head = struct.pack("!BBH", code, ident, length)
    body = attributes + tail
    mac = _hmac(secret, head + _ma_vector(code, request_authenticator, to_status_server) + _EMPTY_MA + body)
    attrs = bytes((MESSAGE_AUTHENTICATOR, 18)) + mac + body
    response = _md5(head + request_authenticator + attrs + secret)
    return head + response + attrs


def sign_request(code: int, ident: int, attributes: bytes, secret: bytes, *,
                 message_authenticator: bool = True, authenticator: bytes | None = None) -> bytes:
    """A request as a client sends it. Access-Request (and Status-Server): a random authenticator (or the
    one given, for User-Password encryption); others: the computed Request Authenticator."""
    ma = _EMPTY_MA if message_authenticator else b""
    length = MIN_LENGTH + len(ma) + len(attributes)
    if length > MAX_LENGTH:
        raise ValueError(f"a request of {length} octets is over the {MAX_LENGTH}-octet limit")
    head = struct.pack("!BBH", code, ident, length)
    body = ma + attributes
    if code in (ACCESS_REQUEST, STATUS_SERVER):
        auth = authenticator or os.urandom(16)
        if message_authenticator:
            body = bytes((MESSAGE_AUTHENTICATOR, 18)) + _hmac(secret, head + auth + body) + attributes
        return head + auth + body
    if message_authenticator:
        body = bytes((MESSAGE_AUTHENTICATOR, 18)) + _hmac(secret, head + _ZERO16 + body) + attributes
    auth = _md5(head + _ZERO16 + body + secret)
    return head + auth + body


# -- User-Password (RFC 2865 §5.2) -------------------------------------------------------------------
def decrypt_password(value: bytes, secret: bytes, authenticator: bytes) -> bytes:
    if not value or len(value) % 16 or len(value) > 128:
        raise Malformed(f"User-Password of {len(value)} octets")
    out = bytearray()
    last = authenticator
    for i in range(0, len(value), 16):
        block = value[i:i + 16]
        key = _md5(secret + last)
        out += bytes(a ^ b for a, b in zip(block, key, strict=True))
        last = block
    return bytes(out).rstrip(b"\x00")


def encrypt_password(password: bytes, secret: bytes, authenticator: bytes) -> bytes:
    padded = password + bytes(-len(password) % 16 or (16 if not password else 0))
    out = bytearray()
    last = authenticator
    for i in range(0, len(padded), 16):
        key = _md5(secret + last)
        block = bytes(a ^ b for a, b in zip(padded[i:i + 16], key, strict=True))
        out += block
        last = block
    return bytes(out)


# -- encoding attributes by name ---------------------------------------------------------------------
def _encode_value(attr, value) -> bytes:
    if isinstance(value, bytes):
        return value
    if attr.type in ("integer", "short", "byte", "signed", "integer64", "date"):
        if isinstance(value, str):
            if attr.values.HasForward(value):
                value = attr.values.GetForward(value)  # pyrad keeps named values encoded
                if isinstance(value, bytes):
                    return value
            else:
                value = int(value, 0)
        return tools.EncodeAttr(attr.type, int(value))
    if attr.type == "ipaddr":
        return ipaddress.IPv4Address(str(value)).packed
    if attr.type == "string":
        return str(value).encode("utf-8")
    return tools.EncodeAttr(attr.type, value)


def encode_attributes(pairs) -> bytes:
    """Encode (name, value) pairs (or a mapping name → list of values) in order; vendor attributes each
    in a Vendor-Specific of their own. Raises KeyError for a name not in the dictionary and ValueError for
    a value that does not fit in an attribute."""
    dictionary = load_dictionary()
    items = pairs.items() if hasattr(pairs, "items") else [(name, [value]) for name, value in pairs]
    out = bytearray()
    for name, values in items:
        attr = dictionary.attributes[name]
        for value in values if isinstance(values, list | tuple) else [values]:
            data = _encode_value(attr, value)
            if attr.vendor:
                if len(data) > 247:
                    raise ValueError(f"{name}: a value of {len(data)} octets does not fit")
                vendor_id = dictionary.vendors[attr.vendor]
                sub = bytes((attr.code, len(data) + 2)) + data
                out += bytes((VENDOR_SPECIFIC, len(sub) + 6)) + vendor_id.to_bytes(4, "big") + sub
            else:
                if len(data) > 253 or attr.code > 255:
                    raise ValueError(f"{name}: not encodable as a standard attribute")
                out += bytes((attr.code, len(data) + 2)) + data
    return bytes(out)
