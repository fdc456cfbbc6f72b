"""model_dir/flags.txt: recorded, rerunnable, and guarding a model_dir against another run's flags."""

import os

import pytest

from fmnist_tf.estimator.model_dir import ModelDirConflictError, parse_flags, prepare_model_dir

FLAGS_A = {"model": "convnet", "batch_size": 400, "learning_rate": 0.001, "train_steps": 2000,
           "data_dir": "data/fashion", "use_thing": True, "other_thing": False}


def read_flags_txt(model_dir):
    with open(os.path.join(model_dir, "flags.txt"), encoding="utf-8") as handle:
        return handle.read()


def test_new_model_dir_records_flags_as_a_flagfile(tmp_path):
    model_dir = str(tmp_path / "run")
    assert prepare_model_dir(model_dir, FLAGS_A) == "new"
    text = read_flags_txt(model_dir)
    assert "--batch_size=400\n" in text
    assert "--use_thing\n" in text and "--noother_thing\n" in text
    assert parse_flags(text)["learning_rate"] == "0.001"


def test_same_flags_continue(tmp_path):
    model_dir = str(tmp_path / "run")
    prepare_model_dir(model_dir, FLAGS_A)
    assert prepare_model_dir(model_dir, dict(FLAGS_A)) == "continue"


def test_different_flags_are_refused_naming_the_difference(tmp_path):
    model_dir = str(tmp_path / "run")
    prepare_model_dir(model_dir, FLAGS_A)
    with pytest.raises(ModelDirConflictError, match=r"--batch_size: 400 -> 128.*--resume.*--overwrite"):
        prepare_model_dir(model_dir, {**FLAGS_A, "batch_size": 128})


def test_resume_keeps_checkpoints_and_records_the_new_flags(tmp_path):
    model_dir = str(tmp_path / "run")
    prepare_model_dir(model_dir, FLAGS_A)
    (tmp_path / "run" / "checkpoint").write_text("kept")
    assert prepare_model_dir(model_dir, {**FLAGS_A, "train_steps": 4000}, resume=True) == "resume"
    assert (tmp_path / "run" / "checkpoint").read_text() == "kept"
    assert "--train_steps=4000" in read_flags_txt(model_dir)


def test_overwrite_deletes_the_previous_run(tmp_path):
    model_dir = str(tmp_path / "run")
    prepare_model_dir(model_dir, FLAGS_A)
    (tmp_path / "run" / "checkpoint").write_text("old")
    assert prepare_model_dir(model_dir, {**FLAGS_A, "batch_size": 128}, overwrite=True) == "overwrite"
    assert not (tmp_path / "run" / "checkpoint").exists()
    assert "--batch_size=128" in read_flags_txt(model_dir)


def test_a_non_empty_folder_without_flags_txt_is_left_alone(tmp_path):
    (tmp_path / "precious.txt").write_text("mine")
    with pytest.raises(ModelDirConflictError, match="no flags.txt"):
        prepare_model_dir(str(tmp_path), FLAGS_A, overwrite=True)
    assert (tmp_path / "precious.txt").read_text() == "mine"
