"""SIGKILL at random moments, 30 times, some in the middle of a checkpoint write: model_dir always restores.

Each trial starts a trainer on the same model_dir (a tiny model saving every 2 steps, so saves are most of its time)
and kills it with SIGKILL at a seeded moment of one of three kinds: a random delay after a step, the moment a save
starts writing (TensorFlow's ``model.ckpt-N_temp/`` appears), and the moment the state file is rewritten (old
checkpoints are being deleted). After each kill a fresh Estimator here restores the newest checkpoint, which lies
at most one save interval behind the last step the trainer logged, and the next trainer resumes from it (taking
over the killed one's stale lock). A last trainer runs to exactly the requested step count.

Importing TensorFlow takes seconds, so a trial's trainer is forked from a process that has imported it and run no
TensorFlow op (its runtime starts in the child); run as a script, this file is that process.
"""

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import traceback

import keras
import numpy as np
import pytest
import tensorflow as tf
from absl import logging as absl_logging

from fmnist_tf import estimator
from fmnist_tf.estimator import checkpoints
from fmnist_tf.estimator.model_dir_lock import LOCK_FILE, hold_model_dir

TRIALS = 30
SAVE_EVERY = 2
KILL_MOMENTS = ("random delay after a step", "a save starts writing", "the state file is rewritten")
STARTUP_SECONDS = 300  # a loaded test machine can take minutes to trace the first step
NEVER = 10**9


def tiny_model_fn(params):
    del params
    pixels = keras.Input((8, 8, 1), name="pixels")
    logits = keras.layers.Dense(4, name="logits")(keras.layers.Flatten()(pixels))
    return estimator.EstimatorSpec(keras.Model(pixels, logits), keras.optimizers.Adam(0.01))


def train_input_fn():
    rng = np.random.default_rng(0)
    images = rng.random((64, 8, 8, 1), dtype=np.float32)
    labels = rng.integers(0, 4, 64).astype(np.int32)
    return tf.data.Dataset.from_tensor_slices((images, labels)).repeat().batch(8)


def make_trainer(model_dir):
    config = estimator.RunConfig(model_dir=str(model_dir), save_checkpoints_steps=SAVE_EVERY, keep_checkpoint_max=3,
                                 steps_per_loop=1, log_step_count_steps=1, save_summary_steps=NEVER)
    return estimator.Estimator(tiny_model_fn, config=config)


def serve_trainers():
    """The forking process: each stdin line ``{"model_dir", "max_steps", "log"}`` forks a trainer and answers its
    ``{"pid"}``; ``{"reap": pid}`` waits for that trainer and answers how it ended."""
    for line in sys.stdin:
        command = json.loads(line)
        if "reap" in command:
            _, status = os.waitpid(command["reap"], 0)
            answer = {"signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
                      "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None}
        else:
            pid = os.fork()
            if pid == 0:
                train_and_exit(**command)
            answer = {"pid": pid}
        print(json.dumps(answer), flush=True)


def train_and_exit(model_dir, max_steps, log):
    """A trainer as the front ends run one: model_dir locked, trained to ``max_steps``; its output goes to ``log``."""
    exit_code = 1
    try:
        descriptor = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(descriptor, 1)
        os.dup2(descriptor, 2)
        absl_logging.set_verbosity(absl_logging.INFO)
        with hold_model_dir(model_dir):
            make_trainer(model_dir).train(train_input_fn, max_steps=max_steps)
        exit_code = 0
    except BaseException:  # the parent reads the log; the child must not return into the serving loop
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(exit_code)


class Forker:
    """This test's end of ``serve_trainers``."""

    def __init__(self):
        self.process = subprocess.Popen([sys.executable, __file__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         text=True)
        self.running = set()  # trainers started and not reaped

    def ask(self, command):
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def start(self, model_dir, max_steps, log):
        pid = self.ask({"model_dir": str(model_dir), "max_steps": max_steps, "log": str(log)})["pid"]
        self.running.add(pid)
        return pid

    def reap(self, pid):
        self.running.discard(pid)
        return self.ask({"reap": pid})

    def close(self):
        """Kills the trainers a failed test left running (they train forever), then ends the forking process."""
        for pid in list(self.running):
            os.kill(pid, signal.SIGKILL)
            self.reap(pid)
        self.process.stdin.close()
        self.process.wait(timeout=60)


def read_log(log):
    """The trainer's output so far ("" before it has opened the file)."""
    return log.read_text() if log.exists() else ""


def logged_steps(log):
    return [int(step) for step in re.findall(r"loss = \S+, step = (\d+)", read_log(log))]


def wait_for(condition, seconds, poll_seconds=0.001):
    """Polls ``condition()`` until it is true (True) or ``seconds`` pass (False)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(poll_seconds)
    return False


def temp_folders(model_dir):
    """``{name: modification time}`` of TensorFlow's ``model.ckpt-N_temp`` folders: a save into one changes it."""
    folders = {}
    for name in os.listdir(model_dir):
        if name.endswith("_temp"):
            try:
                folders[name] = (model_dir / name).stat().st_mtime_ns
            except FileNotFoundError:  # the save finished between the two calls
                pass
    return folders


def wait_for_kill_moment(kind, model_dir, rng):
    if kind == "a save starts writing":
        before = temp_folders(model_dir).items()
        wait_for(lambda: temp_folders(model_dir).items() - before, seconds=10)
    elif kind == "the state file is rewritten":
        state_file = model_dir / checkpoints.STATE_FILE
        before = state_file.stat().st_mtime_ns if state_file.exists() else None
        wait_for(lambda: state_file.exists() and state_file.stat().st_mtime_ns != before, seconds=10)
    else:
        time.sleep(rng.uniform(0.0, 0.2))


def leftovers(model_dir):
    """What checkpoint saves and deletions cut short leave in ``model_dir``: TensorFlow's temporary folders and
    files, checkpoint files the state file does not name (yet), data files whose index was deleted."""
    names = os.listdir(model_dir)
    found = {f"{name} {mtime}" for name, mtime in temp_folders(model_dir).items()}
    found |= {name for name in names if ".tempstate" in name or name.startswith(f"{checkpoints.STATE_FILE}.tmp")}
    state = tf.train.get_checkpoint_state(str(model_dir))
    named = {os.path.basename(path) for path in state.all_model_checkpoint_paths} if state else set()
    found |= {f"{os.path.basename(prefix)} not in the state file"
              for prefix in checkpoints.listed_checkpoints(str(model_dir)) if os.path.basename(prefix) not in named}
    found |= {name for name in names if ".data-" in name and f"{name.split('.data-')[0]}.index" not in names}
    return found


def saved_counters(model_dir):
    """``(global step, optimizer iterations)`` saved in the newest intact checkpoint; (0, 0) when there is none."""
    found = checkpoints.latest_intact_checkpoint(str(model_dir))
    if found is None:
        return 0, 0
    reader = found[1]
    return (int(reader.get_tensor("global_step/.ATTRIBUTES/VARIABLE_VALUE")),
            int(reader.get_tensor("optimizer/_iterations/.ATTRIBUTES/VARIABLE_VALUE")))


@pytest.fixture
def forker():
    started = Forker()
    yield started
    started.close()


def test_sigkill_at_random_moments_always_leaves_a_restorable_model_dir(tmp_path, forker, absl_warnings):
    rng = random.Random(20240611)
    model_dir = tmp_path / "model_dir"
    restored_steps, interrupted_writes = [], []
    model_dir.mkdir()
    for trial in range(TRIALS):
        log = tmp_path / f"trial-{trial}.log"
        left_before = leftovers(model_dir)
        pid = forker.start(model_dir, max_steps=NEVER, log=log)
        assert wait_for(lambda: logged_steps(log), STARTUP_SECONDS, poll_seconds=0.05), read_log(log)[-3000:]
        wait_for_kill_moment(KILL_MOMENTS[trial % len(KILL_MOMENTS)], model_dir, rng)
        os.kill(pid, signal.SIGKILL)
        assert forker.reap(pid) == {"signal": signal.SIGKILL, "exit_code": None}
        interrupted_writes.append(sorted(leftovers(model_dir) - left_before))

        last_logged = logged_steps(log)[-1]
        restored = make_trainer(model_dir).global_step
        assert last_logged - SAVE_EVERY <= restored <= last_logged + 1, (trial, last_logged, restored)
        assert saved_counters(model_dir) == (restored, restored)  # every step applied once, and counted once
        if restored_steps:  # the trainer resumed from the checkpoint the previous kill left
            resumed_from = restored_steps[-1]
            text = read_log(log)
            assert (f"Restored parameters from {model_dir}/model.ckpt-{resumed_from}" in text
                    or resumed_from == 0 and "Restored parameters" not in text), text[-3000:]
            assert f"Taking over the stale lock {model_dir}/{LOCK_FILE}" in text
        restored_steps.append(restored)

    # Kills that landed in a save are the point of the test: a handful is enough, timing decides how many.
    assert sum(bool(left) for left in interrupted_writes) >= 3, interrupted_writes
    assert restored_steps[-1] > restored_steps[0]
    assert [warning for warning in absl_warnings() if "Checkpoint" in warning] == []  # no damage, nothing cut short

    requested = (restored_steps[-1] // SAVE_EVERY + 3) * SAVE_EVERY + 1  # not a save step: the last save is train's
    log = tmp_path / "final.log"
    pid = forker.start(model_dir, max_steps=requested, log=log)
    assert forker.reap(pid) == {"signal": None, "exit_code": 0}, read_log(log)[-3000:]
    assert make_trainer(model_dir).global_step == requested
    assert saved_counters(model_dir) == (requested, requested)
    # The last trainer deleted what the kills left of superseded saves; the lock went with it.
    assert leftovers(model_dir) <= {name for name in os.listdir(model_dir) if name.startswith("checkpoint.tmp")}
    assert checkpoints.candidate_checkpoints(str(model_dir)) == [
        f"{model_dir}/model.ckpt-{step}" for step in (requested, requested - 1, requested - 1 - SAVE_EVERY)]
    assert not (model_dir / LOCK_FILE).exists()


if __name__ == "__main__":
    serve_trainers()
