"""Rotation throughput against emulated PABXs: the collection, a fleet of PABXs in one job, stores with full
histories, and two naive uri playbooks, each beside its bound.

    .venv/bin/python benchmarks/run.py [--scenarios single fleet history naive-include naive-loop] [--repeat 3]
        [--sizes 2000 10000] [--fleet-pabxs 10] [--fleet-size 2000] [--history-size 10000] [--naive-size 200]
        [--latency 0.02] [--concurrency 16] [--chunk-size N] [--markdown FILE] [--json FILE]

Prints a line per run as it goes and Markdown tables at the end, and writes benchmarks/results/latest.json and
latest.md (or --json FILE, --markdown FILE). See docs/performance.md. Not part of the test suite.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO_ROOT)

from benchmarks.measure import cores  # noqa: E402
from benchmarks.scenarios import SCENARIOS, Fleet, Settings  # noqa: E402

RESULTS = os.path.join(REPO_ROOT, 'benchmarks', 'results')
NAIVE = ('naive-include', 'naive-loop')
PROJECTED_SIZES = (1000, 10000)
PROGRESS_COLUMNS = ['method', 'pabxs', 'extensions', 'wall_s', 'bound_s', 'best_bound_s', 'of_best_bound',
                    'requests_per_s', 'cpu_s', 'cpu_ms_per_request', 'peak_rss_mib', 'peak_pss_mib', 'startup_s',
                    'requests_s', 'winddown_s', 'ok']


def jobs(args):
    """(scenario, PABXs, extensions per PABX) for every run of one round."""
    planned = []
    for scenario in args.scenarios:
        if scenario == 'single':
            planned += [(scenario, 1, size) for size in args.sizes]
        elif scenario == 'fleet':
            planned.append((scenario, args.fleet_pabxs, args.fleet_size))
        elif scenario == 'history':
            planned.append((scenario, 1, args.history_size))
        elif args.naive_size:
            planned.append((scenario, 1, args.naive_size))
    return planned


def run_job(job, settings):
    scenario, count, size = job
    with tempfile.TemporaryDirectory(prefix='digitro-bench-') as workdir:
        fleet = Fleet(count, size, settings, workdir)
        try:
            return SCENARIOS[scenario](fleet)
        finally:
            # after the run was measured: an emulator's CPU never counts as the client's
            fleet.close()


def summarise(runs):
    """One row for the repeated runs of a job: the run with the median wall time, with the median and the min-max
    spread of wall time and CPU per request, and the highest peak memory of all runs."""
    ordered = sorted(runs, key=lambda run: run['wall_s'])
    summary = dict(ordered[(len(ordered) - 1) // 2], runs=len(runs), ok=all(run['ok'] for run in runs))
    for field in ('wall_s', 'cpu_ms_per_request', 'requests_per_s', 'of_best_bound'):
        values = [run[field] for run in runs if run[field] is not None]
        if values:
            summary.update({field: round(statistics.median(values), 3), field + '_min': min(values), field + '_max': max(values)})
    for field in ('peak_rss_mib', 'peak_pss_mib'):
        summary[field] = max(run[field] for run in runs)
    summary['s_per_extension'] = round(summary['wall_s'] / summary['total_extensions'], 4)
    return summary


def compare(summaries):
    """CPU per request relative to the single PABX at the same size; naive runs projected to larger sizes."""
    single = {row['extensions']: row for row in summaries if row['method'] == 'collection' and row['pabxs'] == 1}
    for row in summaries:
        same = single.get(row['extensions'])
        if row['method'] != 'collection' and same and row['cpu_ms_per_request'] and same['cpu_ms_per_request']:
            row['cpu_vs_single'] = round(row['cpu_ms_per_request'] / same['cpu_ms_per_request'], 2)
        if row['method'].startswith('naive'):
            for size in PROJECTED_SIZES:
                row['projected_s_%d' % size] = round(row['s_per_extension'] * size, 1)
                if size in single:
                    row['slower_than_collection_%d' % size] = round(row['s_per_extension'] * size / single[size]['wall_s'], 1)
    return summaries


def spread(row, field, digits=2):
    value = row.get(field)
    if value is None:
        return ''
    text = '%.*f' % (digits, value)
    if row.get('runs', 1) > 1:
        text += ' (%.*f–%.*f)' % (digits, row[field + '_min'], digits, row[field + '_max'])
    return text


def label(row):
    return row['method'] if row['ok'] else row['method'] + ' (FAILED: see the run\'s output)'


def phases(row):
    if 'requests_s' not in row:  # no request reached a PABX
        return ''
    return '%s / %s / %s' % (row['startup_s'], row['requests_s'], row['winddown_s'])


def markdown_table(header, lines):
    return '\n'.join([' | '.join(header), ' | '.join('---' for _column in header)] + [' | '.join(line) for line in lines])


def collection_table(rows):
    header = ['method', 'PABXs × extensions', 'wall s', 'bound s', 'CPU s / cores', 'of best bound', 'requests/s',
              'CPU ms/request', 'CPU vs single', 'peak RSS MiB', 'peak PSS MiB', 'start-up / requests / wind-down s']
    lines = [[label(row), '%d × %d' % (row['pabxs'], row['extensions']), spread(row, 'wall_s'), '%.2f' % row['bound_s'],
              '%.2f' % row['cpu_bound_s'], spread(row, 'of_best_bound', 3), spread(row, 'requests_per_s', 0),
              spread(row, 'cpu_ms_per_request', 3), str(row.get('cpu_vs_single', '')), '%.0f' % row['peak_rss_mib'],
              '%.0f' % row['peak_pss_mib'], phases(row)]
             for row in rows]
    return markdown_table(header, lines)


def projected(row, size):
    """A naive run's projected wall time at ``size`` extensions, and how many times the collection's it is."""
    text = '%.0f' % row['projected_s_%d' % size]
    if 'slower_than_collection_%d' % size in row:
        text += ' (%.0fx the collection)' % row['slower_than_collection_%d' % size]
    return text


def naive_table(rows):
    header = ['method', 'extensions', 'wall s', 's per extension', 'CPU ms/request', 'projected s at 1,000', 'projected s at 10,000']
    lines = [[label(row), str(row['extensions']), spread(row, 'wall_s'), '%.3f' % row['s_per_extension'],
              spread(row, 'cpu_ms_per_request', 3), projected(row, 1000), projected(row, 10000)]
             for row in rows]
    return markdown_table(header, lines)


def markdown(summaries, args):
    collection = [row for row in summaries if not row['method'].startswith('naive')]
    naive = [row for row in summaries if row['method'].startswith('naive')]
    parts = ['L = %g ms, C = %d, %d cores, %d run(s) each: median (min–max); bound = N × 3 × L / C per PABX; '
             'best bound = max(bound, CPU s / cores); of best bound = best bound / wall.'
             % (args.latency * 1000, args.concurrency, cores(), args.repeat)]
    if collection:
        parts.append(collection_table(collection))
    if naive:
        parts.append(naive_table(naive))
    return '\n\n'.join(parts) + '\n'


def progress_line(row):
    return ' | '.join(str(row.get(column, '')) for column in PROGRESS_COLUMNS)


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--scenarios', nargs='+', choices=sorted(SCENARIOS), default=['single', 'fleet', 'history'] + list(NAIVE))
    parser.add_argument('--sizes', type=int, nargs='+', default=[2000, 10000], help='extensions of the single-PABX runs')
    parser.add_argument('--fleet-pabxs', type=int, default=10, help='PABXs of the fleet run (and --forks)')
    parser.add_argument('--fleet-size', type=int, default=2000, help='extensions of each PABX of the fleet run')
    parser.add_argument('--history-size', type=int, default=10000, help='extensions of the full-history run')
    parser.add_argument('--naive-size', type=int, default=200, help='extensions of the naive runs; 0 skips them')
    parser.add_argument('--repeat', type=int, default=1, help='runs of each scenario (the tables show the median)')
    parser.add_argument('--latency', type=float, default=0.02, help="seconds per request of each emulated PABX")
    parser.add_argument('--concurrency', type=int, default=16, help="the emulator's cap and the role's concurrency")
    parser.add_argument('--chunk-size', type=int, help="the role's password_rotation_chunk_size (default: the role's)")
    parser.add_argument('--markdown', default=os.path.join(RESULTS, 'latest.md'), help='where to write the Markdown tables')
    parser.add_argument('--json', default=os.path.join(RESULTS, 'latest.json'), help='where to write every run and the summaries')
    return parser.parse_args()


def main():
    args = parse_arguments()
    settings = Settings(args.latency, args.concurrency, args.chunk_size)
    planned, runs, broken = jobs(args), {}, []
    print(' | '.join(PROGRESS_COLUMNS), flush=True)
    for _round in range(args.repeat):  # round by round, so that a slow spell of the machine touches every scenario
        for job in planned:
            try:
                result = run_job(job, settings)
            except (subprocess.CalledProcessError, RuntimeError, OSError) as exc:
                # an import or an emulator that failed: the other scenarios' figures are still worth having
                broken.append('%s %d × %d: %s' % (job + (exc,)))
                print('FAILED: ' + broken[-1], flush=True)
                continue
            runs.setdefault(job, []).append(result)
            print(progress_line(result), flush=True)
    summaries = compare([summarise(runs[job]) for job in planned if job in runs])
    os.makedirs(RESULTS, exist_ok=True)
    with open(args.json, 'w') as handle:
        json.dump(dict(time=time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()), cores=cores(), arguments=vars(args),
                       summaries=summaries, runs=[run for job in planned for run in runs[job]]), handle, indent=1)
    tables = markdown(summaries, args)
    with open(args.markdown, 'w') as handle:
        handle.write(tables)
    print('\n' + tables)
    for failure in broken:
        print('FAILED: ' + failure)
    return 0 if all(row['ok'] for row in summaries) and not broken else 1


if __name__ == '__main__':
    sys.exit(main())
