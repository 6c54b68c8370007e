{{/*
Names and labels, after the `helm create` scaffold: the full name is the release name, or
"<release>-<chart>" when the release name does not contain the chart name; both truncated to
the 63 characters a label value allows.
*/}}
{{- define "relops.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "relops.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "relops.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels: stable across upgrades, so never the version. */}}
{{- define "relops.selectorLabels" -}}
app.kubernetes.io/name: {{ include "relops.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "relops.labels" -}}
helm.sh/chart: {{ include "relops.chart" . }}
{{ include "relops.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: relops
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "relops.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "relops.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "relops.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/* Leader election: asked for, or needed because more than one replica runs. */}}
{{- define "relops.leaderElect" -}}
{{- if or .Values.leaderElection.enabled (gt (int .Values.replicaCount) 1) }}true{{ end }}
{{- end }}

{{/* The Lease's name; relops's default, namespaced by the release so two releases never share one. */}}
{{- define "relops.leaseName" -}}
{{- printf "%s-leader.relops.dev" (include "relops.fullname" .) }}
{{- end }}

{{/*
The Secret holding the calendar feed key: the user's, or the one the chart creates.
*/}}
{{- define "relops.calendarKeySecret" -}}
{{- .Values.calendars.keySecret.name | default (printf "%s-calendar-key" (include "relops.fullname" .)) -}}
{{- end }}
