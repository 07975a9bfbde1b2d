#!/usr/bin/env bash
# Issue 11's GPU measurements in one go, on a lent GPU machine (the device tool's `run`).
#
# 1. Here, once per machine (this machine reaches PyPI, the GPU machine reaches nothing):
#        bash scripts/fetch_wheels.sh       # ObsPy, pyproj, decorator wheels -> .whl/ (ignored)
# 2. One call of the device tool:
#        run(command="GIT_COMMIT=<sha> bash scripts/gpu_check.sh", carry=[".whl"],
#            timeout_s=450)
#    with <sha> the output of `git rev-parse HEAD` here, pasted in (the machine gets the files
#    without .git; the JSON records the commit from it). Commit first: untracked files travel
#    too, but only a commit names what was measured.
#    The files come back from $OUT: gpu_scaling.json (the figures), gpu_scaling.log (its
#    tables), catalogue_speed.json/.log (Locator.run end to end on 1 000 and 10 000 events),
#    pytest_gpu.log (CUDA vs CPU locations), gpu_check.log (versions, nvidia-smi).
#    Then call give_back unless you rerun at once.
#
# Time: installing the wheels ~15 s, the gpu-marked tests (tests/locate/test_cuda.py, CPU and
# CUDA locations of 4 events; tests/test_distributed.py, two Dask workers on the GPUs, which
# skips unless the image has Dask or `WITH_DASK=1 bash scripts/fetch_wheels.sh` carried it)
# ~30-60 s, gpu_scaling its budget (BUDGET_S, default 150 s)
# plus imports, catalogue_speed its budget (CATALOGUE_BUDGET_S, default 150 s) plus building
# the catalogue: about 7 minutes. Each step has its own time-out (tests 120 s, gpu_scaling
# BUDGET_S + 45 s, catalogue CATALOGUE_BUDGET_S + 60 s): at worst ~9 minutes, inside
# timeout_s=560. With a machine's start (1-2 minutes) a first call costs 8-10 minutes of the
# session's 15, which leaves one short rerun (`GPU_CHECK_TESTS=0 GPU_SCALING=0 bash
# scripts/gpu_check.sh` runs the catalogue benchmark alone; `HOST_COSTS=1 CATALOGUE=0
# GPU_CHECK_TESTS=0 GPU_SCALING=0` runs benchmarks/host_costs.py alone: the GPU machine's
# host cost per event, ~1-2 minutes).
#
# What it does there: installs the carried wheels and this package with
# `pip install --no-deps --target /tmp/site` (the image's own torch, numpy, scipy, scikit-learn,
# matplotlib stay: a second copy would shadow its CUDA build), prints the versions, runs the
# gpu-marked tests, then `python3 benchmarks/gpu_scaling.py --device cuda`, which writes its
# JSON after every part: a step cut off by its time-out keeps the parts already done.
#
# Run by hand on any CUDA machine: `OUT=/tmp/gpu_out bash scripts/gpu_check.sh`.
# GPU_CHECK_DRY=1 rehearses the whole script on a CPU (`--device cpu --quick`, the gpu tests
# skip), given wheels for the local Python in .whl/.
set -uo pipefail
cd "$(dirname "$0")/.."

OUT=${OUT:-/tmp/gpu_check_out}
BUDGET_S=${BUDGET_S:-150}
CATALOGUE_BUDGET_S=${CATALOGUE_BUDGET_S:-150}
CATALOGUE_EVENTS=${CATALOGUE_EVENTS:-1000 10000}
GPU_CHECK_TESTS=${GPU_CHECK_TESTS:-1}
GPU_SCALING=${GPU_SCALING:-1}
CATALOGUE=${CATALOGUE:-1}
HOST_COSTS=${HOST_COSTS:-0}
if [ "${GPU_CHECK_DRY:-0}" != 0 ]; then
    BENCH_ARGS=(--device cpu --quick --threads 1)
    CATALOGUE_ARGS=(--device cpu --threads 1 --events 16)
else
    BENCH_ARGS=(--device cuda)
    # shellcheck disable=SC2206  # a list of sizes
    CATALOGUE_ARGS=(--device cuda --events $CATALOGUE_EVENTS)
fi
SITE=/tmp/site
export PYTHONUNBUFFERED=1
mkdir -p "$OUT"
LOG=$OUT/gpu_check.log

say() { echo "gpu_check: $*" | tee -a "$LOG"; }

if ! ls .whl/*.whl >/dev/null 2>&1; then
    say "no wheels in .whl/: run 'bash scripts/fetch_wheels.sh' here and carry .whl"
    exit 2
fi
say "start $(date -u +%Y-%m-%dT%H:%M:%SZ), budget ${BUDGET_S} s"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 | tee -a "$LOG"

# the carried wheels, then this package itself (its metadata gives __version__), no deps
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target "$SITE" .whl/*.whl 2>&1 | tee -a "$LOG" || { say "wheel install failed"; exit 1; }
export PYTHONPATH=$SITE
if ! python3 -m pip install -q --no-index --no-deps --no-build-isolation --no-compile \
        --no-cache-dir --upgrade --target "$SITE" . 2>&1 | tee -a "$LOG"; then
    # the source tree imports as well (version then reads 0.0.0+unknown); the bundled data
    # of data/ is the package obspy_hyposvi.data only once installed: link it into place
    say "package install failed: using the source tree"
    [ -e obspy_hyposvi/data ] || ln -s ../data obspy_hyposvi/data
    export PYTHONPATH=$PWD:$SITE
fi
# PYTHONSAFEPATH: the installed package, not the source tree of the working directory (which
# lacks obspy_hyposvi/data: the data live in the top-level data/ and are installed there)
# (the benchmarks need their own folder on the path for benchmarks/_results.py: not there)
GPU_CHECK_DRY=${GPU_CHECK_DRY:-0} PYTHONSAFEPATH=1 python3 - <<'EOF' 2>&1 | tee -a "$LOG"
import os
import numpy, obspy, pyproj, torch
import obspy_hyposvi
print(f"python torch {torch.__version__} cuda {torch.version.cuda} "
      f"available {torch.cuda.is_available()} numpy {numpy.__version__} obspy "
      f"{obspy.__version__} pyproj {pyproj.__version__} obspy_hyposvi "
      f"{obspy_hyposvi.__version__} from {obspy_hyposvi.__file__}")
if not torch.cuda.is_available() and os.environ["GPU_CHECK_DRY"] == "0":
    raise SystemExit("CUDA is not available to torch")
EOF
[ "${PIPESTATUS[0]}" -eq 0 ] || { say "imports failed"; exit 1; }

status=0
if [ "$GPU_CHECK_TESTS" != 0 ]; then
    say "gpu-marked tests"
    # all cores for the CPU half of the comparison (tests/conftest.py: 1 thread otherwise);
    # deprecation warnings of the image's newer numpy/torch are not this package's failures
    OMP_NUM_THREADS=$(nproc) PYTHONSAFEPATH=1 timeout 120 python3 -m pytest -q -p no:cacheprovider -m gpu \
        -W ignore::DeprecationWarning -W ignore::FutureWarning tests/locate/test_cuda.py \
        tests/test_distributed.py \
        2>&1 | tee "$OUT/pytest_gpu.log"
    rc=${PIPESTATUS[0]}
    say "gpu-marked tests: exit $rc"
    [ "$rc" -eq 0 ] || status=1
fi

if [ "$GPU_SCALING" != 0 ]; then
    say "benchmarks/gpu_scaling.py ${BENCH_ARGS[*]} --budget-s $BUDGET_S"
    timeout $((BUDGET_S + 45)) python3 benchmarks/gpu_scaling.py "${BENCH_ARGS[@]}" \
        --budget-s "$BUDGET_S" --output "$OUT/gpu_scaling.json" 2>&1 | tee "$OUT/gpu_scaling.log"
    rc=${PIPESTATUS[0]}
    if [ "$rc" -eq 124 ]; then
        say "gpu_scaling: cut off by its time-out; the JSON holds the parts done"
    else
        say "gpu_scaling: exit $rc"
    fi
    [ "$rc" -eq 0 ] || status=1
fi

if [ "$CATALOGUE" != 0 ]; then
    say "benchmarks/catalogue_speed.py ${CATALOGUE_ARGS[*]} --budget-s $CATALOGUE_BUDGET_S"
    # the catalogue of 10 000 events is built in worker processes before its clock starts
    (cd benchmarks && timeout $((CATALOGUE_BUDGET_S + 60)) python3 catalogue_speed.py \
        "${CATALOGUE_ARGS[@]}" --budget-s "$CATALOGUE_BUDGET_S" \
        --output "$OUT/catalogue_speed.json") 2>&1 | grep -v "^event smi" \
        | tee "$OUT/catalogue_speed.log"
    rc=${PIPESTATUS[0]}
    say "catalogue_speed: exit $rc"
    [ "$rc" -eq 0 ] || status=1
fi

if [ "$HOST_COSTS" != 0 ]; then
    if [ "${GPU_CHECK_DRY:-0}" != 0 ]; then HOST_ARGS=(--device cpu --events 16); else
        HOST_ARGS=(--device cuda --events 1024); fi
    say "benchmarks/host_costs.py ${HOST_ARGS[*]} --threads 1"
    (cd benchmarks && OMP_NUM_THREADS=1 timeout 240 python3 host_costs.py "${HOST_ARGS[@]}" \
        --threads 1 --output "$OUT/host_costs.json") 2>&1 | grep -v "^event smi" \
        | tee "$OUT/host_costs.log"
    rc=${PIPESTATUS[0]}
    say "host_costs: exit $rc"
    [ "$rc" -eq 0 ] || status=1
fi
say "end $(date -u +%Y-%m-%dT%H:%M:%SZ)"
exit $status
