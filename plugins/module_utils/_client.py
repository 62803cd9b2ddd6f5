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
from ansible_collections.digitro.pabx.plugins.module_utils._errors import PabxError, explain, scrub

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
MAX_ANSWER_BYTES = 1024 * 1024  # a CTI answer is a few hundred bytes; anything near this is not one


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


def pabx_message(content):
    """What the PABX said, from a JSON error body or, failing that, the start of the text."""
    text = content.decode('utf-8', 'replace')
    try:
        data = json.loads(text)
        if isinstance(data, dict) and data.get(_api.ERROR_FIELD):
            return str(data[_api.ERROR_FIELD])[:200]
    except ValueError:
        pass
    return ' '.join(text.split())[:200]


class AnswerTooSlow(Exception):
    pass


def _read_answer(response, deadline):
    """The whole body, within the deadline and the size cap: a trickling answer must not outlast the timeout."""
    chunks, size = [], 0
    # read1 (urllib3 2) returns what has arrived, so the deadline is checked as the bytes come in;
    # iter_content would wait for a whole buffer first.
    read1 = getattr(response.raw, 'read1', None)
    pieces = iter(lambda: read1(8192), b'') if read1 else response.iter_content(chunk_size=64)
    try:
        for chunk in pieces:
            chunks.append(chunk)
            size += len(chunk)
            if time.monotonic() > deadline or size > MAX_ANSWER_BYTES:
                raise AnswerTooSlow()
    except BaseException:
        response.close()  # a half-read connection cannot be reused
        raise
    return b''.join(chunks)  # read to the end: the connection goes back to the pool for the next request


def _json_object(content, spec, target):
    """The JSON object of a 200 answer (an empty body counts as {})."""
    try:
        data = json.loads(content.decode('utf-8')) if content.strip() else {}
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise PabxError('%s for %s: the PABX answered 200 with a body that is not a JSON object'
                        % (spec.slug, target), status=200, operation=spec.slug, target=target)
    return data


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
        self.session = self._session(api_key, validate_certs, ca_path, pool_size=concurrency)
        # The event stream holds its connection for the whole run: it gets a session of its own, so that it
        # never takes a connection the requests need (with concurrency 1 it would take the only one).
        self._channel_session = self._session(api_key, validate_certs, ca_path, pool_size=1)
        self._adapter = self.session.get_adapter(self.url)
        self._templates = {}

    def _session(self, api_key, validate_certs, ca_path, pool_size):
        session = requests.Session()
        session.headers[_api.API_KEY_HEADER] = api_key
        verify = ca_path if (validate_certs and ca_path) else bool(validate_certs)
        # Proxy and CA settings from the environment are read once here; left to requests, every request
        # re-reads them (and ~/.netrc), which costs more CPU than the request itself at a PABX's pace.
        settings = session.merge_environment_settings(self.url, {}, None, verify, None)
        session.proxies.update(settings['proxies'])
        session.verify = settings['verify']
        session.trust_env = False
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=max(pool_size, 1), pool_block=True)
        session.mount('http://', adapter)
        session.mount('https://', adapter)
        return session

    def _prepared(self, url, payload):
        """A prepared POST of ``payload`` to ``url``: a copy of a cached template, as parsing the URL and merging
        the session's settings anew for every request costs more CPU than the request's own work."""
        template = self._templates.get(url)
        if template is None:
            template = self.session.prepare_request(requests.Request(
                'POST', url, headers={'Content-Type': 'application/json'}))
            self._templates[url] = template
        prepared = template.copy()
        prepared.prepare_body(payload, None)
        return prepared

    # -- event channel -------------------------------------------------------------------------
    def channel_id(self):
        if self._fixed_channel is not None:
            return str(self._fixed_channel)
        with self._channel_lock:
            if self._channel is None or self._channel.closed.is_set():
                if self._channel is not None:
                    self._channel.close()
                self._channel = EventChannel(self._channel_session, self.url, self.timeout)
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
        self._channel_session.close()

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
        deadline = time.monotonic() + self.timeout
        try:
            # straight to the transport adapter: no redirects followed, no cookies kept (a PABX sets none)
            response = self._adapter.send(self._prepared(url, json.dumps(body)), stream=True, timeout=self.timeout,
                                          verify=self.session.verify, proxies=self.session.proxies)
            content = _read_answer(response, deadline)
        except AnswerTooSlow:
            raise PabxError('%s for %s got no complete answer within %gs (timeout)' % (spec.slug, target, self.timeout),
                            operation=spec.slug, target=target, ambiguous=spec.writes)
        except requests.exceptions.SSLError as exc:
            raise PabxError('%s for %s failed: %s' % (spec.slug, target, scrub(explain(exc), secrets)),
                            operation=spec.slug, target=target)
        except requests.exceptions.RequestException as exc:
            raise PabxError('%s for %s got no answer: %s' % (spec.slug, target, scrub(explain(exc), secrets)),
                            operation=spec.slug, target=target, ambiguous=spec.writes)
        if response.status_code == 200:
            return _json_object(content, spec, target)
        said = scrub(pabx_message(content), secrets)
        raise PabxError('%s for %s failed: HTTP %d %s%s' % (
            spec.slug, target, response.status_code, HTTP_REASONS.get(response.status_code, ''),
            ': %s' % said if said else ''), status=response.status_code, operation=spec.slug, target=target,
            ambiguous=spec.writes and response.status_code >= 500, pabx_message=said)


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
