"""The password plan, against a scripted fake PABX: which requests, in which order, and what is decided."""
import datetime

import pytest

from ansible_collections.digitro.pabx.plugins.module_utils import _api
from ansible_collections.digitro.pabx.plugins.module_utils._errors import PabxError
from ansible_collections.digitro.pabx.plugins.module_utils._password import ensure_password
from ansible_collections.digitro.pabx.plugins.plugin_utils._rotation_commit import settle_entry


class FakePabx:
    """Holds one device's password; ``change`` says what altera-senha does: 'apply', 'refuse', 'lose', 'ignore'."""

    def __init__(self, password, change='apply'):
        self.password = password
        self.change = change
        self.calls = []

    def call(self, operation, body):
        self.calls.append(operation)
        if operation == _api.VERIFY_PASSWORD:
            if body[_api.DEVICE_PASSWORD] != self.password:
                raise PabxError('wrong', status=403)
            return {}
        if self.change == 'refuse':
            raise PabxError('altera-senha for device 1000 failed: HTTP 400 Bad Request: policy', status=400)
        if self.change in ('apply', 'lose'):
            self.password = body[_api.NEW_PASSWORD]
        if self.change == 'lose':
            raise PabxError('altera-senha for device 1000 got no answer', ambiguous=True)
        return {}


ENTRY = dict(device='1000', device_password='1111', new_password='2222')
V, C = _api.VERIFY_PASSWORD, _api.CHANGE_PASSWORD


def run(pabx, check_mode=False, entry=None):
    return ensure_password(pabx, dict(entry or ENTRY), check_mode, confirm_timeout=1, sleep=lambda s: None)


def test_happy_path_is_three_requests():
    pabx = FakePabx('1111')
    result = run(pabx)
    assert result['status'] == 'changed' and result['changed'] and not result['failed']
    assert pabx.calls == [V, C, V] and pabx.password == '2222'


def test_already_changed_is_unchanged():
    pabx = FakePabx('2222')
    assert run(pabx)['status'] == 'unchanged'
    assert pabx.calls == [V, V]


def test_neither_password_is_out_of_sync_and_stops():
    pabx = FakePabx('9999')
    result = run(pabx)
    assert result['status'] == 'rejected' and result['failed']
    assert pabx.calls == [V, V]  # two tries at most: PABXs lock extensions


def test_check_mode_sends_no_change():
    pabx = FakePabx('1111')
    assert run(pabx, check_mode=True)['status'] == 'would_change'
    assert pabx.calls == [V] and pabx.password == '1111'


def test_refusal_keeps_the_current_password():
    pabx = FakePabx('1111', change='refuse')
    result = run(pabx)
    assert result['status'] == 'refused' and 'still in place' in result['msg']
    assert pabx.calls == [V, C]


def test_lost_answer_is_confirmed_before_deciding():
    pabx = FakePabx('1111', change='lose')
    assert run(pabx)['status'] == 'changed'
    assert pabx.calls == [V, C, V]


def test_ignored_change_is_unconfirmed_and_costs_one_attempt():
    pabx = FakePabx('1111', change='ignore')
    result = run(pabx)
    assert result['status'] == 'unconfirmed' and 'keep both passwords' in result['msg']
    # the new PIN once, then the old one (at once, then spread over the timeout) while it still works: a
    # correct password costs no attempt
    assert pabx.calls == [V, C, V, V, V, V, V]
    assert result['holds'] == 'current' and result['wrong_attempts'] == 0 and result['sent']


def test_same_password_only_verifies():
    pabx = FakePabx('1111')
    assert run(pabx, entry=dict(ENTRY, new_password='1111'))['status'] == 'unchanged'
    assert pabx.calls == [V]


@pytest.mark.parametrize('status', ['changed', 'unchanged', 'rejected', 'refused', 'unconfirmed'])
def test_no_result_carries_a_password(status):
    change = {'refused': 'refuse', 'unconfirmed': 'ignore'}.get(status, 'apply')
    start = {'unchanged': '2222', 'rejected': '9999'}.get(status, '1111')
    result = run(FakePabx(start, change=change))
    assert result['status'] == status
    assert '1111' not in repr(result) and '2222' not in repr(result)


class RacedPabx(FakePabx):
    """Another writer changes the password between our verify and our change."""

    def __init__(self, password, raced_to):
        super().__init__(password)
        self.raced_to = raced_to

    def call(self, operation, body):
        if operation == _api.CHANGE_PASSWORD:
            self.calls.append(operation)
            self.password = self.raced_to
            raise PabxError('altera-senha for device 1000 failed: HTTP 403 Forbidden', status=403)
        return super().call(operation, body)


@pytest.mark.parametrize('raced_to, status', [('2222', 'changed'), ('7777', 'rejected')])
def test_a_forbidden_change_is_verified_not_assumed_refused(raced_to, status):
    pabx = RacedPabx('1111', raced_to)
    assert run(pabx)['status'] == status
    assert pabx.calls[:2] == [V, C]


def test_a_spent_budget_sends_nothing():
    pabx = FakePabx('1111')
    result = run(pabx, entry=dict(ENTRY, wrong_attempts=2))
    assert result['status'] == 'quarantined' and result['failed'] and pabx.calls == []
    assert 'max_wrong_attempts 2' in result['msg']


def test_the_budget_left_limits_the_passwords_tried():
    pabx = FakePabx('9999')
    result = run(pabx, entry=dict(ENTRY, wrong_attempts=1, candidates=['3333', '2222']))
    assert pabx.calls == [V] and result['status'] == 'rejected' and result['wrong_attempts'] == 2
    assert '2 more not tried' in result['msg'] and result['untried'] == 2


def test_a_pin_never_sent_is_never_tried():
    for check_mode in (False, True):
        pabx = FakePabx('9999')
        result = run(pabx, check_mode, entry=dict(ENTRY, candidates=[]))
        assert pabx.calls == [V] and result['status'] == 'rejected' and result['wrong_attempts'] == 1


def test_a_candidate_is_found_and_changed_from():
    pabx = FakePabx('3333')
    result = run(pabx, entry=dict(ENTRY, candidates=['3333', '4444']))
    assert result['status'] == 'changed' and result['candidate'] == 0 and pabx.password == '2222'
    assert pabx.calls == [V, V, C, V] and result['wrong_attempts'] == 0


def test_verify_only_never_changes():
    pabx = FakePabx('1111')
    result = run(pabx, entry=dict(ENTRY, verify_only=True, candidates=['2222']))
    assert result['status'] == 'verified' and result['holds'] == 'current' and pabx.calls == [V]
    pabx = FakePabx('2222')
    result = run(pabx, entry=dict(ENTRY, verify_only=True, candidates=['2222']))
    assert result['status'] == 'unchanged' and result['holds'] == 'new' and C not in pabx.calls


class LatePabx(FakePabx):
    """Answers the change at once and applies it after ``after`` more verifications."""

    def __init__(self, password, after):
        super().__init__(password, change='ignore')
        self.after, self.staged = after, None

    def call(self, operation, body):
        if operation == _api.CHANGE_PASSWORD:
            self.staged = body[_api.NEW_PASSWORD]
        elif self.staged is not None:
            self.after -= 1
            if self.after < 0:
                self.password, self.staged = self.staged, None
        return super().call(operation, body)


def test_a_late_apply_is_confirmed_without_spending_the_budget():
    pabx = LatePabx('1111', after=2)
    result = run(pabx)
    assert result['status'] == 'changed' and result['wrong_attempts'] == 0
    assert pabx.calls == [V, C, V, V, V, V]  # new (not yet), old (ok), old (no longer), new (yes)


class CountingPabx(FakePabx):
    """A fake PABX that counts wrong passwords in a row, as a lockout does."""

    def __init__(self, password, change, start, race=None, late=None):
        super().__init__(password, change)
        self.in_a_row, self.most, self.race, self.late, self.pending = start, start, race, late, None

    def call(self, operation, body):
        if operation == _api.CHANGE_PASSWORD and self.race:
            self.calls.append(operation)
            self.password = self.race
            self.in_a_row += 1   # refused for a wrong current password: the lockout counts it
            self.most = max(self.most, self.in_a_row)
            raise PabxError('altera-senha for device 1000 failed: HTTP 403 Forbidden', status=403)
        if operation == _api.CHANGE_PASSWORD and self.late is not None:
            self.pending = body[_api.NEW_PASSWORD]
            self.calls.append(operation)
            return {}
        if operation == _api.VERIFY_PASSWORD:
            if self.pending is not None and self.late <= 0:
                self.password, self.pending = self.pending, None
            if self.late is not None:
                self.late -= 1
            if body[_api.DEVICE_PASSWORD] != self.password:
                self.in_a_row += 1
                self.most = max(self.most, self.in_a_row)
            else:
                self.in_a_row = 0
        return super().call(operation, body)


try:
    from hypothesis import given, settings, strategies as st
except ImportError:  # pragma: no cover - hypothesis is a development requirement
    given = None

if given:
    PINS = st.sampled_from(['1111', '2222', '3333', '4444', '5555'])

    @settings(max_examples=400, deadline=None)
    @given(holds=PINS, change=st.sampled_from(['apply', 'refuse', 'lose', 'ignore']), start=st.integers(0, 3),
           limit=st.integers(1, 4), candidates=st.one_of(st.none(), st.lists(PINS, max_size=4)),
           race=st.one_of(st.none(), PINS), late=st.one_of(st.none(), st.integers(0, 6)),
           check_mode=st.booleans(), verify_only=st.booleans())
    def test_wrong_attempts_in_a_row_never_exceed_the_budget(holds, change, start, limit, candidates, race, late,
                                                             check_mode, verify_only):
        pabx = CountingPabx(holds, change, start, race, late)
        entry = dict(ENTRY, wrong_attempts=start, candidates=candidates, verify_only=verify_only)
        result = ensure_password(pabx, entry, check_mode, 1, limit, sleep=lambda s: None)
        assert pabx.most <= max(start, limit)          # never past the budget, counting earlier runs
        assert result['wrong_attempts'] == pabx.in_a_row  # what the store will record is the PABX's count
        if result['status'] in ('changed', 'unchanged'):
            assert pabx.password == '2222'
        if check_mode or verify_only or (result['status'] == 'rejected' and not race):
            assert C not in pabx.calls
        if result['status'] == 'quarantined':
            assert pabx.calls == []
        if result['status'] == 'rejected':
            assert result['holds'] is None and result['failed']
        if start >= limit:
            assert pabx.calls == [] and result['status'] == 'quarantined'


class SlowPabx(FakePabx):
    """Processes a verification, then its answer is lost (a read timeout)."""

    def call(self, operation, body):
        try:
            return super().call(operation, body)
        except PabxError:
            pass
        raise PabxError('verifica-senha for device 1000 got no answer', no_answer=True, maybe_processed=True)


def test_a_verification_whose_answer_was_lost_is_charged():
    result = run(SlowPabx('9999'), entry=dict(ENTRY, candidates=['3333']))
    assert result['status'] == 'error' and result['wrong_attempts'] == 1


def test_a_forbidden_change_is_charged_to_the_budget():
    pabx = RacedPabx('1111', '7777')
    result = run(pabx)
    assert result['status'] == 'rejected' and result['wrong_attempts'] == 2
    assert pabx.calls == [V, C, V]  # the 403 counted: only one more password was tried


class AccountsPabx(object):
    """A device and its accounts; the device's PIN is changed at the console after ``change_after`` requests."""

    def __init__(self, device_pin, accounts, change_after):
        self.device_pin, self.accounts, self.change_after = device_pin, dict(accounts), change_after
        self.requests, self.device_in_a_row, self.device_most = 0, 0, 0
        self.lock = __import__('threading').Lock()

    def call(self, operation, body):
        with self.lock:
            self.requests += 1
            if self.requests == self.change_after:
                self.device_pin = 'CONSOLE'
            if body[_api.DEVICE_PASSWORD] != self.device_pin:
                self.device_in_a_row += 1
                self.device_most = max(self.device_most, self.device_in_a_row)
                raise PabxError('wrong device PIN', status=403)
            self.device_in_a_row = 0
            account = body.get(_api.ACCOUNT)
            if operation == _api.VERIFY_PASSWORD and account and body[_api.ACCOUNT_PASSWORD] != self.accounts[account]:
                raise PabxError('wrong account PIN', status=403)
            if operation == _api.CHANGE_PASSWORD:
                self.accounts[account] = body[_api.NEW_PASSWORD]
            return {}


def test_a_device_pin_changed_mid_run_costs_the_device_two_attempts_and_stops_its_accounts():
    from ansible_collections.digitro.pabx.plugins.module_utils._batch import run_batch
    from ansible_collections.digitro.pabx.plugins.module_utils._password import DeviceGates
    accounts = dict(('50%02d' % i, '11%04d' % i) for i in range(12))
    pabx = AccountsPabx('1111', accounts, change_after=7)
    gates = DeviceGates()
    entries = [dict(device='1000', device_password='1111', account=a, account_password=p, new_password='22%04d' % i,
                    candidates=[], wrong_attempts=0) for i, (a, p) in enumerate(sorted(accounts.items()))]
    results = run_batch(entries, lambda e: ensure_password(pabx, e, False, 1, 2, sleep=lambda s: None, gates=gates), 8)
    assert pabx.device_most <= 2   # the lockout never sees more than the budget
    rejected = [r for r in results if r.get('device_rejected')]
    assert rejected and all(r['status'] in ('error', 'unconfirmed') for r in rejected)
    assert all(r['wrong_attempts'] == 0 for r in rejected)  # the device's refusals are not the accounts'
    assert sum(1 for r in results if r['status'] == 'changed') == 2  # before the console change


def test_the_journal_records_each_change_of_a_count_and_a_higher_journaled_count_wins(tmp_path):
    from ansible_collections.digitro.pabx.plugins.module_utils._journal import Journal, JournalUnreadable, read_counts
    journal = Journal(str(tmp_path / 'store.journal'))
    result = ensure_password(FakePabx('9999'), dict(ENTRY, candidates=[]), False, 1, 2, sleep=lambda s: None,
                             journal=journal)
    assert result['wrong_attempts'] == 1 and read_counts(journal.path) == {('devices', '1000'): 1}
    # a killed run's module left 1 in the journal after the store was read: the budget starts from it
    pabx = FakePabx('9999')
    result = ensure_password(pabx, dict(ENTRY, candidates=['3333']), False, 1, 2, sleep=lambda s: None,
                             journal=journal, journaled=journal.counts())
    assert pabx.calls == [V] and result['wrong_attempts'] == 2
    assert read_counts(journal.path) == {('devices', '1000'): 2}
    with open(journal.path, 'a') as handle:
        handle.write('{"kind": "devices", "num')   # a line cut short (a power cut): a count may be lost, so say so
    with pytest.raises(JournalUnreadable, match='line 5 is not JSON'):
        read_counts(journal.path)


def test_with_a_budget_of_one_a_refusal_stops_the_device_without_a_check():
    from ansible_collections.digitro.pabx.plugins.module_utils._batch import run_batch
    from ansible_collections.digitro.pabx.plugins.module_utils._password import DeviceGates
    accounts = dict(('50%02d' % i, '11%04d' % i) for i in range(4))
    pabx = AccountsPabx('1111', accounts, change_after=3)
    gates = DeviceGates(max_wrong_attempts=1)
    entries = [dict(device='1000', device_password='1111', account=a, account_password=p, new_password='22%04d' % i,
                    candidates=[], wrong_attempts=0) for i, (a, p) in enumerate(sorted(accounts.items()))]
    results = run_batch(entries, lambda e: ensure_password(pabx, e, False, 1, 1, sleep=lambda s: None, gates=gates), 4)
    assert pabx.device_most <= 1
    rejected = [r for r in results if r.get('device_rejected')]
    assert rejected and rejected[0]['device_wrong_attempts'] == 1 and rejected[0]['wrong_attempts'] == 1


class ForbiddingPabx(FakePabx):
    """altera-senha says 403 and changes nothing (its PIN verified a moment before)."""

    def call(self, operation, body):
        if operation == _api.CHANGE_PASSWORD:
            self.calls.append(operation)
            raise PabxError('altera-senha for device 1000 failed: HTTP 403 Forbidden', status=403)
        return super().call(operation, body)


@pytest.mark.parametrize('pabx', [FakePabx('3333', change='ignore'), ForbiddingPabx('3333')],
                         ids=['unconfirmed', 'forbidden'])
def test_a_change_from_a_candidate_that_did_not_apply_names_the_candidate_not_the_stored_pin(pabx):
    """The PIN still in force is the candidate changed from: naming it 'current' made the store drop it (lost)."""
    request = dict(ENTRY, candidates=['3333', '4444'])
    result = ensure_password(pabx, dict(request), False, confirm_timeout=1, max_wrong_attempts=4, sleep=lambda s: None)
    assert result['status'] in ('unconfirmed', 'refused') and pabx.password == '3333'
    assert result['holds'] == 'candidate' and result['candidate'] == 0
    sent = [{'password': pin, 'at': '2026-01-01T00:00:00Z'} for pin in ('3333', '4444')]
    entry = dict(current='1111', pending='2222', sent=sent)
    now = datetime.datetime(2026, 11, 27)
    settled = settle_entry(entry, request, result, '2026-11-27T00:00:00Z', now, 4)[0]
    assert settled['current'] == '3333'  # what the PABX holds stays known to the store
