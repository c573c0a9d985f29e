#!/usr/bin/env bash
# Sets up the Python environment that `ai4ict bench classify --python PATH` (or
# AI4ICT_PEER_PYTHON=PATH) uses to train LightGBM and scikit-learn's
# HistGradientBoostingClassifier on the same split as our classifiers, in the same run.
# It lives outside the repository: $AI4ICT_PEERS_VENV, or $HOME/.cache/ai4ict-peers by default.
# Afterwards: AI4ICT_PEER_PYTHON=$HOME/.cache/ai4ict-peers/bin/python ai4ict bench classify …
set -euo pipefail
VENV="${AI4ICT_PEERS_VENV:-$HOME/.cache/ai4ict-peers}"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --upgrade pip
"$VENV/bin/pip" install --quiet lightgbm scikit-learn numpy
"$VENV/bin/python" -c "import lightgbm, sklearn; print('lightgbm', lightgbm.__version__, 'scikit-learn', sklearn.__version__, 'in', '$VENV')"
