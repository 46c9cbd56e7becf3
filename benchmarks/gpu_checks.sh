#!/usr/bin/env bash
# The GPU checks of issues 6 and 7 in one run, on any machine with a CUDA device:
#   1. cross-device determinism: files encoded on a CPU machine (REF, made beforehand with
#      tests/reliability/determinism_probe.py) decoded on the GPU, files encoded on the GPU
#      decoded on this machine's CPU (and, back home, on the reference CPU), with CompressAI's
#      float32 path beside taco's for contrast;
#   2. the GPU determinism test (tests/reliability/test_determinism.py::test_cpu_to_gpu_and_back);
#   3. `taco bench` on the GPU: latency table and ratios, compress_batch throughput, 4K memory.
#
# The files are .taco format 3 (chunked rANS stream; issue 17): make the reference with this
# taco, not an older one (a format-2 reference still decodes, as one rANS string, but does not
# exercise the chunks). elic-tiny-chunked codes two chunks with banded float64 convolutions and
# tiled synthesis, as a big photo does. Make the reference on the CPU machine first (cases: any
# built-in model or probe case):
#   python tests/reliability/determinism_probe.py --threads 1 --out REF/cpu --cases CASES
#   python tests/reliability/determinism_probe.py --threads 1 --float32-path --out REF/cpu-f32 \
#       --cases F32_CASES
# then:  REF=REF OUT=DIR bash benchmarks/gpu_checks.sh
# Writes DIR/{log.txt, det-report.json, det-gpu.tar.gz, bench-gpu.json, memory-gpu.json}.
# Packages missing on the GPU machine can come as wheels in .whl/ (installed to /tmp/site).
set -uo pipefail
OUT=${OUT:-runs/gpu}
REF=${REF:-.devin/det}
PY=${PY:-python3}
CASES=${CASES:-elic-small-q4,elic-small-q3,taco-minilm-small-q4,taco-minilm-small-q3,elic-small-spread,taco-tiny,elic-tiny-chunked}
F32_CASES=${F32_CASES:-elic-small-q4,taco-minilm-small-q4,elic-small-spread}
# Encoded on the GPU: no model whose text encoder is missing there (MiniLM's weights).
GPU_CASES=${GPU_CASES:-elic-small-q4,elic-small-q3,elic-small-spread,taco-tiny,elic-tiny-chunked}
mkdir -p "$OUT"
exec > >(tee -a "$OUT/log.txt") 2>&1
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TACO_CACHE_DIR=/tmp/taco-cache
if compgen -G ".whl/*.whl" > /dev/null; then
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site:$PWD
else
    export PYTHONPATH=$PWD
fi
nvidia-smi -L
$PY -c "import torch, compressai, taco; print('torch', torch.__version__, '| cuda', torch.version.cuda,
'|', torch.cuda.get_device_name(0), '| compressai', compressai.__version__, '| taco', taco.__version__)" || exit 1

step() { echo; echo "=== $* ($(date +%T))"; }
T=/tmp/taco-det
rm -rf "$T" && mkdir -p "$T"
PROBE="$PY tests/reliability/determinism_probe.py"

step "1a. CPU-encoded files decoded on the GPU (taco's path and CompressAI's float32 path)"
timeout 300 $PROBE --device cuda --decode-only --decode-from "$REF/cpu" --cases "$CASES" \
    --out "$T/gpu-decodes-cpu"
timeout 200 $PROBE --device cuda --decode-only --float32-path --decode-from "$REF/cpu-f32" \
    --cases "$F32_CASES" --out "$T/gpu-decodes-cpu-f32"
step "1b. encoded on the GPU (and decoded there), then decoded by this machine's CPU"
timeout 300 $PROBE --device cuda --cases "$GPU_CASES" --out "$T/gpu"
timeout 200 $PROBE --device cuda --float32-path --cases elic-small-q4 --out "$T/gpu-f32"
timeout 300 $PROBE --device cpu --threads 4 --decode-only --decode-from "$T/gpu" \
    --cases "$GPU_CASES" --out "$T/hostcpu-decodes-gpu"
timeout 200 $PROBE --device cpu --threads 4 --decode-only --float32-path --decode-from "$T/gpu-f32" \
    --cases elic-small-q4 --out "$T/hostcpu-decodes-gpu-f32"
$PY - "$REF" "$T" "$CASES" "$F32_CASES" "$GPU_CASES" > "$OUT/det-report.json" <<'EOF'
import json, sys
from pathlib import Path
sys.path.insert(0, "tests/reliability")
from test_determinism import compare  # noqa: E402

ref, t = Path(sys.argv[1]), Path(sys.argv[2])
cases, f32, gpu = (a.split(",") for a in sys.argv[3:6])
pairs = {  # name: (encoder dir, decoder dir, cases)
    "cpu->gpu": (ref / "cpu", t / "gpu-decodes-cpu", cases),
    "cpu->gpu float32 path": (ref / "cpu-f32", t / "gpu-decodes-cpu-f32", f32),
    "gpu->host cpu": (t / "gpu", t / "hostcpu-decodes-gpu", gpu),
    "gpu->host cpu float32 path": (t / "gpu-f32", t / "hostcpu-decodes-gpu-f32", ["elic-small-q4"]),
}
report = {}
for name, (enc, dec, cs) in pairs.items():
    try:
        report[name] = compare(enc, dec, cs)
    except Exception as e:  # a missing output: its probe failed above
        report[name] = {"error": repr(e)}
print(json.dumps(report, indent=1))
EOF
cat "$OUT/det-report.json"
tar czf "$OUT/det-gpu.tar.gz" -C "$T" gpu gpu-f32

step "2. the GPU determinism test (format 3), and hostile files decoded with the model on the GPU"
timeout 600 $PY -m pytest -q -p no:cacheprovider tests/reliability/test_determinism.py -k gpu -rA
timeout 300 $PY -m pytest -q -p no:cacheprovider tests/reliability/test_hostile_files.py -m "not slow" -rA

step "3a. taco bench on the GPU (paper sizes, 256x256 crops)"
timeout 400 $PY -m taco.cli bench --device cuda --taco-model taco --runs 10 --warmup 2 --batch 8 \
    --json "$OUT/bench-gpu.json" -f  # a rerun into $OUT replaces it
step "3b. peak memory, 4K photo (2176x3840 after padding), on the GPU"
timeout 300 $PY -m taco.cli bench --device cuda --taco-model taco --memory 2176x3840 \
    --json "$OUT/memory-gpu.json" -f
step "done"
