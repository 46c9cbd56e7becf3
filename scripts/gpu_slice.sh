#!/usr/bin/env bash
# One slice of GPU training, run ON the GPU machine from the repo root (the device tool sets OUT;
# scripts/gpu_slice_prepare.sh made .gpu/ here first, carried with `carry: [".gpu"]`):
#
#   BENCH=1 TRAIN_TIME=auto BUDGET=560 bash scripts/gpu_slice.sh   # the first slice: benchmark
#       (plain vs fast, BENCH_VARIANTS, at built-in and paper size: at most BENCH_TIMEOUT = 90 s
#       in all), then train for whatever is left of BUDGET seconds (from the script's start),
#       less RESERVE (60 s) for the final checkpoint, validation, sync and report: one call of
#       at most 600 s (device tool: run(command=..., carry=[".gpu"], timeout_s=600))
#   BENCH=0 TRAIN_TIME=auto BUDGET=560 bash scripts/gpu_slice.sh   # every later slice: all
#       of it trains (the default BENCH=1 spends at most 1.5 of 9.5 minutes benchmarking;
#       BENCH_VARIANTS="plain fast-fp32 fast fast-compile" and a longer BENCH_TIMEOUT ask for
#       every variant, compilation included, which takes minutes)
#   OUT=/tmp/out PY=/tmp/v211/bin/python BENCH=1 BENCH_TIMEOUT=150 \
#     BENCH_SMALL="--crop 64 --batch 4 --steps 2" BENCH_PAPER="--crop 64 --batch 2 --steps 1" \
#     TRAIN_TIME=auto BUDGET=420 TRAIN_ARGS="--set crop=64 batch_size=4 val.crop=64 \
#     log_interval=7 ckpt_interval=21 val.interval=14 device=cpu" bash scripts/gpu_slice.sh
#       # the CPU rehearsal (docs/models.md; PY: a venv with the GPU machine's torch 2.11): tiny
#       # benchmark sizes and 150 s, or a 2-core CPU kills both benchmarks before they print
#
# 1. installs the carried wheels (unless CompressAI & co. import already) into the call's own
#    folder, as it unpacks .gpu/init there;
# 2. the throughput benchmark (plain fp32 loop vs the fast path, built-in and paper size; the
#    built-in size first, with up to 2/3 of BENCH_TIMEOUT, the paper size in what is left);
# 3. trains CONFIG (default configs/taco-minilm-vr.yaml, the variable-rate TACO built-in's
#    recipe; configs/elic-vr.yaml for its ELIC baseline) for TRAIN_TIME (--time-limit: a clean
#    stop with a final checkpoint), from scratch or warm-started from INIT_FROM (a checkpoint
#    that an earlier slice brought back, carried in .gpu/; by default the one gpu_slice_prepare.sh
#    packed into .gpu/init with INIT=...), or resuming the state in RESUME_FROM
#    (a run folder's files, or the OUT a slice brought back: its ckpt/, state/ and run.tar.gz;
#    refused unless it holds both checkpoint and state; keep INIT_FROM as it was, so the
#    config matches and the run continues exactly);
#    every SYNC_EVERY seconds the float16 checkpoint (and the state, when it fits) is copied to
#    OUT (scripts/gpu_slice.py sync), so a machine taken back mid-run still returns the last one;
#    stopped by TERM, INT or HUP (the device tool's timeout), it waits for the trainer's final
#    checkpoint (saved on the signal), syncs that, and says how the next slice warm-starts from
#    it (INIT=<files_at>/ckpt/... gpu_slice_prepare.sh) before it exits (status 143), as a
#    normal finish says it after the report;
#    no training (TRAIN_TIME=0, or auto leaving under 30 s) still syncs the benchmark's JSON files;
# 4. prints the loss curve (img/s and steps/s) and the validation figures (real bpp / PSNR of
#    coded val crops), and how the next slice goes on from the checkpoint in OUT.
set -uo pipefail
: "${OUT:?OUT must be set (the device tool sets it)}"
G=.gpu
# A fresh folder per call: the machine stays warm between calls, so a fixed one would still hold
# the last call's run ("already holds a run": the training would not start, and the report would
# show the old run), and a compile killed mid-write (BENCH_TIMEOUT) leaves a truncated kernel in
# inductor's cache that the next compile loads ("file too short"): both seen in a rehearsal.
# Made only when RUN or TORCHINDUCTOR_CACHE_DIR is not given, and removed at the end if unused:
# importing torch's compiler (torch._dynamo, torch._inductor.codecache: the benchmark does; a
# plain "import torch" does not) makes the inductor folder (empty unless something compiled), so
# its empty folders go first, then the slice's folder if that left it empty; a folder holding a
# file stays.
SLICE_DIR=
if [ -z "${RUN:-}" ] || [ -z "${TORCHINDUCTOR_CACHE_DIR:-}" ]; then
    SLICE_DIR=$(mktemp -d -t slice.XXXXXX)
    RUN=${RUN:-$SLICE_DIR/run}
    export TORCHINDUCTOR_CACHE_DIR=${TORCHINDUCTOR_CACHE_DIR:-$SLICE_DIR/inductor}
fi
# The carried wheels' install target (site/) and the unpacked .gpu/init (init/) are the call's own
# too, in SLICE_DIR (else a folder made for them), removed at the end: a fixed /tmp/site and
# /tmp/init were shared by every slice on the machine, and two at once (two CPU rehearsals)
# replaced each other's packages mid-import (ModuleNotFoundError: compressai.typing).
OWN=${SLICE_DIR:-$(mktemp -d -t slice-own.XXXXXX)}
trap 'rm -rf "$OWN/site" "$OWN/init"
    [ -z "$SLICE_DIR" ] || find "$SLICE_DIR/inductor" -depth -type d -empty -delete 2>/dev/null
    rmdir "$OWN" 2>/dev/null' EXIT
PY=${PY:-python3}
TRAIN_TIME=${TRAIN_TIME:-auto}
BUDGET=${BUDGET:-560}
RESERVE=${RESERVE:-60}
CONFIG=${CONFIG:-configs/taco-minilm-vr.yaml}
INIT_FROM=${INIT_FROM-}
RESUME_FROM=${RESUME_FROM:-}
SYNC_EVERY=${SYNC_EVERY:-30}
BENCH=${BENCH:-1}
BENCH_VARIANTS=${BENCH_VARIANTS:-"plain fast"}
BENCH_SMALL=${BENCH_SMALL:-"--crop 256 --batch 16 --steps 10"}
BENCH_PAPER=${BENCH_PAPER:-"--crop 256 --batch 16 --steps 4"}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-90}  # seconds for the whole benchmark, both sizes
TRAIN_ARGS=${TRAIN_ARGS:-}
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
T0=$SECONDS
say() { echo "[$(printf '%4d' $((SECONDS - T0)))s] $*"; }

if ! $PY -c "import compressai, lpips, pytorch_msssim" 2>/dev/null; then
    say "installing $(ls $G/whl | tr '\n' ' ')"
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target "$OWN/site" $G/whl/*.whl || exit 1
    export PYTHONPATH=$OWN/site:$PWD
else
    export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
fi
$PY -c "import sys, torch, compressai; print('python', sys.version.split()[0], 'torch', torch.__version__,
'compressai', compressai.__version__, torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no GPU')"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,clocks.sm --format=csv,noheader
mkdir -p "$OUT" "$(dirname "$RUN")"

# the checkpoint to continue from, checked against CONFIG before any minute goes to the benchmark
if [ -z "$INIT_FROM" ] && [ -d $G/init ]; then  # a resumed run names it too (its config)
    INIT_FROM=$($PY scripts/gpu_slice.py unpack-init $G/init "$OWN/init" --config "$CONFIG" \
        --train-args="$TRAIN_ARGS") || exit 1
    say "unpacked $G/init: $INIT_FROM"
fi
# RESUME_FROM too (copied into RUN after the benchmark): a checkpoint and a state, flat or in OUT's
# ckpt/ and state/ (tested again after the copy)
no_run() {
    say "RESUME_FROM=$RESUME_FROM holds no run to resume: it needs checkpoint.safetensors and" \
        "train_state.safetensors (each a file or an index with its shards), in it or in its" \
        "ckpt/ and state/ (what OUT brought back); without the state, warm-start from the" \
        "checkpoint with INIT_FROM= instead"
    exit 1
}
found() { compgen -G "$RESUME_FROM/$1*" >/dev/null || compgen -G "$RESUME_FROM/$2/$1*" >/dev/null; }
[ -z "$RESUME_FROM" ] || [ -d "$RESUME_FROM" ] || { say "RESUME_FROM=$RESUME_FROM is no folder"; exit 1; }
if [ -n "$RESUME_FROM" ] && { ! found checkpoint.safetensors ckpt || ! found train_state.safetensors state; }; then
    no_run
fi

extras=()
if [ "$BENCH" = 1 ]; then
    bench_end=$((SECONDS + BENCH_TIMEOUT))
    say "benchmark: built-in size ($BENCH_VARIANTS)"
    # shellcheck disable=SC2086
    timeout -k 5 $((BENCH_TIMEOUT * 2 / 3)) $PY benchmarks/train_throughput.py --models taco-minilm-vr \
        --variants $BENCH_VARIANTS --data $G/photos/train \
        --text-embeddings $G/embeddings.safetensors --json "$RUN-bench-small.json" $BENCH_SMALL \
        || say "benchmark (built-in size) stopped: $?"
    left=$((bench_end - SECONDS))
    if [ "$left" -ge 15 ]; then
        say "benchmark: paper size ($BENCH_VARIANTS, at most $left s)"
        # shellcheck disable=SC2086
        timeout -k 5 "$left" $PY benchmarks/train_throughput.py --models taco-minilm \
            --variants $BENCH_VARIANTS --data $G/photos/train \
            --text-embeddings $G/embeddings.safetensors --json "$RUN-bench-paper.json" $BENCH_PAPER \
            || say "benchmark (paper size) stopped: $?"
    else
        say "benchmark: no time left for the paper size ($left s of BENCH_TIMEOUT=$BENCH_TIMEOUT)"
    fi
    extras+=("$RUN-bench-small.json" "$RUN-bench-paper.json")  # sync skips one not written
fi

# what comes back: the checkpoint (and state) of RUN, its log, the benchmark's JSON files
sync_out() { $PY scripts/gpu_slice.py sync "$RUN" "$OUT" --extra "$@" "${extras[@]}"; }
if [ "$TRAIN_TIME" = auto ]; then
    TRAIN_TIME=$((BUDGET - (SECONDS - T0) - RESERVE))s
    [ "${TRAIN_TIME%s}" -lt 30 ] && { say "no time left to train (BUDGET=$BUDGET)"; sync_out; exit 0; }
fi
if [ "$TRAIN_TIME" = 0 ]; then
    sync_out
    say "done (no training: TRAIN_TIME=0)"
    exit 0
fi
start=()
if [ -n "$RESUME_FROM" ]; then  # the same flags as the slice that saved it: exact continuation
    # a run folder's files flat, or the OUT a slice brought back (ckpt/, state/, run.tar.gz)
    mkdir -p "$RUN" || exit 1
    for d in "$RESUME_FROM" "$RESUME_FROM/ckpt" "$RESUME_FROM/state"; do
        if [ -d "$d" ]; then
            find "$d" -maxdepth 1 -type f ! -name run.tar.gz -exec cp -p -t "$RUN" {} + \
                || { say "RESUME_FROM: copying $d into $RUN failed"; exit 1; }
        fi
    done
    if [ -f "$RESUME_FROM/run.tar.gz" ]; then  # the run's log and config, as sync packed them
        tar -xzf "$RESUME_FROM/run.tar.gz" -C "$RUN" log.jsonl config.yaml 2>/dev/null
    fi
    if ! ls "$RUN"/train_state.safetensors* >/dev/null 2>&1 \
            || ! ls "$RUN"/checkpoint.safetensors* >/dev/null 2>&1; then
        no_run
    fi
    start=(--resume "$RUN")
    [ -n "$INIT_FROM" ] && start+=(--init-from "$INIT_FROM")
elif [ -n "$INIT_FROM" ]; then
    start=(--init-from "$INIT_FROM")
fi
say "training for $TRAIN_TIME: ${start[*]:-from scratch} -> $RUN"
# shellcheck disable=SC2086
$PY -m taco.train "$CONFIG" --time-limit "$TRAIN_TIME" --out-dir "$RUN" \
    "${start[@]}" $TRAIN_ARGS > "$RUN.log" 2>&1 &
pid=$!
# The device tool's timeout sends TERM to the whole process group: the trainer catches it and saves
# a final checkpoint, but bash would die on the same signal before syncing it (OUT kept the last
# periodic one). Wait for the trainer instead (no second TERM: that stops it at once), then sync.
# The trainer's last words end "go on with taco train --resume RUN" (stopped) or "model -> RUN/..."
# (done): RUN is on this machine, which goes back with it; say instead how the next slice goes on
# from what comes back in OUT, either way.
next_slice() {
    local ckpt
    ckpt=$(cd "$OUT/ckpt" 2>/dev/null && ls checkpoint.safetensors.index.json checkpoint.safetensors 2>/dev/null | head -n 1)
    if [ -z "$ckpt" ]; then
        say "no checkpoint came back in $OUT: the next slice starts as this one did"
        return
    fi
    say "$RUN goes back with this machine; the next slice warm-starts from the checkpoint that" \
        "comes back in $OUT (<files_at>: where it lands): INIT=<files_at>/ckpt/$ckpt bash" \
        "scripts/gpu_slice_prepare.sh, then BENCH=0 bash scripts/gpu_slice.sh (docs/training.md)"
}
stopped() {
    tail -n 2 "$RUN.log" | sed 's/; the model and state are saved in .*//'
    next_slice
}
trap 'say "stopped by a signal: waiting for the trainer'"'"'s final checkpoint"; wait $pid;
    sync_out "$RUN.log"; stopped; exit 143' TERM INT HUP
while kill -0 $pid 2>/dev/null; do
    for _ in $(seq "$SYNC_EVERY"); do kill -0 $pid 2>/dev/null && sleep 1; done
    sync_out "$RUN.log"
done
wait $pid
status=$?
say "training exited with status $status"
tail -n 4 "$RUN.log" | sed 's/; go on with taco train --resume .*//'  # this folder goes back with the machine
sync_out "$RUN.log"
$PY scripts/gpu_slice.py report "$RUN" --log "$RUN.log"
ls -l "$OUT" "$OUT"/*/
next_slice
say "done"
exit $status
