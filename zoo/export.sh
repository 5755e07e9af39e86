#!/usr/bin/env bash
# zoo/NAME.* from the runs of zoo/train.sh: G and D of best.pt (else last.pt) in fp16, sha256 in
# zoo.json, sample grid, learning curves, FID/KID of 1000 samples and of 5000 (or the split's size, where
# smaller; fp32), memorization check, the window boxes drawn by hand (annotations/windows/SHA.json), card.
# Usage: bash zoo/export.sh [NAME…]   (default: all of them)
set -euo pipefail
cd "$(dirname "$0")/.."
names=("$@")
[[ $# -gt 0 ]] || names=(mnist cifar32 cifar32-d128 celeba64 scenes64 mnist-conditional mnist-fc)
for name in "${names[@]}"; do
    run=runs/zoo/$name only=()
    # mnist-conditional: G alone, of the checkpoint chosen on the validation digits (zoo/train.sh)
    [[ $name == mnist-conditional ]] && only=(--generator-only --checkpoint step_0027300.pt)
    # mnist-fc: G alone of the FC baseline that `mnist-appendix --fc train` trained for as many steps
    [[ $name == mnist-fc ]] && run=runs/zoo/mnist-fc/runs/fc-27300 only=(--generator-only)
    python -m dcgan_core export --run "$run" --name "$name" --force --n 1000 --no-progress "${only[@]}"
done
