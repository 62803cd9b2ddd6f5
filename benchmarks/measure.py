"""Measuring one ansible-playbook run: wall time, CPU of its process tree, peak memory, and CPU by process role."""
import collections
import os
import subprocess
import sys
import tempfile
import threading
import time

CLOCK_TICKS = os.sysconf('SC_CLK_TCK')
PAGE_KIB = os.sysconf('SC_PAGE_SIZE') // 1024
SAMPLE_INTERVAL_S = 0.1

MEASURED_FIELDS = 'wall_s peak_rss_mib peak_pss_mib peak_pss_by_role returncode started_at cpu_s cpu_by_role error'
Measured = collections.namedtuple('Measured', MEASURED_FIELDS)
ERROR_CHARS = 3000  # the end of a failed run's output, kept with its figures


def cores():
    """The cores this process may run on (a container's affinity, not the host's count)."""
    return len(os.sched_getaffinity(0))


def all_processes():
    """{pid: (parent pid, CPU seconds so far, resident KiB)} of every process readable in /proc."""
    stats = {}
    for name in os.listdir('/proc'):
        if name.isdigit():
            try:
                with open('/proc/%s/stat' % name) as handle:
                    fields = handle.read().rsplit(')', 1)[1].split()
                with open('/proc/%s/statm' % name) as handle:
                    rss_kib = int(handle.read().split()[1]) * PAGE_KIB
                stats[int(name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS, rss_kib)
            except (OSError, IndexError, ValueError):
                continue
    return stats


def process_tree(root):
    """{pid: (parent pid, CPU seconds so far, resident KiB)} of a process and all its descendants."""
    stats = all_processes()
    children = collections.defaultdict(list)
    for pid, (parent, _cpu, _rss) in stats.items():
        children[parent].append(pid)
    tree, todo = {}, [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            tree[pid] = stats[pid]
            todo.extend(children[pid])
    return tree


def pss_kib(pid):
    """Proportional set size: forked workers share most of their pages with the main process, and the plain sum of
    RSS counts those pages once per worker (ten times over with --forks 10)."""
    try:
        with open('/proc/%d/smaps_rollup' % pid) as handle:
            return next(int(line.split()[1]) for line in handle if line.startswith('Pss:'))
    except (OSError, StopIteration, ValueError):
        return 0


def role_of(pid, parent, root):
    """Which part of an Ansible run a process is: the controller's main process, a forked worker, or a module
    (anything a worker started: the shell and the interpreter that runs the module)."""
    if pid == root:
        return 'main'
    if parent == root:
        return 'workers'
    return 'modules'


class Sampler(threading.Thread):
    """Samples a process tree until told to stop: peak RSS and PSS, and the last CPU seen of each process."""

    def __init__(self, root):
        super().__init__(daemon=True)
        self.root, self.finished = root, threading.Event()
        self.peak_rss_kib = self.peak_pss_kib = 0
        self.peak_pss_by_role = collections.Counter()  # where the memory was at the peak: main, workers or modules
        self.cpu_seen = {}

    def run(self):
        while not self.finished.is_set():
            tree = process_tree(self.root)
            self.peak_rss_kib = max(self.peak_rss_kib, sum(rss for _parent, _cpu, rss in tree.values()))
            pss = {pid: pss_kib(pid) for pid in tree}
            if sum(pss.values()) > self.peak_pss_kib:
                self.peak_pss_kib = sum(pss.values())
                self.peak_pss_by_role = collections.Counter()
                for pid, (parent, _cpu, _rss) in tree.items():
                    self.peak_pss_by_role[role_of(pid, parent, self.root)] += pss[pid]
            for pid, (parent, cpu, _rss) in tree.items():
                self.cpu_seen[pid] = (role_of(pid, parent, self.root), cpu)
            self.finished.wait(SAMPLE_INTERVAL_S)

    def cpu_by_role(self):
        by_role = collections.Counter()
        for role, cpu in self.cpu_seen.values():
            by_role[role] += cpu
        return {role: round(cpu, 2) for role, cpu in sorted(by_role.items())}


def run_measured(command, cwd, env):
    """Run a command and measure it (a Measured).

    CPU comes from wait4() on the command's own process: its user and system time plus those of every descendant it
    waited for (the ansible-playbook process, its forked workers and the module processes they ran). Unlike
    RUSAGE_CHILDREN it cannot include any other child of this process, such as an emulator stopped meanwhile."""
    with tempfile.TemporaryFile() as output:  # Ansible reports a failed task on stdout, not stderr
        started, started_at = time.monotonic(), time.time()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT)
        sampler = Sampler(process.pid)
        sampler.start()
        # the sampler never calls poll(): that would reap the process and lose its resource usage
        _pid, status, usage = os.wait4(process.pid, 0)
        wall = time.monotonic() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        sampler.finished.set()
        sampler.join()
        error = None
        if process.returncode:
            output.seek(0)
            error = output.read().decode(errors='replace')[-ERROR_CHARS:]
            sys.stderr.write(error)
    pss_by_role = {role: round(kib / 1024.0, 1) for role, kib in sorted(sampler.peak_pss_by_role.items())}
    return Measured(wall, sampler.peak_rss_kib / 1024.0, sampler.peak_pss_kib / 1024.0, pss_by_role, process.returncode,
                    started_at, usage.ru_utime + usage.ru_stime, sampler.cpu_by_role(), error)
