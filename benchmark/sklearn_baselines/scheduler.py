"""Runs baseline jobs in parallel worker processes, one fresh process per job, and appends each result as a JSON line.

``run_jobs(jobs, data_paths, results_path, workers=2, time_limit_s=600, memory_limit_gb=8)``; rerun to resume.
"""

import multiprocessing
import multiprocessing.connection
import os
import shlex
import statistics
import sys
import time

import numpy as np
import sklearn

from fmnist_tf.atomic import append_json_line, read_json_lines
from machine import describe_cpu
from sklearn_baselines.jobs import job_key, run_job
from sklearn_baselines.migration import migrate


def recorded_keys(path, log=print):
    """The keys of the jobs ``path`` records; a last line a kill cut short is reported and its job runs again."""
    return {job_key(record["name"], record["parameter"], record["features"], record["train_size"])
            for record in read_json_lines(path, log)}


def _record(job, status, start_time, scores=(), seconds=(), **details):
    migrated, wrapper = migrate(job.name, job.parameter)
    record = {
        "name": job.name, "parameter": job.parameter, "score": list(scores),
        "start_time": int(start_time), "done_time": int(time.time()), "num_repeat": len(scores),
        "mean_accuracy": statistics.fmean(scores) if scores else None,
        "std_accuracy": 2 * float(np.std(scores)) if scores else None,
        "time_per_repeat": statistics.fmean(seconds) if seconds else None,
        "status": status, "features": job.features, "train_size": job.train_size,
        "sklearn_parameter": {**migrated, **({"wrapper": wrapper} if wrapper else {})},
        "sklearn_version": sklearn.__version__, "machine": describe_cpu(),
        "command": shlex.join(["python", *sys.argv]),
    }
    record.update(details)
    return record


class _Running:
    def __init__(self, context, job, data_paths, memory_limit_bytes, threads):
        self.job, self.start_time = job, time.time()
        self.receiver, sender = context.Pipe(duplex=False)
        self.process = context.Process(target=run_job, args=(job, data_paths, memory_limit_bytes, threads, sender),
                                       name=f"baseline {job.name}", daemon=True)
        self.process.start()
        sender.close()

    def finished_record(self, time_limit_s):
        """The job's record if it has ended (or run out of time, then it is killed), else None."""
        if self.receiver.poll():
            try:
                result = self.receiver.recv()
            except EOFError:
                result = None
            self.process.join()
            if result is not None:
                return self._result_record(result)
        if not self.process.is_alive():
            self.process.join()
            return _record(self.job, "crashed", self.start_time,
                           reason=f"worker exited with code {self.process.exitcode} without a result")
        if time.time() - self.start_time > time_limit_s:
            self.process.kill()
            self.process.join()
            return _record(self.job, "timeout", self.start_time, time_limit_s=time_limit_s,
                           reason=f"killed after {time_limit_s} s")
        return None

    def _result_record(self, result):
        status = result.pop("status")
        return _record(self.job, status, self.start_time, result.pop("score", ()), result.pop("seconds", ()),
                       **{key: value for key, value in result.items() if value})


def run_jobs(jobs, data_paths, results_path, workers=2, time_limit_s=600, memory_limit_gb=8.0, log=print):
    """Runs the ``jobs`` not yet in ``results_path`` and appends a record for each; returns the new records.

    Each job gets a fresh process (nothing leaks between jobs), ``memory_limit_gb`` of address space and
    ``time_limit_s``; one whose parameters the installed scikit-learn refuses is recorded as "rejected".
    """
    done = recorded_keys(results_path, log)
    pending = [job for job in jobs if job.key not in done]
    log(f"{len(jobs)} jobs, {len(jobs) - len(pending)} already in {results_path}, {len(pending)} to run")
    context = multiprocessing.get_context("spawn")
    threads = max(1, (os.cpu_count() or 1) // workers)
    memory_limit_bytes = int(memory_limit_gb * 2 ** 30)
    running, new_records = [], []

    def finish(record):
        append_json_line(results_path, record, sort_keys=True, log=log)
        new_records.append(record)
        accuracy = "" if record["mean_accuracy"] is None else \
            f" {record['mean_accuracy']:.4f} +- {record['std_accuracy']:.4f} ({record['time_per_repeat']:.1f} s/repeat)"
        log(f"[{len(new_records)}/{len(pending)}] {record['status']}{accuracy} {record['name']} {record['parameter']}")

    queue = list(pending)
    try:
        while queue or running:
            while queue and len(running) < workers:
                running.append(_Running(context, queue.pop(0), data_paths, memory_limit_bytes, threads))
            multiprocessing.connection.wait([entry.receiver for entry in running] +
                                            [entry.process.sentinel for entry in running], timeout=1.0)
            for entry in list(running):
                record = entry.finished_record(time_limit_s)
                if record is not None:
                    running.remove(entry)
                    finish(record)
    finally:
        # Interrupted (Ctrl-C, SIGTERM): the unfinished jobs stay unrecorded and run again on resume.
        for entry in running:
            entry.process.kill()
            entry.process.join()
    return new_records
