# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The CTI event channel: a Server-Sent Events stream whose first event carries the channel ID.

The channel ID is valid only while the stream stays open, so the stream is
read on a daemon thread for as long as the module works; when the PABX closes
it, ``closed`` is set and the client opens a new one.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import threading
import time

try:
    from urllib.parse import urlsplit
except ImportError:  # Python 2
    from urlparse import urlsplit

from ansible_collections.digitro.pabx.plugins.module_utils import _api
from ansible_collections.digitro.pabx.plugins.module_utils._errors import ChannelError, explain


def parse_sse(lines):
    """Yield (event, data) pairs from an iterable of decoded SSE lines."""
    event, data = None, []
    for line in lines:
        if line == '':
            if event is not None or data:
                yield event or 'message', '\n'.join(data)
            event, data = None, []
        elif line.startswith(':'):
            continue  # keep-alive comment
        else:
            field, _sep, value = line.partition(':')
            value = value[1:] if value.startswith(' ') else value
            if field == 'event':
                event = value
            elif field == 'data':
                data.append(value)


def redirect_host(location):
    """The scheme and host of a redirect's Location, never its path or query (they may carry a token)."""
    try:
        parts = urlsplit(location)
    except ValueError:
        parts = None
    if parts is None or not parts.hostname:
        return 'another address on the same host'
    return '%s://%s%s' % (parts.scheme or 'http', parts.hostname, ':%d' % parts.port if parts.port else '')


class EventChannel(object):
    """One open event channel. ``open()`` blocks until the channel ID arrives."""

    def __init__(self, session, url, timeout, contract=_api.STOCK):
        self._session = session
        self._contract = contract
        self._url = url.rstrip('/') + contract.events_path
        self._timeout = timeout
        self.opening = None  # what opened the stream, for digitro_api_check: (event name, data) of the first event
        self._response = None
        self._thread = None
        self.channel_id = None
        self.closed = threading.Event()
        self.closed_at = None  # time.monotonic() when it was seen closed

    def _mark_closed(self):
        if self.closed_at is None:
            self.closed_at = time.monotonic()
        self.closed.set()

    def open(self):
        try:
            # The read timeout must outlast the PABX's keep-alive interval.
            # no redirect is followed: it would send x-api-key along to whatever host the answer names
            self._response = self._session.get(self._url, stream=True, timeout=(self._timeout, max(self._timeout, 60)),
                                               allow_redirects=False)
        except Exception as exc:  # a transport error, or any other failure to connect: all mean "no channel"
            # a TLS failure is an answer of sorts (a wrong setting, not a PABX that is down)
            tls = bool(getattr(exc, 'tls', False)) or type(exc).__name__ == 'SSLError'
            setting = bool(getattr(exc, 'setting', False))  # a proxy URL to fix: said whole, and not a PABX that is down
            said = str(exc) if setting else explain(exc, self._url)
            error = ChannelError('Could not open the event channel at %s: %s' % (self._url, said),
                                 operation='open-channel', no_answer=not (tls or setting))
            error.tls = tls
            raise error
        if self._response.status_code != 200:
            status = self._response.status_code
            location = self._response.headers.get('Location') or ''
            self._response.close()
            if 300 <= status < 400:
                raise ChannelError('Opening the event channel failed: HTTP %d, a redirect to %s, which is not followed '
                                   '(the API key would go along): set url to the address the PABX serves its API on'
                                   % (status, redirect_host(location)), status=status, operation='open-channel')
            hint = {401: ' (check api_key)', 404: ' (check api_overrides.events_path: the PABX has no %s)'
                    % self._contract.events_path}.get(status, '')
            raise ChannelError('Opening the event channel failed: HTTP %d%s' % (status, hint), status=status,
                               operation='open-channel')
        # chunk_size=1: the default buffer would hold the small opening event back until it filled.
        events = parse_sse(self._response.iter_lines(chunk_size=1, decode_unicode=True))
        self.channel_id = self._first_channel_id(events)
        self._thread = threading.Thread(target=self._drain, args=(events,), name='digitro-event-channel')
        self._thread.daemon = True
        self._thread.start()
        return self.channel_id

    def _first_channel_id(self, events):
        try:
            for name, data in events:
                self.opening = (name, data)
                if name == _api.CHANNEL_OPEN_EVENT:
                    channel_id = str(json.loads(data)[self._contract.channel_id_field])
                    if channel_id.isdigit():
                        return channel_id
                    break
        except Exception:  # malformed stream: reported below
            pass
        self.close()
        raise ChannelError('The event channel did not start with a valid %s event carrying a numeric %s (run '
                           'digitro.pabx.check_api to see what the PABX sends)'
                           % (_api.CHANNEL_OPEN_EVENT, self._contract.channel_id_field), operation='open-channel')

    def _drain(self, events):
        try:
            for _event in events:
                pass  # events other than the opening one are not used by the modules
        except Exception:
            pass
        finally:
            self._mark_closed()

    def close(self):
        self._mark_closed()
        if self._response is None:
            return
        # Shut the socket down first: closing the response alone would wait for the reader thread's read.
        self._response.shutdown()
        try:
            self._response.close()
        except Exception:
            pass
