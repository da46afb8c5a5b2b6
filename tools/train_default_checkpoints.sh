#!/usr/bin/env bash
# Reproduce the default checkpoints in resources/checkpoints/ on a CPU.
# These are the commands that made the committed files (seeds included). One torch thread
# per process: two trainings ran side by side on a 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1
adhmr synth --domain studio --n 10000 --seed 1 --out data/studio_train
adhmr synth --domain studio --n 300 --seed 2 --out data/studio_val
adhmr synth --domain studio --n 500 --seed 3 --out data/studio_test

# Base model: 4000 steps, batch 32, 96 px crops (~45 min on one busy core).
adhmr train-base --data data/studio_train/annotations.npz --val data/studio_val/annotations.npz \
    --out runs/base --steps 4000 --batch-size 32 --crop-size 96 --save-every 200 --val-every 1000 \
    --seed 0 --workers 1

# Scorer, stage 1: ground truth + noisy copies, 1500 steps (~50 min, run beside the base).
adhmr train-scorer --data data/studio_train/annotations.npz --val data/studio_val/annotations.npz \
    --out runs/scorer --steps 1500 --save-every 100 --threads 1 --seed 0

# Scorer, stage 2: continue with half of each image's candidates sampled by the base model,
# on a 3000-step schedule; the committed scorer is the state saved at SCORER_STOP_STEP
# (the time budget ran out there).
SCORER_STOP_STEP="${SCORER_STOP_STEP:-2200}"
for f in safetensors json train.pt; do cp "runs/scorer.$f" "runs/scorer2.$f"; done
adhmr train-scorer --data data/studio_train/annotations.npz --val data/studio_val/annotations.npz \
    --base runs/base --base-candidates 8 --crop-size 128 --out runs/scorer2 --steps 3000 \
    --save-every 50 --val-every 300 --threads 1 --resume &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
    step=$(python -c "import json;print(json.load(open('runs/scorer2.json'))['training']['steps_done'])" 2>/dev/null || echo 0)
    if [ "$step" -ge "$SCORER_STOP_STEP" ]; then kill "$pid"; break; fi
    sleep 20
done
wait "$pid" || true

# Scorer, stage 3: start from stage 2's weights and rank mostly the base model's own
# samples (ground truth + 15 samples per image), 2500 steps at lr 2e-4. Chosen over a
# 12-sample / lr 1e-4 / 3000-step variant by Select and SRCC on the validation set.
adhmr train-scorer --data data/studio_train/annotations.npz --val data/studio_val/annotations.npz \
    --init runs/scorer2 --base runs/base --base-candidates 15 --crop-size 128 --lr 2e-4 --warmup 100 \
    --steps 2500 --val-every 250 --save-every 50 --threads 1 --seed 2 --out runs/scorer4

# Scorer, stages 4-7 share one recipe: ground truth + 15 base samples per image, the
# PA-MPJPE ranking term weighted 4x (MPJPE and PVE order a model's samples alike and
# PA-MPJPE differently, tools/error_rank_agreement.py), an EMA of the weights.
pa4_stage() {
    adhmr train-scorer --data data/studio_train/annotations.npz --val data/studio_val/annotations.npz \
        --base runs/base --base-candidates 15 --crop-size 128 --ema 0.998 --error-weights PA-MPJPE=4 \
        --save-every 50 --threads 1 "$@"
}

# Stage 4: 3000 steps at lr 2e-4 (~75 min on one core). Chosen on the validation set over
# equal weights (stopped at step 1500, behind at every validation) and PA-MPJPE x8 for
# 1800 steps (its Select lost to Zero-noise on MPJPE and PVE there).
pa4_stage --init runs/scorer4 --lr 2e-4 --warmup 100 --steps 3000 --val-every 400 --seed 7 --out runs/scorer7

# Stage 5: 1400 more steps at lr 1e-4 (~36 min on one core). Chosen over stage 4 by SRCC
# among the base model's samples and Select on the validation set
# (adhmr eval --data data/studio_val/annotations.npz --max-images 300 --no-mixed).
pa4_stage --init runs/scorer7 --lr 1e-4 --warmup 50 --steps 1400 --val-every 350 --seed 10 --out runs/scorer10

# Stages 6 and 7: 3000 steps (~77 min) and then 1300 (~33 min), each a fresh cosine schedule
# at lr 1e-4. Chosen on the validation set (SRCC among the base model's samples 0.658 ->
# 0.677 -> 0.678) over a scorer grown to --layers 5 from stage 5, a 2000-step sibling of
# stage 6 with seed 13, and weight averages of stage 6 with either.
pa4_stage --init runs/scorer10 --lr 1e-4 --warmup 50 --steps 3000 --val-every 500 --seed 11 --out runs/scorer11
pa4_stage --init runs/scorer11 --lr 1e-4 --warmup 50 --steps 1300 --val-every 650 --seed 14 --out runs/scorer14

mkdir -p resources/checkpoints
cp runs/base.safetensors runs/base.json resources/checkpoints/
cp runs/scorer14.safetensors resources/checkpoints/scorer.safetensors
cp runs/scorer14.json resources/checkpoints/scorer.json
# The sample-consensus weight (engine/models/consensus.py), fitted on the validation set
# by the scorer's own error weights (~2 min): 0.03 logit units per mm.
python tools/fit_consensus_weight.py resources/checkpoints/scorer --data data/studio_val/annotations.npz \
    --max-images 300
# Centre the displayed scores (rankings unchanged) on the demo project's candidates.
adhmr demo /tmp/adhmr-calibration-demo --force
python tools/calibrate_scorer.py /tmp/adhmr-calibration-demo/demo.adhmr resources/checkpoints/scorer.json
adhmr eval --checkpoint resources/checkpoints/base --scorer resources/checkpoints/scorer \
    --data data/studio_test/annotations.npz --max-images 300 --threads 1 --json docs/default_checkpoints_eval.json
