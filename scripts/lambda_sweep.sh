#!/usr/bin/env bash
# Train the paper's six rate points, λ ∈ {4, 8, 16, 40, 90, 150}·1e-4, from one config.
#
#   scripts/lambda_sweep.sh CONFIG [taco train arguments...]
#   GPUS="0 1 2 3 4 5" scripts/lambda_sweep.sh configs/taco-coco.yaml   # one λ per GPU, in parallel
#   scripts/lambda_sweep.sh configs/taco-photos.yaml --set max_steps=2000  # CPU: one after another
#
# Each λ trains in <out_dir>/lambda-<λ> (out_dir from the config, --set out_dir=... or -o DIR),
# the same layout as `taco train --lambda-sweep`, which refuses the same configs (variable-rate,
# frozen base from one init_from). A λ whose folder already holds a run is resumed.
# With GPUS set, λ number i runs on GPU ${GPUS[i % n]}; runs sharing a GPU wait for each other.
set -euo pipefail

if [ $# -lt 1 ]; then
    sed -n '2,11p' "$0" >&2
    exit 2
fi
CONFIG="$1"
shift
EXTRA=("$@")
LAMBDAS=(0.0004 0.0008 0.0016 0.004 0.009 0.015)
PYTHON="${PYTHON:-python}"

# out_dir as the config (and any --set out_dir=..., -o DIR) resolves it, read as YAML (a quoted
# or escaped folder name is that name); `taco train --lambda-sweep` refuses here what it refuses:
# a variable-rate model, a frozen base from one init_from (one rate point six times)
CONFIG_YAML="$("$PYTHON" -m taco.train "$CONFIG" "${EXTRA[@]}" --lambda-sweep --print-config)"
OUT_DIR="$("$PYTHON" -c 'import sys, yaml; print(yaml.safe_load(sys.stdin)["out_dir"])' <<<"$CONFIG_YAML")"

run_one() {  # λ [CUDA device]: its status; a failed run's log ends on standard error
    local lmbda="$1" dir="$OUT_DIR/lambda-$1" resume=() status=0
    # a run there (its state, sharded or not; or its config.yaml: stopped before its first state,
    # and a new run refuses the folder) goes on, or starts again, with --resume
    [ -e "$dir/train_state.safetensors" ] || [ -e "$dir/train_state.safetensors.index.json" ] \
        || [ -e "$dir/config.yaml" ] && resume=(--resume)
    mkdir -p "$dir"
    echo "λ=$lmbda -> $dir${2:+ (GPU $2)}"
    CUDA_VISIBLE_DEVICES="${2:-${CUDA_VISIBLE_DEVICES:-}}" "$PYTHON" -m taco.train "$CONFIG" \
        "${EXTRA[@]}" "${resume[@]}" --set "lmbda=$lmbda" --out-dir "$dir" >"$dir/stdout.log" 2>&1 \
        || status=$?
    if [ "$status" -ne 0 ]; then
        echo "λ=$lmbda failed (status $status); the end of $dir/stdout.log:" >&2
        tail -n 5 "$dir/stdout.log" | sed 's/^/    /' >&2
    fi
    return "$status"
}

# Every λ runs even when another fails (a GPU out of memory is one run's failure); the sweep's
# status is 1 if any did.
failed=0
if [ -n "${GPUS:-}" ]; then
    read -r -a gpus <<<"$GPUS"
    pids=()
    for ((g = 0; g < ${#gpus[@]}; g++)); do
        (
            status=0
            for ((i = g; i < ${#LAMBDAS[@]}; i += ${#gpus[@]})); do
                run_one "${LAMBDAS[i]}" "${gpus[g]}" || status=1
            done
            exit "$status"
        ) &
        pids+=("$!")
    done
    for pid in "${pids[@]}"; do
        wait "$pid" || failed=1
    done
else
    for lmbda in "${LAMBDAS[@]}"; do
        run_one "$lmbda" || failed=1
    done
fi
if [ "$failed" -ne 0 ]; then
    echo "not done: some λ failed (above); run the same command again to resume the others" >&2
    exit 1
fi
echo "done: $OUT_DIR/lambda-*/checkpoint.safetensors"
