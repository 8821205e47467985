# kvmtest developer entry points. Everything installs what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Bytecode caches on: without them every test's ./run.py process and every pytest worker
# compiles the package (and rewrites the test asserts) from source again (docs/hacking.md).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: venv sysdeps guest test check lint demo demo-libvirt demo-cluster dry-demo bench bench-cluster clean

venv: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	scripts/sysdeps.sh all
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# compat: the checkout goes on sys.path as a path entry, so a kvmtest/ or kvmtest/results/
	# folder in the current directory (python -m puts it first) cannot shadow the package
	$(PY) -m pip install -q -e '.[test,libvirt,cluster]' --config-settings editable_mode=compat
	touch $(STAMP)

sysdeps:
	scripts/sysdeps.sh all

guest: venv
	$(PY) -m kvmtest.vm.tinyguest build

test: venv guest
	$(PY) -m ruff check kvmtest tests bench run.py
	$(PY) -m mypy
	$(PY) -m pytest -q tests

lint: venv
	$(PY) -m ruff check kvmtest tests bench run.py
	$(PY) -m mypy

# Before every commit: lint, types and every test that boots no guest, needs no root network
# namespaces or libvirt daemon and is not slow by nature (docs/hacking.md has the measured
# time). One worker more than cores (a third of the tests' time is no CPU: sleeps, timeouts,
# waiting on child processes); --slow-report names the tests over the budget; the hypothesis tests run a fifth
# of their examples (tests/hypo.py; make test runs them all).
CHECK_MARKS := not guest and not libvirt and not netns and not slow
CHECK_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
check: venv
	$(PY) -m ruff check kvmtest tests bench run.py
	$(PY) -m mypy
	HYPOTHESIS_PROFILE=check $(PY) -m pytest -q -p no:cacheprovider -n $(CHECK_WORKERS) --slow-report 5 -m "$(CHECK_MARKS)" tests

demo: venv guest
	$(PY) ./run.py -c samples/demo/kvm_hosts.cfg --set smoke

demo-libvirt: venv guest
	scripts/libvirtd.sh start
	$(PY) ./run.py -c samples/demo/kvm_hosts.cfg --set smoke_libvirt

# scheduler + 2 workers, each host in its own network namespace on this machine (root)
demo-cluster: venv guest
	$(PY) scripts/demo_cluster.py

dry-demo: venv
	$(PY) ./run.py -c samples/kvm_hosts.cfg --set nightly --dry-run --all-hosts

bench: venv
	$(PY) bench/config_bench.py --files medium.cfg,large.cfg,qemu/subtests.cfg
	# large.cfg dry run over 2 hosts: time vs the bare expansion (<= 1.3x), peak RSS (< 200 MiB)
	$(PY) bench/plan_bench.py --repeat 3
	$(PY) bench/assign_bench.py

bench-cluster: venv
	$(PY) bench/cluster_bench.py

clean:
	rm -rf $(VENV) images results .pytest_cache .ruff_cache
