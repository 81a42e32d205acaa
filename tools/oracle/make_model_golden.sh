#!/usr/bin/env bash
# Regenerates tests/golden/gemma3/* in the oracle: several seeds, shapes and spellings of a tiny Gemma 3.
# Run from the repo root: tools/oracle/make_model_golden.sh
set -euo pipefail
RUN=${ORACLE_RUN:-../shared/oracle/run.sh}
G=tests/golden/gemma3
mkdir -p $G
gen() { $RUN python3 tools/oracle/gen_gemma3_case.py "$@"; }
gen --out $G/v5-seed1 --seed 1 --batch 2
gen --out $G/hub-seed2 --seed 2 --config-style hub --layers 3 --heads 2 --kv-heads 1 --head-dim 16 \
    --qscalar 16 --pattern 3 --window 4 --seq 12 --targets q_proj,v_proj,down_proj --rank 8 --alpha 16
gen --out $G/multimodal-seed3 --seed 3 --multimodal --rope-global-factor 1.0
gen --out $G/softcap-seed4 --seed 4 --final-softcap 30.0 --seq 10
gen --out $G/padded-seed5 --seed 5 --batch 3 --seq 24 --window 4 --lengths 24,11,5 --rank 16 --alpha 8
