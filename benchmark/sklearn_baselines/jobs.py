"""One baseline job, run in its own process: fit and score a classifier on repeatedly shuffled training data.

``run_job(job, data_paths, memory_limit_bytes, threads, connection)`` sends one result dict down ``connection``.
"""

import dataclasses
import json
import resource
import time
import warnings

import numpy as np
from sklearn.utils import shuffle
from threadpoolctl import threadpool_limits

from sklearn_baselines.migration import make_estimator, takes_random_state

# The original's rule: a classifier whose first two scores agree this closely ignores the training order,
# so more repeats would only spend time. Only for classifiers without a random_state: the others are refit under
# a new one each repeat, so two close scores are chance (the forest's first two agreed within 0.08 points on the
# full set, and stopped a five-repeat job at two).
SHUFFLE_INVARIANT_TOLERANCE = 1e-3
_MAX_WARNINGS = 3


@dataclasses.dataclass(frozen=True)
class Job:
    """A classifier, its grid parameters, and how to run it."""

    name: str
    parameter: dict
    features: str
    train_size: int = None
    repeats: int = 1
    seed: int = 0

    @property
    def key(self):
        """What makes a job the same one when a run resumes (the repeats asked for do not)."""
        return job_key(self.name, self.parameter, self.features, self.train_size)


def job_key(name, parameter, features, train_size):
    return json.dumps([name, parameter, features, train_size], sort_keys=True)


def load_data(data_paths):
    """(train features, train labels, test features, test labels) from the .npy files the runner staged."""
    # Plain arrays only: a .npy holding Python objects would need pickle, which could run code.
    return tuple(np.load(data_paths[part], allow_pickle=False) for part in ("train_x", "train_y", "test_x", "test_y"))


def rejection_reason(job, train_x, train_y):
    """Why the installed scikit-learn refuses ``job``'s parameters, or None: the original's check, a fit on
    one example of each class (some combinations are refused only when fitting)."""
    first_of_each_class = np.unique(train_y, return_index=True)[1]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a handful of examples does not converge; only a refusal matters
            make_estimator(job.name, job.parameter, random_state=job.seed).fit(
                train_x[first_of_each_class], train_y[first_of_each_class])
    except Exception as error:  # noqa: BLE001 -- any refusal is what is recorded
        return f"{type(error).__name__}: {error}"
    return None


def score_repeats(job, train_x, train_y, test_x, test_y):
    """(test accuracies, seconds, CPU seconds) of up to ``job.repeats`` fits, each on a new shuffle of the train set.

    CPU seconds tell the cost apart from the wait when other programs share the cores.
    """
    scores, seconds, cpu_seconds = [], [], []
    may_stop_early = not takes_random_state(job.name)
    for repeat in range(job.repeats):
        seed = job.seed + repeat
        shuffled_x, shuffled_y = shuffle(train_x, train_y, random_state=seed)
        start, cpu_start = time.perf_counter(), time.process_time()
        estimator = make_estimator(job.name, job.parameter, random_state=seed)
        scores.append(float(estimator.fit(shuffled_x, shuffled_y).score(test_x, test_y)))
        seconds.append(time.perf_counter() - start)
        cpu_seconds.append(time.process_time() - cpu_start)
        if may_stop_early and len(scores) == 2 and abs(scores[0] - scores[1]) < SHUFFLE_INVARIANT_TOLERANCE:
            break
    return scores, seconds, cpu_seconds


def run_job(job, data_paths, memory_limit_bytes, threads, connection):
    """Runs ``job`` under an address-space cap of ``memory_limit_bytes`` and sends its result dict.

    A job over the cap fails its allocation with MemoryError and is reported as "memory"; the parent
    enforces the time limit by killing this process.
    """
    resource.setrlimit(resource.RLIMIT_AS, (memory_limit_bytes, memory_limit_bytes))
    try:
        train_x, train_y, test_x, test_y = load_data(data_paths)
        reason = rejection_reason(job, train_x, train_y)
        if reason:
            connection.send({"status": "rejected", "reason": reason})
            connection.close()
            return
        with threadpool_limits(limits=threads), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            scores, seconds, cpu_seconds = score_repeats(job, train_x, train_y, test_x, test_y)
        messages = list(dict.fromkeys(f"{warning.category.__name__}: {warning.message}" for warning in caught))
        result = {"status": "ok", "score": scores, "seconds": seconds, "cpu_seconds": cpu_seconds,
                  "warnings": messages[:_MAX_WARNINGS]}
    except MemoryError as error:
        result = {"status": "memory", "reason": f"MemoryError over {memory_limit_bytes / 2 ** 30:.2f} GiB: {error}"}
    except Exception as error:  # noqa: BLE001 -- any failure of the classifier is a result to record
        result = {"status": "error", "reason": f"{type(error).__name__}: {error}"}
    connection.send(result)
    connection.close()
