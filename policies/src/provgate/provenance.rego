# SLSA provenance: at least one verified provenance (v0.2 or v1) must meet
# every check below. Each check is written as "the fact is there and is right";
# a missing fact fails it. Source facts come from the certificate first (the
# verification core also reconciled the normalized provenance with it and
# recorded every disagreement).
package provgate

slsa_provenance_types := {"https://slsa.dev/provenance/v0.2", "https://slsa.dev/provenance/v1"}

provenance_indices contains i if {
	some i in verified_indices
	predicate_type(attestations[i]) in slsa_provenance_types
}

# A provenance passes when no check fails, and (belt and braces) its builder
# was positively established.
passing_provenances contains i if {
	some i in provenance_indices
	not has_failure(i)
	has_normalized_provenance(attestations[i])
	builder_established(attestations[i])
}

has_failure(i) if {
	some [j, _] in candidate_failure
	j == i
}

# With require_slsa_provenance false (gh attestation verify with another
# --predicate-type) required_predicate_types says what must be there instead.
deny contains msg if {
	data.provgate.params.require_slsa_provenance == true
	count(attestations) > 0
	count(provenance_indices) == 0
	msg := $"no verified SLSA provenance for {artifact_digest}: expected an attestation with predicate type https://slsa.dev/provenance/v0.2 or https://slsa.dev/provenance/v1 that verified"
}

deny contains msg if {
	count(passing_provenances) == 0
	some [i, reason] in candidate_failure
	msg := candidate_message(i, reason)
}

# Unreachable while every failing provenance has a reason; kept so that a
# future rule that forgets one still denies.
deny contains "no verified SLSA provenance passed the policy" if {
	count(provenance_indices) > 0
	count(passing_provenances) == 0
	count(candidate_failure) == 0
}

# With several provenances, say which one each reason is about.
candidate_message(i, reason) := $"{label(i)}: {reason}" if {
	count(provenance_indices) > 1
} else := reason

# --- The checks, per provenance: candidate_failure contains [index, reason] ---

candidate_failure contains [i, "the attestation carries no normalized SLSA provenance"] if {
	some i in provenance_indices
	not has_normalized_provenance(attestations[i])
}

candidate_failure contains [i, builder_problem(attestations[i])] if {
	some i in provenance_indices
	not builder_established(attestations[i])
}

candidate_failure contains [i, msg] if {
	expected := string_param("builder_id")
	some i in provenance_indices
	id := builder_verdict(attestations[i]).id
	not builder_id_matches(expected, id)
	msg := $"builder {id} does not match builder_id {expected}"
}

# The predicate must not contradict the certificate on any fact both state.
candidate_failure contains [i, disagreement_text(d)] if {
	some i in provenance_indices
	some d in attestations[i].disagreements
}

disagreement_text(d) := $"certificate and provenance disagree on {d.field}: the certificate says {d.certificate}, the provenance says {d.predicate}" if {
	is_string(d.field)
	is_string(d.certificate)
	is_string(d.predicate)
} else := $"certificate and provenance disagree: {json.marshal(d)}"

candidate_failure contains [i, msg] if {
	count(data.provgate.params.allowed_sources) > 0
	some i in provenance_indices
	not source_allowed(attestations[i])
	msg := $"source repository {source_text(attestations[i])} is not in allowed_sources {fmt_list(data.provgate.params.allowed_sources)}"
}

candidate_failure contains [i, msg] if {
	branch := string_param("source_branch")
	some i in provenance_indices
	want := concat("", ["refs/heads/", branch])
	not source_ref_is(attestations[i], want)
	msg := $"source ref {source_ref_text(attestations[i])} is not the branch source_branch requires: {want}"
}

candidate_failure contains [i, msg] if {
	tag := string_param("source_tag")
	some i in provenance_indices
	want := concat("", ["refs/tags/", tag])
	not source_ref_is(attestations[i], want)
	msg := $"source ref {source_ref_text(attestations[i])} is not the tag source_tag requires: {want}"
}

candidate_failure contains [i, msg] if {
	expected := string_param("source_versioned_tag")
	some i in provenance_indices
	not versioned_source_tag_matches(attestations[i], expected)
	msg := $"source ref {source_ref_text(attestations[i])} does not match source_versioned_tag {expected}: {versioned_source_tag_problem(attestations[i], expected)}"
}

candidate_failure contains [i, msg] if {
	some i in provenance_indices
	some name, want in data.provgate.params.workflow_inputs
	not workflow_input_matches(attestations[i], name, want)
	msg := $"workflow input {name}={workflow_input_text(attestations[i], name)} does not match workflow_inputs {name}={want}"
}

candidate_failure contains [i, msg] if {
	data.provgate.params.deny_self_hosted_runners == true
	some i in provenance_indices
	not attestations[i].signer.claims.runnerEnvironment == "github-hosted"
	msg := $"runner {runner_text(attestations[i])} is not GitHub-hosted, as deny_self_hosted_runners requires"
}

candidate_failure contains [i, msg] if {
	count(data.provgate.params.allowed_issuers) > 0
	some i in provenance_indices
	not issuer_allowed(attestations[i])
	msg := $"certificate issuer {issuer_text(attestations[i])} is not in allowed_issuers {fmt_list(data.provgate.params.allowed_issuers)}"
}

candidate_failure contains [i, msg] if {
	count(data.provgate.params.allowed_signers) > 0
	some i in provenance_indices
	not signer_allowed(attestations[i])
	msg := $"certificate signer {signer_text(attestations[i])} matches none of allowed_signers {fmt_list(data.provgate.params.allowed_signers)}"
}

# --- Facts ----------------------------------------------------------------------

has_normalized_provenance(a) if is_object(a.provenance)

issuer_allowed(a) if a.signer.issuer in data.provgate.params.allowed_issuers

source_repository(a) := normalize_repository(u) if {
	u := a.signer.claims.sourceRepositoryUri
	is_string(u)
} else := normalize_repository(concat("", ["https://github.com/", r])) if {
	r := a.signer.claims.githubWorkflowRepository
	is_string(r)
} else := normalize_repository(u) if {
	u := a.provenance.sourceRepositoryUri
	is_string(u)
}

# github.com/o/r, from https://github.com/o/r, git+https://github.com/o/r.git, ...
normalize_repository(u) := trim_suffix(trim_suffix(trim_prefix(trim_prefix(trim_prefix(u, "git+"), "https://"), "http://"), "/"), ".git")

source_allowed(a) if {
	repository := source_repository(a)
	some s in data.provgate.params.allowed_sources
	normalize_repository(s) == repository
}

source_text(a) := s if {
	s := source_repository(a)
} else := "(unknown)"

source_ref(a) := r if {
	r := a.signer.claims.sourceRepositoryRef
	is_string(r)
} else := r if {
	r := a.signer.claims.githubWorkflowRef
	is_string(r)
} else := r if {
	r := a.provenance.sourceRef
	is_string(r)
}

source_ref_is(a, want) if source_ref(a) == want

source_ref_text(a) := r if {
	r := source_ref(a)
} else := "(unknown)"

source_tag(a) := trim_prefix(ref, "refs/tags/") if {
	ref := source_ref(a)
	startswith(ref, "refs/tags/")
}

versioned_source_tag_matches(a, expected) if versioned_tag_matches(expected, source_tag(a))

versioned_source_tag_problem(a, expected) := "that is not a semantic version" if {
	not is_go_semver(expected)
} else := "it is not a tag" if {
	not source_tag(a)
} else := "the tag is not a semantic version" if {
	not semver_canonical(source_tag(a))
} else := p if {
	p := versioned_tag_problem(expected, source_tag(a))
} else := "no match"

workflow_input_matches(a, name, want) if a.provenance.workflowInputs[name] == want

# Inputs of type boolean or number are recorded as JSON values.
workflow_input_matches(a, name, want) if {
	got := a.provenance.workflowInputs[name]
	not is_string(got)
	json.marshal(got) == want
}

workflow_input_text(a, name) := got if {
	got := a.provenance.workflowInputs[name]
	is_string(got)
} else := json.marshal(got) if {
	got := a.provenance.workflowInputs[name]
} else := "(missing)"

signer_allowed(a) if {
	san := a.signer.subjectAlternativeName
	is_string(san)
	some pattern in data.provgate.params.allowed_signers
	regex.match(concat("", ["^(?:", pattern, ")$"]), san)
}

signer_text(a) := s if {
	s := a.signer.subjectAlternativeName
	is_string(s)
} else := "(none: not a certificate)"
