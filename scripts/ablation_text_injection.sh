#!/usr/bin/env bash
# Text-injection ablation (issue 8; paper §4.4 Q1 / Fig. 9 and App. C / Fig. A2), small CPU size:
# no text (ELIC) vs TACO adapter vs TGIC module vs adapter on a frozen ELIC, same data, steps,
# seed and λ (configs/ablation/*.yaml), then every checkpoint through the real codec on the val
# photos, an RD figure and a BD-rate table against the no-text curve.
#
#   scripts/ablation_text_injection.sh                      # the paper's six λ
#   LAMBDAS="0.0008 0.0016 0.004 0.009" DEVICE=cuda scripts/ablation_text_injection.sh
#   TRAIN_SET="max_steps=2 crop=64" EVAL_ARGS="--limit 2" ...   # a smoke run of the pipeline
#
# Skeleton: written before the training and evaluation CLIs were final, not yet run end to end.
set -euo pipefail
cd "$(dirname "$0")/.."

LAMBDAS="${LAMBDAS:-0.0004 0.0008 0.0016 0.004 0.009 0.015}"
DEVICE="${DEVICE:-auto}"
RUNS="${RUNS:-runs/ablation}"
VAL="../shared/data/photos/val"
read -r -a TRAIN_SET <<< "${TRAIN_SET:-}"  # extra key=value items for every run
read -r -a EVAL_ARGS <<< "${EVAL_ARGS:-}"  # extra taco evaluate options

train() {  # VARIANT λ [extra --set items]
    local variant=$1 lmbda=$2
    shift 2
    taco train "configs/ablation/$variant.yaml" --device "$DEVICE" --set \
        lmbda="$lmbda" out_dir="$RUNS/$variant/lambda-$lmbda" model_id="ablation-$variant" \
        "${TRAIN_SET[@]}" "$@"
}

# ELIC first: the frozen-base variant starts from the ELIC trained at the same λ.
for variant in elic adapter tgic frozen-base; do
    for lmbda in $LAMBDAS; do
        if [ "$variant" = frozen-base ]; then
            train "$variant" "$lmbda" init_from="$RUNS/elic/lambda-$lmbda/checkpoint.safetensors"
        else
            train "$variant" "$lmbda"
        fi
    done
done

# One process codes everything (timings comparable); a variant's λ checkpoints share its model
# id, ablation-<variant>, which labels its curve.
models=()
for variant in elic adapter tgic frozen-base; do
    for lmbda in $LAMBDAS; do
        models+=(-m "$RUNS/$variant/lambda-$lmbda/checkpoint.safetensors")
    done
done
taco evaluate "$VAL" "${models[@]}" -o "$RUNS/eval" --no-plot "${EVAL_ARGS[@]}"
taco plot "$RUNS/eval" --anchor ablation-elic --reference none -o "$RUNS/rd-text-injection" \
    --title "Text injection ablation (val photos)"

# Parameters of each variant (whole model, text modules) and its encode time over ELIC's (mean
# encode_ms of the codec, caption encoding included, measured in the one evaluation process),
# to sit beside the BD-rates above in docs/results.md.
python - "$RUNS" $LAMBDAS <<'EOF'
import json
import statistics
import sys
from pathlib import Path

from taco.models import load

runs, lmbdas = Path(sys.argv[1]), sys.argv[2:]
encode = {}
for f in (runs / "eval" / "val").glob("*.json"):
    summary = json.loads(f.read_text())
    if summary.get("format") == "taco-eval" and summary.get("timing"):
        encode.setdefault(summary["label"].removeprefix("ablation-"), []).append(summary["timing"]["encode_ms_mean"])
elic_ms = statistics.mean(encode["elic"])
print("| variant | parameters (M) | text modules (M) | encode time vs ELIC |")
print("|---|---|---|---|")
for variant in ("elic", "adapter", "tgic", "frozen-base"):
    m = load(runs / variant / f"lambda-{lmbdas[0]}" / "checkpoint.safetensors")
    text = sum(p.numel() for n, p in m.named_parameters() if n.startswith("g_a.adapter."))
    total = sum(p.numel() for p in m.parameters())
    ratio = statistics.mean(encode[variant]) / elic_ms
    print(f"| {variant} | {total / 1e6:.3f} | {text / 1e6:.3f} | {ratio:.2f}x |")
EOF
