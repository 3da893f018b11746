import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "deploy/k8s"), str(REPO / "deploy/local")]
