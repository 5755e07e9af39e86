#!/usr/bin/env bash
# The zoo's training commands, exactly as they were run (on the 2-core CPU named in each card).
# Resumable: run it again and each model continues from runs/zoo/NAME/checkpoints/last.pt
# (a finished model trains no further). Then `bash zoo/export.sh` writes zoo/NAME.* from the runs.
# Needs the datasets: DCGAN_MIRROR=../shared/data, or a download (see data/README.md).
# Runs go to $DCGAN_RUNS (default runs/zoo); `bash zoo/train.sh NAME…` trains only those.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${DCGAN_RUNS:-runs/zoo}
ONLY=" $* "

train() {   # train NAME FLAGS…
    local name=$1 out=$RUNS/$1
    [[ "$ONLY" == "  " || "$ONLY" == *" $name "* ]] || return 0
    shift
    local resume=()
    [[ -f $out/checkpoints/last.pt ]] && resume=(--resume)
    python -m dcgan_core train --out "$out" --seed 0 --no-progress "${resume[@]}" "$@"
}

# §8 appendix: MNIST digits (60k, 28×28 resized to 32×32), 3 epochs.
train mnist    --dataset mnist   --arch torch --image-size 32 --batch-size 128 --epochs 3 --grid-every 200
# §8.1 appendix: the authors' own class-conditional MNIST nets (--arch mnist: 28×28, fully connected
# layers of 1024 in G and D, the one-hot label at every layer), BN without scale and bias
# (--no-bn-affine), on MNIST's 50k training digits (a 10k validation split held out, seed 0:
# mnist_appendix.validation_split). 70 epochs, the lr constant for 35 and falling linearly to zero over
# the last 35 (the shape of their 100 + 100), a checkpoint kept every 5 epochs. Exported: G alone (14M
# parameters with D, 28 MB in fp16, past the zoo's 60 MB; §8.1 needs G only) of the checkpoint with the
# lowest 1-NN error at 50K generated samples on the 10k VALIDATION digits (never the test digits), at
# epochs 20, 25, …, 70: 4.02, 3.83, 4.18, 4.02 | 3.90, 3.59, 3.38, 3.65, 3.57, 3.41, 3.35 % (lr falling
# after the bar; `python -m dcgan_core mnist-appendix --validate CHECKPOINT…`) → epoch 70,
# step_0027300.pt. Notebook 08 reads it. (The zoo's run was resumed at epoch 20
# from a 40-epoch run of the same flags, whose steps up to there are the same.) Before it: the same nets for
# 40 epochs (epoch 35: 3.19 % on the test digits at 50K); `--arch torch --image-size 32`, 20 epochs: 5.34 %.
# Tried and not taken: 200 epochs (the authors' 100 + 100: --epochs 200 --lr-decay-from 39000, resumed from
# this run's epoch 35). Validation at 50K, epochs 60…200: 3.68, 3.58, 3.85, 3.62, 3.67 | 3.62, 3.71, 3.56,
# 3.73, 3.45, 3.48, 3.37, 3.47, 3.36, 3.30 %; epoch 200 vs this epoch 70, mean of 5 draws (--draws 5): 3.28
# vs 3.33 % (within a draw's noise), but KID at n = 5000 0.0030 ± 0.0003 vs 0.0018 ± 0.0002 (FID 6.2 vs 5.2)
# and a pixel NN-distance ratio of 0.95 vs 1.00: nearer the training digits, which a 1-NN score rewards.
if [[ "$ONLY" == "  " || "$ONLY" == *" mnist-conditional "* ]]; then
    mkdir -p "$RUNS" && python -m dcgan_core mnist-appendix --write-split "$RUNS/mnist-train50k.json" --seed 0
fi
train mnist-conditional --dataset mnist --keep "$RUNS/mnist-train50k.json" --conditional --no-bn-affine \
               --arch mnist --image-size 28 --batch-size 128 --epochs 70 --lr-decay-from 13650 --grid-every 1000 \
               --keep-every 1950
# §8.1 appendix: the permutation-invariant GAN baseline (--arch fc: fully connected G and D, conditional,
# BN without scale and bias), trained by the section's own code (mnist_appendix.train_fc_baseline) for the
# budget of mnist-conditional: its steps, batch size, lr schedule shape and 50k digits. `mnist-appendix --fc
# train` trains it into $RUNS/mnist-fc/runs/fc-STEPS (then measures Table 3 with it); export.sh takes G alone.
# Notebook 08 reads it at cpu instead of training it again (smoke trains a short one).
if [[ "$ONLY" == "  " || "$ONLY" == *" mnist-fc "* ]]; then
    python -m dcgan_core mnist-appendix --profile cpu --fc train --no-progress --out "$RUNS/mnist-fc"
fi
# §5: CIFAR-10 train (50k); FID of 500 samples vs the test split every 1000 steps keeps best.pt.
train cifar32  --dataset cifar10 --arch torch --image-size 32 --batch-size 128 --max-steps 6000 \
               --grid-every 1000 --ckpt-every 1000 --eval-every 1000 --eval-n 500
# §5: the same G with D twice as wide (--d-width 128), a checkpoint kept every 1,000 steps (run as
# 3,000 steps, then resumed to 6,000; no evaluations during training). Its features beat 1-layer
# k-means at Table 1's protocol (71.7 vs 70.6 %, converged SVMs) where cifar32's do not (69.6 %; notebook 03 reads both).
train cifar32-d128 --dataset cifar10 --arch torch --image-size 32 --d-width 128 --batch-size 128 --max-steps 6000 \
               --ckpt-every 1000 --keep-every 1000
# §5.1's width: D with 256-512-1024 maps (--d-width 256: the paper's 28,672-d features at 4×4 pooling) and G
# 512-256-128 (--g-width 128; with cifar32-d128's G of width 64, D's outputs on fakes fell to 1e-5 within 12
# steps). fp32: on the Intel host without AMX the auto (bf16) step took 3.8 s against 2.4 s; on an AMD EPYC with
# AVX2 only, about 7 s (steps 100 to 1,000 in 6,347 s of metrics.csv). Trained in pieces, resumed. 6,000 steps as
# cifar32-d128, a checkpoint kept every 1,000 (notebook 03 reads the kept ones as its training-length ablation).
train cifar32-d256 --dataset cifar10 --arch torch --image-size 32 --d-width 256 --g-width 128 --batch-size 128 \
               --max-steps 6000 --precision fp32 --ckpt-every 100 --keep-every 1000 --grid-every 1000
# §6.1, §6.3.2: CelebA-10k faces at 64×64 (no held-out split here: FID vs training images).
# 8,000 steps of batch 128 = 100 epochs of 10k faces: DiffAugment and flips keep D from
# memorising them. (The first celeba64, 1,600 steps without them, scored FID 167.4.) The learning
# rate falls linearly to zero over the last 2,000 steps (--lr-decay-from, as in the authors' MNIST
# code): FID (n=500) had stalled at 120–122 from step 2,000 to 3,000. Added when the run was at step
# 4,500; the lr is constant before 6,000, so the run is the one this command trains from scratch.
train celeba64 --dataset celeba  --arch torch --image-size 64 --batch-size 128 --max-steps 8000 \
               --lr-decay-from 6000 --diffaugment color,translation,cutout --flip \
               --grid-every 1000 --ckpt-every 250 --eval-every 1000 --eval-n 500
# §6.1–6.3.1: 15-Scene indoor (715 bedrooms, kitchens, living rooms) at 64×64, with DiffAugment
# and flips. Without them, width 64 overfit (D(G(z)) 0.24 → 0.09 over 700 steps, G drew texture)
# and the first scenes64 (width 32, 3,000 steps: FID (n=500) 436, 361, 361, 318, 294, 304 at
# steps 500…3000) drew crude layouts. scenes64-plain is the same run without DiffAugment and
# flips, for the with/without comparison at equal steps.
# Planned for 6,000 steps; FID (n=715, bf16) was still falling there (236, 209, 194, 198 at 4,500…6,000),
# so it was resumed to 8,000 (best FID 187.9 at 7,000), then to 9,500 with the lr falling linearly
# to zero from 8,000 (--lr-decay-from; constant before it, so this command trains the same run):
# FID 190.5 at 8,000, then 204.5, 177.0, 160.9 at 8,500, 9,000, 9,500 (exported: 161.9 at fp32).
train scenes64 --dataset scenes  --arch torch --image-size 64 --batch-size 64 --max-steps 9500 \
               --lr-decay-from 8000 --diffaugment color,translation,cutout --flip \
               --grid-every 500 --ckpt-every 250 --eval-every 500 --eval-n 715
# scenes64-plain: 3,000 steps (half of scenes64's, to spare the CPU), not exported to the zoo.
train scenes64-plain --dataset scenes --arch torch --image-size 64 --batch-size 64 --max-steps 3000 \
               --grid-every 500 --ckpt-every 250 --eval-every 500 --eval-n 715
