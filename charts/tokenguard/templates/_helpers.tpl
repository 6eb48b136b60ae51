{{/*
The name of every object: the release name when it contains "tokenguard"
(helm install tokenguard ... gives the names of deploy/), else
<release>-tokenguard; fullnameOverride wins.
*/}}
{{- define "tokenguard.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "tokenguard.controllerName" -}}
{{- printf "%s-controller" (include "tokenguard.fullname" .) -}}
{{- end -}}

{{- define "tokenguard.tlsSecretName" -}}
{{- printf "%s-tls" (include "tokenguard.fullname" .) -}}
{{- end -}}

{{/* Labels of every object. */}}
{{- define "tokenguard.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{ include "tokenguard.extraLabels" . }}
{{- end -}}

{{/* Labels of every object beside those of the selectors. */}}
{{- define "tokenguard.extraLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tokenguard
{{- end -}}

{{/* Selector labels of the webhook's pods. */}}
{{- define "tokenguard.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: admission-webhook
{{- end -}}

{{/* Selector labels of the controller's pods. */}}
{{- define "tokenguard.controllerSelectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end -}}

{{/* The image, by digest when one is given. */}}
{{- define "tokenguard.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion -}}
{{- if .Values.image.digest -}}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/*
The TokenGuardConfiguration, as the ConfigMap holds it.
*/}}
{{- define "tokenguard.config" -}}
# The configuration tokenguard serve (and controller) read: the chart's
# `config` value. Every field, with its default:
# docs/tokenguard-config.example.yaml.
apiVersion: tokenguard.io/v1alpha1
kind: TokenGuardConfiguration
{{- with .Values.config }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
The ConfigMap's name carries a hash of its content, as kustomize's
configMapGenerator does: a changed configuration is a new ConfigMap and a
rollout, and running pods keep the one they started with.
*/}}
{{- define "tokenguard.configMapName" -}}
{{- printf "%s-config-%s" (include "tokenguard.fullname" .) (include "tokenguard.config" . | sha256sum | trunc 10) -}}
{{- end -}}

{{/*
GOMEMLIMIT: the given value, or 90% of limits.memory (in Mi or Gi) in MiB.
Call with (list <goMemLimit> <resources> <what>).
*/}}
{{- define "tokenguard.goMemLimit" -}}
{{- $set := index . 0 -}}
{{- $resources := index . 1 -}}
{{- $what := index . 2 -}}
{{- if $set -}}
{{- $set -}}
{{- else -}}
{{- $limit := toString (($resources.limits).memory) -}}
{{- $mib := 0 -}}
{{- if regexMatch "^[0-9]+Mi$" $limit -}}
{{- $mib = trimSuffix "Mi" $limit | atoi -}}
{{- else if regexMatch "^[0-9]+Gi$" $limit -}}
{{- $mib = mul (trimSuffix "Gi" $limit | atoi) 1024 -}}
{{- else -}}
{{- fail (printf "%s: set goMemLimit (GOMEMLIMIT, e.g. 230MiB), or give resources.limits.memory in Mi or Gi to derive it from (got %q)" $what $limit) -}}
{{- end -}}
{{- printf "%dMiB" (div (mul $mib 90) 100) -}}
{{- end -}}
{{- end -}}

{{/* The DNS names of the webhook's Service. */}}
{{- define "tokenguard.dnsNames" -}}
{{- $name := include "tokenguard.fullname" . -}}
{{- $ns := .Release.Namespace -}}
{{- toJson (list $name (printf "%s.%s" $name $ns) (printf "%s.%s.svc" $name $ns) (printf "%s.%s.svc.cluster.local" $name $ns)) -}}
{{- end -}}

{{/*
A webhook entry's clientConfig: the Service, a path, and the caBundle when
the chart made the certificates. Call with a dict of name, ns, path,
caBundle.
*/}}
{{- define "tokenguard.clientConfig" }}
  clientConfig:
    service: {name: {{ .name }}, namespace: {{ .ns }}, path: {{ .path }}, port: 443}
    {{- with .caBundle }}
    caBundle: {{ . }}
    {{- end }}
{{- end -}}
