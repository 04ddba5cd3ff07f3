#!/usr/bin/env bash
# Regenerates every table and figure of docs/experiments.md with one command: builds digitnet,
# runs the suite experiments/all.json (3 seeds per row, one thread per trial, one trial per
# processor) and writes the tables into docs/experiments.md and the figures into
# docs/images/experiments/.
#
# usage: experiments/run-all.sh [--fresh] [more 'digitnet sweep' options, e.g. --jobs 1]
#
# Without --fresh, trials already in experiments/results/results.jsonl are kept, so an
# interrupted run resumes and a finished one only redraws the report. --fresh deletes the
# results first and reruns every trial.
set -euo pipefail
cd "$(dirname "$0")/.."

fresh=0
if [ "${1:-}" = "--fresh" ]; then
    fresh=1
    shift
fi

data="${DIGITNET_DATA:-../shared/data/digits.mat}"
if [ ! -f "$data" ]; then
    echo "run-all.sh: digits.mat not found at $data; set DIGITNET_DATA to its path" >&2
    exit 2
fi

out=experiments/results
mkdir -p "$out" docs/images/experiments
if [ "$fresh" = 1 ]; then
    rm -f "$out/results.jsonl"
fi

dotnet build src/DigitNet.Cli -c Release -v quiet -nologo
dotnet src/DigitNet.Cli/bin/Release/net10.0/DigitNet.Cli.dll sweep \
    --config experiments/all.json \
    --out "$out" \
    --images docs/images/experiments \
    --doc docs/experiments.md \
    --data "$data" \
    --threads-per-trial 1 \
    --jobs "$(nproc)" \
    "$@"
