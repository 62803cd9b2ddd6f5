"""AWX's own validation rules, reimplemented for tests (AWX is a Django server; it cannot run here).

Each function follows the AWX source it names, at ansible/awx commit e21dd0a0933fd544d1fe2513c54fe41203775eb5
(October 2024, the newest AWX release line):

- ``validate_rrule``: awx/api/serializers.py, ``SchedulePreviewSerializer.validate_rrule`` (the serializer every
  schedule's rrule passes through), then ``Schedule.rrulestr`` in awx/main/models/schedules.py, which parses the
  rule with python-dateutil (``forceset=True``, UTC zone names as tzinfos) and refuses a DTSTART without a time
  zone ("A valid TZID must be provided"). ``Schedule.coerce_naive_until`` only rewrites UNTIL values; our rules
  have none, so a rule with UNTIL is refused here rather than half-checked.
- ``validate_injectors``: awx/main/fields.py, ``CredentialTypeInjectorField.validate`` and
  ``validate_env_var_allowed``, with ``ENV_BLOCKLIST`` of awx/main/constants.py.
- ``EMAIL_PARAMETERS``: awx/main/notifications/email_backend.py, ``CustomEmailBackend.init_parameters``.
"""
import re

import dateutil.parser
import dateutil.rrule
import jinja2
from dateutil.tz import tzutc
from jinja2 import sandbox

UTC_TIMEZONES = {x: tzutc() for x in dateutil.parser.parserinfo().UTCZONE}

ENV_BLOCKLIST = frozenset((
    'VIRTUAL_ENV', 'PATH', 'PYTHONPATH', 'JOB_ID', 'INVENTORY_ID', 'INVENTORY_SOURCE_ID', 'INVENTORY_UPDATE_ID',
    'AD_HOC_COMMAND_ID', 'REST_API_URL', 'REST_API_TOKEN', 'MAX_EVENT_RES', 'CALLBACK_QUEUE', 'CALLBACK_CONNECTION',
    'CACHE', 'JOB_CALLBACK_DEBUG', 'INVENTORY_HOSTVARS', 'AWX_HOST', 'PROJECT_REVISION', 'SUPERVISOR_CONFIG_PATH'))

EMAIL_PARAMETERS = frozenset(('host', 'port', 'username', 'password', 'use_tls', 'use_ssl', 'sender', 'recipients',
                              'timeout'))


def validate_rrule(rrule_value):
    """The errors AWX would answer for this rrule ([] when it accepts it)."""
    by_day_with_numeric_prefix = r".*?BYDAY[\:\=][0-9]+[a-zA-Z]{2}"
    match_multiple_dtstart = re.findall(r".*?(DTSTART(;[^:]+)?\:[0-9]+T[0-9]+Z?)", rrule_value)
    match_native_dtstart = re.findall(r".*?(DTSTART:[0-9]+T[0-9]+) ", rrule_value)
    match_multiple_rrule = re.findall(r".*?(RULE\:[^\s]*)", rrule_value)
    errors = []
    if not len(match_multiple_dtstart):
        errors.append('Valid DTSTART required in rrule. Value should start with: DTSTART:YYYYMMDDTHHMMSSZ')
    if len(match_native_dtstart):
        errors.append('DTSTART cannot be a naive datetime.  Specify ;TZINFO= or YYYYMMDDTHHMMSSZZ.')
    if len(match_multiple_dtstart) > 1:
        errors.append('Multiple DTSTART is not supported.')
    if "rrule:" not in rrule_value.lower():
        errors.append('One or more rule required in rrule.')
    if "exdate:" in rrule_value.lower():
        return ['EXDATE not allowed in rrule.']
    if "rdate:" in rrule_value.lower():
        return ['RDATE not allowed in rrule.']
    for a_rule in match_multiple_rrule:
        if 'interval' not in a_rule.lower():
            errors.append("{0}: {1}".format('INTERVAL required in rrule', a_rule))
        elif 'secondly' in a_rule.lower():
            errors.append("{0}: {1}".format('SECONDLY is not supported', a_rule))
        if re.match(by_day_with_numeric_prefix, a_rule):
            errors.append("{0}: {1}".format("BYDAY with numeric prefix not supported", a_rule))
        if 'COUNT' in a_rule and 'UNTIL' in a_rule:
            errors.append("{0}: {1}".format("RRULE may not contain both COUNT and UNTIL", a_rule))
        match_count = re.match(r".*?(COUNT\=[0-9]+)", a_rule)
        if match_count:
            count_val = match_count.groups()[0].strip().split("=")
            if int(count_val[1]) > 999:
                errors.append("{0}: {1}".format("COUNT > 999 is unsupported", a_rule))
    try:
        rrulestr(rrule_value)
    except Exception as e:  # AWX catches everything here too
        errors.append("rrule parsing failed validation: {}".format(e))
    return errors


def rrulestr(rrule):
    """Schedule.rrulestr without fast-forwarding (which only shifts DTSTART of MINUTELY/HOURLY rules)."""
    if 'until=' in rrule.lower():
        raise ValueError('UNTIL is not checked by this reimplementation')
    x = dateutil.rrule.rrulestr(rrule, tzinfos=UTC_TIMEZONES, forceset=True)
    for r in x._rrule:
        if r._dtstart and r._dtstart.tzinfo is None:
            raise ValueError('A valid TZID must be provided (e.g., America/New_York)')
    return x


def validate_injectors(injectors, inputs):
    """The errors AWX would answer for a credential type's injectors ([] when it accepts them)."""
    errors = []
    fields = [field['id'] for field in inputs.get('fields', [])]
    namespace = dict((field, 'EXAMPLE') for field in fields)

    class Filenames(object):
        pass

    tower = type('Tower', (), {})()
    tower.filename = Filenames()
    templates = [name for name in injectors.get('file', {}) if name.startswith('template')]
    if 'template' in templates:
        tower.filename = 'EXAMPLE_FILENAME'
        if len(templates) > 1:
            errors.append('Must use multi-file syntax when injecting multiple files')
    else:
        for name in templates:
            setattr(tower.filename, name.split('.')[1], 'EXAMPLE_FILENAME')
    namespace['tower'] = tower
    for kind, injector in injectors.items():
        if kind not in ('env', 'file', 'extra_vars'):
            errors.append('unknown injector kind %s' % kind)
            continue
        for key, template in injector.items():
            if kind == 'env':
                if key.startswith('ANSIBLE_'):
                    errors.append('Environment variable {} may affect Ansible configuration so its use is not allowed '
                                  'in credentials.'.format(key))
                if key in ENV_BLOCKLIST:
                    errors.append('Environment variable {} is not allowed to be used in credentials.'.format(key))
                if not re.match(r'^[a-zA-Z_]+[a-zA-Z0-9_]*$', key):
                    errors.append('invalid environment variable name %s' % key)
            try:
                sandbox.ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined).from_string(
                    str(template)).render(namespace)
            except jinja2.exceptions.UndefinedError as exc:
                errors.append('{} uses an undefined field ({})'.format(key, exc))
            except jinja2.exceptions.TemplateSyntaxError as exc:
                errors.append('Syntax error rendering template for {} inside of {} ({})'.format(key, kind, exc))
    return errors
