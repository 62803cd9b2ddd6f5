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


def explain(exc):
    """Why a connection failed, in a few words: the innermost reason of a requests/urllib3 error."""
    text = str(exc)
    for marker in ('Caused by ', 'caused by '):
        if marker in text:
            text = text.split(marker, 1)[1]
    reason = text.strip('()')[:200] or type(exc).__name__
    if type(exc).__name__ == 'SSLError' or 'CERTIFICATE_VERIFY_FAILED' in text:
        return '%s (%s)' % (TLS_ADVICE, reason)
    return reason


class PabxError(Exception):
    """A request the PABX did not answer with success.

    ``status`` is the HTTP status (None when no answer arrived). ``ambiguous``
    is True when a change may or may not have been applied (the answer was
    lost), so the caller must verify rather than assume.
    """

    def __init__(self, message, status=None, operation=None, target=None, ambiguous=False, pabx_message=None):
        super(PabxError, self).__init__(message)
        self.message = message
        self.status = status
        self.operation = operation
        self.target = target
        self.ambiguous = ambiguous
        self.pabx_message = pabx_message

    @property
    def rejected_credentials(self):
        """403: the PABX refused a password (or the operation)."""
        return self.status == 403

    def __str__(self):
        return self.message


class ChannelError(PabxError):
    """The event channel could not be opened or was closed by the PABX."""
