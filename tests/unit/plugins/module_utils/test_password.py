"""The password plan, against a scripted fake PABX: which requests, in which order, and what is decided."""
import pytest

from ansible_collections.digitro.pabx.plugins.module_utils import _api
from ansible_collections.digitro.pabx.plugins.module_utils._errors import PabxError
from ansible_collections.digitro.pabx.plugins.module_utils._password import ensure_password


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


def test_ignored_change_is_unconfirmed_after_three_tries():
    pabx = FakePabx('1111', change='ignore')
    result = run(pabx)
    assert result['status'] == 'unconfirmed' and 'keep both passwords' in result['msg']
    assert pabx.calls == [V, C, V, V, V]


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
