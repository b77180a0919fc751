{{/* The chart's name, and the prefix of every object's name. */}}
{{- define "flowpol.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "flowpol.fullname" -}}
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

{{/* Labels of every object; selectors use flowpol.selector only. */}}
{{- define "flowpol.labels" -}}
app.kubernetes.io/part-of: flowpol
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ include "flowpol.tag" . | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}

{{/* flowpol.selector: a component's pods; call with (list . "agent"). */}}
{{- define "flowpol.selector" -}}
app.kubernetes.io/name: {{ include "flowpol.name" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "flowpol.tag" -}}
{{- default .Chart.AppVersion .Values.image.tag }}
{{- end }}

{{- define "flowpol.image" -}}
{{ .Values.image.repository }}:{{ include "flowpol.tag" . }}
{{- end }}

{{/* The aggregator's address, as agents and the job reach it. */}}
{{- define "flowpol.server" -}}
{{ ternary "https" "http" .Values.tls.enabled }}://{{ include "flowpol.fullname" . }}-aggregator.{{ .Release.Namespace }}.svc:8443
{{- end }}

{{/* Whether cert-manager makes the certificates. */}}
{{- define "flowpol.certManager" -}}
{{- if and .Values.tls.enabled (or (eq .Values.tls.source "certManager") (and (eq .Values.tls.source "auto") (.Capabilities.APIVersions.Has "cert-manager.io/v1"))) }}true{{ end }}
{{- end }}

{{/* Whether to make the Prometheus Operator's monitors. */}}
{{- define "flowpol.monitors" -}}
{{- $m := .Values.metrics.serviceMonitor }}
{{- if or (eq (toString $m) "true") (and (eq (toString $m) "auto") (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1/ServiceMonitor")) }}true{{ end }}
{{- end }}

{{- define "flowpol.tlsSecret" -}}
{{ include "flowpol.fullname" . }}-aggregator-tls
{{- end }}

{{- define "flowpol.clientSecret" -}}
{{ include "flowpol.fullname" . }}-client-tls
{{- end }}

{{/* A client's flags to reach the aggregator: token, CA, mTLS. */}}
{{- define "flowpol.clientArgs" -}}
- --server={{ include "flowpol.server" . }}
- --token-file=/var/run/flowpol/token/{{ .Values.token.key }}
{{- if .Values.tls.enabled }}
- --server-ca=/var/run/flowpol/tls/ca.crt
{{- if .Values.tls.mutual }}
- --client-cert=/var/run/flowpol/client-tls/tls.crt
- --client-key=/var/run/flowpol/client-tls/tls.key
{{- end }}
{{- end }}
{{- end }}

{{/* A client's mounts and volumes for the token and TLS. */}}
{{- define "flowpol.clientMounts" -}}
- name: token
  mountPath: /var/run/flowpol/token
  readOnly: true
{{- if .Values.tls.enabled }}
- name: tls
  mountPath: /var/run/flowpol/tls
  readOnly: true
{{- if .Values.tls.mutual }}
- name: client-tls
  mountPath: /var/run/flowpol/client-tls
  readOnly: true
{{- end }}
{{- end }}
{{- end }}

{{- define "flowpol.clientVolumes" -}}
- name: token
  secret:
    secretName: {{ .Values.token.existingSecret }}
{{- if .Values.tls.enabled }}
- name: tls
  secret:
    secretName: {{ include "flowpol.tlsSecret" . }}
    items:
      - {key: ca.crt, path: ca.crt}
{{- if .Values.tls.mutual }}
- name: client-tls
  secret:
    secretName: {{ include "flowpol.clientSecret" . }}
{{- end }}
{{- end }}
{{- end }}

{{- define "flowpol.scheduling" -}}
{{- with .nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- end }}

{{/* Egress to the cluster DNS, UDP and TCP. */}}
{{- define "flowpol.dnsEgress" -}}
- to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: kube-system
      podSelector:
        matchLabels:
          k8s-app: kube-dns
  ports:
    - {port: 53, protocol: UDP}
    - {port: 53, protocol: TCP}
{{- end }}

{{/* Reading, only, the kinds enrichment reads (kubestate). */}}
{{- define "flowpol.readRules" -}}
- apiGroups: [""]
  resources: [pods, namespaces, nodes, services]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
- apiGroups: [apps]
  resources: [replicasets, deployments, statefulsets, daemonsets]
  verbs: [list, watch]
- apiGroups: [batch]
  resources: [jobs, cronjobs]
  verbs: [list, watch]
{{- end }}
