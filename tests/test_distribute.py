"""Many devices and many machines: strategies from flags, chief-only writes, and two workers on 127.0.0.1.

Run as a script, this file is one worker of the two-worker test: the train CLI on tiny IDX files
(whose digests are not Fashion-MNIST's, so fetching is skipped), each worker in its own TF runtime.
"""

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf
from absl import flags

from fmnist_tf import command_line, data, estimator, train
from fmnist_tf.estimator import distribute
from fmnist_tf.training.recipe import Recipe
from test_estimator import EVAL_INPUT_FN, TRAIN_INPUT_FN, checkpoint_steps, linear_model_fn

# --- Strategies and clusters from flag values (in-process: no cluster is joined) ---------------


def test_worker_hosts_and_task_index_make_the_cluster():
    cluster = distribute.make_cluster_resolver(["127.0.0.1:2222", "127.0.0.1:2223"], task_index=1)
    assert cluster.cluster_spec().as_dict() == {"worker": ["127.0.0.1:2222", "127.0.0.1:2223"]}
    assert (cluster.task_type, cluster.task_id, cluster.rpc_layer) == ("worker", 1, "grpc")


def test_without_worker_hosts_the_cluster_comes_from_tf_config(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["10.0.0.1:2222", "10.0.0.2:2222"]},
                                                "task": {"type": "worker", "index": 1}}))
    cluster = distribute.make_cluster_resolver()
    assert cluster.cluster_spec().as_dict() == {"worker": ["10.0.0.1:2222", "10.0.0.2:2222"]}
    assert (cluster.task_type, cluster.task_id) == ("worker", 1)


@pytest.mark.parametrize("worker_hosts, task_index, tf_config, message", [
    (["a:1", "b:1"], 2, None, "expected 0 <= task_index < 2"),
    (["a:1", "b:1"], None, None, "--task_index is None"),
    ([], 0, None, "--task_index=0 needs --worker_hosts"),
    (["a:1"], 0, '{"cluster": {"worker": ["a:1"]}}', "both TF_CONFIG and --worker_hosts"),
])
def test_contradictory_cluster_flags_are_refused(monkeypatch, worker_hosts, task_index, tf_config, message):
    if tf_config:
        monkeypatch.setenv("TF_CONFIG", tf_config)
    with pytest.raises(ValueError, match=message):
        distribute.make_cluster_resolver(worker_hosts, task_index)


# --- What a non-chief worker writes: nothing that lasts ----------------------------------------


def worker_leftovers(temporary_dir):
    """The non-chief's checkpoint and export folders still in ``temporary_dir`` (autograph's files aside)."""
    return [name for name in os.listdir(temporary_dir) if name.startswith("fmnist_tf_worker_")]


def test_non_chief_worker_restores_the_chiefs_checkpoint_and_writes_nothing(tmp_path, monkeypatch):
    model_dir = tmp_path / "model"
    make = lambda strategy: estimator.Estimator(linear_model_fn, config=estimator.RunConfig(
        model_dir=str(model_dir), save_checkpoints_steps=2, save_summary_steps=1, steps_per_loop=2,
        train_distribute=strategy))
    make(None).train(TRAIN_INPUT_FN, steps=4)
    before = sorted(os.listdir(model_dir))

    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    for chief_only in ("should_checkpoint", "should_save_summary"):
        monkeypatch.setattr(type(strategy.extended), chief_only, property(lambda extended: False))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(scratch))
    worker = make(strategy)
    assert worker.global_step == 4
    worker.train(TRAIN_INPUT_FN, steps=4)
    worker.evaluate(EVAL_INPUT_FN)
    assert worker.global_step == 8
    assert worker.export_saved_model(str(tmp_path / "export")) is None
    assert sorted(os.listdir(model_dir)) == before and checkpoint_steps(model_dir) == [2, 4]
    assert not (tmp_path / "export").exists()
    assert worker_leftovers(scratch) == []


# --- Two workers on 127.0.0.1 -------------------------------------------------------------------

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

COLLECTIVE_TIMEOUT = 15  # seconds: above the workers' skew (tracing, checkpointing) on 2 busy cores
EXIT_SLACK = 30  # seconds a worker may take, past the timeout, to fail and exit
START_TIMEOUT = 150  # seconds for two TF processes to start, meet and train to a checkpoint
TRAIN_STEPS = 30
SEED = 42  # of the validation split and the shuffle, which every worker must share
VALIDATION_SIZE = 10
SHARDED_SOURCES = ("idx", "csv", "memory")


def free_ports(count):
    """Ports the kernel gives to ``bind(0)``, released for the workers to take."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def example_ids(images):
    """One id per image: the tiny images are seeded noise, so their bytes tell them apart."""
    return [hashlib.sha1(image.tobytes()).hexdigest()[:12] for image in np.asarray(images)]


class Workers:
    """Two worker processes of the train CLI, logging to files; every one still alive is killed at exit."""

    def __init__(self, log_dir):
        self.log_dir = log_dir
        self.processes = []

    def start(self, name, flags, env=None):
        env = {**os.environ, **(env or {}), "TMPDIR": str(self.scratch(name))}
        with open(self.log_dir / f"{name}.out", "w") as stdout, open(self.log_dir / f"{name}.err", "w") as stderr:
            self.processes.append(subprocess.Popen([sys.executable, __file__, *flags], stdout=stdout,
                                                   stderr=stderr, env=env, cwd=REPO))
        return self.processes[-1]

    def scratch(self, name):
        path = self.log_dir / f"{name}.tmp"
        path.mkdir(exist_ok=True)
        return path

    def log(self, name, stream="err"):
        return (self.log_dir / f"{name}.{stream}").read_text()

    def kill_all(self):
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)


def wait_for_checkpoint(model_dir, at_least, process, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        latest = tf.train.latest_checkpoint(model_dir)
        if latest and int(latest.rsplit("-", 1)[1]) >= at_least:
            return int(latest.rsplit("-", 1)[1])
        assert process.poll() is None, "the chief exited before its first checkpoint"
        time.sleep(0.1)
    raise TimeoutError(f"no checkpoint >= {at_least} in {model_dir} after {timeout} s")


@pytest.fixture
def tiny_idx_and_csv_dir(tiny_idx_dir):
    for split in ("train", "test"):
        images, labels = data.load_numpy(tiny_idx_dir, split)
        data.write_csv(images, labels, os.path.join(tiny_idx_dir, data.csv.CSV_FILE_NAMES[split]))
    return tiny_idx_dir


def test_two_workers_share_each_epoch_train_resume_and_fail_fast(tiny_idx_and_csv_dir, tmp_path):
    model_dir = tmp_path / "model"
    workers = Workers(tmp_path)
    common = ["--flagfile=fmnist_tf/configs/convnet_smoke.cfg", f"--data_dir={tiny_idx_and_csv_dir}",
              "--data_source=idx", f"--validation_size={VALIDATION_SIZE}", "--batch_size=8",
              f"--train_steps={TRAIN_STEPS}", "--steps_per_eval=1000", "--steps_per_loop=2",
              "--save_checkpoints_steps=2", f"--seed={SEED}", f"--model_dir={model_dir}",
              "--distribution_strategy=multi_worker_mirrored", f"--collective_timeout={COLLECTIVE_TIMEOUT}"]
    try:
        # First launch, from --worker_hosts: each worker reports one epoch of each source, then
        # trains; the non-chief is killed after the chief's first checkpoints.
        hosts = ",".join(f"127.0.0.1:{port}" for port in free_ports(2))
        first = [workers.start(f"first{index}", [*common, f"--worker_hosts={hosts}", f"--task_index={index}",
                                                 f"--epoch_report={tmp_path / f'epoch{index}.json'}"])
                 for index in range(2)]
        wait_for_checkpoint(str(model_dir), 4, first[0], START_TIMEOUT)
        first[1].send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        chief_returncode = first[0].wait(timeout=COLLECTIVE_TIMEOUT + EXIT_SLACK)
        seconds_to_exit = time.monotonic() - killed_at
        assert chief_returncode != 0, workers.log("first0")[-3000:]
        resume_step = checkpoint_steps(model_dir)[-1]
        assert 4 <= resume_step < TRAIN_STEPS

        # Each example of the training split (the tiny files less the validation examples) was
        # seen by exactly one worker, from every source.
        train_images = next(iter(data.make_dataset(tiny_idx_and_csv_dir, "train", batch_size=100, source="memory",
                                                   validation_size=VALIDATION_SIZE, seed=SEED)))[0]
        reports = [json.loads((tmp_path / f"epoch{index}.json").read_text()) for index in range(2)]
        for source in SHARDED_SOURCES:
            seen = [report[source] for report in reports]
            assert all(seen), f"{source}: a worker saw no examples"
            assert sorted(seen[0] + seen[1]) == sorted(example_ids(train_images)), source

        # Second launch, from TF_CONFIG on new ports and the same flags: both resume at the chief's
        # last checkpoint and train to the end; the non-chief leaves nothing behind.
        hosts = [f"127.0.0.1:{port}" for port in free_ports(2)]
        second = [workers.start(f"second{index}", common, env={"TF_CONFIG": json.dumps(
            {"cluster": {"worker": hosts}, "task": {"type": "worker", "index": index}})}) for index in range(2)]
        for index, process in enumerate(second):
            assert process.wait(timeout=START_TIMEOUT) == 0, workers.log(f"second{index}")[-3000:]
            assert f"Restored parameters from {model_dir}/model.ckpt-{resume_step}" in workers.log(f"second{index}")
            stdout = workers.log(f"second{index}", "out")
            assert f"| global step | {TRAIN_STEPS} |" in stdout
            assert f"| steps this run | {TRAIN_STEPS - resume_step} |" in stdout
    finally:
        workers.kill_all()
    assert checkpoint_steps(model_dir)[-1] == TRAIN_STEPS
    # The chief's files only: one events file per launch, no worker's temporary folder.
    names = os.listdir(model_dir)
    assert sorted(name for name in names if not name.startswith(("model.ckpt-", "events.out.tfevents."))) == [
        "checkpoint", "eval_test", "eval_validation", "flags.txt", "projector", "projector_config.pbtxt"]
    assert len([name for name in names if name.startswith("events.out.tfevents.")]) == 2
    assert worker_leftovers(workers.scratch("second1")) == []  # (the killed first1 could clean nothing)
    print(f"the chief exited {seconds_to_exit:.1f} s after its peer was killed")


def report_epochs(flags_obj, strategy, path):
    """Writes, per source, the ids of the training examples this worker gets in one distributed epoch."""
    seen = {}
    for source in SHARDED_SOURCES:
        dataset = data.make_dataset(flags_obj.data_dir, "train", batch_size=flags_obj.batch_size, source=source,
                                    shuffle=True, seed=flags_obj.seed, validation_size=flags_obj.validation_size)
        seen[source] = [example_id
                        for images, _ in strategy.experimental_distribute_dataset(dataset)
                        for local_images in strategy.experimental_local_results(images)
                        for example_id in example_ids(local_images)]
    with open(path, "w") as handle:
        json.dump(seen, handle)


def worker_main(argv):
    data.fetch = lambda dataset, data_dir: None
    flags_obj = flags.FLAGS
    if not flags_obj.epoch_report:
        return train.main(argv)
    strategy = Recipe.from_flags(flags_obj).strategy()
    report_epochs(flags_obj, strategy, flags_obj.epoch_report)
    train.run(flags_obj, strategy_override=strategy)


if __name__ == "__main__":
    flags.DEFINE_string("epoch_report", None, "Write the examples this worker sees in one epoch here first.")
    command_line.run(worker_main)
