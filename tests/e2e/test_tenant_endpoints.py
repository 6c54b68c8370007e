"""relops's endpoints as a tenant meets them (issue 13, "Endpoints"): /metrics over HTTPS answers
only a bearer token allowed to get /metrics (TokenReview + SubjectAccessReview), and a calendar
feed only to its URL's token, published in the rotation's status, or to a bearer token allowed to
read the rotation. relops runs with the chart's defaults, as the chart's ServiceAccount."""

from __future__ import annotations

import textwrap

import pytest

from install_support import wait_ready
from kube import wait_until
from relops_process import Operator
from tenant import Tenancy, refused, tenancy  # noqa: F401 (the fixture)

ROTATION = """\
apiVersion: relops.dev/v1alpha1
kind: OnCallRotation
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  timeZone: Europe/Berlin
  participants:
  - {{name: ana, email: ana@{namespace}.example, chat: "@ana-{namespace}", pager: PANA}}
  - {{name: ben, email: ben@{namespace}.example}}
  layers:
  - {{name: primary, members: [ana, ben], start: "2026-01-05T09:00:00", turnLength: 1d}}
"""


def unfolded(feed: str) -> str:
    """The feed with RFC 5545 line folding undone, so long values can be searched."""
    return feed.replace("\r\n ", "")


def token(tenancy: Tenancy, service_account: str, namespace: str) -> str:
    return tenancy.admin.run("create", "token", service_account, "-n", namespace,
                             "--duration=1h").stdout.strip()


@pytest.fixture(scope="module")
def relops(tenancy: Tenancy) -> Operator:
    """relops with the chart's flags (metrics secure by default) and the calendar listener on."""
    op = Operator(tenancy.relops_kubeconfig, tenancy.workdir / "relops-endpoints.log",
                  *tenancy.deployment_args(), "--watch-namespace", tenancy.team_a,
                  "--watch-namespace", tenancy.team_b, env={"POD_NAMESPACE": tenancy.system},
                  metrics_secure=True, calendars=True)
    tenancy.started.append(op)
    wait_ready(op)
    return op


@pytest.fixture(scope="module")
def rotations(tenancy: Tenancy, relops: Operator) -> dict[str, str]:
    """A rotation in each team's namespace; the tenant writes its own. Returns each one's
    status.calendarPath as an admin reads it."""
    tenancy.tenant.apply(ROTATION.format(name="primary", namespace=tenancy.team_a))
    tenancy.admin.apply(ROTATION.format(name="primary", namespace=tenancy.team_b))
    paths = {}
    for ns in (tenancy.team_a, tenancy.team_b):
        def path(ns=ns):
            rotation = tenancy.admin.get("oncallrotation", "primary", ns)
            return rotation.get("status", {}).get("calendarPath")
        paths[ns] = wait_until(f"calendarPath in {ns}", path, timeout=60)
    return paths


def test_metrics_need_a_token_allowed_to_read_them(tenancy: Tenancy, relops: Operator):
    # Nobody's token: 401, and nothing of the exposition leaks.
    code, body = relops.metrics_get()
    assert code == 401 and "controller_runtime" not in body
    code, _ = relops.metrics_get("not-a-token")
    assert code == 401
    # The tenant is authenticated but holds no get on /metrics: 403.
    code, body = relops.metrics_get(token(tenancy, "tenant", tenancy.team_a))
    assert code == 403 and "controller_runtime" not in body
    # A ServiceAccount bound to the chart's metrics-reader ClusterRole: 200.
    tenancy.admin.run("create", "serviceaccount", "prometheus", "-n", tenancy.system)
    tenancy.admin.run("create", "clusterrolebinding", f"{tenancy.release}-prometheus",
                      f"--clusterrole={tenancy.release}-metrics-reader",
                      f"--serviceaccount={tenancy.system}:prometheus")
    try:
        reader = token(tenancy, "prometheus", tenancy.system)
        code, body = relops.metrics_get(reader)
        assert code == 200, (code, body)
        assert "controller_runtime_active_workers" in body
        # Plain HTTP on the metrics port is not served.
        assert relops._get(relops.metrics_port, "/metrics")[0] != 200
    finally:
        tenancy.admin.run("delete", "clusterrolebinding", f"{tenancy.release}-prometheus",
                          check=False)


def test_calendar_feed_answers_only_its_token(tenancy: Tenancy, relops: Operator,
                                              rotations: dict[str, str]):
    ns = tenancy.team_a
    # The tenant reads the path from its own rotation's status.
    path = tenancy.tenant.get("oncallrotation", "primary", ns)["status"]["calendarPath"]
    assert path == rotations[ns]
    code, headers, body = relops.calendar_get(path)
    assert code == 200 and headers["Content-Type"].startswith("text/calendar")
    assert "BEGIN:VEVENT" in body
    body = unfolded(body)
    # No contact fields until the rotation opts in.
    for contact in (f"ana@{ns}.example", f"@ana-{ns}", "PANA", f"ben@{ns}.example"):
        assert contact not in body, contact

    token_part = path.rsplit("/", 1)[1][:-len(".ics")]
    wrong = ("0" if token_part[0] != "0" else "1") + token_part[1:]
    for probe in (f"/calendars/{ns}/primary.ics",                 # no token
                  path.replace(token_part, wrong),                # one digit off
                  f"/calendars/{ns}/primary/{'a' * 64}.ics",      # made up
                  f"/calendars/{ns}/absent/{token_part}.ics"):    # no such rotation
        code, _, text = relops.calendar_get(probe)
        assert (code, text) == (404, "404 page not found\n"), probe
    # The feed is not on the metrics listener, whatever the token.
    code, _, _ = relops._fetch(f"https://127.0.0.1:{relops.metrics_port}{path}")
    assert code == 404

    # The rotation opts in: now the contacts are there.
    tenancy.tenant.run("patch", "oncallrotation", "primary", "-n", ns, "--type=merge",
                       "-p", '{"spec": {"calendarFeed": {"includeContacts": true}}}')
    wait_until("contacts in the feed after the opt-in",
               lambda: f"ana@{ns}.example" in unfolded(relops.calendar_get(path)[2]), timeout=30)


def test_tenant_cannot_fetch_another_teams_feed(tenancy: Tenancy, relops: Operator,
                                               rotations: dict[str, str]):
    a, b = tenancy.team_a, tenancy.team_b
    # The tenant cannot read team_b's rotation, so never sees its token...
    refused(tenancy.tenant.run("get", "oncallrotation", "primary", "-n", b, check=False))
    # ...and team_a's token does not open team_b's feed.
    own_token = rotations[a].rsplit("/", 1)[1]
    assert relops.calendar_get(f"/calendars/{b}/primary/{own_token}")[0] == 404
    # A bearer token reads a feed only where its user may get the rotation.
    tenant_token = token(tenancy, "tenant", a)
    assert relops.calendar_get(f"/calendars/{b}/primary.ics", tenant_token)[0] == 404
    code, _, body = relops.calendar_get(f"/calendars/{a}/primary.ics", tenant_token)
    assert code == 200 and "BEGIN:VCALENDAR" in body
    # team_b's own URL works, for whoever holds it: the token is the credential.
    code, _, body = relops.calendar_get(rotations[b])
    assert code == 200 and f"ana@{b}.example" not in unfolded(body)
