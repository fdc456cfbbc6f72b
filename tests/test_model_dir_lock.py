"""model_dir/trainer.lock: a second trainer refused, stale locks of dead trainers taken over, the lock removed at exit.

The other trainer is a small Python process holding the lock (no TensorFlow in it, so it starts in a blink).
"""

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from fmnist_tf.estimator.model_dir import prepare_model_dir
from fmnist_tf.estimator.model_dir_lock import (LOCK_FILE, ModelDirLockedError, acquire_model_dir, hold_model_dir,
                                      release_model_dir)

REPO = Path(__file__).resolve().parents[1]
HOLDER = ("import sys; from fmnist_tf.estimator.model_dir_lock import hold_model_dir\n"
          "with hold_model_dir(sys.argv[1]):\n"
          "    print('held', flush=True)\n"
          "    sys.stdin.read()\n")


def start_holder(model_dir):
    """A process that holds ``model_dir``'s lock until its stdin closes."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(model_dir)], cwd=REPO, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert holder.stdout.readline() == "held\n"
    return holder


def lock_owner(model_dir):
    return json.loads((Path(model_dir) / LOCK_FILE).read_text())


def test_a_second_trainer_is_refused_naming_the_model_dir_the_pid_and_what_to_do(tmp_path):
    holder = start_holder(tmp_path)
    try:
        with pytest.raises(ModelDirLockedError) as raised:
            acquire_model_dir(tmp_path)
        assert str(raised.value) == (
            f"{tmp_path} is in use by another trainer, PID {holder.pid} on host {socket.gethostname()} (lock file "
            f"{tmp_path}/{LOCK_FILE}): wait for it to finish, stop it (kill -TERM {holder.pid} checkpoints and "
            "exits), or train in another --model_dir")
        assert lock_owner(tmp_path)["pid"] == holder.pid
    finally:
        holder.communicate("")
    assert holder.returncode == 0
    assert not (tmp_path / LOCK_FILE).exists()  # removed as the holder's block ended
    with hold_model_dir(tmp_path):
        assert lock_owner(tmp_path)["pid"] == os.getpid()
    assert os.listdir(tmp_path) == []


def test_the_lock_of_a_killed_trainer_is_reported_stale_and_taken_over(tmp_path, absl_warnings):
    holder = start_holder(tmp_path)
    holder.send_signal(signal.SIGKILL)
    holder.communicate()
    assert lock_owner(tmp_path)["pid"] == holder.pid  # a SIGKILL leaves it behind
    with hold_model_dir(tmp_path):
        assert lock_owner(tmp_path)["pid"] == os.getpid()
    assert absl_warnings() == [f"Taking over the stale lock {tmp_path}/{LOCK_FILE} of PID {holder.pid} on "
                               f"{socket.gethostname()}: no process {holder.pid} runs."]
    assert not (tmp_path / LOCK_FILE).exists()


def write_lock(model_dir, **owner):
    (Path(model_dir) / LOCK_FILE).write_text(json.dumps(owner))


def test_a_pid_now_used_by_another_program_is_told_from_the_owner_by_its_start_time(tmp_path, absl_warnings):
    # The parent of this test is alive; a lock saying it started at another time is a dead trainer's.
    write_lock(tmp_path, pid=os.getppid(), host=socket.gethostname(), process_start=1)
    with hold_model_dir(tmp_path):
        assert lock_owner(tmp_path)["pid"] == os.getpid()
    assert f"PID {os.getppid()} now belongs to a process started later" in absl_warnings()[0]


def test_a_lock_naming_this_pid_from_an_earlier_life_is_taken_over(tmp_path, absl_warnings):
    # In a container, a restarted trainer often gets the PID its killed predecessor had.
    write_lock(tmp_path, pid=os.getpid(), host=socket.gethostname(), process_start=None)
    with hold_model_dir(tmp_path):
        assert lock_owner(tmp_path)["process_start"] is not None
    assert "it names this PID, which an earlier process had" in absl_warnings()[0]


def test_the_same_process_cannot_hold_a_model_dir_twice(tmp_path):
    with hold_model_dir(tmp_path):
        with pytest.raises(ModelDirLockedError, match="this process already trains there"):
            acquire_model_dir(tmp_path)
        assert (tmp_path / LOCK_FILE).exists()


def test_a_lock_of_another_host_is_refused_since_its_pid_cannot_be_checked(tmp_path):
    write_lock(tmp_path, pid=1234, host="other-host", process_start=5)
    with pytest.raises(ModelDirLockedError, match=rf"PID 1234 on host other-host .*if no trainer runs there any "
                                                  rf"more, delete {tmp_path}/{LOCK_FILE}"):
        acquire_model_dir(tmp_path)
    assert lock_owner(tmp_path)["host"] == "other-host"


def test_an_unreadable_lock_is_refused_and_left_in_place(tmp_path):
    (tmp_path / LOCK_FILE).write_bytes(b"\x00garbage")
    with pytest.raises(ModelDirLockedError, match=f"{LOCK_FILE} is not a lock this project wrote.*delete it"):
        acquire_model_dir(tmp_path)
    assert (tmp_path / LOCK_FILE).read_bytes() == b"\x00garbage"


def test_release_leaves_a_lock_that_another_trainer_took_over(tmp_path, absl_warnings):
    path = acquire_model_dir(tmp_path)
    write_lock(tmp_path, pid=1234, host="other-host", process_start=5)
    release_model_dir(path)
    assert lock_owner(tmp_path)["pid"] == 1234
    assert "no longer names this process" in absl_warnings()[0]


def test_prepare_model_dir_takes_a_folder_holding_only_the_lock_as_new_and_overwrite_keeps_the_lock(tmp_path):
    model_dir = tmp_path / "run"
    with hold_model_dir(model_dir):
        assert prepare_model_dir(str(model_dir), {"train_steps": 2}) == "new"
        (model_dir / "model.ckpt-2.index").write_text("old")
        assert prepare_model_dir(str(model_dir), {"train_steps": 4}, overwrite=True) == "overwrite"
        assert sorted(os.listdir(model_dir)) == ["flags.txt", LOCK_FILE]
    assert os.listdir(model_dir) == ["flags.txt"]


def test_the_train_cli_is_refused_while_another_trainer_holds_the_model_dir(tmp_path):
    model_dir = tmp_path / "m"
    holder = start_holder(model_dir)
    try:
        result = subprocess.run([sys.executable, "-m", "fmnist_tf.train", f"--model_dir={model_dir}", "--overwrite",
                                 "--flagfile=fmnist_tf/configs/convnet_smoke.cfg"],
                                cwd=REPO, capture_output=True, text=True, timeout=600)
    finally:
        holder.communicate("")
    assert result.returncode != 0
    assert f"ModelDirLockedError: {model_dir} is in use by another trainer, PID {holder.pid}" in result.stderr
    assert os.listdir(model_dir) == []  # --overwrite emptied nothing, and the lock went with its holder
