"""One account's validation against a scripted fake PABX: its candidates tried in turn, within the budget."""
from ansible_collections.digitro.pabx.plugins.module_utils import _api
from ansible_collections.digitro.pabx.plugins.module_utils._errors import PabxError
from ansible_collections.digitro.pabx.plugins.module_utils._password import DeviceGates
from ansible_collections.digitro.pabx.plugins.module_utils._user import validate


class FakePabx:
    """Holds one device's and one account's PIN; counts the PINs it was asked, by operation."""

    def __init__(self, device='285174', account='815307', lost=()):
        self.device, self.account, self.lost = device, account, list(lost)
        self.calls = []

    def call(self, operation, body):
        self.calls.append((operation, body.get(_api.ACCOUNT_PASSWORD) or body[_api.DEVICE_PASSWORD]))
        if self.lost and self.lost.pop(0):
            raise PabxError('no answer', ambiguous=True, maybe_processed=True)
        if body[_api.DEVICE_PASSWORD] != self.device:
            raise PabxError('refused', status=403, pabx_message='senha incorreta para o dispositivo')
        if _api.ACCOUNT in body and body[_api.ACCOUNT_PASSWORD] != self.account:
            raise PabxError('refused', status=403, pabx_message='senha incorreta para conta 5000')
        return {_api.ACCOUNT: '5000', _api.USER_NAME: 'Agente', _api.USER_CATEGORY: 'AGENTE'} if _api.ACCOUNT in body else {}


ENTRY = dict(device='1000', device_password='285174', account='5000', account_password='406938',
             candidates=['739462', '815307'], wrong_attempts=0)
V = _api.VALIDATE_USER


def run(pabx, budget=3, gates=None, **changes):
    return validate(pabx, dict(ENTRY, **changes), False, budget, gates)


def test_the_current_pin_first_and_nothing_more_when_it_is_valid():
    pabx = FakePabx(account='406938')
    result = run(pabx)
    assert result['status'] == 'valid' and result['holds'] == 'current' and 'candidate' not in result
    assert pabx.calls == [(V, '406938')] and result['user']['name'] == 'Agente'


def test_a_candidate_the_pabx_accepts_is_named_by_its_index_and_resets_the_count():
    pabx = FakePabx()
    result = run(pabx)
    assert result['status'] == 'valid' and result['holds'] == 'candidate' and result['candidate'] == 1
    assert result['wrong_attempts'] == 0 and [pin for op, pin in pabx.calls] == ['406938', '739462', '815307']
    assert not any(pin in repr(result) for pin in ('406938', '739462', '815307'))


def test_the_candidates_stay_within_the_budget():
    pabx = FakePabx()
    result = run(pabx, budget=2)
    assert result['status'] == 'invalid' and result['wrong_attempts'] == 2 and not result['failed']
    assert [pin for op, pin in pabx.calls] == ['406938', '739462']  # the third never sent
    assert '1 more PIN(s) not tried' in result['msg'] and 'senha incorreta' in result['msg']
    spent = run(FakePabx(), budget=2, wrong_attempts=1)
    assert spent['status'] == 'invalid' and spent['wrong_attempts'] == 2


def test_without_candidates_only_the_current_pin():
    pabx = FakePabx()
    result = validate(pabx, dict((k, v) for k, v in ENTRY.items() if k != 'candidates'), True, 3, None)
    assert result['status'] == 'invalid' and result['failed'] and pabx.calls == [(V, '406938')]


def test_after_each_refusal_the_device_is_checked_and_a_device_refused_stops_all():
    pabx = FakePabx()
    result = run(pabx, gates=DeviceGates(max_wrong_attempts=3))
    assert result['status'] == 'valid' and result['candidate'] == 1
    assert [op for op, pin in pabx.calls] == [V, _api.VERIFY_PASSWORD, V, _api.VERIFY_PASSWORD, V]
    changed = FakePabx(device='999888')  # the device's PIN changed at the console during the run
    gates = DeviceGates(max_wrong_attempts=3)
    stopped = run(changed, gates=gates)
    assert stopped['status'] == 'error' and stopped['device_rejected'] and stopped['wrong_attempts'] == 0
    assert len(changed.calls) == 2 and gates.rejected == {'1000': 2}


def test_a_lost_answer_counts_and_is_an_error_with_the_count():
    pabx = FakePabx(lost=[False, True])
    result = run(pabx)
    assert result['status'] == 'error' and result['failed'] and result['wrong_attempts'] == 2
