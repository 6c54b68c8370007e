"""The kinds relops serves, read from crds/ (the API's source of truth).

What is generated per kind reads this list rather than naming kinds again: the chart's RBAC for
relops.dev resources (helm/generate.py writes helm/relops/templates/_kinds.tpl) and the Argo CD
health checks (deploy/argocd/health/generate.py). app/kinds.cpp wires a controller for each;
the unit test `unit.Kinds.ReconcileExactlyTheCustomResourcesInCrds` fails when the two differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
CRDS = REPO / "crds"

# Kinds whose objects relops creates as a controller's children, with why: users read and
# delete them, never create or change them (cert-manager's rule for CertificateRequests), and
# Argo CD shows them under their owner rather than as synced resources.
CREATED_BY_RELOPS = {
    "DRDrillRun": "one execution of a DRDrill, created by the drill's controller",
}


@dataclass(frozen=True)
class Kind:
    kind: str    # DRDrill
    plural: str  # drdrills
    group: str   # relops.dev

    @property
    def written_by_users(self) -> bool:
        return self.kind not in CREATED_BY_RELOPS


def kinds() -> list[Kind]:
    """Every CRD in crds/, in file-name order."""
    found = []
    for path in sorted(CRDS.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document and document.get("kind") == "CustomResourceDefinition":
                spec = document["spec"]
                found.append(Kind(spec["names"]["kind"], spec["names"]["plural"], spec["group"]))
    unknown = set(CREATED_BY_RELOPS) - {k.kind for k in found}
    if unknown:
        raise SystemExit(f"deploy/kinds.py: CREATED_BY_RELOPS names kinds without a CRD: {unknown}")
    return found
