"""The Grafana dashboards the chart ships, described compactly and rendered to
helm/relops/dashboards/<uid>.json by helm/generate.py (checked for drift like the rest of the
chart's generated files).

Every query reads only what relops exports on /metrics or what its PrometheusRules record
(`relops_slo:*`); tests/e2e/test_dashboards.py runs each of them against a real Prometheus
that scrapes relops and evaluates its rules, and tests/install/test_dashboard_schema.py
validates each file against Grafana's dashboard schema.

The JSON is Grafana's classic dashboard model (`schemaVersion` below): a `datasource`
variable of type prometheus, so the dashboards import into any Grafana whatever its
Prometheus data source is called, and panels that name `${datasource}`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

# The version of Grafana's dashboard schema the files declare and are validated against
# (tests/install/grafana_schema: the schema of the grafana-foundation-sdk Go module it pins;
# Grafana 12 writes this version).
SCHEMA_VERSION = 42
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
GRID_COLUMNS = 24


@dataclass
class Target:
    expr: str
    legend: str = ""
    instant: bool = False


@dataclass
class Panel:
    title: str
    kind: str  # stat, table, timeseries, bargauge
    targets: list[Target]
    description: str
    width: int = 12
    height: int = 8
    unit: str = ""
    decimals: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    # Colour steps: (value, colour); the first value is None (the base step).
    thresholds: list[tuple[float | None, str]] = field(
        default_factory=lambda: [(None, "green")])
    stacked: bool = False


@dataclass
class Variable:
    name: str
    label: str
    query: str  # label_values(...)
    multi: bool = False


@dataclass
class Dashboard:
    uid: str
    title: str
    description: str
    variables: list[Variable]
    panels: list[Panel]
    time_from: str = "now-24h"


BUDGET_STEPS: list[tuple[float | None, str]] = [(None, "red"), (0.0, "orange"), (0.25, "green")]
SLI_STEPS: list[tuple[float | None, str]] = [(None, "blue")]

# Label matchers of the template variables.
NS = 'namespace=~"$namespace"'
SLO = 'namespace="$namespace",name="$slo"'
SLO_RULES = 'namespace="$namespace",slo="$slo"'
ROTATION = 'namespace=~"$namespace",name=~"$rotation"'
DRILL = 'namespace=~"$namespace",name=~"$drill"'

NAMESPACES_OF_SLOS = Variable("namespace", "Namespace",
                              "label_values(relops_slo_error_budget_remaining, namespace)",
                              multi=True)


def overview() -> Dashboard:
    return Dashboard(
        uid="relops-overview",
        title="relops / Reliability overview",
        description="SLOs by error budget left, active change freezes, who is on call, "
                    "coverage gaps and the last verdict of every DR drill.",
        variables=[NAMESPACES_OF_SLOS],
        panels=[
            Panel("SLOs by error budget left", "bargauge",
                  [Target(f"sort(relops_slo_error_budget_remaining{{{NS}}})",
                          "{{namespace}}/{{name}}", instant=True)],
                  "Fraction of each SLO's error budget left over its window, least first "
                  "(relops_slo_error_budget_remaining; below 0 the budget is overspent).",
                  width=12, height=10, unit="percentunit", minimum=-1, maximum=1,
                  thresholds=BUDGET_STEPS),
            Panel("SLI now", "table",
                  [Target(f"sort(relops_slo_sli{{{NS}}})", "{{namespace}}/{{name}}",
                          instant=True)],
                  "Each SLO's service level indicator over its window (relops_slo_sli).",
                  width=12, height=10, unit="percentunit", decimals=4,
                  thresholds=SLI_STEPS),
            Panel("Attainment this period", "table",
                  [Target(f"sort(relops_slo_period_sli{{{NS}}})", "{{namespace}}/{{name}} SLI",
                          instant=True),
                   Target(f"relops_slo_objective{{{NS}}}", "{{namespace}}/{{name}} objective",
                          instant=True)],
                  "Each SLO's SLI over its current calendar period so far (the window for a "
                  "rolling SLO) next to its objective (relops_slo_period_sli, "
                  "relops_slo_objective): what an SLA review reads.",
                  width=12, height=8, unit="percentunit", decimals=4),
            Panel("SLOs below their objective this period", "stat",
                  [Target(f"count(relops_slo_period_sli{{{NS}}} < on (namespace, name) "
                          f"relops_slo_objective{{{NS}}}) or vector(0)", "below", instant=True)],
                  "SLOs whose SLI over the current period is under the objective.",
                  width=4, height=8, thresholds=[(None, "green"), (1, "red")]),
            Panel("Budget left this period", "bargauge",
                  [Target(f"sort(relops_slo_period_budget_remaining{{{NS}}})",
                          "{{namespace}}/{{name}}", instant=True)],
                  "Fraction of the current calendar period's error budget left "
                  "(relops_slo_period_budget_remaining; the window's for a rolling SLO).",
                  width=8, height=8, unit="percentunit", minimum=-1, maximum=1,
                  thresholds=BUDGET_STEPS),
            Panel("Active freezes", "stat",
                  [Target(f"sum(relops_freeze_active{{{NS}}}) or vector(0)", "freezes",
                          instant=True)],
                  "SLOs whose workloads an ErrorBudgetPolicy freezes now "
                  "(relops_freeze_active).",
                  width=4, height=6, thresholds=[(None, "green"), (1, "red")]),
            Panel("Frozen SLOs", "table",
                  [Target(f"relops_freeze_active{{{NS}}} == 1",
                          "{{namespace}}/{{slo}} by {{name}}", instant=True)],
                  "Each active freeze: the SLO, the ErrorBudgetPolicy and its rule.",
                  width=8, height=6),
            Panel("On call now", "table",
                  [Target(f'relops_oncall_shift_info{{{NS},layer=""}} == 1',
                          "{{namespace}}/{{name}}: {{participant}}", instant=True)],
                  "Who is on call now per OnCallRotation, overrides resolved "
                  "(relops_oncall_shift_info, layer \"\").",
                  width=12, height=6),
            Panel("Coverage gaps ahead", "bargauge",
                  [Target(f"sort_desc(relops_oncall_coverage_gap_seconds{{{NS}}})",
                          "{{namespace}}/{{name}}", instant=True)],
                  "Time with nobody on call within each rotation's horizon "
                  "(relops_oncall_coverage_gap_seconds).",
                  width=12, height=8, unit="s", thresholds=[(None, "green"), (1, "red")]),
            Panel("Last drill verdicts", "table",
                  [Target(f"relops_drdrill_last_result{{{NS}}} == 1",
                          "{{namespace}}/{{name}}: {{result}}", instant=True)],
                  "The verdict of each DRDrill's last finished run: Pass, Fail (the "
                  "recovery failed) or Error (the drill machinery failed) "
                  "(relops_drdrill_last_result).",
                  width=12, height=8),
        ],
    )


def slo_detail() -> Dashboard:
    windows = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]
    return Dashboard(
        uid="relops-slo-detail",
        title="relops / SLO detail",
        description="One ServiceLevelObjective: its SLI and error budget, and the error ratio "
                    "its recording rules keep per alert window, per group of its `grouping`.",
        variables=[
            Variable("namespace", "Namespace",
                     "label_values(relops_slo_error_budget_remaining, namespace)"),
            Variable("slo", "SLO",
                     'label_values(relops_slo_error_budget_remaining{namespace="$namespace"}, '
                     "name)"),
        ],
        panels=[
            Panel("Objective", "stat",
                  [Target(f"relops_slo_objective{{{SLO}}}", "objective", instant=True)],
                  "The SLO's objective (relops_slo_objective).",
                  width=4, height=6, unit="percentunit", decimals=3, thresholds=SLI_STEPS),
            Panel("SLI", "stat", [Target(f"relops_slo_sli{{{SLO}}}", "SLI", instant=True)],
                  "The service level indicator over the SLO window (relops_slo_sli).",
                  width=5, height=6, unit="percentunit", decimals=3, thresholds=SLI_STEPS),
            Panel("Error budget left", "stat",
                  [Target(f"relops_slo_error_budget_remaining{{{SLO}}}", "budget",
                          instant=True)],
                  "Fraction of the error budget left over the SLO window "
                  "(relops_slo_error_budget_remaining).",
                  width=5, height=6, unit="percentunit", decimals=1,
                  thresholds=BUDGET_STEPS),
            Panel("SLI this period", "stat",
                  [Target(f"relops_slo_period_sli{{{SLO}}}", "SLI", instant=True)],
                  "The SLI over the current calendar period so far (relops_slo_period_sli; "
                  "the window's for a rolling SLO).",
                  width=5, height=6, unit="percentunit", decimals=3, thresholds=SLI_STEPS),
            Panel("Budget left this period", "stat",
                  [Target(f"relops_slo_period_budget_remaining{{{SLO}}}", "budget",
                          instant=True)],
                  "Fraction of the current period's error budget left "
                  "(relops_slo_period_budget_remaining).",
                  width=5, height=6, unit="percentunit", decimals=1,
                  thresholds=BUDGET_STEPS),
            Panel("Error budget over time", "timeseries",
                  [Target(f"relops_slo_error_budget_remaining{{{SLO}}}", "window"),
                   Target(f"relops_slo_period_budget_remaining{{{SLO}}}", "this period")],
                  "The error budget left over the window and over the current period, as "
                  "relops computed them at each scrape.",
                  width=12, height=8, unit="percentunit", thresholds=BUDGET_STEPS),
            Panel("SLI over time", "timeseries",
                  [Target(f"relops_slo_sli{{{SLO}}}", "SLI"),
                   Target(f"relops_slo_objective{{{SLO}}}", "objective")],
                  "The SLI over the SLO window, as relops computed it at each scrape, and the "
                  "objective.",
                  width=12, height=8, unit="percentunit", decimals=4, thresholds=SLI_STEPS),
            Panel("Burn rate per window", "timeseries",
                  [Target(f"relops_slo_burn_rate{{{SLO}}}", "{{window}}")],
                  "How fast the budget burns over each alert window: the error ratio over "
                  "(1 - objective), 1 spending exactly the budget over the SLO window "
                  "(relops_slo_burn_rate, as status.burnRates; the worst group).",
                  width=12, height=8, thresholds=[(None, "green"), (1, "orange"),
                                                  (6, "red")]),
            Panel("Burn rate by group", "timeseries",
                  # The window as a label: the legend shows it with the group's labels.
                  [Target(f'label_replace(relops_slo:sli_error:ratio_rate{w}{{{SLO_RULES}}} '
                          f'/ on () group_left () (1 - relops_slo_objective{{{SLO}}}), '
                          f'"window", "{w}", "", "")')
                   for w in ["1h", "6h"]],
                  "The burn rate over the page windows (1h, 6h) for each group of the SLO's "
                  "`grouping`, from the recorded error ratios (relops_slo:sli_error:ratio_rate*) "
                  "and the objective.",
                  width=12, height=8, thresholds=[(None, "green"), (1, "orange"), (6, "red")]),
            Panel("Error ratio per alert window", "timeseries",
                  [Target(f"sum without (__name__) (relops_slo:sli_error:ratio_rate{w}"
                          f"{{{SLO_RULES}}})", w) for w in ["5m", "1h", "6h", "3d"]],
                  "The error ratio relops's recording rules keep for the short and long "
                  "burn-rate windows of the SRE Workbook (relops_slo:sli_error:ratio_rate*); "
                  "a burn-rate alert fires when a long and its short window exceed the "
                  "factor times 1 - objective.",
                  width=24, height=8, unit="percentunit"),
            Panel("Error ratio by group", "table",
                  [Target(f"relops_slo:sli_error:ratio_rate{w}{{{SLO_RULES}}}", w,
                          instant=True) for w in windows],
                  "The recorded error ratio per window and per group: one row per value of "
                  "the SLO's `grouping` labels (one row when it has none).",
                  width=24, height=8, unit="percentunit", decimals=5),
        ],
    )


def oncall_load() -> Dashboard:
    return Dashboard(
        uid="relops-oncall-load",
        title="relops / On-call load",
        description="Who is on call, the hours each participant carries within the rotation's "
                    "horizon split into business hours, off-hours and weekends, how evenly "
                    "the load is spread, and coverage gaps.",
        variables=[
            Variable("namespace", "Namespace",
                     "label_values(relops_oncall_coverage_gap_seconds, namespace)", multi=True),
            Variable("rotation", "Rotation",
                     'label_values(relops_oncall_coverage_gap_seconds{namespace=~"$namespace"}, '
                     "name)", multi=True),
        ],
        panels=[
            Panel("On call now", "table",
                  [Target(f"relops_oncall_shift_info{{{ROTATION}}} == 1",
                          "{{namespace}}/{{name}} {{layer}}: {{participant}}", instant=True)],
                  "The person on call per layer; layer \"\" is the final schedule "
                  "(relops_oncall_shift_info).",
                  width=12, height=8),
            Panel("Load balance", "bargauge",
                  [Target(f"relops_oncall_balance_score{{{ROTATION}}}",
                          "{{namespace}}/{{name}}", instant=True)],
                  "Grafana OnCall's balance: the mean over pairs of participants of "
                  "min(hours) / max(hours); 1 is an even spread (relops_oncall_balance_score).",
                  width=12, height=8, unit="percentunit", minimum=0, maximum=1,
                  thresholds=[(None, "red"), (0.5, "orange"), (0.75, "green")]),
            Panel("On-call hours per participant", "bargauge",
                  [Target(f"sum by (participant, category) "
                          f"(relops_oncall_load_hours{{{ROTATION}}})",
                          "{{participant}} {{category}}", instant=True)],
                  "Hours on call within the horizon per participant: business hours "
                  "(09:00-17:00 local, Monday to Friday), off-hours on weekdays, and weekends "
                  "(relops_oncall_load_hours).",
                  width=12, height=10, unit="h", stacked=True),
            Panel("Off-hours and weekend share", "bargauge",
                  [Target(f'sum by (participant) (relops_oncall_load_hours{{{ROTATION},'
                          f'category!="business"}}) / sum by (participant) '
                          f"(relops_oncall_load_hours{{{ROTATION}}})",
                          "{{participant}}", instant=True)],
                  "The part of each participant's hours outside business hours.",
                  width=12, height=10, unit="percentunit", minimum=0, maximum=1),
            Panel("Coverage gaps", "timeseries",
                  [Target(f"relops_oncall_coverage_gap_seconds{{{ROTATION}}}",
                          "{{namespace}}/{{name}}")],
                  "Seconds with nobody on call within the rotation's horizon "
                  "(relops_oncall_coverage_gap_seconds).",
                  width=24, height=7, unit="s"),
        ],
    )


def drills() -> Dashboard:
    return Dashboard(
        uid="relops-drills",
        title="relops / DR drills",
        description="Disaster-recovery drills: the last verdicts, runs by verdict, measured "
                    "recovery time and recovery point against the objectives, and the time "
                    "since each drill last passed.",
        time_from="now-7d",
        variables=[
            Variable("namespace", "Namespace",
                     "label_values(relops_drdrill_last_result, namespace)", multi=True),
            Variable("drill", "Drill",
                     'label_values(relops_drdrill_last_result{namespace=~"$namespace"}, name)',
                     multi=True),
        ],
        panels=[
            Panel("Last verdict", "table",
                  [Target(f"relops_drdrill_last_result{{{DRILL}}} == 1",
                          "{{namespace}}/{{name}}: {{result}}", instant=True)],
                  "The verdict of each drill's last finished run (relops_drdrill_last_result).",
                  width=12, height=8),
            Panel("Objectives met by the last run", "stat",
                  [Target(f"relops_drdrill_objectives_met{{{DRILL}}}",
                          "{{namespace}}/{{name}}", instant=True)],
                  "1 when the last run's measured RTO and RPO were within the drill's "
                  "objectives, 0 when not (relops_drdrill_objectives_met).",
                  width=12, height=8, thresholds=[(None, "red"), (1, "green")]),
            Panel("Runs by verdict", "timeseries",
                  [Target(f"sum by (namespace, name, result) "
                          f"(increase(relops_drdrill_runs_total{{{DRILL}}}[$__range]))",
                          "{{namespace}}/{{name}} {{result}}")],
                  "Finished runs in the dashboard's time range by verdict "
                  "(relops_drdrill_runs_total).",
                  width=12, height=8, stacked=True),
            Panel("Time since the last passing run", "bargauge",
                  [Target(f"time() - relops_drdrill_last_success_timestamp_seconds{{{DRILL}}}",
                          "{{namespace}}/{{name}}", instant=True)],
                  "How long ago each drill last passed "
                  "(relops_drdrill_last_success_timestamp_seconds).",
                  width=12, height=8, unit="s"),
            Panel("Recovery time (RTO) against the objective", "timeseries",
                  [Target(f"relops_drdrill_rto_seconds{{{DRILL}}}",
                          "{{namespace}}/{{name}} measured"),
                   Target(f"relops_drdrill_rto_objective_seconds{{{DRILL}}}",
                          "{{namespace}}/{{name}} objective")],
                  "Recovery time measured by the last run (relops_drdrill_rto_seconds) and "
                  "the drill's objective (relops_drdrill_rto_objective_seconds).",
                  width=12, height=8, unit="s"),
            Panel("Recovery point (RPO) against the objective", "timeseries",
                  [Target(f"relops_drdrill_rpo_seconds{{{DRILL}}}",
                          "{{namespace}}/{{name}} measured"),
                   Target(f"relops_drdrill_rpo_objective_seconds{{{DRILL}}}",
                          "{{namespace}}/{{name}} objective")],
                  "Age of the data the last run recovered (relops_drdrill_rpo_seconds) and "
                  "the drill's objective (relops_drdrill_rpo_objective_seconds).",
                  width=12, height=8, unit="s"),
        ],
    )


def operator_health() -> Dashboard:
    rate = "[$__rate_interval]"
    return Dashboard(
        uid="relops-operator",
        title="relops / Operator health",
        description="The relops process: reconciles per controller and their errors and "
                    "latency, work queues, requests to the API server, leader election, "
                    "dropped Events and memory (controller-runtime's metric names).",
        time_from="now-6h",
        variables=[Variable("job", "Job",
                            "label_values(controller_runtime_reconcile_total, job)",
                            multi=True)],
        panels=[
            Panel("Reconciles per second", "timeseries",
                  [Target(f'sum by (controller, result) (rate(controller_runtime_reconcile_total'
                          f'{{job=~"$job"}}{rate}))', "{{controller}} {{result}}")],
                  "Reconciles by controller and result (controller_runtime_reconcile_total).",
                  unit="ops"),
            Panel("Reconcile errors per second", "timeseries",
                  [Target(f'sum by (controller) (rate(controller_runtime_reconcile_errors_total'
                          f'{{job=~"$job"}}{rate}))', "{{controller}}"),
                   Target(f'sum by (controller) (rate('
                          f'controller_runtime_terminal_reconcile_errors_total'
                          f'{{job=~"$job"}}{rate}))', "{{controller}} terminal")],
                  "Failed reconciles, and those that stall until the object changes "
                  "(controller_runtime_reconcile_errors_total, "
                  "controller_runtime_terminal_reconcile_errors_total).",
                  unit="ops"),
            Panel("Reconcile time p99", "timeseries",
                  [Target(f"histogram_quantile(0.99, sum by (controller, le) (rate("
                          f'controller_runtime_reconcile_time_seconds_bucket{{job=~"$job"}}'
                          f"{rate})))", "{{controller}}")],
                  "99th percentile of reconcile duration (controller_runtime_reconcile_time_"
                  "seconds).",
                  unit="s"),
            Panel("Workers busy", "timeseries",
                  [Target('sum by (controller) (controller_runtime_active_workers'
                          '{job=~"$job"}) / sum by (controller) '
                          '(controller_runtime_max_concurrent_reconciles{job=~"$job"})',
                          "{{controller}}")],
                  "Share of each controller's workers reconciling now "
                  "(controller_runtime_active_workers / "
                  "controller_runtime_max_concurrent_reconciles).",
                  unit="percentunit", minimum=0, maximum=1),
            Panel("Work queue depth", "timeseries",
                  [Target('sum by (name) (workqueue_depth{job=~"$job"})', "{{name}}")],
                  "Keys waiting in each controller's queue (workqueue_depth).",
                  width=8),
            Panel("Queue wait p99", "timeseries",
                  [Target(f"histogram_quantile(0.99, sum by (name, le) (rate("
                          f'workqueue_queue_duration_seconds_bucket{{job=~"$job"}}{rate})))',
                          "{{name}}")],
                  "99th percentile of how long a key waits before a worker takes it "
                  "(workqueue_queue_duration_seconds).",
                  width=8, unit="s"),
            Panel("Queue retries per second", "timeseries",
                  [Target(f'sum by (name) (rate(workqueue_retries_total{{job=~"$job"}}{rate}))',
                          "{{name}}")],
                  "Keys requeued with backoff after an error (workqueue_retries_total).",
                  width=8, unit="ops"),
            Panel("API server requests per second", "timeseries",
                  [Target(f'sum by (method, code) (rate(rest_client_requests_total'
                          f'{{job=~"$job"}}{rate}))', "{{method}} {{code}}")],
                  "Requests to the API server by method and status code "
                  "(rest_client_requests_total).",
                  unit="reqps"),
            Panel("API server request latency p99", "timeseries",
                  [Target(f"histogram_quantile(0.99, sum by (verb, le) (rate("
                          f'rest_client_request_duration_seconds_bucket{{job=~"$job"}}'
                          f"{rate})))", "{{verb}}")],
                  "99th percentile of API server request latency by verb "
                  "(rest_client_request_duration_seconds).",
                  unit="s"),
            Panel("Leader", "stat",
                  [Target('sum(leader_election_master_status{job=~"$job"}) or vector(0)',
                          "leaders", instant=True)],
                  "Replicas leading now (leader_election_master_status): 1 with leader "
                  "election, 0 without it (a single replica reconciles unelected).",
                  width=6, height=6),
            Panel("Events dropped", "stat",
                  [Target('sum(increase(relops_events_dropped_total{job=~"$job"}[$__range]))'
                          " or vector(0)", "dropped", instant=True)],
                  "Kubernetes Events relops dropped in the time range "
                  "(relops_events_dropped_total): its recorder's queue was full or the API "
                  "server refused them.",
                  width=6, height=6, thresholds=[(None, "green"), (1, "orange")]),
            Panel("Memory and CPU", "timeseries",
                  [Target('process_resident_memory_bytes{job=~"$job"}', "{{instance}} resident"),
                   Target(f'rate(process_cpu_seconds_total{{job=~"$job"}}{rate})',
                          "{{instance}} CPU seconds/s")],
                  "Resident memory (process_resident_memory_bytes) and CPU use "
                  "(process_cpu_seconds_total) of each relops process.",
                  unit="bytes"),
        ],
    )


def dashboards() -> list[Dashboard]:
    return [overview(), slo_detail(), oncall_load(), drills(), operator_health()]


def _variable(variable: Variable) -> dict[str, Any]:
    return {
        "type": "query",
        "name": variable.name,
        "label": variable.label,
        "datasource": DATASOURCE,
        "definition": variable.query,
        "query": {"query": variable.query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
        "refresh": 2,  # on time range change
        "sort": 1,
        "multi": variable.multi,
        "includeAll": variable.multi,
        "allValue": ".*" if variable.multi else None,
        # Grafana picks the first value (all of them where it may) when nothing is saved.
        "current": ({"text": "All", "value": "$__all"} if variable.multi
                    else {"text": "", "value": ""}),
        "hide": 0,
        "options": [],
        "regex": "",
        "skipUrlSync": False,
    }


def _layout(panels: list[Panel]) -> list[tuple[Panel, dict[str, int]]]:
    """Left to right, wrapping at Grafana's 24 columns; a row is as tall as its tallest."""
    placed: list[tuple[Panel, dict[str, int]]] = []
    x = y = row_height = 0
    for panel in panels:
        if panel.width > GRID_COLUMNS:
            raise ValueError(f"{panel.title}: wider than {GRID_COLUMNS} columns")
        if x + panel.width > GRID_COLUMNS:
            x, y, row_height = 0, y + row_height, 0
        placed.append((panel, {"h": panel.height, "w": panel.width, "x": x, "y": y}))
        x += panel.width
        row_height = max(row_height, panel.height)
    return placed


def _panel(panel_id: int, panel: Panel, grid: dict[str, int]) -> dict[str, Any]:
    defaults: dict[str, Any] = {
        "color": {"mode": "thresholds" if panel.kind != "timeseries" else "palette-classic"},
        "mappings": [],
        "thresholds": {"mode": "absolute", "steps": [
            {"color": colour, "value": value} for value, colour in panel.thresholds]},
    }
    if panel.unit:
        defaults["unit"] = panel.unit
    if panel.decimals is not None:
        defaults["decimals"] = panel.decimals
    if panel.minimum is not None:
        defaults["min"] = panel.minimum
    if panel.maximum is not None:
        defaults["max"] = panel.maximum
    options: dict[str, Any]
    if panel.kind == "timeseries":
        defaults["custom"] = {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10,
                              "showPoints": "never", "spanNulls": False,
                              "stacking": {"mode": "normal" if panel.stacked else "none",
                                           "group": "A"}}
        options = {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True,
                              "calcs": []},
                   "tooltip": {"mode": "multi", "sort": "desc"}}
    elif panel.kind == "stat":
        options = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                   "colorMode": "value", "graphMode": "none", "justifyMode": "auto",
                   "orientation": "auto", "textMode": "auto", "wideLayout": True,
                   "showPercentChange": False, "percentChangeColorMode": "standard"}
    elif panel.kind == "bargauge":
        options = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                   "displayMode": "gradient", "orientation": "horizontal",
                   "showUnfilled": True, "valueMode": "color", "namePlacement": "auto",
                   "sizing": "auto", "minVizWidth": 8, "minVizHeight": 16, "maxVizHeight": 300,
                   "legend": {"displayMode": "list", "placement": "bottom", "showLegend": False,
                              "calcs": []}}
    elif panel.kind == "table":
        options = {"frameIndex": 0, "showHeader": True, "showTypeIcons": False,
                   "cellHeight": "sm",
                   "footer": {"show": False, "reducer": ["sum"], "countRows": False}}
    else:
        raise ValueError(f"{panel.title}: unknown panel type {panel.kind}")
    targets = []
    for index, target in enumerate(panel.targets):
        entry: dict[str, Any] = {
            "refId": chr(ord("A") + index),
            "datasource": DATASOURCE,
            "expr": target.expr,
            "legendFormat": target.legend or "__auto",
            "range": not target.instant,
            "instant": target.instant,
        }
        if panel.kind == "table":
            entry["format"] = "table"
        targets.append(entry)
    result: dict[str, Any] = {
        "id": panel_id,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": grid,
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": options,
        "targets": targets,
    }
    if panel.kind == "table" and len(panel.targets) > 1:
        # One row per series, the windows side by side.
        result["transformations"] = [{"id": "merge", "options": {}}]
    return result


def render(dashboard: Dashboard) -> dict[str, Any]:
    variables = [{
        "type": "datasource",
        "name": "datasource",
        "label": "Data source",
        "query": "prometheus",
        "current": {"text": "", "value": ""},  # the default Prometheus data source
        "hide": 0,
        "options": [],
        "refresh": 1,
        "regex": "",
        "skipUrlSync": False,
        "multi": False,
        "includeAll": False,
    }] + [_variable(v) for v in dashboard.variables]
    return {
        "annotations": {"list": [{
            "builtIn": 1,
            "datasource": {"type": "grafana", "uid": "-- Grafana --"},
            "enable": True,
            "hide": True,
            "iconColor": "rgba(0, 211, 255, 1)",
            "name": "Annotations & Alerts",
            "type": "dashboard",
        }]},
        "description": dashboard.description,
        "editable": True,
        "fiscalYearStartMonth": 0,
        "graphTooltip": 1,
        "links": [{"asDropdown": True, "icon": "external link", "includeVars": False,
                   "keepTime": True, "tags": ["relops"], "targetBlank": False,
                   "title": "relops", "tooltip": "", "type": "dashboards", "url": ""}],
        "panels": [_panel(i + 1, panel, grid)
                   for i, (panel, grid) in enumerate(_layout(dashboard.panels))],
        "refresh": "1m",
        "schemaVersion": SCHEMA_VERSION,
        "tags": ["relops"],
        "templating": {"list": variables},
        "time": {"from": dashboard.time_from, "to": "now"},
        "timepicker": {},
        "timezone": "browser",
        "title": dashboard.title,
        "uid": dashboard.uid,
        "version": 1,
        "weekStart": "",
    }


def rendered() -> dict[str, str]:
    """File name → JSON text of every dashboard."""
    return {f"{d.uid}.json": json.dumps(render(d), indent=2, ensure_ascii=False) + "\n"
            for d in dashboards()}
