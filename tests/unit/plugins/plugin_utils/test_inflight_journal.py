"""PINs out when every process of a run is killed: the journal's out lines, their count, and the next run's order.

The simulation below runs the real stage, module protocol, journal, take/apply and commit against a fake PABX that
counts wrong PINs in a row as they arrive and locks at five, and kills the run (``Killed``, which nothing catches)
after the PABX counted a request and before the module sees its answer.
"""
import datetime
import json
import os
import random

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.digitro.pabx.plugins.module_utils import _api
from ansible_collections.digitro.pabx.plugins.module_utils._errors import PabxError
from ansible_collections.digitro.pabx.plugins.module_utils._journal import ROLES, Journal, parse, read, read_counts
from ansible_collections.digitro.pabx.plugins.module_utils._password import attempts, ensure_password, roles
from ansible_collections.digitro.pabx.plugins.plugin_utils import _rotation_commit, _rotation_stage, _store
from ansible_collections.digitro.pabx.plugins.plugin_utils._store_journal import UNANSWERED_KEPT, apply, clear, take

NOW = datetime.datetime(2026, 11, 27, 3, 0, 0)
DEVICE = '100000'
LINE_KEYS = set(['kind', 'number', 'wrong_attempts', 'out', 'run'])
STORE_ROLES = ('current', 'pending', 'unknown')


class Killed(BaseException):
    """Every process of the run is gone: nothing after this request happens, nothing handles it."""


class Pabx(object):
    """One device: its PIN, its wrong PINs in a row (counted as a request arrives), a lockout at five, and a kill
    after the ``kill_at``-th request (the PABX counted it; its answer never reaches the module)."""

    def __init__(self, pin, change='apply'):
        self.pin, self.change = pin, change
        self.in_a_row = self.most = self.requests = 0
        self.kill_at, self.locked = None, False

    def _check(self, pin):
        if self.in_a_row >= 5:
            self.locked = True
        if pin == self.pin:
            self.in_a_row = 0
            return True
        self.in_a_row += 1
        self.most = max(self.most, self.in_a_row)
        return False

    def call(self, operation, body):
        self.requests += 1
        ok = self._check(body[_api.DEVICE_PASSWORD])
        if ok and operation == _api.CHANGE_PASSWORD and self.change == 'apply':
            self.pin = body[_api.NEW_PASSWORD]
        if self.requests == self.kill_at:
            raise Killed()
        if not ok:
            raise PabxError('wrong', status=403)
        return {}


class Site(object):
    """The store on disk (what the last save wrote) and the journal file, across runs."""

    def __init__(self, tmp_path, current, budget=2):
        self.disk = _store.empty_store()
        self.disk['devices'][DEVICE] = {'current': current, 'pending': None, 'history': [], 'changed_at': None}
        self.path, self.budget = str(tmp_path / 'store.journal'), budget
        self.loads = []  # (count the load gave the entry, the PABX's count then)

    def entry(self):
        return self.disk['devices'][DEVICE]

    def run(self, pabx, kill_at=None, planning=False, rng=None):
        """One rotation of the device (the role's steps); None when it was killed, else its report row."""
        loaded = apply(self.disk, *take(self.path))
        self.loads.append((int(loaded['devices'][DEVICE].get('wrong_attempts') or 0), pabx.in_a_row))
        plan = _rotation_stage.stage(loaded, 'devices', {'targets': [DEVICE]}, {}, NOW, planning=planning,
                                     rng=rng or random.Random(7))
        if plan['staged']:  # the write-ahead save
            self.disk = plan['store']
            clear(self.path)
        pabx.requests, pabx.kill_at = 0, kill_at
        journal = Journal(self.path)
        try:
            results = [ensure_password(pabx, dict(request), planning, 0, self.budget, sleep=lambda s: None,
                                       journal=journal, journaled=read_counts(self.path)) for request in plan['batch']]
        except Killed:
            return None
        done = _rotation_commit.commit(plan, 'devices', results, NOW, check_mode=planning, max_wrong=self.budget)
        if done['unsaved']:
            self.disk = done['store']
            clear(self.path)
        return done['report'][0] if done['report'] else None

    def journal_lines(self):
        lines = []
        for path in (self.path + '.taken', self.path):
            if os.path.exists(path):
                with open(path) as handle:
                    lines.extend(json.loads(line) for line in handle.read().splitlines())
        return lines


def test_a_killed_run_leaves_its_pin_out_by_role_and_counted(tmp_path):
    site = Site(tmp_path, '111111')
    pabx = Pabx('111111')
    assert site.run(pabx, kill_at=1) is None   # the current PIN out, accepted, its answer never seen
    counts, unanswered = take(site.path)
    assert counts == {('devices', DEVICE): 1}
    assert [role for run, role in unanswered[('devices', DEVICE)]] == ['current']
    row = site.run(pabx)
    # the next run asked that PIN first: accepted, so the attempt out was not wrong, and the count is 0 again (the
    # change the killed run staged is settled by verification, and the run after rotates it)
    assert row['status'] == 'verified' and pabx.most == 0
    assert site.entry()['wrong_attempts'] == 0 and 'unanswered' not in site.entry()
    assert site.run(pabx)['status'] == 'rotated' and site.entry()['current'] == pabx.pin


def test_a_good_entry_whose_new_pin_was_out_is_settled_not_quarantined(tmp_path):
    # the change applied, and the confirmation of the new PIN was out when every process died: asking the current
    # (old) PIN first would spend the budget on a PIN that is certainly wrong now
    site = Site(tmp_path, '111111')
    pabx = Pabx('111111')
    assert site.run(pabx, kill_at=3) is None   # verify current, change, verify new (killed)
    assert site.entry()['pending'] and pabx.pin == site.entry()['pending']
    row = site.run(pabx)
    assert row['status'] in ('verified', 'rotated') and not site.entry().get('quarantined')
    assert site.entry()['current'] == pabx.pin and site.entry()['wrong_attempts'] == 0 and pabx.most == 0


def test_a_change_out_when_the_run_died_costs_nothing(tmp_path):
    # its credential was accepted a moment before in the same run: the change request is not counted as out
    site = Site(tmp_path, '111111')
    pabx = Pabx('111111')
    assert site.run(pabx, kill_at=2) is None
    assert read_counts(site.path) == {('devices', DEVICE): 0}
    row = site.run(pabx)
    assert row['status'] in ('verified', 'rotated') and not site.entry().get('quarantined') and pabx.most <= 1


def test_runs_killed_while_a_wrong_pin_is_out_stop_at_the_budget(tmp_path):
    site = Site(tmp_path, '111111')
    pabx = Pabx('583920')   # changed at the console
    for _run in range(5):
        site.run(pabx, kill_at=1)
    # two runs sent the stored PIN and died; the third found the budget spent by attempts nobody saw answered
    assert pabx.most == 2 and not pabx.locked
    quarantined = site.entry()['quarantined']
    assert quarantined and '2 of them out when a run was killed' in quarantined['reason']
    assert 'if it shows fewer, give the store' in quarantined['reason']  # the stored PIN may be good
    assert [r['role'] for r in site.entry()['unanswered']] == ['current', 'current']
    assert site.entry()['wrong_attempts'] == 2


def test_a_wrong_pin_out_is_proven_by_the_same_pin_and_counted_with_it(tmp_path):
    site = Site(tmp_path, '111111', budget=3)
    pabx = Pabx('583920')
    assert site.run(pabx, kill_at=1) is None
    row = site.run(pabx)   # the stored PIN again, refused: the attempt that was out was wrong too
    assert row['status'] == 'quarantined' and site.entry()['wrong_attempts'] == pabx.in_a_row == 3


@pytest.mark.parametrize('budget', [1, 2])
def test_with_the_budget_spent_by_unanswered_attempts_nothing_is_sent(tmp_path, budget):
    site = Site(tmp_path, '111111', budget=budget)
    pabx = Pabx('111111')
    for _run in range(budget):
        assert site.run(pabx, kill_at=1) is None
    row = site.run(pabx)
    assert row['status'] == 'quarantined' and pabx.requests == 0   # the PIN out may have been wrong each time


def test_a_requesting_devices_check_is_out_until_answered(tmp_path):
    from ansible_collections.digitro.pabx.plugins.module_utils._password import DeviceGates

    class Accounts(object):   # the device's PIN is right, the account's wrong; ``kill`` after the n-th request
        def __init__(self, kill=None):
            self.requests, self.kill = 0, kill

        def call(self, operation, body):
            self.requests += 1
            if self.requests == self.kill:
                raise Killed()
            if body.get(_api.ACCOUNT) and body[_api.ACCOUNT_PASSWORD] != '4444':
                raise PabxError('wrong', status=403)
            return {}
    entry = dict(device=DEVICE, device_password='1111', account='500000', account_password='3333',
                 new_password='5555', candidates=[], wrong_attempts=0)
    for kill, device_lines in ((None, [(2, 'current'), (0, None)]), (2, [(2, 'current')])):
        path = str(tmp_path / ('journal-%s' % kill))
        journal = Journal(path)
        try:
            ensure_password(Accounts(kill), dict(entry), False, 0, 2, sleep=lambda s: None, journal=journal,
                            gates=DeviceGates(journal, 2))
        except Killed:
            pass
        with open(path) as handle:
            lines = [json.loads(line) for line in handle]
        assert [(line['wrong_attempts'], line.get('out')) for line in lines if line['kind'] == 'devices'] == device_lines
    # killed while the device's check was out: the next load counts the refused request and the check
    assert read(path) == ({('devices', DEVICE): 2, ('accounts', '500000'): 1}, {('devices', DEVICE): [(journal.run, 'current')]})


def test_resume_order_starts_at_the_pin_out_and_keeps_the_roles():
    entry = {'current': 'C', 'pending': 'P', 'sent': [{'password': 'S0', 'at': 'x'}, {'password': 'S1', 'at': 'y'}],
             'wrong_attempts': 1}
    known = _store.candidates(entry)
    assert _store.resume_order(entry, known) == known   # nothing out
    for role, order in (('current', ['P', 'S0', 'S1']), ('pending', ['P', 'S0', 'S1', 'C']),
                        ('sent:0', ['S0', 'S1', 'C', 'P']), ('sent:1', ['S1', 'C', 'P', 'S0']),
                        ('sent:7', ['P', 'S0', 'S1']), ('unknown', ['P', 'S0', 'S1'])):
        resumed = _store.resume_order(dict(entry, unanswered=[{'role': role, 'run': 'ab'}]), known)
        assert resumed == order
        request = dict(device=DEVICE, device_password='C', new_password='P', candidates=resumed)
        tried = [pin for index, pin in attempts(request)]
        assert tried == (['C'] + resumed if 'C' not in resumed else resumed)
        # the module names each PIN as the store does, whatever the order it was given
        assert roles(request) == {'C': 'current', 'P': 'new', 'S0': 'sent:0', 'S1': 'sent:1'}
    # the newest role whose PIN the entry still has; none once a PIN was accepted (count 0)
    newest = dict(entry, unanswered=[{'role': 'sent:1', 'run': 'a'}, {'role': 'sent:9', 'run': 'b'}])
    assert _store.resume_order(newest, known)[0] == 'S1'
    assert _store.resume_order(dict(newest, wrong_attempts=0), known) == known


def test_the_candidate_index_in_a_result_is_the_place_in_the_list_given():
    class Holds(object):
        def call(self, operation, body):
            if body[_api.DEVICE_PASSWORD] != 'S1':
                raise PabxError('wrong', status=403)
            return {}
    request = dict(device=DEVICE, device_password='C', new_password='P', candidates=['S1', 'C', 'P', 'S0'],
                   wrong_attempts=1, verify_only=True)
    result = ensure_password(Holds(), request, False, 0, 2, sleep=lambda s: None)
    assert result['holds'] == 'candidate' and request['candidates'][result['candidate']] == 'S1'


def test_parse_answers_an_out_line_by_its_own_run_or_by_an_accepted_pin():
    def line(run, count, out=None, number=DEVICE):
        item = {'kind': 'devices', 'number': number, 'wrong_attempts': count, 'run': run}
        if out:
            item['out'] = out
        return json.dumps(item)
    key = ('devices', DEVICE)
    assert parse([line('a1', 1, 'current')]) == ({key: 1}, {key: [('a1', 'current')]})
    assert parse([line('a1', 1, 'current'), line('a1', 1)])[1] == {}              # answered: refused
    assert parse([line('a1', 1, 'current'), line('b2', 2, 'new')])[1] == {key: [('a1', 'current'), ('b2', 'new')]}
    assert parse([line('a1', 1, 'current'), line('b2', 2)])[1] == {key: [('a1', 'current')]}  # not its answer
    assert parse([line('a1', 1, 'current'), line('b2', 0)])[1] == {}   # a PIN accepted since: the row is reset
    assert parse([line('a1', 3, 'sent:1'), line('a1', 3, 'passw0rd')])[1] == {key: [('a1', 'unknown')]}
    assert parse([line('a1', 1, 'current', number='7'), line('not hex', 1, 'current'), ''])[1] == {
        ('devices', '7'): [('a1', 'current')]}


def test_take_keeps_counts_above_zero_and_apply_adds_each_run_once(tmp_path):
    path = str(tmp_path / 'store.journal')
    store = {'schema': 2, 'accounts': {},
             'devices': {'1000': {'current': 'x', 'pending': 'y'}, '1001': {'current': 'z', 'wrong_attempts': 1}}}
    journal = Journal(path)
    journal.out('devices', '1000', 1, 'new')
    journal.record('devices', '1001', 0)
    journal.out('devices', '9999', 1, 'current')   # a number the store no longer has
    counts, unanswered = take(path)
    assert counts == {('devices', '1000'): 1, ('devices', '9999'): 1}
    once = apply(store, counts, unanswered)
    assert once['devices']['1000']['unanswered'] == [{'role': 'pending', 'run': journal.run}]
    assert once['devices']['1000']['wrong_attempts'] == 1 and once['devices']['1001']['wrong_attempts'] == 1
    assert 'unanswered' not in store['devices']['1000']   # the loaded store is left as it was
    # a save that a kill kept from clearing the journal: the same run is not counted twice
    assert apply(once, *take(path)) == once
    many = apply(store, {}, {('devices', '1000'): [('%02x' % i, 'current') for i in range(30)]})
    assert len(many['devices']['1000']['unanswered']) == UNANSWERED_KEPT
    # the new PIN of a change out with no pending PIN left to name it: kept, and counted, as unknown
    assert apply({'devices': {'1000': {'current': 'x'}}, 'accounts': {}}, {},
                 {('devices', '1000'): [('ab', 'new')]})['devices']['1000']['unanswered'] == [
                     {'role': 'unknown', 'run': 'ab'}]


LINES = st.lists(st.tuples(st.sampled_from(['a1', 'b2', 'c3']), st.sampled_from(['1000', '1001']),
                           st.integers(0, 3), st.sampled_from([None, 'current', 'new', 'sent:0'])), max_size=12)


def journal_text(lines):
    items = []
    for run, number, count, out in lines:
        item = {'kind': 'devices', 'number': number, 'wrong_attempts': count if count or not out else 1, 'run': run}
        if out:
            item['out'] = out
        items.append(json.dumps(item))
    return items


@settings(max_examples=300, deadline=None)
@given(before=LINES, after=LINES)
def test_a_taken_journal_kept_down_to_what_it_means_reads_the_same_with_any_later_lines(
        tmp_path_factory, before, after):
    path = str(tmp_path_factory.mktemp('journal') / 'store.journal')
    with open(path, 'w') as handle:
        handle.write(''.join(line + '\n' for line in journal_text(before)))
    whole = parse(journal_text(before) + journal_text(after))
    taken = take(path)
    with open(path + '.taken') as handle:
        kept = handle.read().splitlines()
    assert len(kept) <= len(before)
    assert parse(kept + journal_text(after))[1] == whole[1]
    assert dict((k, v) for k, v in parse(kept + journal_text(after))[0].items() if v) == \
        dict((k, v) for k, v in whole[0].items() if v)
    assert taken == (dict((k, v) for k, v in parse(journal_text(before))[0].items() if v),
                     parse(journal_text(before))[1])


PINS = st.text(alphabet='0123456789', min_size=4, max_size=8)


@settings(max_examples=150, deadline=None)
@given(current=PINS, console=st.one_of(st.none(), PINS), change=st.sampled_from(['apply', 'ignore']),
       budget=st.integers(1, 3), schedule=st.lists(st.tuples(st.one_of(st.none(), st.integers(1, 7)), st.booleans()),
                                                   min_size=1, max_size=7), seed=st.integers(0, 99))
def test_killed_runs_never_add_up_past_the_budget_and_no_pin_reaches_the_journal(
        tmp_path_factory, current, console, change, budget, schedule, seed):
    tmp_path = tmp_path_factory.mktemp('runs')
    site = Site(tmp_path, current, budget)
    pabx = Pabx(console or current, change)
    rng = random.Random(seed)
    for kill_at, planning in schedule:
        site.run(pabx, kill_at=kill_at, planning=planning, rng=rng)
        entry = site.entry()
        pins = set([entry['current'], entry.get('pending'), pabx.pin, current, console]) - set([None])
        pins.update(s['password'] for s in entry.get('sent') or [])
        pins.update(entry.get('history') or [])
        for line in site.journal_lines():   # a kind, a number, a count, a role, a run's mark: never a PIN
            assert set(line) <= LINE_KEYS and line['number'] == DEVICE
            assert 'out' not in line or ROLES.match(line['out'])
            assert not pins & set(str(value) for key, value in line.items() if key != 'number')
        for record in entry.get('unanswered') or []:
            assert set(record) == set(['role', 'run'])
            assert record['role'] in STORE_ROLES or record['role'].startswith('sent:')
    assert pabx.most <= budget and not pabx.locked   # the PABX never counted more than the budget in a row
    # every load started from at least what the PABX counted: never low, whatever was killed
    assert all(loaded >= counted for loaded, counted in site.loads)
    counts, unanswered = read(site.path + '.taken')
    assert all(count >= 0 for count in counts.values())
