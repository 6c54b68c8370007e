"""pytest fixtures shared by the e2e tests.

The cluster is started by the ctest fixture `e2e.cluster.up` (or by hand with
tests/cluster/up) and named by KUBECONFIG; each test gets a namespace of its own.
"""

from __future__ import annotations

import pytest

from kube import Kubectl, kubeconfig_from_env, unique_name


@pytest.fixture(scope="session")
def kubectl() -> Kubectl:
    return Kubectl(kubeconfig_from_env())


@pytest.fixture
def namespace(kubectl: Kubectl):
    name = unique_name("e2e")
    kubectl.run("create", "namespace", name)
    yield name
    kubectl.run("delete", "namespace", name, "--wait=false", check=False)
