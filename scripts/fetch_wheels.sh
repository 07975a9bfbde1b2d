#!/usr/bin/env bash
# Download, on this machine, the wheels that the GPU machine lacks, into .whl/ (ignored by
# .gitignore), for scripts/gpu_check.sh.
#
# The GPU machine reaches no package registry. Its image (Python 3.12, its own CUDA build of
# torch, numpy, scipy, scikit-learn, matplotlib, lxml, tqdm, requests) lacks ObsPy, pyproj and
# ObsPy's `decorator`, so those travel as wheels: the run tool's `carry: [".whl"]` copies the
# folder there, and gpu_check.sh installs them with `pip install --no-deps --target`.
# Versions are the ones installed here (the combination the test suite runs with). Nothing
# else is fetched: the image's own torch and numpy must stay (a second numpy would shadow its
# CUDA build's), and SQLAlchemy (an ObsPy requirement) is only imported by ObsPy's tsindex
# client, which this package never loads.
#
# Usage: bash scripts/fetch_wheels.sh      (about 25 MB; run again after a version bump)
#        WITH_DASK=1 bash scripts/fetch_wheels.sh   (adds Dask and its dependencies, ~10 MB, for
#        the two-GPU Dask test of gpu_check.sh; only if the image lacks Dask)
set -euo pipefail
cd "$(dirname "$0")/.."

WHEELS=(obspy==1.5.1 pyproj==3.7.2 decorator==5.2.1)
if [ "${WITH_DASK:-0}" != 0 ]; then
    # dask.distributed and what it imports, at the versions installed here
    WHEELS+=(dask==2026.8.0 distributed==2026.8.0 cloudpickle==3.1.3 msgpack==1.2.4
             toolz==1.2.0 tornado==6.6.1 psutil==7.2.2 sortedcontainers==2.4.0 tblib==3.2.2
             zict==3.0.0 locket==1.0.0 partd==1.4.2 fsspec==2026.9.0 click==8.4.0
             pyyaml==6.0.3 jinja2==3.1.6 markupsafe urllib3==2.7.0)
fi
DEST=.whl

mkdir -p "$DEST"
# the GPU image's Python is CPython 3.12 on x86-64 (device README, KINDS.md); pip matches a
# manylinux tag exactly, so name every tag these packages publish wheels for
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform manylinux1_x86_64 --platform any -d "$DEST" "${WHEELS[@]}"

# one version of each package only: two of one name stop the whole install there
for name in obspy pyproj decorator; do
    count=$(find "$DEST" -maxdepth 1 -iname "${name}-*.whl" | wc -l)
    if [ "$count" -ne 1 ]; then
        echo "fetch_wheels: $count wheels of $name in $DEST (want 1): remove the old ones" >&2
        exit 1
    fi
done
ls -l "$DEST"
du -sh "$DEST"
