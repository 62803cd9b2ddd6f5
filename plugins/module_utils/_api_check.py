# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The read-only probe of digitro_api_check: each assumption of docs/api-contract.md checked against one PABX.

Rules the probe keeps, so that it can be pointed at a production PABX:

- it never sends a change: the write operations get an empty body ``{}``, which names no device and carries
  no password, and which a PABX must refuse (a missing field) without changing anything;
- it never sends a PIN that was refused: each PIN given is sent first in one request, and again only once
  the PABX accepted it; across runs, a ``Ledger`` file keeps a salted hash of every PIN the PABX refused and each
  number's wrong attempts caused by the probe, and no PIN is sent for a number the probe already cost a wrong
  attempt until a person says its count was reset at the console; so the probe adds at most one wrong attempt
  to a number, ever (it cannot see the attempts others made: docs/api-contract.md);
- it never sends a PIN to a write operation's slug, nor any PIN in check mode;
- whether an operation exists is told by comparing its answer to ``{}`` with the answer to ``{}`` of an
  operation that surely does not exist (assumed: the two differ, e.g. 400 and 404);
- the evidence (HTTP status and body) is scrubbed of every secret given.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import binascii
import hashlib
import json
import os
import re
import tempfile
import time

from ansible_collections.digitro.pabx.plugins.module_utils import _api
from ansible_collections.digitro.pabx.plugins.module_utils._channel import EventChannel
from ansible_collections.digitro.pabx.plugins.module_utils._errors import ChannelError, PabxError, explain, scrub

CONFIRMED, CONTRADICTED, NOT_CHECKED = 'confirmed', 'contradicted', 'not checked'
UNKNOWN_SLUG = _api.PROBE_SLUG
SETTING = 'digitro_api_overrides'
EVIDENCE_MAX = 300
# the order the operations' slugs are checked in (reads first) and the words of each
SLUG_ORDER = (_api.VERIFY_PASSWORD, _api.VALIDATE_USER, _api.DAC_QUERY, _api.CHANGE_PASSWORD, _api.DAC_LOGIN_LOGOUT)
NO_SETTING = 'no setting covers this: open an issue with this report attached'
API_KEY_WORDS = 'a request without x-api-key is refused with 401'


class ProbeAbort(Exception):
    """Nothing can be checked (no answer, a refused API key): the module fails with this message."""


class Answer(object):
    """One HTTP answer: status, body text, and the JSON in it (None when it is not JSON)."""

    def __init__(self, status, text):
        self.status = status
        self.text = text
        try:
            self.data = json.loads(text) if text.strip() else {}
        except ValueError:
            self.data = None

    def words(self, secrets):
        text = json.dumps(self.data, ensure_ascii=False) if self.data is not None else ' '.join(self.text.split())
        text = text if len(text) <= EVIDENCE_MAX else text[:EVIDENCE_MAX - 3] + '...'
        return scrub('HTTP %d %s' % (self.status, text or '(empty body)'), secrets)


def check(key, assumption, status, evidence, setting=None, advice=None):
    return {'id': key, 'assumption': assumption, 'status': status, 'evidence': evidence, 'setting': setting,
            'advice': advice}


def same_answer(one, other, one_slug, other_slug):
    """Whether two answers say the same (the slug each names, if any, left out)."""
    if one.status != other.status:
        return False
    return one.text.replace(one_slug, '<slug>') == other.text.replace(other_slug, '<slug>')


def error_field_of(answer, field):
    """(status, suggested field) of an error body against the assumed ``{"<field>": "..."}``."""
    data = answer.data
    if isinstance(data, dict) and isinstance(data.get(field), str):
        return CONFIRMED, None
    texts = [k for k, v in data.items() if isinstance(v, str)] if isinstance(data, dict) else []
    return CONTRADICTED, (texts[0] if len(texts) == 1 else None)


def channel_id_candidates(data, field):
    """(status, the field that carries the channel ID when it is not ``field``) of an opening event's data."""
    try:
        parsed = json.loads(data)
    except ValueError:
        return CONTRADICTED, None
    if not isinstance(parsed, dict):
        return CONTRADICTED, None
    if str(parsed.get(field, '')).isdigit() and not isinstance(parsed.get(field), bool):
        return CONFIRMED, None
    numeric = [k for k, v in parsed.items() if not isinstance(v, bool) and str(v).isdigit()]
    return CONTRADICTED, (numeric[0] if len(numeric) == 1 else None)


def fields_named(text, contract, sent):
    """The override keys of the fields ``sent`` (wire names) that a PABX's message names (a refused body)."""
    words = set(re.findall(r'[A-Za-z_][A-Za-z0-9_]*', text or ''))
    return sorted(key for key, name in _api.FIELD_KEYS.items() if contract.wire(name) in words & set(sent))


class Probe(object):
    """One run of the checks on ``client`` (a PabxClient) for one ``entry`` (the module's options)."""

    def __init__(self, client, entry, closed_channel_wait=1.0, sleep=time.sleep):
        self.client = client
        self.contract = client.contract
        self.entry = entry
        self.secrets = client.secrets | set(entry.get(k) for k in (
            'device_password', 'account_password', 'dac_device_password') if entry.get(k))
        self.closed_channel_wait = closed_channel_wait
        self.sleep = sleep
        self.checks = []
        self.channels = []
        self.sessions = []
        self.found = {}  # overrides the probe found the PABX needs, in the api_overrides shape
        self.no_answer = None  # why the last request got no answer

    # -- plumbing --------------------------------------------------------------------------------------------------
    def add(self, *args, **kwargs):
        self.checks.append(check(*args, **kwargs))

    def skip(self, key, assumption, why):
        self.add(key, assumption, NOT_CHECKED, why)

    def open_channel(self, contract):
        """An event channel on a session of its own (a channel holds its connection while it is open)."""
        session = self.client.new_session()
        self.sessions.append(session)
        channel = EventChannel(session, self.client.url, self.client.timeout, contract)
        self.channels.append(channel)
        channel.open()
        return channel

    def post(self, channel_id, slug, body):
        """Answer to ``body`` (wire names) sent once to ``slug``; None when no answer came (why: ``no_answer``)."""
        spec = _api.Operation(slug, (), (), False, False)
        target = 'the check'
        try:
            status, content = self.client.exchange(spec, channel_id, json.dumps(body), target, self.secrets)
        except PabxError as exc:
            self.no_answer = scrub(exc.message, self.secrets)
            return None
        return Answer(status, content.decode('utf-8', 'replace'))

    def request(self, channel_id, operation, body):
        """``post`` of an operation, with a body under _api's names."""
        return self.post(channel_id, self.contract.operations[operation].slug, self.contract.to_wire(body))

    def say(self, slug, body, answer):
        sent = '{%s}' % ', '.join(sorted(body)) if body else '{}'
        got = answer.words(self.secrets) if answer is not None else 'no answer: %s' % self.no_answer
        return 'POST /requests/<channel>/%s %s -> %s' % (slug, sent, got)

    def setting(self, path, value=None):
        """The setting to change, in words, and the override recorded in ``found`` when its value is known."""
        words = '%s.%s' % (SETTING, path)
        if value is not None:
            where, _sep, key = path.partition('.')
            if key:
                self.found.setdefault(where, {})[key] = value
            else:
                self.found[where] = value
            words += ' = %s' % json.dumps(value)
        return words

    def close(self):
        for channel in self.channels:
            channel.close()
        for session in self.sessions:
            session.close()

    # -- the checks ------------------------------------------------------------------------------------------------
    def run(self):
        try:
            channel = self.check_channel()
            if self.checks[0]['status'] == CONFIRMED:  # the transport: the events path answers a stream
                self.check_api_key()
            else:
                self.skip('api_key', API_KEY_WORDS, 'the event channel could not be opened')
            if channel is None:
                self.skip_operations('the event channel could not be opened')
                return self.checks
            exists = self.check_slugs(channel.channel_id)
            if exists is not None:
                self.check_reads(channel.channel_id, exists)
            return self.checks
        finally:
            self.close()

    def check_channel(self):
        """transport, opening event, channel ID field; the channel the other checks use (None: none could open)."""
        path = self.contract.events_path
        transport = 'GET %s with x-api-key answers a Server-Sent Events stream' % path
        opening = 'the stream opens with an %s event whose data is a JSON object' % _api.CHANNEL_OPEN_EVENT
        field = 'the opening event carries the channel ID in %s' % self.contract.channel_id_field
        try:
            probe = self.open_channel(self.contract)
        except ChannelError as exc:
            probe = self.channels[-1]
            return self.channel_refused(probe, exc, transport, opening, field)
        evidence = 'GET %s -> HTTP 200, first event %s: %s' % (path, probe.opening[0],
                                                               scrub(probe.opening[1][:EVIDENCE_MAX], self.secrets))
        self.add('transport', transport, CONFIRMED, evidence)
        self.add('opening_event', opening, CONFIRMED, evidence)
        self.add('channel_id_field', field, CONFIRMED, evidence)
        return probe

    def channel_refused(self, probe, exc, transport, opening, field):
        path = self.contract.events_path
        if exc.no_answer:
            raise ProbeAbort('the PABX at %s did not answer: %s' % (self.client.url, scrub(exc.message, self.secrets)))
        if exc.status == 401:
            raise ProbeAbort('the PABX refused the API key (HTTP 401 on GET %s): check digitro_api_key (api_key); '
                             'nothing was checked' % path)
        if exc.status is not None or probe.opening is None:
            said = 'HTTP %d' % exc.status if exc.status is not None else 'no event arrived (%s)' % exc.message
            self.add('transport', transport, CONTRADICTED, 'GET %s -> %s' % (path, said),
                     self.setting('events_path'), "set it to the path of the PABX's event channel")
            self.skip('opening_event', opening, 'no event channel')
            self.skip('channel_id_field', field, 'no event channel')
            return None
        name, data = probe.opening
        evidence = 'GET %s -> HTTP 200, first event %s: %s' % (path, name, scrub(data[:EVIDENCE_MAX], self.secrets))
        self.add('transport', transport, CONFIRMED, evidence)
        if name != _api.CHANNEL_OPEN_EVENT:
            self.add('opening_event', opening, CONTRADICTED, evidence, NO_SETTING)
            self.skip('channel_id_field', field, 'no opening event')
            return None
        status, candidate = channel_id_candidates(data, self.contract.channel_id_field)
        if status == CONFIRMED:  # the ID is there, yet the channel did not open: say what it said
            self.add('opening_event', opening, CONTRADICTED, '%s (%s)' % (evidence, exc.message), NO_SETTING)
            self.skip('channel_id_field', field, 'the channel did not open')
            return None
        if candidate is None:
            try:
                is_object = isinstance(json.loads(data), dict)
            except ValueError:
                is_object = False
            if not is_object:
                self.add('opening_event', opening, CONTRADICTED, evidence, NO_SETTING)
                self.skip('channel_id_field', field, 'the opening event is not a JSON object')
                return None
            self.add('opening_event', opening, CONFIRMED, evidence)
            self.add('channel_id_field', field, CONTRADICTED, evidence, self.setting('channel_id_field'),
                     'set it to the field of the opening event that carries the channel ID')
            return None
        self.add('opening_event', opening, CONFIRMED, evidence)
        self.add('channel_id_field', field, CONTRADICTED, evidence, self.setting('channel_id_field', candidate),
                 'the other checks ran with this setting')
        overrides = dict(self.contract.overrides, channel_id_field=candidate)
        self.contract = _api.contract(overrides)
        try:
            return self.open_channel(self.contract)
        except ChannelError as exc:
            raise ProbeAbort('the event channel did not open with channel_id_field %s either: %s'
                             % (candidate, scrub(exc.message, self.secrets)))

    def check_api_key(self):
        words = API_KEY_WORDS
        url = self.client.url + self.contract.events_path
        try:
            response = self.client.session.get(url, headers={_api.API_KEY_HEADER: None}, stream=True,
                                               timeout=self.client.timeout)
        except Exception as exc:  # requests raises many types; all mean no answer
            return self.skip('api_key', words, 'GET %s without the key got no answer: %s'
                             % (self.contract.events_path, scrub(explain(exc), self.secrets)))
        status = response.status_code
        response.close()
        evidence = 'GET %s without x-api-key -> HTTP %d' % (self.contract.events_path, status)
        self.add('api_key', words, CONFIRMED if status == 401 else CONTRADICTED, evidence,
                 None if status == 401 else NO_SETTING)

    def skip_operations(self, why):
        for operation in SLUG_ORDER:
            self.skip('slug_' + operation, 'the PABX has the operation %s' % self.contract.operations[operation].slug,
                      why)
        self.skip('error_body', 'an error answer is {"%s": "..."}' % self.contract.error_field, why)
        for key, words in self.read_checks():
            self.skip(key, words, why)

    def check_slugs(self, channel_id):
        """{operation: whether its slug exists}; adds the slug and error body checks."""
        unknown = self.post(channel_id, UNKNOWN_SLUG, {})
        if unknown is None:
            self.skip_operations('the request to a surely unknown operation got no answer (%s)' % self.no_answer)
            return None
        errors = [unknown] if unknown.status != 200 else []
        exists = {}
        for operation in SLUG_ORDER:
            slug = self.contract.operations[operation].slug
            words = 'the PABX has the operation %s (answers {} unlike an unknown operation)' % slug
            answer = self.post(channel_id, slug, {})
            evidence = '%s; unknown operation: %s' % (self.say(slug, {}, answer), unknown.words(self.secrets))
            if answer is None:
                self.skip('slug_' + operation, words, evidence)
                continue
            if answer.status != 200:
                errors.append(answer)
            if unknown.status == 200:
                self.skip('slug_' + operation, words, evidence + ' (the PABX answers an unknown operation with 200)')
                continue
            exists[operation] = not same_answer(answer, unknown, slug, UNKNOWN_SLUG)
            if exists[operation]:
                self.add('slug_' + operation, words, CONFIRMED, evidence)
            else:
                self.add('slug_' + operation, words, CONTRADICTED, evidence, self.setting('slugs.' + operation),
                         'set it to the slug of this operation on the PABX (its documentation or vendor)')
        if len(exists) == len(SLUG_ORDER) and not any(exists.values()):
            # every assumed slug answered as the unknown one: this PABX does not tell them apart that way (it may
            # check the body first); the reads below still tell, as a PIN sent to a path that does not exist is
            # not checked
            for item in self.checks[-len(SLUG_ORDER):]:
                item.update(status=NOT_CHECKED, setting=None, advice='the PABX answers {} to every assumed operation '
                            'as to an unknown one, so existence cannot be told this way')
            exists = dict((operation, None) for operation in SLUG_ORDER)
        self.check_error_body(errors)
        return exists

    def check_error_body(self, errors):
        words = 'an error answer is {"%s": "..."}' % self.contract.error_field
        if not errors:
            return self.skip('error_body', words, 'no error answer was seen')
        verdicts = [(answer, error_field_of(answer, self.contract.error_field)) for answer in errors]
        wrong = [(answer, found) for answer, (status, found) in verdicts if status == CONTRADICTED]
        if not wrong:
            return self.add('error_body', words, CONFIRMED, errors[0].words(self.secrets))
        answer, found = wrong[0]
        setting = self.setting('fields.error', found) if found else NO_SETTING
        self.add('error_body', words, CONTRADICTED, answer.words(self.secrets), setting,
                 'the modules then quote the whole body of an error instead' if not found else None)

    # -- the reads, with the known-good PINs -------------------------------------------------------------------------
    def read_checks(self):
        slug = self.contract.operations
        return [
            ('verify_device', '%s accepts the device and its known-good PIN' % slug[_api.VERIFY_PASSWORD].slug),
            ('validate_user', '%s answers {%s, %s, %s} for a valid account' % (
                slug[_api.VALIDATE_USER].slug, self.contract.wire(_api.ACCOUNT), self.contract.wire(_api.USER_NAME),
                self.contract.wire(_api.USER_CATEGORY))),
            ('verify_account', '%s with %s accepts the account and its known-good PIN' % (
                slug[_api.VERIFY_PASSWORD].slug, self.contract.wire(_api.ACCOUNT))),
            ('dac_query', '%s answers {%s: %s or %s, %s}' % (
                slug[_api.DAC_QUERY].slug, self.contract.wire(_api.DAC_STATE), _api.DAC_LOGGED_IN, _api.DAC_LOGGED_OUT,
                self.contract.wire(_api.ACCOUNT))),
            ('closed_channel', 'a request on a closed channel is refused with 400'),
        ]

    def check_reads(self, channel_id, exists):
        words = dict(self.read_checks())
        device = self.verify(channel_id, exists, 'verify_device', words['verify_device'], 'device',
                             self.entry['device'], self.entry['device_password'])
        self.check_account(channel_id, exists, device, words)
        self.check_dac(channel_id, exists, device, words['dac_query'])
        self.check_closed_channel(exists, device, words['closed_channel'])

    def body(self, device, password, **more):
        return dict({_api.DEVICE: device, _api.DEVICE_PASSWORD: password}, **more)

    def refused_body(self, key, words, operation, answer, evidence, body):
        """A 400 to a body of known-good credentials: a field the PABX names differently."""
        named = fields_named(answer.text, self.contract, self.contract.to_wire(body))
        setting = ', '.join('%s.fields.%s' % (SETTING, k) for k in named) or '%s.fields' % SETTING
        self.add(key, words, CONTRADICTED, evidence, setting,
                 "the PABX refused the body of %s: its message names the field to rename"
                 % self.contract.operations[operation].slug)

    def verify(self, channel_id, exists, key, words, kind, number, password, account=None, account_password=None):
        """verifica-senha with a PIN never refused; True when the PABX accepted it."""
        if exists.get(_api.VERIFY_PASSWORD) is False:
            self.skip(key, words, 'the operation %s was not found' % self.contract.operations[_api.VERIFY_PASSWORD].slug)
            return False
        body = self.body(self.entry['device'], self.entry['device_password'])
        if kind == 'device':
            body[_api.DEVICE], body[_api.DEVICE_PASSWORD] = number, password
        else:
            body.update({_api.ACCOUNT: account, _api.ACCOUNT_PASSWORD: account_password})
        answer = self.request(channel_id, _api.VERIFY_PASSWORD, body)
        evidence = self.say(self.contract.operations[_api.VERIFY_PASSWORD].slug, self.contract.to_wire(body), answer)
        if answer is None:
            self.skip(key, words, evidence)
            return False
        if answer.status == 200 and isinstance(answer.data, dict):
            self.add(key, words, CONFIRMED, evidence)
            return True
        if answer.status == 400:
            self.refused_body(key, words, _api.VERIFY_PASSWORD, answer, evidence, body)
            return False
        advice = None
        if answer.status == 403:
            advice = ('the PABX refused the PIN given for %s %s (it is not sent again): if it is the current one, '
                      '%s checks something else; otherwise correct the PIN and run again' % (
                          kind, number, self.contract.operations[_api.VERIFY_PASSWORD].slug))
        self.add(key, words, CONTRADICTED, evidence, self.other_refusal(answer, _api.VERIFY_PASSWORD), advice)
        return False

    def other_refusal(self, answer, operation):
        """The setting for a refusal other than 400: none for 403 (a PIN), the slug for 404, else none known."""
        if answer.status == 403:
            return None
        return self.setting('slugs.' + operation) if answer.status == 404 else NO_SETTING

    def check_account(self, channel_id, exists, device, words):
        account, password = self.entry.get('account'), self.entry.get('account_password')
        slug = self.contract.operations[_api.VALIDATE_USER].slug
        if not account:
            self.skip('validate_user', words['validate_user'], 'no account given (digitro_check_account)')
            return self.skip('verify_account', words['verify_account'], 'no account given (digitro_check_account)')
        if not device or exists.get(_api.VALIDATE_USER) is False:
            why = 'the device PIN was not proven good' if not device else 'the operation %s was not found' % slug
            self.skip('validate_user', words['validate_user'], why)
            return self.skip('verify_account', words['verify_account'], 'the account PIN was not proven good')
        body = self.body(self.entry['device'], self.entry['device_password'], **{
            _api.ACCOUNT: account, _api.ACCOUNT_PASSWORD: password})
        answer = self.request(channel_id, _api.VALIDATE_USER, body)
        evidence = self.say(slug, self.contract.to_wire(body), answer)
        good = self.judge_answer('validate_user', words['validate_user'], _api.VALIDATE_USER, answer, evidence, body,
                                 (_api.ACCOUNT, _api.USER_NAME, _api.USER_CATEGORY), 'account %s' % account)
        if not good:
            return self.skip('verify_account', words['verify_account'], 'the account PIN was not proven good')
        self.verify(channel_id, exists, 'verify_account', words['verify_account'], 'account', account, password,
                    account, password)

    def judge_answer(self, key, words, operation, answer, evidence, body, expected, whose):
        """A read's answer against the fields it should carry; True when the PABX accepted the PINs sent."""
        if answer is None:
            self.skip(key, words, evidence)
            return False
        if answer.status == 400:
            self.refused_body(key, words, operation, answer, evidence, body)
            return False
        if answer.status != 200 or not isinstance(answer.data, dict):
            advice = None
            if answer.status == 403:
                advice = ('the PABX refused the request (it is not sent again): check the PIN given for %s, and for a '
                          'DAC query that the device is a DAC device' % whose)
            self.add(key, words, CONTRADICTED, evidence, self.other_refusal(answer, operation), advice)
            return False
        missing = [name for name in expected if self.contract.wire(name) not in answer.data]
        if not missing:
            self.add(key, words, CONFIRMED, evidence)
            return True
        extra = sorted(k for k in answer.data if k not in set(self.contract.wire(n) for n in expected))
        keys = [k for k, name in sorted(_api.FIELD_KEYS.items()) if name in missing]
        guess = extra[0] if len(missing) == 1 and len(extra) == 1 else None
        setting = ', '.join(self.setting('fields.' + k, guess) for k in keys)
        self.add(key, words, CONTRADICTED, evidence, setting,
                 'the answer lacks %s; it has %s' % (', '.join(self.contract.wire(n) for n in missing),
                                                     ', '.join(extra) or 'nothing else'))
        return True

    def check_dac(self, channel_id, exists, device, words):
        number = self.entry.get('dac_device')
        slug = self.contract.operations[_api.DAC_QUERY].slug
        if not number:
            return self.skip('dac_query', words, 'no DAC device given (digitro_check_dac_device)')
        if exists.get(_api.DAC_QUERY) is False:
            return self.skip('dac_query', words, 'the operation %s was not found' % slug)
        password = self.entry.get('dac_device_password') or self.entry['device_password']
        if number == self.entry['device']:
            good = device
        else:
            good = self.verify(channel_id, exists, 'verify_dac_device', '%s accepts the DAC device and its known-good '
                               'PIN' % self.contract.operations[_api.VERIFY_PASSWORD].slug, 'device', number, password)
        if not good:
            return self.skip('dac_query', words, 'the DAC device PIN was not proven good')
        body = self.body(number, password)
        answer = self.request(channel_id, _api.DAC_QUERY, body)
        evidence = self.say(slug, self.contract.to_wire(body), answer)
        before = len(self.checks)
        self.judge_answer('dac_query', words, _api.DAC_QUERY, answer, evidence, body, (_api.DAC_STATE, _api.ACCOUNT),
                          'device %s' % number)
        state = answer.data.get(self.contract.wire(_api.DAC_STATE)) if answer is not None and isinstance(
            answer.data, dict) else None
        if self.checks[before]['status'] == CONFIRMED and state not in _api.DAC_STATES:
            self.checks[before].update(status=CONTRADICTED, setting=NO_SETTING,
                                       advice='the state %r is neither %s nor %s' % (
                                           state, _api.DAC_LOGGED_IN, _api.DAC_LOGGED_OUT))

    def check_closed_channel(self, exists, device, words):
        if not device:
            return self.skip('closed_channel', words, 'the device PIN was not proven good')
        try:
            channel = self.open_channel(self.contract)
        except ChannelError as exc:
            return self.skip('closed_channel', words, 'a second channel did not open: %s'
                             % scrub(exc.message, self.secrets))
        closed = channel.channel_id
        channel.close()
        self.sleep(self.closed_channel_wait)  # the PABX notices the closed stream
        body = self.body(self.entry['device'], self.entry['device_password'])
        answer = self.request(closed, _api.VERIFY_PASSWORD, body)
        evidence = self.say(self.contract.operations[_api.VERIFY_PASSWORD].slug, self.contract.to_wire(body), answer)
        evidence = evidence.replace('<channel>', '<closed channel>')
        if answer is None:
            return self.skip('closed_channel', words, evidence)
        if answer.status == 400:
            return self.add('closed_channel', words, CONFIRMED, evidence)
        self.add('closed_channel', words, CONTRADICTED, evidence, NO_SETTING,
                 'the modules resend a request once when their channel closed and it got 400; nothing else '
                 'depends on it')


def summary(checks):
    counts = dict((status, 0) for status in (CONFIRMED, CONTRADICTED, NOT_CHECKED))
    for item in checks:
        counts[item['status']] += 1
    return counts


def table(checks):
    """The checks as text lines: assumption, status, evidence, and what to change."""
    lines = []
    width = max(len(c['id']) for c in checks) if checks else 0
    for item in checks:
        lines.append('%-*s  %-12s  %s' % (width, item['id'], item['status'], item['assumption']))
        lines.append('%-*s  %-12s  evidence: %s' % (width, '', '', item['evidence']))
        if item['setting']:
            lines.append('%-*s  %-12s  change: %s' % (width, '', '', item['setting']))
        if item['advice']:
            lines.append('%-*s  %-12s  note: %s' % (width, '', '', item['advice']))
    return lines


def verdict(checks, found):
    """The module's message: all confirmed, or what is contradicted and which setting to change."""
    counts = summary(checks)
    contradicted = [c for c in checks if c['status'] == CONTRADICTED]
    head = '%d confirmed, %d contradicted, %d not checked' % (
        counts[CONFIRMED], counts[CONTRADICTED], counts[NOT_CHECKED])
    if not contradicted:
        return head
    settable = [c for c in contradicted if c['setting'] and c['setting'] != NO_SETTING]
    message = '%s. Contradicted: %s.' % (head, '; '.join(
        '%s (%s)' % (c['id'], c['setting'] or c['advice'] or 'see the report') for c in contradicted))
    if found:
        message += ' Values found: digitro_api_overrides %s.' % json.dumps(found, sort_keys=True)
    if settable:
        message += ' Set them in digitro_api_overrides (docs/api-contract.md), then run check_api again.'
    return message
