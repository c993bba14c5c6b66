{{/* Chart name. */}}
{{- define "olc.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Full name: release-chart, unless the release name already contains the chart name. */}}
{{- define "olc.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "olc.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels every resource carries. */}}
{{- define "olc.labels" -}}
helm.sh/chart: {{ include "olc.chart" . }}
{{ include "olc.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: online-connector
{{- end -}}

{{/* Labels that select the operator pod. */}}
{{- define "olc.selectorLabels" -}}
app.kubernetes.io/name: {{ include "olc.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "olc.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "olc.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "olc.extractorServiceAccountName" -}}
{{- default (printf "%s-extractor" (include "olc.fullname" .) | trunc 63 | trimSuffix "-") .Values.extractor.serviceAccount.name -}}
{{- end -}}

{{/* Namespaces that get the extractor ServiceAccount: the release namespace, then the listed ones. */}}
{{- define "olc.extractorNamespaces" -}}
{{- $list := .Values.extractor.serviceAccount.namespaces | default .Values.watch.namespaces | default list -}}
{{- prepend $list .Release.Namespace | uniq | toJson -}}
{{- end -}}

{{/* Namespaces whose extractor pods get a NetworkPolicy. */}}
{{- define "olc.extractorPolicyNamespaces" -}}
{{- concat (.Values.networkPolicy.extractor.namespaces | default .Values.watch.namespaces | default list) (list .Release.Namespace) | uniq | toJson -}}
{{- end -}}

{{/* repository:tag or repository@digest; the tag defaults to the chart's appVersion. */}}
{{- define "olc.image" -}}
{{- if .image.digest -}}
{{- printf "%s@%s" .image.repository .image.digest -}}
{{- else -}}
{{- printf "%s:%s" .image.repository (default .appVersion .image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "olc.operatorImage" -}}
{{- include "olc.image" (dict "image" .Values.image.operator "appVersion" .Chart.AppVersion) -}}
{{- end -}}

{{- define "olc.extractorImage" -}}
{{- include "olc.image" (dict "image" .Values.image.extractor "appVersion" .Chart.AppVersion) -}}
{{- end -}}

{{/* Rules on the namespaced resources the operator works with (Role per namespace, or ClusterRole). */}}
{{- define "olc.namespacedRules" -}}
- apiGroups: ["connectors.datagalaxy.com"]
  resources: ["onlineconnections"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["connectors.datagalaxy.com"]
  resources: ["onlineconnections/status"]
  verbs: ["get", "patch", "update"]
# Jobs and CronJobs carry blockOwnerDeletion on their owner reference: clusters with the
# OwnerReferencesPermissionEnforcement admission plugin (OpenShift) require this to create them.
- apiGroups: ["connectors.datagalaxy.com"]
  resources: ["onlineconnections/finalizers"]
  verbs: ["update"]
# Only what the operator's code calls (kube.py, kopf's watches and indexes); `online-connector logs`
# reads pod logs with the user's own credentials, not the operator's.
- apiGroups: ["batch"]
  resources: ["jobs"]
  verbs: ["get", "list", "watch", "create", "delete", "patch"]
# CronJobs are watched too (cronjob_watch: a deleted or altered owned CronJob is repaired).
- apiGroups: ["batch"]
  resources: ["cronjobs"]
  verbs: ["get", "list", "watch", "create", "delete", "patch"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["list"]
# Secrets: `get` only. The operator reads just the Secrets a connection references, when it evaluates
# it (key names, empty keys, labels; the body is dropped at once, no value is kept); no `list`/`watch`,
# so it never receives the other Secrets of the namespace (docs/security.md).
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- if .Values.peering.enabled }}
- apiGroups: ["kopf.dev"]
  resources: ["kopfpeerings"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["kopf.dev"]
  resources: ["kopfpeerings/status"]
  verbs: ["patch"]
{{- end }}
{{- end -}}

{{/* Cluster-scoped rules: kopf's scanning of CRDs and namespaces, and cluster peering. */}}
{{- define "olc.clusterRules" -}}
- apiGroups: ["apiextensions.k8s.io"]
  resources: ["customresourcedefinitions"]
  verbs: ["get", "list", "watch"]
- apiGroups: [""]
  resources: ["namespaces"]
  verbs: ["list", "watch"]
{{- if not .Values.clusterName }}
# The cluster id in DataGalaxy owner markers: the kube-system Namespace's UID, read once at startup.
- apiGroups: [""]
  resources: ["namespaces"]
  resourceNames: ["kube-system"]
  verbs: ["get"]
{{- end }}
{{- if and .Values.peering.enabled (not .Values.watch.namespaces) }}
- apiGroups: ["kopf.dev"]
  resources: ["clusterkopfpeerings"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["kopf.dev"]
  resources: ["clusterkopfpeerings/status"]
  verbs: ["patch"]
{{- end }}
{{- end -}}
