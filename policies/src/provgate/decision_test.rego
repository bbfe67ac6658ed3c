package provgate_test

import data.provgate

# The decision for an input, with the bundle's default parameters.
decide(request) := d if {
	d := provgate.decision with input as request
}

# Overrides one parameter over the defaults, as provgate merges configuration.
decide_with(request, name, value) := d if {
	params := object.union(data.provgate.params, {name: value})
	d := provgate.decision with input as request with data.provgate.params as params
}

# Recursive merge: a fixture with some facts changed.
patched(attestation, patch) := object.union(attestation, patch)

with_claims(attestation, claims) := patched(attestation, {"signer": {"claims": claims}})

no_source_warning := "accepting any source repository: no allowed_sources are configured"

test_generic_sample_is_allowed_with_defaults if {
	decide(generic_input([generic_dispatch])) == {"allow": true, "deny": [], "warn": [no_source_warning]}
}

test_decision_has_the_contract_shape if {
	d := decide(generic_input([]))
	object.keys(d) == {"allow", "deny", "warn"}
	is_boolean(d.allow)
	is_array(d.deny)
	is_array(d.warn)
}

test_no_attestations_denies if {
	decide(generic_input([])) == {
		"allow": false,
		"deny": [concat("", ["no attestation found for sha256:", generic_digest])],
		"warn": [],
	}
}

test_no_provenance_among_attestations_denies if {
	spdx := patched(generic_dispatch, {"predicateType": "https://spdx.dev/Document", "statement": {"predicateType": "https://spdx.dev/Document"}})
	d := decide(generic_input([object.remove(spdx, ["provenance"])]))
	concat("", [
		"no verified SLSA provenance for sha256:", generic_digest,
		": expected an attestation with predicate type https://slsa.dev/provenance/v0.2 or https://slsa.dev/provenance/v1 that verified",
	]) in d.deny
}

test_require_slsa_provenance_false_lets_required_predicate_types_decide if {
	spdx := object.remove(
		patched(generic_dispatch, {"predicateType": "https://spdx.dev/Document", "statement": {"predicateType": "https://spdx.dev/Document"}}),
		["provenance"],
	)
	params := object.union(data.provgate.params, {
		"require_slsa_provenance": false,
		"required_predicate_types": ["https://spdx.dev/Document"],
	})
	d := provgate.decision with input as generic_input([spdx]) with data.provgate.params as params
	d.allow
	missing := provgate.decision with input as generic_input([spdx])
		with data.provgate.params as object.union(params, {"required_predicate_types": ["https://example.com/other"]})
	not missing.allow
}

test_no_input_denies if {
	d := provgate.decision
	not d.allow
	"input.attestations must be a list of attestation outcomes" in d.deny
	"input.artifact.digests has neither a sha256 nor a sha512 digest" in d.deny
}

test_attestations_not_a_list_denies if {
	d := decide(object.union(generic_input([]), {"attestations": {"0": generic_dispatch}}))
	not d.allow
	"input.attestations must be a list of attestation outcomes" in d.deny
}

test_artifact_without_digest_denies if {
	d := decide({"artifact": {"name": "x", "digests": {}}, "attestations": [generic_dispatch]})
	not d.allow
	"input.artifact.digests has neither a sha256 nor a sha512 digest" in d.deny
	"attestation binary-linux-amd64-workflow_dispatch.intoto.jsonl document is about sha256:376e7e01348585b6e6643bc6663146b9d525d9b41228bf180eaeb4d4a3706caa, not the artifact an artifact without a digest" in d.deny
}

test_sha512_artifact_is_named_by_its_sha512 if {
	d := decide({"artifact": {"name": "x", "digests": {"sha512": "ab"}}, "attestations": []})
	d.deny == ["no attestation found for sha512:ab"]
}

test_failed_attestation_denies_with_code_and_message if {
	failed := {
		"source": "gundam-visor-cli-v1-tag-invalidsigprov.tgz.json attestations[1]",
		"verified": false,
		"error": {"code": "SIGNATURE_INVALID", "message": "the DSSE envelope signature does not verify with the signing key"},
	}
	d := decide(generic_input([generic_dispatch, failed]))
	d == {
		"allow": false,
		"deny": ["attestation gundam-visor-cli-v1-tag-invalidsigprov.tgz.json attestations[1] failed verification: SIGNATURE_INVALID: the DSSE envelope signature does not verify with the signing key"],
		"warn": [],
	}
}

test_failed_attestation_is_a_warning_when_not_denied if {
	failed := {"source": "b.json", "verified": false, "error": {"code": "SIGNATURE_INVALID", "message": "bad"}}
	d := decide_with(generic_input([generic_dispatch, failed]), "deny_failed_attestations", false)
	d.allow
	"ignored (deny_failed_attestations is false): attestation b.json failed verification: SIGNATURE_INVALID: bad" in d.warn
	only_failed := decide_with(generic_input([failed]), "deny_failed_attestations", false)
	not only_failed.allow
}

test_malformed_outcome_denies if {
	d := decide(generic_input([generic_dispatch, "garbage"]))
	d.deny == ["attestation attestations[1] failed verification: (not given): (not given)"]
}

test_subject_of_another_artifact_denies if {
	other := patched(generic_dispatch, {"subject": {"digest": "00"}})
	d := decide(generic_input([other]))
	not d.allow
	"attestation binary-linux-amd64-workflow_dispatch.intoto.jsonl document is about sha256:00, not the artifact sha256:376e7e01348585b6e6643bc6663146b9d525d9b41228bf180eaeb4d4a3706caa" in d.deny
}

test_subject_without_digest_denies if {
	other := object.remove(generic_dispatch, ["subject"])
	d := decide(generic_input([other]))
	not d.allow
	"attestation binary-linux-amd64-workflow_dispatch.intoto.jsonl document is about an unknown subject, not the artifact sha256:376e7e01348585b6e6643bc6663146b9d525d9b41228bf180eaeb4d4a3706caa" in d.deny
}

test_predicate_type_from_the_statement if {
	att := object.union(object.remove(generic_dispatch, ["predicateType"]), {"statement": {"predicateType": "https://slsa.dev/provenance/v0.2"}})
	decide(generic_input([att])).allow
}

test_unknown_predicate_type_is_not_provenance if {
	att := object.remove(generic_dispatch, ["predicateType"])
	d := decide(generic_input([att]))
	not d.allow
	startswith(d.deny[0], "no verified SLSA provenance")
}

test_required_predicate_type_present_allows if {
	decide_with(generic_input([generic_dispatch]), "required_predicate_types", ["https://slsa.dev/provenance/v0.2"]).allow
}

test_required_predicate_type_missing_denies if {
	d := decide_with(generic_input([generic_dispatch]), "required_predicate_types", ["https://spdx.dev/Document"])
	d.deny == [concat("", ["no verified attestation with predicate type https://spdx.dev/Document for sha256:", generic_digest, " (required_predicate_types)"])]
}

test_allowed_sources_set_removes_the_warning if {
	d := decide_with(generic_input([generic_dispatch]), "allowed_sources", ["github.com/slsa-framework/example-package"])
	d == {"allow": true, "deny": [], "warn": []}
}

test_denied_decision_has_no_source_warning if {
	d := decide_with(generic_input([generic_dispatch]), "source_branch", "master")
	d.warn == []
}

# With several provenances, one that passes is enough.
test_one_passing_provenance_of_two_allows if {
	d := decide_with(generic_input([generic_v13_0_30, generic_dispatch]), "source_branch", "main")
	d.allow
}

test_reasons_name_the_provenance_when_there_are_several if {
	d := decide_with(generic_input([generic_v13_0_30, generic_dispatch]), "source_branch", "master")
	d.deny == [
		"binary-linux-amd64-push-v13.0.30.intoto.jsonl document: source ref refs/tags/v13.0.30 is not the branch source_branch requires: refs/heads/master",
		"binary-linux-amd64-workflow_dispatch.intoto.jsonl document: source ref refs/heads/main is not the branch source_branch requires: refs/heads/master",
	]
}

test_source_label_defaults_to_the_index if {
	att := object.remove(generic_dispatch, ["source"])
	d := decide_with(generic_input([generic_v13_0_30, att]), "source_branch", "master")
	"attestations[1]: source ref refs/heads/main is not the branch source_branch requires: refs/heads/master" in d.deny
}

test_provenance_without_normalized_facts_denies if {
	att := object.remove(generic_dispatch, ["provenance"])
	d := decide(generic_input([att]))
	d.deny == ["the attestation carries no normalized SLSA provenance"]
}

test_disagreement_between_certificate_and_predicate_denies if {
	att := patched(generic_dispatch, {"disagreements": [{"field": "sourceRef", "certificate": "refs/heads/main", "predicate": "refs/heads/release"}]})
	d := decide(generic_input([att]))
	d.deny == ["certificate and provenance disagree on sourceRef: the certificate says refs/heads/main, the provenance says refs/heads/release"]
}

test_malformed_disagreement_still_denies if {
	att := patched(generic_dispatch, {"disagreements": [{"field": "sourceRef"}]})
	d := decide(generic_input([att]))
	d.deny == [`certificate and provenance disagree: {"field":"sourceRef"}`]
}

# Were a failing check ever to give no reason, the decision still denies.
test_provenance_without_reasons_still_denies if {
	att := json.patch(generic_dispatch, [{"op": "replace", "path": "/signer", "value": {"kind": "key", "keyId": "k"}}])
	d := provgate.decision with input as generic_input([att]) with provgate.candidate_failure as set()
	d.deny == ["no verified SLSA provenance passed the policy"]
}
