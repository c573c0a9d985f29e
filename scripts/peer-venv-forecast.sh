#!/usr/bin/env bash
# Sets up the Python environment that `ai4ict bench forecast` uses to measure statsforecast
# (AutoETS, MSTL) in the same run as our forecasters. It lives outside the repository:
# $AI4ICT_PEERS_FORECAST, or $HOME/.cache/ai4ict/peers-forecast by default.
set -euo pipefail
VENV="${AI4ICT_PEERS_FORECAST:-$HOME/.cache/ai4ict/peers-forecast}"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --upgrade pip
"$VENV/bin/pip" install --quiet "statsforecast>=1.7" pandas numpy
"$VENV/bin/python" -c "import statsforecast; print('statsforecast', statsforecast.__version__, 'in', '$VENV')"
