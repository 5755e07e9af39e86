#!/usr/bin/env bash
# The zoo's training commands, exactly as they were run (on the 2-core CPU named in each card).
# Resumable: run it again and each model continues from runs/zoo/NAME/checkpoints/last.pt
# (a finished model trains no further). Then `bash zoo/export.sh` writes zoo/NAME.* from the runs.
# Needs the datasets: DCGAN_MIRROR=../shared/data, or a download (see data/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."

train() {   # train NAME FLAGS…
    local name=$1 out=runs/zoo/$1
    shift
    local resume=()
    [[ -f $out/checkpoints/last.pt ]] && resume=(--resume)
    python -m dcgan_core train --out "$out" --seed 0 --no-progress "${resume[@]}" "$@"
}

# §8 appendix: MNIST digits (60k, 28×28 resized to 32×32), 3 epochs.
train mnist    --dataset mnist   --arch torch --image-size 32 --batch-size 128 --epochs 3 --grid-every 200
# §5: CIFAR-10 train (50k); FID of 500 samples vs the test split every 1000 steps keeps best.pt.
train cifar32  --dataset cifar10 --arch torch --image-size 32 --batch-size 128 --max-steps 6000 \
               --grid-every 1000 --ckpt-every 1000 --eval-every 1000 --eval-n 500
# §6.3.2: CelebA-10k faces at 64×64 (no held-out split here: FID vs training images).
train celeba64 --dataset celeba  --arch torch --image-size 64 --batch-size 128 --max-steps 1600 \
               --grid-every 400 --ckpt-every 400 --eval-every 400 --eval-n 500
# §6.1–6.3.1: 15-Scene indoor (715 bedrooms, kitchens, living rooms) at 64×64. Half-width nets
# (32): with the default width 64, D overfit these 715 images (D(G(z)) 0.24 → 0.09 over 700 steps)
# and G drew only texture; that run was stopped. This one ran in two parts (stopped at 1500, then
# resumed with this same line): FID (n=500) 436, 361, 361, 318, 294, 304 at steps 500…3000; the
# zoo keeps best.pt, step 2500.
train scenes64 --dataset scenes  --arch torch --image-size 64 --g-width 32 --d-width 32 --batch-size 64 \
               --max-steps 3000 --grid-every 500 --ckpt-every 500 --eval-every 500 --eval-n 500
