# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Errors raised by the client: each one says which request, which target, what the PABX said."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

MASK = '********'


def scrub(text, secrets):
    """Replace every secret found in ``text`` as a whole token (longest first).

    Whole tokens only: a 4-digit PIN inside the number of another extension is
    not that PIN, and masking it would garble the message.
    """
    text = '' if text is None else str(text)
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = re.sub(r'(?<![0-9A-Za-z])%s(?![0-9A-Za-z])' % re.escape(secret), MASK, text)
    return text


TLS_ADVICE = ('the PABX certificate could not be verified; set ca_path to the CA that signed it, '
              'or validate_certs=false on a lab system only')
# What OpenSSL says when the other end does not speak TLS at all: a plain-HTTP port behind an https:// URL.
PLAIN_HTTP_MARKERS = ('wrong version number', 'wrong_version_number', 'record layer failure', 'unknown protocol')
REASON_MAX = 200


def plain_http_advice(url=None):
    """What to do when an https:// URL leads to a plain-HTTP port."""
    plain = 'http://' + url.split('://', 1)[1].split('/', 1)[0] if url and '://' in url else 'http://...'
    return "the PABX answered in plain HTTP on an https:// URL: use %s or the PABX's HTTPS port" % plain


def _balanced(text):
    """``text`` without the unmatched parentheses that cutting a nested message leaves at its ends.

    Only unmatched ones: a reason such as 'Read timed out. (read timeout=10)' keeps its own.
    """
    while text.endswith(')') and text.count(')') > text.count('('):
        text = text[:-1]
    while text.startswith('(') and text.count('(') > text.count(')'):
        text = text[1:]
    return text.strip()


def _unwrapped(text):
    """'NewConnectionError('<... object at 0x...>: Failed to ...')' -> 'Failed to ...': words, not reprs."""
    match = re.match(r'^[A-Za-z_][A-Za-z0-9_.]*\((["\'])(.*)\1,?\)$', text, re.S)
    if match:
        text = match.group(2)
    return re.sub(r'<[^<>]* object at 0x[0-9a-fA-F]+>:?\s*', '', text).strip()


def explain(exc, url=None):
    """Why a connection failed, in a few words: the innermost reason of a transport (or requests/urllib3) error.

    ``url`` (the PABX's) lets the advice for an https:// URL on a plain-HTTP port name the URL to use.
    """
    text = str(exc)
    for marker in ('Caused by ', 'caused by '):
        if marker in text:
            text = text.split(marker, 1)[1]
    reason = _unwrapped(_balanced(text))
    if len(reason) > REASON_MAX:
        reason = reason[:REASON_MAX - 3] + '...'
    if not reason or reason == type(exc).__name__:
        reason = 'no reason given (%s)' % type(exc).__name__
    lowered = text.lower()
    tls = type(exc).__name__ == 'SSLError' or bool(getattr(exc, 'tls', False))  # requests' or the transport's
    if ('ssl' in lowered or tls) and any(m in lowered for m in PLAIN_HTTP_MARKERS):
        return plain_http_advice(url)
    if tls or 'CERTIFICATE_VERIFY_FAILED' in text:
        return '%s (%s)' % (TLS_ADVICE, reason)
    return reason


# Begins the message of a request whose event channel the PABX closed under it at every resend: the PABX's
# trouble, not the entry's (the rotation's report tells it from a 400 about the request itself).
CHANNEL_CLOSED = 'the PABX closed its event channel under this request'


class PabxError(Exception):
    """A request the PABX did not answer with success.

    ``status`` is the HTTP status (None when no answer arrived). ``ambiguous``
    is True when a change may or may not have been applied (the answer was
    lost), so the caller must verify rather than assume. ``no_answer`` is True
    when the PABX did not answer at all (what the client's circuit breaker counts).
    ``maybe_processed`` is True when the request reached the PABX but its answer
    did not come back (a read timeout, a dropped connection): the PABX may have
    checked its passwords, so a wrong one may have counted towards its lockout.
    """

    not_sent = False  # True on the subclasses raised before anything was sent
    # the operation's name in _api.OPERATIONS (``operation`` is its slug, which api_overrides may rename)
    operation_name = None

    def __init__(self, message, status=None, operation=None, target=None, ambiguous=False, pabx_message=None,
                 no_answer=False, maybe_processed=False):
        super(PabxError, self).__init__(message)
        self.message = message
        self.status = status
        self.operation = operation
        self.target = target
        self.ambiguous = ambiguous
        self.pabx_message = pabx_message
        self.no_answer = no_answer
        self.maybe_processed = maybe_processed

    def __str__(self):
        return self.message


class ChannelError(PabxError):
    """The event channel could not be opened or was closed by the PABX."""


class PabxNotSent(PabxError):
    """The request was not sent at all: nothing can have been applied, so nothing needs verifying."""

    not_sent = True


class PabxNotAnswering(PabxNotSent):
    """Not sent because the client's circuit breaker is open: the PABX stopped answering."""
