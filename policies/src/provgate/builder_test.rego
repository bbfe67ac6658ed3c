package provgate_test

generator := "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml"

delegator := "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/delegator_lowperms-generic_slsa3.yml"

nodejs_builder := "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_nodejs_slsa3.yml"

# The generic generator's certificate with the signing workflow at another ref.
generator_at(ref) := patched(generic_dispatch, {"signer": {
	"subjectAlternativeName": concat("@", [generator, ref]),
	"claims": {"buildSignerUri": concat("@", [generator, ref])},
}})

ossf_provenance := npm_ossf.attestations[1]

# The BYOB sample with the tool workflow it names changed.
ossf_with_builder(id) := object.union(npm_input(npm_ossf), {"attestations": [
	npm_ossf.attestations[0],
	patched(ossf_provenance, {"provenance": {"builderId": id}}),
]})

# --- slsa-github-generator reusable workflows ---------------------------------------

test_generator_at_release_tag_is_trusted if {
	decide(generic_input([generator_at("refs/tags/v2.1.0")])).allow
}

test_generator_at_a_branch_is_not_trusted if {
	decide(generic_input([generator_at("refs/heads/main")])).deny == [concat("", [
		"builder ", generator,
		" is referenced at refs/heads/main: trusted builders are accepted only at refs/tags/vX.Y.Z",
	])]
}

test_generator_at_a_prerelease_tag_is_not_trusted if {
	not decide(generic_input([generator_at("refs/tags/v2.1.0-rc.0")])).allow
}

test_generator_without_ref_is_not_trusted if {
	att := patched(generic_dispatch, {"signer": {"claims": {"buildSignerUri": generator}}})
	decide(generic_input([att])).deny == [concat("", [
		"builder ", generator,
		" is referenced at no ref: trusted builders are accepted only at refs/tags/vX.Y.Z",
	])]
}

# Certificates from before Fulcio's Build Signer URI claim.
test_builder_falls_back_to_the_san if {
	att := json.patch(generic_dispatch, [{"op": "remove", "path": "/signer/claims/buildSignerUri"}])
	decide(generic_input([att])).allow
	at_branch := json.patch(att, [{"op": "replace", "path": "/signer/subjectAlternativeName", "value": concat("", [generator, "@refs/heads/main"])}])
	not decide(generic_input([at_branch])).allow
}

test_generator_certified_by_another_issuer_is_not_trusted if {
	att := patched(generic_dispatch, {"signer": {"issuer": "https://issuer.example"}})
	decide(generic_input([att])).deny == [concat("", [
		"builder ", generator,
		" was certified by issuer https://issuer.example, expected https://token.actions.githubusercontent.com",
	])]
}

test_untrusted_workflow_on_a_self_hosted_runner_is_not_trusted if {
	att := with_claims(
		patched(generic_dispatch, {"signer": {"subjectAlternativeName": "https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main"}}),
		{"buildSignerUri": "https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main", "runnerEnvironment": "self-hosted"},
	)
	decide(generic_input([att])).deny == ["builder is not trusted: signer https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main is not a trusted builder workflow, and runner https://github.com/actions/runner/self-hosted with issuer https://token.actions.githubusercontent.com is not in trusted_builders"]
}

test_untrusted_workflow_without_runner_claim_is_not_trusted if {
	att := json.patch(generic_dispatch, [
		{"op": "replace", "path": "/signer/claims/buildSignerUri", "value": "https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main"},
		{"op": "remove", "path": "/signer/claims/runnerEnvironment"},
		{"op": "remove", "path": "/signer/issuer"},
	])
	d := decide(generic_input([att]))
	d.deny == ["builder is not trusted: signer https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v2.1.0 is not a trusted builder workflow, and runner (no runner environment claim) with issuer (none) is not in trusted_builders"]
}

test_key_signed_provenance_has_no_trusted_builder if {
	att := json.patch(generic_dispatch, [{"op": "replace", "path": "/signer", "value": {"kind": "key", "keyId": "my-key"}}])
	decide(generic_input([att])).deny == ["the provenance is signed by key my-key, not by a builder's certificate: its builder cannot be established"]
}

test_provenance_without_signer_has_no_trusted_builder if {
	att := object.remove(generic_dispatch, ["signer"])
	decide(generic_input([att])).deny == ["the attestation has no recognizable signer: its builder cannot be established"]
}

test_no_trusted_builders_trusts_nothing if {
	d := decide_with(generic_input([generic_dispatch]), "trusted_builders", [])
	not d.allow
}

# Unlisted, the workflow is just a job on a GitHub-hosted runner (that builder);
# listed, it is the builder itself.
test_extra_trusted_builders_extend_the_list if {
	own := "https://github.com/acme/builders/.github/workflows/build.yml"
	att := with_claims(generic_dispatch, {"buildSignerUri": concat("", [own, "@refs/tags/v1.0.0"])})
	d := decide_with(generic_input([att]), "builder_id", own)
	d.deny == [concat("", ["builder https://github.com/actions/runner/github-hosted does not match builder_id ", own])]
	params := object.union(data.provgate.params, {"builder_id": own, "extra_trusted_builders": [{"id": own, "kind": "reusable_workflow"}]})
	allowed := data.provgate.decision with input as generic_input([att]) with data.provgate.params as params
	allowed.allow
}

# --- GitHub-hosted runners (npm CLI, actions/attest-build-provenance) ----------------

test_npm_cli_provenance_builder_is_the_github_hosted_runner if {
	decide_with(npm_input(npm_gundam), "builder_id", "https://github.com/actions/runner/github-hosted").allow
	decide_with(npm_input(npm_supreme), "builder_id", "https://github.com/actions/runner/github-hosted").allow
}

test_custom_issuer_runner_is_not_trusted_by_default if {
	decide(subject_input(gh_custom_issuer)).deny == ["builder is not trusted: signer https://github.com/too-legit/attest/.github/workflows/integration.yml@refs/heads/main is not a trusted builder workflow, and runner https://github.com/actions/runner/github-hosted with issuer https://token.actions.githubusercontent.com/hammer-time is not in trusted_builders"]
}

test_custom_issuer_runner_trusted_by_an_extra_builder if {
	extra := [{
		"id": "https://github.com/actions/runner/github-hosted",
		"kind": "github_runner",
		"issuer": "https://token.actions.githubusercontent.com/hammer-time",
	}]
	decide_with(subject_input(gh_custom_issuer), "extra_trusted_builders", extra).allow
}

# --- BYOB: a delegator signs for the tool workflow that called it ---------------------

test_byob_nodejs_builder_is_trusted if {
	decide(npm_input(npm_ossf)).allow
}

test_byob_builder_id_is_the_tool_workflow if {
	decide_with(npm_input(npm_ossf), "builder_id", nodejs_builder).allow
	decide_with(npm_input(npm_ossf), "builder_id", concat("", [nodejs_builder, "@v1.6.0"])).allow
	decide_with(npm_input(npm_ossf), "builder_id", concat("", [nodejs_builder, "@refs/tags/v1.6.0"])).allow
	not decide_with(npm_input(npm_ossf), "builder_id", delegator).allow
}

test_byob_untrusted_tool_workflow_is_not_trusted if {
	d := decide(ossf_with_builder("https://github.com/evil/tool/.github/workflows/builder.yml@refs/tags/v1.0.0"))
	d.deny == [concat("", [
		"BYOB builder https://github.com/evil/tool/.github/workflows/builder.yml@refs/tags/v1.0.0 (delegated through ",
		delegator, "@refs/tags/v1.6.0) is not a trusted_builders reusable_workflow at refs/tags/vX.Y.Z",
	])]
}

test_byob_tool_workflow_at_a_branch_is_not_trusted if {
	not decide(ossf_with_builder(concat("", [nodejs_builder, "@refs/heads/main"]))).allow
}

test_byob_without_tool_workflow_is_not_trusted if {
	att := json.patch(ossf_provenance, [{"op": "remove", "path": "/provenance/builderId"}])
	d := decide(object.union(npm_input(npm_ossf), {"attestations": [npm_ossf.attestations[0], att]}))
	d.deny == [concat("", [
		"BYOB builder (none named) (delegated through ", delegator,
		"@refs/tags/v1.6.0) is not a trusted_builders reusable_workflow at refs/tags/vX.Y.Z",
	])]
}

test_byob_delegator_at_a_branch_is_not_trusted if {
	att := with_claims(ossf_provenance, {"buildSignerUri": concat("", [delegator, "@refs/heads/main"])})
	d := decide(object.union(npm_input(npm_ossf), {"attestations": [npm_ossf.attestations[0], att]}))
	d.deny == [concat("", ["BYOB delegator ", delegator, " is referenced at refs/heads/main: trusted builders are accepted only at refs/tags/vX.Y.Z"])]
}

test_byob_delegator_certified_by_another_issuer_is_not_trusted if {
	att := patched(ossf_provenance, {"signer": {"issuer": "https://issuer.example"}})
	d := decide(object.union(npm_input(npm_ossf), {"attestations": [npm_ossf.attestations[0], att]}))
	d.deny == [concat("", ["BYOB delegator ", delegator, " was certified by issuer https://issuer.example, expected https://token.actions.githubusercontent.com"])]
}

# --- builder_id (slsa-verifier --builder-id) ---------------------------------------------

test_builder_id_matches_name_version_or_tag if {
	every id in [generator, concat("", [generator, "@v2.1.0"]), concat("", [generator, "@refs/tags/v2.1.0"])] {
		decide_with(generic_input([generic_dispatch]), "builder_id", id).allow
	}
}

test_builder_id_other_version_denies if {
	d := decide_with(generic_input([generic_dispatch]), "builder_id", concat("", [generator, "@v2.0.0"]))
	d.deny == [concat("", ["builder ", generator, "@refs/tags/v2.1.0 does not match builder_id ", generator, "@v2.0.0"])]
}

test_builder_id_not_trusted_workflow_denies if {
	not_trusted := "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/not-trusted.yml"
	d := decide_with(generic_input([generic_dispatch]), "builder_id", not_trusted)
	d.deny == [concat("", ["builder ", generator, "@refs/tags/v2.1.0 does not match builder_id ", not_trusted])]
}

test_builder_id_runner_with_a_version_denies if {
	not decide_with(npm_input(npm_gundam), "builder_id", "https://github.com/actions/runner/github-hosted@v1").allow
}
