"""Fetches a dataset's four verified ``.gz`` files: ``python -m fmnist_tf.fetch
--data_dir=data/fashion``.

A front end like train and evaluate: the flags are defined here, the work is
``fmnist_tf.data.fetch``.
"""

from absl import app, flags

from fmnist_tf import command_line, data
from fmnist_tf import flags as fmnist_flags

fmnist_flags.define_fetch_flags()


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    for path in data.fetch(flags.FLAGS.dataset, flags.FLAGS.data_dir,
                           base_url=flags.FLAGS.base_url):
        print(path)


def run_main():
    command_line.run(main)


if __name__ == "__main__":
    run_main()
