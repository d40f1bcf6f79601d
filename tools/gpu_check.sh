#!/usr/bin/env bash
# One prepared run on a CUDA machine: the fused flow solver's correctness tests on the GPU, then the layer and the
# training-step benchmarks. Run from the repository root of a plain copy (no install needed):
#   OUT=/some/dir bash tools/gpu_check.sh
# Wheels carried in .whl/ (pytest and its dependencies, if the machine lacks them; PyAV for the training step) are
# installed first; decord, flow_vis and matplotlib are not needed. Every step's output goes to $OUT/<step>.log; a failing step does not stop the later ones.
set -u
OUT=${OUT:-gpu_check_out}
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
unset TRITON_INTERPRET
status=0

step() {  # step NAME TIMEOUT_S COMMAND...: run, tee to $OUT/NAME.log, remember a failure
    local name=$1 limit=$2
    shift 2
    echo "=== $name (${*: -4}) $(date -u +%H:%M:%S) UTC" | tee "$OUT/$name.log"
    timeout "$limit" "$@" 2>&1 | tee -a "$OUT/$name.log"
    local code=${PIPESTATUS[0]}
    echo "=== $name: exit $code" | tee -a "$OUT/$name.log"
    [ "$code" -eq 0 ] || status=1
}

# `repflow bench TARGET ARGS...` without importing the other sub-commands' modules (the app's packages are absent).
bench=(python -c 'import argparse, importlib, sys
module = importlib.import_module("repflow.bench." + sys.argv[1])
parser = argparse.ArgumentParser(prog="repflow bench " + sys.argv[1])
module.configure(parser)
sys.exit(module.run(parser.parse_args(sys.argv[2:])))')

if compgen -G ".whl/*.whl" > /dev/null; then
    step wheels 300 python -m pip install --no-index --no-deps --quiet .whl/*.whl
fi
step environment 60 bash -c 'nvidia-smi; python -c "import torch, triton; print(\"torch\", torch.__version__, \
\"cuda\", torch.version.cuda, torch.cuda.get_device_name(0)); print(\"triton\", triton.__version__)"'
step tests 600 python -m pytest -q -p no:cacheprovider tests/test_flow_fused.py
# OFFICIAL_FLOW_PY: a file defining TVL1Flow(channels, n_iter=...) around the published layer, timed alternately
# with this one (bench layer --against); without it the published layer's H200 figures of issue 12 are the reference.
against=()
if [ -n "${OFFICIAL_FLOW_PY:-}" ]; then against=(--against "$OFFICIAL_FLOW_PY"); fi
step bench_layer 600 "${bench[@]}" layer --device cuda --repeats 20 ${against[@]+"${against[@]}"}
step bench_step 600 "${bench[@]}" step --device cuda --repeats 5
# `repflow train` / `eval` on CUDA with default settings (channels-last, AMP) for every model kind, on a small
# synthetic set written here: needs PyAV (carry its wheel in .whl/), which writes and reads the clips.
if python -c "import av" 2> /dev/null; then
    data=$(mktemp -d)
    step synth 300 python -m repflow synth --out "$data/synth" --clips-per-class 16 --test-clips-per-class 4 \
        --size 128 --frames 24 --workers 8
    for kind in none rep fcf; do
        step "train_$kind" 300 python -m repflow train --config configs/synthetic112_flow_of_flow.yaml --flow "$kind" \
            --train-data "$data/synth/train.txt" --val-data "$data/synth/test.txt" --epochs 2 --workers 4 \
            --device cuda --out-dir "$data/run_$kind" --no-progress
        step "eval_$kind" 120 python -m repflow eval --checkpoint "$data/run_$kind/model.pt" --device cuda --no-progress
    done
fi
exit $status
