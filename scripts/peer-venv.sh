#!/usr/bin/env bash
# Sets up the Python environment that `ai4ict bench anomaly` uses to measure river
# HalfSpaceTrees and pyod IForest on the same stream as our detectors, in the same run.
# It lives outside the repository: $AI4ICT_PEER_VENV, or $HOME/.cache/ai4ict/peers by default.
set -euo pipefail
VENV="${AI4ICT_PEER_VENV:-$HOME/.cache/ai4ict/peers}"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --upgrade pip
"$VENV/bin/pip" install --quiet river pyod numpy
"$VENV/bin/python" -c "import river, pyod; print('river', river.__version__, 'pyod', pyod.__version__, 'in', '$VENV')"
