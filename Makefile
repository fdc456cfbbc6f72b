# The README's two commands, `make run` and `make test`, and their helpers.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DATA_DIR := data/fashion
DEBIAN_DATA := /usr/share/datasets/fashion-mnist
RUN_DIR := runs/convnet
RUN_CONFIG := fmnist_tf/configs/convnet.cfg

.PHONY: run test venv dev-venv data debian-data chromium bench clean

# `make run` needs the train extra only; `make test` adds what the tests need (`dev`, which holds `train`).
venv: $(VENV)/.installed-train
dev-venv: $(VENV)/.installed-dev

$(VENV)/.installed-%: setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[$*]'
	touch $@ $(if $(filter dev,$*),$(VENV)/.installed-train)

# Debian's package holds the Fashion-MNIST files; without root or apt, fetch downloads them instead.
debian-data:
	@if [ ! -d $(DEBIAN_DATA) ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist) \
	  || echo "apt-get could not install dataset-fashion-mnist; the files will be downloaded"; \
	fi

# Debian's chromium lets the TensorBoard test open the dashboards headless; without it that test is skipped.
chromium:
	@if ! command -v chromium >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (apt-get update -qq && apt-get install -y -qq chromium) \
	  || echo "apt-get could not install chromium; the TensorBoard browser test will be skipped"; \
	fi

data: venv debian-data
	$(PY) -m fmnist_tf.fetch --dataset=fashion_mnist --data_dir=$(DATA_DIR)

run: data
	$(PY) -m fmnist_tf.train --flagfile=$(RUN_CONFIG) --model_dir=$(RUN_DIR)

test: dev-venv data chromium pi-tools
	$(PY) -m pytest

bench: dev-venv data
	$(PY) benchmark/throughput.py

# Each parser's atheris target for FUZZ_SECONDS, starting from its seed corpus in fuzz/corpus/; the inputs it
# finds and any crash (with the input that caused it) go to build/fuzz/. atheris comes as a binary wheel only.
FUZZ_SECONDS ?= 60
FUZZ_WORK := build/fuzz
.PHONY: fuzz
fuzz: venv
	$(PY) -c "import atheris" 2>/dev/null || $(PY) -m pip install --quiet --only-binary=atheris -e '.[fuzz]'
	for target in idx csv; do \
	  mkdir -p $(FUZZ_WORK)/$$target && \
	  $(PY) fuzz/$${target}_target.py -max_total_time=$(FUZZ_SECONDS) -timeout=30 -rss_limit_mb=4096 \
	    -artifact_prefix=$(FUZZ_WORK)/$$target- $(FUZZ_WORK)/$$target fuzz/corpus/$$target || exit 1; \
	done

# Debian's qemu-user-static runs arm64 programs through binfmt_misc, mmdebstrap builds the root they run in; as
# root with apt, installed and enabled here; without them pi-check stops and its test is skipped, saying why.
pi-tools:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	    && ! (command -v mmdebstrap && command -v qemu-aarch64-static && command -v update-binfmts) >/dev/null; then \
	  (apt-get update -qq && apt-get install -y -qq qemu-user-static binfmt-support mmdebstrap) \
	  || echo "apt-get could not install qemu-user-static, binfmt-support and mmdebstrap"; \
	fi
	@if [ "$$(id -u)" = 0 ] && [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] \
	    && command -v update-binfmts >/dev/null; then \
	  (mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc; \
	   update-binfmts --enable qemu-aarch64) || echo "binfmt_misc could not be set up for qemu-aarch64"; \
	fi

# The Pi predictor on an emulated Raspberry Pi OS 64-bit, as root: the arm64 root is built into PI_ROOT once
# (4 to 6 minutes), then each check takes about 4. `make run`'s model is trained (or resumed) and
# exported first when its export is missing.
PI_EXPORT := runs/convnet_export
PI_ROOT := build/pi/bookworm-arm64
.PHONY: pi-tools pi-check
pi-check: data pi-tools
	test -f $(PI_EXPORT)/manifest.json || $(MAKE) run
	test -f $(PI_EXPORT)/manifest.json || $(PY) -m fmnist_tf.export --model_dir=$(RUN_DIR) --export_dir=$(PI_EXPORT)
	$(PY) benchmark/pi_check.py --export_dir=$(PI_EXPORT) --root_dir=$(PI_ROOT)

clean:
	rm -rf $(RUN_DIR) .pytest_cache
