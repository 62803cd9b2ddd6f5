"""TLS: verification on by default, a self-signed PABX refused clearly, accepted with ca_path or, warned, without checks."""
from conftest import API_KEY, seeded
from tls import make_certificate

PLAYBOOK = 'tests/integration/playbooks/password.yml'


def test_tls_verification(start_emulator, run_playbook, tmp_path):
    cert, key = make_certificate(tmp_path)
    emulator = start_emulator(tls=(cert, key))
    assert emulator.url.startswith('https://127.0.0.1:')
    (number, pin), (other, other_pin) = seeded(emulator, count=2)
    base = dict(pabx_url=emulator.url, pabx_api_key=API_KEY)
    refused = run_playbook(PLAYBOOK, dict(base, device=number, device_password=pin, new_password='580417'))
    assert refused.result['failed'] is True
    assert 'certificate' in refused.result['msg'].lower() and 'ca_path' in refused.result['msg']
    assert 'Traceback' not in refused.output
    trusted = run_playbook(PLAYBOOK, dict(base, device=number, device_password=pin, new_password='580417',
                                          ca_path=cert))
    assert trusted.result['status'] == 'changed', trusted.output
    unchecked = run_playbook(PLAYBOOK, dict(base, device=other, device_password=other_pin, new_password='580417',
                                            validate_certs=False))
    assert unchecked.result['status'] == 'changed'
    assert 'validate_certs is false' in unchecked.stdout + unchecked.stderr   # the warning
    not_pem = tmp_path / 'not-a-certificate.txt'
    not_pem.write_text('hello')
    for path in (str(not_pem), str(tmp_path / 'missing.pem')):
        wrong = run_playbook(PLAYBOOK, dict(base, device=number, device_password=pin, new_password='580417',
                                            ca_path=path))
        assert wrong.result['failed'] is True and 'Traceback' not in wrong.output
        assert 'ca_path %s cannot be read as CA certificates' % path in wrong.result['msg'], wrong.result['msg']
