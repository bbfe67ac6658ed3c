# provgate's default policy. An artifact is admitted only with a verified SLSA
# provenance from a trusted builder that meets every configured parameter
# (data.provgate.params, see policies/README.md); any attestation that failed
# verification denies. Deny by default: allow is true only when no rule denies,
# and every check is written so that a missing fact fails it.
package provgate

# METADATA
# title: decision
# description: The decision provgate enforces, {"allow", "deny", "warn"}.
# entrypoint: true
decision := {
	"allow": count(deny) == 0,
	"deny": sort(deny),
	"warn": sort(warn),
}

warn contains "accepting any source repository: no allowed_sources are configured" if {
	count(data.provgate.params.allowed_sources) == 0
	count(deny) == 0
}

# --- The input ----------------------------------------------------------------

# Attestation outcomes in input order; a malformed input has none (and is denied).
attestations := input.attestations if {
	is_array(input.attestations)
} else := []

verified_indices contains i if {
	some i, a in attestations
	a.verified == true
}

# How an attestation is named in messages: where provgate found it.
label(i) := s if {
	s := attestations[i].source
	is_string(s)
} else := $"attestations[{i}]"

predicate_type(a) := t if {
	t := a.predicateType
	is_string(t)
} else := t if {
	t := a.statement.predicateType
	is_string(t)
} else := ""

artifact_digest := $"sha256:{d}" if {
	d := input.artifact.digests.sha256
	is_string(d)
} else := $"sha512:{d}" if {
	d := input.artifact.digests.sha512
	is_string(d)
} else := "an artifact without a digest"

# "[a, b]", as deny messages show what was expected.
fmt_list(xs) := $"[{concat(", ", xs)}]"

deny contains "input.attestations must be a list of attestation outcomes" if {
	not attestations_listed
}

# Beware `not f(x)` where x may be undefined: OPA evaluates the argument
# outside the negation, so the whole expression is undefined, not true. Such
# checks go through a helper rule, as here.
attestations_listed if is_array(input.attestations)

deny contains "input.artifact.digests has neither a sha256 nor a sha512 digest" if {
	not artifact_has_digest
}

artifact_has_digest if is_string(input.artifact.digests.sha256)

artifact_has_digest if is_string(input.artifact.digests.sha512)

# --- Verification outcomes ------------------------------------------------------

deny contains $"no attestation found for {artifact_digest}" if {
	attestations_listed
	count(attestations) == 0
}

# An attestation that failed verification denies, whatever else verified: a
# tampered bundle next to a good one is an attack, not noise. With
# deny_failed_attestations false (gh attestation verify's behaviour) it is a
# warning, and the verified ones must still satisfy everything else.
deny contains msg if {
	data.provgate.params.deny_failed_attestations == true
	some i, a in attestations
	not a.verified == true
	msg := failed_message(i, a)
}

warn contains $"ignored (deny_failed_attestations is false): {failed_message(i, a)}" if {
	data.provgate.params.deny_failed_attestations == false
	some i, a in attestations
	not a.verified == true
}

failed_message(i, a) := $"attestation {label(i)} failed verification: {error_field(a, "code")}: {error_field(a, "message")}"

error_field(a, name) := v if {
	v := a.error[name]
	is_string(v)
} else := "(not given)"

# Verification already matched each subject to the artifact; checked again so
# that a host bug cannot admit an attestation about something else.
deny contains msg if {
	some i in verified_indices
	not subject_matches_artifact(attestations[i])
	msg := $"attestation {label(i)} is about {subject_text(attestations[i])}, not the artifact {artifact_digest}"
}

subject_matches_artifact(a) if {
	alg := a.subject.algorithm
	alg in {"sha256", "sha512"}
	lower(a.subject.digest) == lower(input.artifact.digests[alg])
}

subject_text(a) := $"{a.subject.algorithm}:{a.subject.digest}" if {
	is_string(a.subject.algorithm)
	is_string(a.subject.digest)
} else := "an unknown subject"

# --- Required predicate types -----------------------------------------------------

deny contains msg if {
	some t in data.provgate.params.required_predicate_types
	not has_verified_predicate(t)
	msg := $"no verified attestation with predicate type {t} for {artifact_digest} (required_predicate_types)"
}

has_verified_predicate(t) if {
	some i in verified_indices
	predicate_type(attestations[i]) == t
}
