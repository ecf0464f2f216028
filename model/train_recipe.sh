#!/usr/bin/env bash
# The default model's recipe, as run on one lent H100 (each stage < 10 minutes).
#   bash model/train_recipe.sh data   RUN BENCH_DIR   # corpus (dedupe + decontaminate) + tokenized data
#   bash model/train_recipe.sh data-init RUN BENCH_DIR INIT  # the same, with INIT's tokenizer
#   bash model/train_recipe.sh train  RUN MINUTES [train flags...]   # start or resume training
#   bash model/train_recipe.sh eval   RUN OUT                  # HumanEval single-line pass@1 on the GPU
#   bash model/train_recipe.sh cpu-finetune RUN BENCH_DIR [INIT]  # variant C: INIT + span mix, CPU
set -euo pipefail
stage=$1 run=$2
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=true
case "$stage" in
  data)
    python -m model.corpus --out "$run/corpus" --bench "$3"/*.jsonl.gz --workers "$(nproc)"
    python -m model.train --out "$run/ck" --corpus "$run/corpus/corpus.jsonl" --vocab 8192 \
      --prepare ;;
  data-init)  # to continue training checkpoint INIT (train ... --init INIT)
    python -m model.corpus --out "$run/corpus" --bench "$3"/*.jsonl.gz --workers "$(nproc)"
    python -m model.train --out "$run/ck" --corpus "$run/corpus/corpus.jsonl" --tokenizer "$4" \
      --prepare ;;
  train)
    minutes=$3; shift 3
    if [ -f "$run/ck/resume/train_state.json" ]; then
      python -m model.train --out "$run/ck" --resume "$run/ck" --minutes "$minutes" "$@"
    else
      python -m model.train --out "$run/ck" --minutes "$minutes" --workers $(( $(nproc) - 2 )) "$@"
    fi ;;
  cpu-finetune)  # 12 min on 2 CPU cores: 120 steps of 16 x 512 tokens from 3,000 local files
    python -m model.corpus --out "$run/corpus" --bench "$3"/*.jsonl.gz --workers "$(nproc)"
    python -m model.train --out "$run/ft" --init "${4:-model/weights}" \
      --corpus "$run/corpus/corpus.jsonl" \
      --max-files 3000 --seq-len 512 --batch 16 --steps 120 --warmup 10 --lr 5e-5 --workers 1 \
      --val-per-kind 16 --log-every 30 --device cpu \
      --mix "lines=0.35,cursor=0.25,block=0.2,docstring=0.05,noise=0.05,mdlm=0.1" ;;
  eval)
    python -m model.bench humaneval --checkpoint "$run/ck" --split single --device cuda \
      --json "$3/humaneval_single.json" ;;
esac
