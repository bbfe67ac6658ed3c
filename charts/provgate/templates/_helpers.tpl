{{/* Names. */}}
{{- define "provgate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "provgate.fullname" -}}
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

{{/* A name derived from the full name, kept within 63 characters. */}}
{{- define "provgate.child" -}}
{{- $base := include "provgate.fullname" .root | trunc (int (sub 62 (len .suffix))) | trimSuffix "-" }}
{{- printf "%s-%s" $base .suffix }}
{{- end }}

{{- define "provgate.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "provgate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "provgate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "provgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "provgate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "provgate.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "provgate.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/* The Service's DNS names: what the serving certificate must cover. */}}
{{- define "provgate.dnsNames" -}}
{{- $svc := include "provgate.fullname" . }}
{{- $ns := .Release.Namespace }}
{{- $names := list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.cluster.local" $svc $ns) }}
{{- concat $names .Values.tls.extraDnsNames | uniq | toJson }}
{{- end }}

{{- define "provgate.tlsSecretName" -}}
{{- if .Values.tls.existingSecret }}
{{- .Values.tls.existingSecret }}
{{- else }}
{{- include "provgate.child" (dict "root" . "suffix" "tls") }}
{{- end }}
{{- end }}

{{/* Namespaces neither the API server nor provgate checks. */}}
{{- define "provgate.exemptNamespaces" -}}
{{- concat (list "kube-system" .Release.Namespace) .Values.webhook.exemptNamespaces | uniq | toJson }}
{{- end }}

{{/*
provgate's request deadline, derived from the webhook timeout so that provgate
always answers (a denial naming the timeout) before the API server gives up and
applies failurePolicy. Rendering fails when the two cannot be kept apart.
*/}}
{{- define "provgate.deadlineMs" -}}
{{- $timeoutMs := mul (int .Values.webhook.timeoutSeconds) 1000 }}
{{- if .Values.mutatingWebhook.enabled }}
{{- $timeoutMs = min $timeoutMs (mul (int .Values.mutatingWebhook.timeoutSeconds) 1000) }}
{{- end }}
{{- $deadline := sub $timeoutMs (int .Values.webhook.deadlineMarginMs) }}
{{- $server := .Values.config.server | default dict }}
{{- if hasKey $server "deadlineMs" }}
{{- $deadline = int $server.deadlineMs }}
{{- end }}
{{- if lt (int .Values.webhook.deadlineMarginMs) 1000 }}
{{- fail (printf "webhook.deadlineMarginMs is %d: keep at least 1000 ms between provgate's deadline and the API server's timeout" (int .Values.webhook.deadlineMarginMs)) }}
{{- end }}
{{- if gt $deadline (sub $timeoutMs 1000) }}
{{- fail (printf "provgate's deadline (%d ms) must be at least 1000 ms below the webhook timeout (%d ms): lower config.server.deadlineMs or raise webhook.timeoutSeconds" $deadline $timeoutMs) }}
{{- end }}
{{- if lt $deadline 100 }}
{{- fail (printf "provgate's deadline would be %d ms (webhook.timeoutSeconds %d minus webhook.deadlineMarginMs %d): it must be at least 100 ms" $deadline (int .Values.webhook.timeoutSeconds) (int .Values.webhook.deadlineMarginMs)) }}
{{- end }}
{{- $deadline }}
{{- end }}

{{/* Where the pod sees what the chart mounts. */}}
{{- define "provgate.paths" -}}
config: /etc/provgate/config
tls: /etc/provgate/tls
trust: /etc/provgate/trust
policy: /etc/provgate/policy
upload: /etc/provgate/upload
clientCA: /etc/provgate/client-ca
registry: /etc/provgate/registry
attestations: /var/lib/provgate/attestations
{{- end }}

{{/* Which policy bundle source is set: image, inline, configMap or url. */}}
{{- define "provgate.policySource" -}}
{{- $b := .Values.policy.bundle }}
{{- $set := list }}
{{- if $b.base64 }}{{ $set = append $set "inline" }}{{ end }}
{{- if $b.existingConfigMap }}{{ $set = append $set "configMap" }}{{ end }}
{{- if $b.url }}{{ $set = append $set "url" }}{{ end }}
{{- if gt (len $set) 1 }}
{{- fail (printf "policy.bundle: set at most one of base64, existingConfigMap, url (got %s)" (join ", " $set)) }}
{{- end }}
{{- if eq (len $set) 0 }}image{{ else }}{{ first $set }}{{ end }}
{{- end }}

{{/* Upload-hook tokens: is there a tokens file to mount? */}}
{{- define "provgate.uploadTokensSecret" -}}
{{- if .Values.upload.existingSecret }}
{{- .Values.upload.existingSecret }}
{{- else if .Values.upload.tokens }}
{{- include "provgate.child" (dict "root" . "suffix" "upload") }}
{{- end }}
{{- end }}

{{- define "provgate.registrySecret" -}}
{{- if .Values.registryCredentials.existingSecret }}
{{- .Values.registryCredentials.existingSecret }}
{{- else if .Values.registryCredentials.dockerConfigJson }}
{{- include "provgate.child" (dict "root" . "suffix" "registry") }}
{{- end }}
{{- end }}

{{/* Registry hosts with a CA, sorted: registry-ca-<index>.pem in the trust ConfigMap. */}}
{{- define "provgate.registryCAs" -}}
{{- $hosts := list }}
{{- range $host := keys .Values.discovery.registry.registries | sortAlpha }}
{{- if (get (get $.Values.discovery.registry.registries $host) "ca") }}{{ $hosts = append $hosts $host }}{{ end }}
{{- end }}
{{- toJson $hosts }}
{{- end }}

{{/* Does the trust ConfigMap hold anything? */}}
{{- define "provgate.hasTrustFiles" -}}
{{- if or .Values.trust.trustedRoots .Values.trust.keys .Values.trust.npmKeys .Values.policy.signingKeys (include "provgate.registryCAs" . | fromJsonArray) }}true{{ end }}
{{- end }}

{{/*
provgate's configuration file (src/config/schema.json), as YAML. Values the
chart owns (listen address, TLS, deadline, file paths) are set here; the rest of
.Values.config passes through.
*/}}
{{- define "provgate.config" -}}
{{- $paths := include "provgate.paths" . | fromYaml }}
{{- $c := deepCopy (.Values.config | default dict) }}
{{- $server := deepCopy ($c.server | default dict) }}
{{- $_ := set $server "host" "0.0.0.0" }}
{{- $_ = set $server "port" (int .Values.containerPort) }}
{{- $_ = set $server "deadlineMs" (include "provgate.deadlineMs" . | int) }}
{{- $tls := dict "certFile" (printf "%s/tls.crt" $paths.tls) "keyFile" (printf "%s/tls.key" $paths.tls) }}
{{- if .Values.upload.clientCA }}
{{- $_ = set $tls "clientCaFile" (printf "%s/ca.crt" $paths.clientCA) }}
{{- end }}
{{- $_ = set $server "tls" $tls }}
{{- $_ = set $c "server" $server }}

{{- /* Trust material. */}}
{{- $trust := dict "includeEmbedded" .Values.trust.includeEmbedded }}
{{- $roots := list }}
{{- range $name := keys .Values.trust.trustedRoots | sortAlpha }}
{{- $roots = append $roots (printf "%s/roots/%s" $paths.trust $name) }}
{{- end }}
{{- $_ = set $trust "trustedRoots" $roots }}
{{- $keys := list }}
{{- range $i, $k := .Values.trust.keys }}
{{- $keys = append $keys (dict "keyId" $k.keyId "path" (printf "%s/keys/key-%d.pem" $paths.trust $i)) }}
{{- end }}
{{- $_ = set $trust "keys" $keys }}
{{- if .Values.trust.npmKeys }}
{{- $npm := list }}
{{- range $name := keys .Values.trust.npmKeys | sortAlpha }}
{{- $npm = append $npm (printf "%s/npm/%s" $paths.trust $name) }}
{{- end }}
{{- $_ = set $trust "npmKeys" $npm }}
{{- end }}
{{- $_ = set $c "trust" $trust }}

{{- /* Policy. */}}
{{- $policy := dict "params" .Values.policy.params "watch" .Values.policy.watch "evaluationBudgetMs" (int .Values.policy.evaluationBudgetMs) }}
{{- $source := include "provgate.policySource" . }}
{{- if ne $source "image" }}
{{- $_ = set $policy "bundle" (printf "%s/bundle.tar.gz" $paths.policy) }}
{{- end }}
{{- $signing := list }}
{{- range $i, $k := .Values.policy.signingKeys }}
{{- $sk := dict "keyId" $k.keyId "path" (printf "%s/policy-keys/key-%d.pem" $paths.trust $i) }}
{{- $_ := set $sk "algorithm" $k.algorithm }}
{{- $signing = append $signing $sk }}
{{- end }}
{{- $_ = set $policy "signingKeys" $signing }}
{{- $_ = set $c "policy" $policy }}

{{- /* Endpoints. */}}
{{- $kube := dict "enabled" .Values.webhook.enabled "mode" .Values.webhook.mode "exemptNamespaces" (include "provgate.exemptNamespaces" . | fromJsonArray) "namespaceModes" .Values.webhook.namespaceModes }}
{{- if .Values.attestationStore.volume }}
{{- $_ = set $kube "attestationStore" $paths.attestations }}
{{- end }}
{{- $upload := dict "enabled" .Values.upload.enabled "mode" .Values.upload.mode "statusStyle" .Values.upload.statusStyle "requireClientCertificate" .Values.upload.requireClientCertificate }}
{{- if include "provgate.uploadTokensSecret" . }}
{{- $_ = set $upload "tokensFile" (printf "%s/tokens" $paths.upload) }}
{{- end }}
{{- if .Values.mutatingWebhook.enabled }}
{{- $_ = set $kube "mutate" true }}
{{- end }}
{{- $admit := dict "enabled" .Values.admit.enabled "mode" .Values.admit.mode }}
{{- $_ = set $c "endpoints" (dict "kubernetes" $kube "upload" $upload "admit" $admit) }}

{{- /* Registry discovery. */}}
{{- $r := .Values.discovery.registry }}
{{- $registry := dict "enabled" $r.enabled "allowedRegistries" $r.allowedRegistries "requestTimeoutMs" (int $r.requestTimeoutMs) "retries" (int $r.retries) "tagTtlSeconds" (int $r.tagTtlSeconds) }}
{{- if include "provgate.registrySecret" . }}
{{- $_ = set $registry "dockerConfig" (printf "%s/config.json" $paths.registry) }}
{{- end }}
{{- $hosts := dict }}
{{- $caHosts := include "provgate.registryCAs" . | fromJsonArray }}
{{- range $host := keys $r.registries | sortAlpha }}
{{- $in := get $r.registries $host }}
{{- $out := dict }}
{{- with (get $in "mirror") }}{{ $_ := set $out "mirror" . }}{{ end }}
{{- range $i, $h := $caHosts }}{{ if eq $h $host }}{{ $_ := set $out "caFile" (printf "%s/registry-ca/%d.pem" $paths.trust $i) }}{{ end }}{{ end }}
{{- $_ = set $hosts $host $out }}
{{- end }}
{{- $_ = set $registry "registries" $hosts }}
{{- $_ = set $c "discovery" (dict "registry" $registry) }}
{{- toYaml $c }}
{{- end }}
