#!/usr/bin/env bash
# Text-injection ablation (issue 8; paper §4.4 Q1 / Fig. 9 and App. C / Fig. A2) at the size of
# the built-in small models: no text (ELIC) vs the TACO adapter vs TGIC's attention module vs the
# adapter on a frozen ELIC, all with the built-ins' recipe (configs/ablation/*.yaml, docs/models.md)
# at each λ; then every checkpoint through the real codec on the val photos in ONE `taco evaluate`
# process, an RD figure + BD-rate table against ELIC (`taco plot`), and a table of parameters and
# encode time.
#
# Everything from scratch (ELIC first: the frozen base starts from the ELIC of the same λ):
#   scripts/ablation_text_injection.sh
# From existing checkpoints (the adapter / no-text points are the shipped built-ins, trained with
# this recipe; TGIC and frozen-base runs already in $RUNS are reused as they are):
#   SKIP_TRAINED=1 ELIC_CKPTS="elic-small-q3 elic-small-q4" \
#     ADAPTER_CKPTS="taco-minilm-small-q3 taco-minilm-small-q4" \
#     FROZEN_INIT="runs/issue9/elic-small-l0.0016/checkpoint.safetensors runs/issue9/elic-small-l0.004/checkpoint.safetensors" \
#     scripts/ablation_text_injection.sh
# On the 4 shipped sample photos (the project's ../shared/data/photos is not shipped), with a
# batch of 4 (4 photos are fewer than the recipe's batch of 8):
#   TRAIN_SET="data.root=taco/assets/samples batch_size=4" VAL=taco/assets/samples \
#     scripts/ablation_text_injection.sh
# A smoke run of the whole pipeline (seconds of training, 2 val images):
#   RUNS=/tmp/ablation TRAIN_SET="max_steps=2 crop=64" EVAL_ARGS="--limit 2 --fid off" \
#     TIME_IMAGES=1 scripts/ablation_text_injection.sh
#
# Settings (environment):
#   LAMBDAS        rate points (default "0.0016 0.004": the built-ins' q3, q4)
#   RUNS           where runs go: RUNS/<variant>-l<λ> (default runs/issue8); results in RUNS/eval
#   <V>_CKPTS      V = ELIC, ADAPTER, TGIC, FROZEN: one checkpoint file or built-in name per λ
#                  (same order); that variant is then not trained
#   FROZEN_INIT    init_from of the frozen-base runs, one per λ (default: the ELIC of that λ)
#   SKIP_TRAINED=1 a run whose checkpoint exists is not touched (else: --resume, which continues
#                  an unfinished run; a finished one only rewrites its checkpoint)
#   ALLOW_PARTIAL=1  evaluate a reused checkpoint that stopped before its max_steps (else: error)
#   TRAIN_SET      extra key=value items for every training run (after the recipe)
#   EVAL_ARGS      extra `taco evaluate` options (default "--threads 1")
#   TIME_IMAGES    val images for the encode-time table (default 4; 0: no timing)
#   VAL, DEVICE, PYTHON   val folder (../shared/data/photos/val), training device (auto), python
set -euo pipefail
cd "$(dirname "$0")/.."

LAMBDAS="${LAMBDAS:-0.0016 0.004}"
RUNS="${RUNS:-runs/issue8}"
VAL="${VAL:-../shared/data/photos/val}"
DEVICE="${DEVICE:-auto}"
PYTHON="${PYTHON:-python}"
TIME_IMAGES="${TIME_IMAGES:-4}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
read -r -a LAMBDA_LIST <<< "$LAMBDAS"
read -r -a TRAIN_SET <<< "${TRAIN_SET:-}"
read -r -a EVAL_ARGS <<< "${EVAL_ARGS:---threads 1}"
VARIANTS=(elic adapter tgic frozen-base)
declare -A LABEL=([elic]="ELIC (no text)" [adapter]="TACO adapter" [tgic]="TGIC attention"
                  [frozen-base]="adapter on frozen ELIC")
declare -A GIVEN=([elic]="${ELIC_CKPTS:-}" [adapter]="${ADAPTER_CKPTS:-}" [tgic]="${TGIC_CKPTS:-}"
                  [frozen-base]="${FROZEN_CKPTS:-}")
taco() { "$PYTHON" -m taco.cli "$@"; }

# per_lambda "LIST" I: the I-th word of a list that must have one word per λ
per_lambda() {
    local -a words
    read -r -a words <<< "$1"
    if [ "${#words[@]}" -ne "${#LAMBDA_LIST[@]}" ]; then
        echo "ablation: '$1' has ${#words[@]} entries for ${#LAMBDA_LIST[@]} λ ($LAMBDAS)" >&2
        exit 2
    fi
    echo "${words[$2]}"
}

# checkpoint VARIANT I: the checkpoint (file or built-in name) of a variant at the I-th λ
checkpoint() {
    if [ -n "${GIVEN[$1]}" ]; then
        per_lambda "${GIVEN[$1]}" "$2"
    else
        echo "$RUNS/$1-l${LAMBDA_LIST[$2]}/checkpoint.safetensors"
    fi
}

# finished CHECKPOINT: fail (or warn with ALLOW_PARTIAL=1) if a run stopped before its max_steps
finished() {
    "$PYTHON" - "$1" "${ALLOW_PARTIAL:-0}" <<'EOF'
import sys

from taco.models.header import read_checkpoint_header

path, allow = sys.argv[1], sys.argv[2] == "1"
meta = read_checkpoint_header(path)["metadata"]
cfg, steps = meta["config"], meta["trained_steps"]
done = (cfg["max_steps"] is not None and steps >= cfg["max_steps"]) or meta["epochs"] >= cfg["epochs"]
if not done:
    print(f"ablation: {path} stopped at step {steps} of {cfg['max_steps']} (still training?)"
          + ("; evaluated anyway (ALLOW_PARTIAL=1)" if allow else "; ALLOW_PARTIAL=1 evaluates it"),
          file=sys.stderr)
    sys.exit(0 if allow else 1)
print(f"ablation: reusing {path} ({steps} steps)", file=sys.stderr)
EOF
}

# ------------------------------------------------------------------ training (ELIC first)
for variant in "${VARIANTS[@]}"; do
    [ -n "${GIVEN[$variant]}" ] && continue  # given checkpoints: nothing to train
    for i in "${!LAMBDA_LIST[@]}"; do
        lmbda=${LAMBDA_LIST[$i]}
        out="$RUNS/$variant-l$lmbda"
        if [ "${SKIP_TRAINED:-0}" = 1 ] && [ -f "$out/checkpoint.safetensors" ]; then
            finished "$out/checkpoint.safetensors"
            continue
        fi
        extra=()
        if [ "$variant" = frozen-base ]; then
            init=$(if [ -n "${FROZEN_INIT:-}" ]; then per_lambda "$FROZEN_INIT" "$i"; else checkpoint elic "$i"; fi)
            extra=("init_from=$init")
        fi
        resume=()
        # a run there (its state, sharded or not; or its config.yaml: stopped before its first
        # state, and a new run refuses the folder) goes on, or starts again, with --resume
        [ -e "$out/train_state.safetensors" ] || [ -e "$out/train_state.safetensors.index.json" ] \
            || [ -e "$out/config.yaml" ] && resume=(--resume)
        taco train "configs/ablation/$variant.yaml" "${resume[@]}" --device "$DEVICE" --set \
            lmbda="$lmbda" model_id="ablation-$variant-l$lmbda" out_dir="$out" "${extra[@]}" \
            "${TRAIN_SET[@]}"
    done
done

# ------------------------------------------------------------------ evaluation: one process
models=() labels=() specs=()
for variant in "${VARIANTS[@]}"; do
    for i in "${!LAMBDA_LIST[@]}"; do
        ckpt=$(checkpoint "$variant" "$i")
        models+=(-m "$ckpt")
        labels+=(--label "${LABEL[$variant]}")
        specs+=("$variant=$ckpt")
    done
done
taco evaluate "$VAL" "${models[@]}" "${labels[@]}" -o "$RUNS/eval" --no-plot --quiet "${EVAL_ARGS[@]}"

# ------------------------------------------------------------------ parameters, encode time
# Also lists this run's result files for the figure (the eval folder may hold older ones).
"$PYTHON" - "$RUNS/eval" "$VAL" "$TIME_IMAGES" "${specs[@]}" <<'EOF'
import json
import statistics
import sys
import time
from pathlib import Path

import torch

from taco.codec import compress_image
from taco.evaluation.evaluate import load_model
from taco.images import image_to_tensor, load_image, to_rgb
from taco.text import get_text_encoder

out, val, n_time = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
specs = [s.split("=", 1) for s in sys.argv[4:]]
records = [json.loads(line) for line in (val / "captions.jsonl").read_text().splitlines() if line.strip()]
records.sort(key=lambda r: r["image"])
images = []
for r in records[:n_time]:
    rgb, _ = to_rgb(load_image(val / r["image"]))
    images.append((image_to_tensor(rgb), r["captions"][0]))

results, rows, encoder_ms = [], {}, []
for variant, spec in specs:
    model, info = load_model(spec)
    results += [str(p) for p in out.glob(f"*/{info.tag}.json")]
    total = sum(p.numel() for p in model.parameters())
    text = sum(p.numel() for n, p in model.named_parameters() if n.startswith("g_a.adapter."))
    times = []
    if images:
        if model.uses_text:  # caption embeddings cached first: the codec alone is timed
            spec_enc = dict(model.config.text_encoder)
            encoder = get_text_encoder(spec_enc.pop("name"), **spec_enc)
            for _, caption in images:
                encoder.clear_cache()
                t0 = time.perf_counter()
                encoder.encode([caption])
                encoder_ms.append(1000 * (time.perf_counter() - t0))
        with torch.no_grad():
            for x, caption in images:
                compress_image(x, caption, model)  # warm-up (and caption cache)
                per_image = []
                for _ in range(3):
                    t0 = time.perf_counter()
                    compress_image(x, caption, model)
                    per_image.append(1000 * (time.perf_counter() - t0))
                times.append(statistics.median(per_image))
    row = rows.setdefault(variant, {"params": total, "text": text, "ms": []})
    row["ms"] += times

(out / "ablation-results.txt").write_text("\n".join(results) + "\n")
elic_ms = statistics.mean(rows["elic"]["ms"]) if rows["elic"]["ms"] else None
lines = ["| variant | parameters (M) | text modules (M) | encode ms (codec) | encode time vs ELIC |",
         "|---|---|---|---|---|"]
for variant, row in rows.items():
    ms = statistics.mean(row["ms"]) if row["ms"] else None
    cells = (f"{ms:.0f}", f"{ms / elic_ms:.2f}x") if ms and elic_ms else ("n/a", "n/a")
    lines.append(f"| {variant} | {row['params'] / 1e6:.3f} | {row['text'] / 1e6:.3f} | "
                 f"{cells[0]} | {cells[1]} |")
if images:
    note = (f"Encode time: median of 3 runs after a warm-up, mean over {len(images)} val image(s) "
            "and the λ checkpoints, all in one process, caption embeddings cached (the codec alone).")
    if encoder_ms:
        note += (f" Embedding a caption adds {statistics.median(encoder_ms):.0f} ms to the text "
                 "variants (median, cache cleared).")
    lines += ["", note]
(out / "ablation-table.md").write_text("\n".join(lines) + "\n")
EOF

mapfile -t results < "$RUNS/eval/ablation-results.txt"
taco plot -f "${results[@]}" --anchor "${LABEL[elic]}" --reference none -o "$RUNS/eval/rd-text-injection" \
    --title "Text injection ablation (val photos)"
echo
cat "$RUNS/eval/ablation-table.md"
