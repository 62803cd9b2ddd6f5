"""Prepare ansible-test's --venv bootstrap on a machine that reaches PyPI but not ansible's ci-files host.

Puts scripts/get_pip_standin.py where ansible-test looks for its cached
get-pip script, and downloads the pip wheel it installs.
"""
import os
import re
import shutil
import subprocess
import sys

import ansible_test

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'get_pip_standin.py')
CACHE = os.path.expanduser('~/.ansible/test/cache')


def pinned_pip_version():
    requirements = os.path.join(os.path.dirname(ansible_test.__file__), '_internal', 'python_requirements.py')
    with open(requirements) as handle:
        return re.search(r"pip='([0-9.]+)'", handle.read()).group(1)


def main():
    version = pinned_pip_version()
    target = os.path.join(CACHE, 'get_pip_%s.py' % version.replace('.', '_'))
    if os.path.exists(target):
        return 0  # ansible-test's own script, or ours from an earlier run
    wheels = os.path.join(CACHE, 'wheels')
    subprocess.check_call([sys.executable, '-m', 'pip', 'download', '--quiet', '--no-deps', '--dest', wheels,
                           'pip==%s' % version])
    shutil.copy(SOURCE, target)
    return 0


if __name__ == '__main__':
    sys.exit(main())
