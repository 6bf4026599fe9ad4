#!/usr/bin/env bash
# The check a plant engineer runs on a CUDA machine before the line depends on it (docs/gpu.md):
#   1. the GPU and driver are visible (nvidia-smi);
#   2. ONNX Runtime's provider starts (a missing CUDA, cuDNN or TensorRT library is named, and the script stops);
#   3. exactness: the model served on the GPU decides the bench's parts as the CPU reference engine does;
#   4. speed: forward at batch 1, 8 and 32, CAM, the model as served, and the daemon pipeline on the GPU.
#
#   deploy/gpu-check.sh [DEVICE] [bench flags...]     DEVICE: cuda (default), cuda:N, tensorrt, tensorrt:N
#   e.g. deploy/gpu-check.sh cuda:0 --model /etc/defect-inspector/line1.dimodel
#
# Needs a GPU build: `dotnet publish src/DefectInspector.Cli -c Release -p:OnnxRuntimeFlavour=gpu -o DIR` (set
# DEFECT_INSPECTOR=DIR/defect-inspector), or the Docker image built with --build-arg FLAVOUR=gpu, where this script is
# /usr/local/bin/defect-inspector-gpu-check. The report is written to gpu-check-<host>-<date>.md as well.
set -euo pipefail

device=${1:-cuda}
shift || true
cli=${DEFECT_INSPECTOR:-}
if [ -z "$cli" ]; then
  if command -v defect-inspector >/dev/null 2>&1; then cli=defect-inspector
  elif [ -x /app/defect-inspector ]; then cli=/app/defect-inspector
  elif [ -x /opt/defect-inspector/defect-inspector ]; then cli=/opt/defect-inspector/defect-inspector
  else echo "gpu-check: set DEFECT_INSPECTOR to the defect-inspector executable of a GPU build" >&2; exit 2
  fi
fi

report="gpu-check-$(hostname)-$(date +%Y%m%d-%H%M).md"
{
  echo "# GPU check, $(date -u +%Y-%m-%dT%H:%MZ), $(hostname), device $device"
  echo
  echo '```'
  if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
  else
    echo "nvidia-smi not found: no NVIDIA driver visible (in Docker: run with --gpus all)"
  fi
  echo '```'
  echo
} | tee "$report"

# bench exits 2 with the provider's missing libraries named when it cannot start.
set +e
"$cli" bench --engine onnx --device "$device" --iterations 50 --warmup 20 --pipeline-seconds 10 "$@" | tee -a "$report"
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ]; then
  echo "gpu-check: FAILED (exit $status): the provider did not start; see the error above" | tee -a "$report" >&2
  exit "$status"
fi
if grep -Eq 'same verdict ([0-9]+)/\1, same number of regions ([0-9]+)/\2' "$report"; then
  echo "gpu-check: PASSED: the GPU serves the CPU engine's verdicts and regions; report in $report" | tee -a "$report"
else
  echo "gpu-check: FAILED: the GPU's verdicts or regions differ from the CPU engine's; report in $report" | tee -a "$report" >&2
  exit 1
fi
