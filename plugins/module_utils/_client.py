# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one HTTP client of the collection.

Reads are retried with backoff on connection errors and 5xx; a change is
never retried blindly (a lost answer makes it ``ambiguous`` and the caller
verifies instead). Every message is scrubbed of the request's secrets.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import select
import sys
import threading
import time
import traceback

from ansible_collections.digitro.pabx.plugins.module_utils import _api
from ansible_collections.digitro.pabx.plugins.module_utils._batch import describe
from ansible_collections.digitro.pabx.plugins.module_utils._channel import EventChannel
from ansible_collections.digitro.pabx.plugins.module_utils._errors import PabxError, scrub

REQUESTS_IMPORT_ERROR = None
try:
    import requests
    from requests.adapters import HTTPAdapter
except ImportError:
    requests = None
    HTTPAdapter = object
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

HTTP_REASONS = {400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 500: 'Internal Server Error'}
READ_RETRIES = 3
BACKOFF_SECONDS = 0.2


class RateLimiter(object):
    """Spaces request starts at least 1/rate seconds apart, across threads."""

    def __init__(self, per_second):
        self._interval = 1.0 / per_second if per_second else 0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self):
        if not self._interval:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self._interval
        if start > now:
            time.sleep(start - now)


def describe_target(body):
    """The target of a request body, in the words every message uses."""
    return describe({'device': body.get(_api.DEVICE), 'account': body.get(_api.ACCOUNT)})


def pabx_message(response):
    """What the PABX said, from a JSON error body or, failing that, the start of the text."""
    try:
        data = response.json()
        if isinstance(data, dict) and data.get(_api.ERROR_FIELD):
            return str(data[_api.ERROR_FIELD])
    except ValueError:
        pass
    text = (response.text or '').strip().replace('\n', ' ')
    return text[:200]


class PabxClient(object):
    """A session with one PABX: connection pool, event channel, bounded retries."""

    def __init__(self, url, api_key, validate_certs=True, ca_path=None, timeout=10, channel_id=None,
                 concurrency=8, rate_limit=0):
        if requests is None:
            raise RuntimeError('requests is required')
        self.url = url.rstrip('/')
        self.timeout = timeout
        self._fixed_channel = channel_id
        self._channel = None
        self._channel_lock = threading.Lock()
        self._limiter = RateLimiter(rate_limit)
        self.stopped = threading.Event()  # set when the controller is gone: send nothing more
        self._secrets = set([api_key])
        self.request_count = 0
        self._count_lock = threading.Lock()
        self.session = requests.Session()
        self.session.headers[_api.API_KEY_HEADER] = api_key
        self.session.verify = ca_path if (validate_certs and ca_path) else bool(validate_certs)
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=max(concurrency, 1), pool_block=True)
        self.session.mount('http://', adapter)
        self.session.mount('https://', adapter)

    # -- event channel -------------------------------------------------------------------------
    def channel_id(self):
        if self._fixed_channel is not None:
            return str(self._fixed_channel)
        with self._channel_lock:
            if self._channel is None or self._channel.closed.is_set():
                if self._channel is not None:
                    self._channel.close()
                self._channel = EventChannel(self.session, self.url, self.timeout)
                self._channel.open()
            return self._channel.channel_id

    def _channel_lost(self, channel_id):
        """True when our own channel closed after this request used it: safe to resend."""
        if self._fixed_channel is not None:
            return False
        with self._channel_lock:
            channel = self._channel
        return channel is not None and channel.channel_id == channel_id and channel.closed.wait(0.2)

    def close(self):
        if self._channel is not None:
            self._channel.close()
        self.session.close()

    # -- requests ------------------------------------------------------------------------------
    def call(self, operation, body):
        """POST one operation; return the JSON object of a 200 answer or raise PabxError."""
        spec = _api.OPERATIONS[operation]
        secrets = self._secrets | set(v for k, v in body.items() if k in _api.SECRET_FIELDS)
        target = describe_target(body)
        retries_left = 0 if spec.writes else READ_RETRIES - 1
        channel_resends = 1
        while True:
            channel_id = self.channel_id()
            try:
                return self._post_once(spec, channel_id, body, target, secrets)
            except PabxError as exc:
                if exc.status == 400 and channel_resends and self._channel_lost(channel_id):
                    channel_resends -= 1  # the PABX refused the channel, not the command: nothing applied
                    continue
                if retries_left and (exc.status is None or exc.status >= 500):
                    time.sleep(BACKOFF_SECONDS * (2 ** (READ_RETRIES - 1 - retries_left)))
                    retries_left -= 1
                    continue
                raise

    def _post_once(self, spec, channel_id, body, target, secrets):
        if self.stopped.is_set():
            raise PabxError('%s for %s was not sent: the Ansible run that started this module has ended'
                            % (spec.slug, target), operation=spec.slug, target=target)
        url = self.url + _api.REQUEST_PATH.format(channel_id=channel_id, slug=spec.slug)
        self._limiter.wait()
        with self._count_lock:
            self.request_count += 1
        try:
            response = self.session.post(url, data=json.dumps(body), timeout=self.timeout,
                                         headers={'Content-Type': 'application/json'})
        except requests.exceptions.SSLError as exc:
            raise PabxError('%s for %s failed: TLS verification failed (%s); set ca_path to the PABX CA, '
                            'or validate_certs=false on a lab system'
                            % (spec.slug, target, scrub(_short(exc), secrets)), operation=spec.slug, target=target)
        except requests.exceptions.RequestException as exc:
            raise PabxError('%s for %s got no answer: %s' % (spec.slug, target, scrub(_short(exc), secrets)),
                            operation=spec.slug, target=target, ambiguous=spec.writes)
        if response.status_code == 200:
            return self._json_object(response, spec, target)
        said = scrub(pabx_message(response), secrets)
        raise PabxError('%s for %s failed: HTTP %d %s%s' % (
            spec.slug, target, response.status_code, HTTP_REASONS.get(response.status_code, ''),
            ': %s' % said if said else ''), status=response.status_code, operation=spec.slug, target=target,
            ambiguous=spec.writes and response.status_code >= 500, pabx_message=said)

    @staticmethod
    def _json_object(response, spec, target):
        try:
            data = response.json() if response.content else {}
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise PabxError('%s for %s: the PABX answered 200 with a body that is not a JSON object'
                            % (spec.slug, target), status=200, operation=spec.slug, target=target)
        return data


def stop_when_orphaned(client, interval=0.5):
    """Stop the client once nobody reads this process's output any more.

    Ansible starts a module in a session of its own, so a cancelled or killed job leaves it running;
    a batch that kept changing passwords then would race the next run. The pipe to the controller
    reports a hang-up when the controller's side is gone.
    """
    def watch():
        try:
            poller = select.poll()
            poller.register(sys.stdout.fileno(), select.POLLERR | select.POLLHUP)
        except (AttributeError, ValueError, OSError):
            return  # no pollable stdout here (a test harness, a platform without poll)
        while not client.stopped.is_set():
            if poller.poll(interval * 1000):
                client.stopped.set()
    thread = threading.Thread(target=watch, name='digitro-orphan-watch')
    thread.daemon = True
    thread.start()
    return thread


def _short(exc):
    """The innermost reason of a requests exception, without the long urllib3 repr chain."""
    text = str(exc)
    for marker in ('Caused by ', 'caused by '):
        if marker in text:
            text = text.split(marker, 1)[1]
    return text.strip('()')[:200]
