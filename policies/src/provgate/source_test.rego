package provgate_test

# The generic-v2.1.0 expectations of test/fixtures/SOURCES.md (slsa-verifier's own tests).

example_package := "github.com/slsa-framework/example-package"

# --- allowed_sources (slsa-verifier --source-uri) ---------------------------------------

test_source_allowed if {
	decide_with(generic_input([generic_dispatch]), "allowed_sources", [example_package]).allow
}

test_source_allowed_in_any_url_form if {
	every source in [
		"https://github.com/slsa-framework/example-package",
		"git+https://github.com/slsa-framework/example-package.git",
		"github.com/slsa-framework/example-package/",
	] {
		decide_with(generic_input([generic_dispatch]), "allowed_sources", [source]).allow
	}
}

test_source_of_another_repository_denies if {
	d := decide_with(generic_input([generic_dispatch]), "allowed_sources", ["github.com/slsa-framework/other-package", "github.com/c/d"])
	d.deny == ["source repository github.com/slsa-framework/example-package is not in allowed_sources [github.com/slsa-framework/other-package, github.com/c/d]"]
}

test_source_is_not_a_prefix_match if {
	not decide_with(generic_input([generic_dispatch]), "allowed_sources", ["github.com/slsa-framework/example"]).allow
}

test_source_from_the_older_workflow_repository_claim if {
	att := json.patch(generic_dispatch, [{"op": "remove", "path": "/signer/claims/sourceRepositoryUri"}])
	decide_with(generic_input([att]), "allowed_sources", [example_package]).allow
}

test_source_from_the_provenance_without_claims if {
	att := json.patch(generic_dispatch, [
		{"op": "remove", "path": "/signer/claims/sourceRepositoryUri"},
		{"op": "remove", "path": "/signer/claims/githubWorkflowRepository"},
	])
	decide_with(generic_input([att]), "allowed_sources", [example_package]).allow
}

test_unknown_source_denies if {
	att := json.patch(generic_dispatch, [
		{"op": "remove", "path": "/signer/claims/sourceRepositoryUri"},
		{"op": "remove", "path": "/signer/claims/githubWorkflowRepository"},
		{"op": "remove", "path": "/provenance/sourceRepositoryUri"},
	])
	d := decide_with(generic_input([att]), "allowed_sources", [example_package])
	d.deny == ["source repository (unknown) is not in allowed_sources [github.com/slsa-framework/example-package]"]
}

# --- source_branch ------------------------------------------------------------------------

test_branch_main_passes if {
	decide_with(generic_input([generic_dispatch]), "source_branch", "main").allow
}

test_branch_master_fails if {
	d := decide_with(generic_input([generic_dispatch]), "source_branch", "master")
	d.deny == ["source ref refs/heads/main is not the branch source_branch requires: refs/heads/master"]
}

test_branch_of_a_tag_build_fails if {
	not decide_with(generic_input([generic_v13_0_30]), "source_branch", "main").allow
}

test_branch_with_unknown_ref_fails if {
	att := json.patch(generic_dispatch, [
		{"op": "remove", "path": "/signer/claims/sourceRepositoryRef"},
		{"op": "remove", "path": "/signer/claims/githubWorkflowRef"},
		{"op": "remove", "path": "/provenance/sourceRef"},
	])
	d := decide_with(generic_input([att]), "source_branch", "main")
	d.deny == ["source ref (unknown) is not the branch source_branch requires: refs/heads/main"]
}

test_ref_from_the_older_workflow_ref_claim if {
	att := json.patch(generic_dispatch, [{"op": "remove", "path": "/signer/claims/sourceRepositoryRef"}])
	decide_with(generic_input([att]), "source_branch", "main").allow
}

test_ref_from_the_provenance_without_claims if {
	att := json.patch(generic_dispatch, [
		{"op": "remove", "path": "/signer/claims/sourceRepositoryRef"},
		{"op": "remove", "path": "/signer/claims/githubWorkflowRef"},
	])
	decide_with(generic_input([att]), "source_branch", "main").allow
}

# --- source_tag ---------------------------------------------------------------------------

test_tag_v13_0_30_passes if {
	decide_with(generic_input([generic_v13_0_30]), "source_tag", "v13.0.30").allow
}

test_tag_v13_0_29_fails if {
	d := decide_with(generic_input([generic_v13_0_30]), "source_tag", "v13.0.29")
	d.deny == ["source ref refs/tags/v13.0.30 is not the tag source_tag requires: refs/tags/v13.0.29"]
}

test_tag_of_a_branch_build_fails if {
	d := decide_with(generic_input([generic_dispatch]), "source_tag", "v13.0.30")
	d.deny == ["source ref refs/heads/main is not the tag source_tag requires: refs/tags/v13.0.30"]
}

# --- source_versioned_tag (slsa-verifier --source-versioned-tag) -------------------------

versioned(attestation, tag) := decide_with(generic_input([attestation]), "source_versioned_tag", tag)

# slsa-verifier's cases (cli/slsa-verifier/main_test.go), plus a few of ours.
test_versioned_tag_v13_0_30_matrix if {
	every tag in ["v13", "v13.0", "v13.0.30", "v13.0.30+build"] {
		versioned(generic_v13_0_30, tag).allow
	}

	# Go's quirk, kept: the patch is the third "."-separated field, so a build
	# suffix with a dot ("+build.5") is not trimmed from it.
	every tag in ["v2", "v0", "v13.1", "v12.9", "v13.0.29", "v13.0.31", "v14", "v13.0.30-rc.1", "v13.0.30+build.5"] {
		not versioned(generic_v13_0_30, tag).allow
	}
}

test_versioned_tag_v14_matrix if {
	every tag in ["v14", "v14.0", "v14.0.0"] {
		versioned(generic_v14, tag).allow
	}
	every tag in ["v14.1", "v13", "v15", "v13.2", "v0", "v14.2", "v14.0.1"] {
		not versioned(generic_v14, tag).allow
	}
}

test_versioned_tag_v14_2_matrix if {
	every tag in ["v14.2", "v14", "v14.2.0"] {
		versioned(generic_v14_2, tag).allow
	}
	every tag in ["v14.2.1", "v14.2.3", "v14.1", "v14.1.1", "v14.3.1", "v13", "v15", "v15.1"] {
		not versioned(generic_v14_2, tag).allow
	}
}

test_versioned_tag_messages if {
	versioned(generic_v13_0_30, "v13.1").deny == ["source ref refs/tags/v13.0.30 does not match source_versioned_tag v13.1: minor version expected 1, got 0"]
	versioned(generic_v13_0_30, "v12.9").deny == ["source ref refs/tags/v13.0.30 does not match source_versioned_tag v12.9: major version expected v12, got v13"]
	versioned(generic_v13_0_30, "v13.0.31").deny == ["source ref refs/tags/v13.0.30 does not match source_versioned_tag v13.0.31: patch version expected 31, got 30"]
	versioned(generic_dispatch, "v13").deny == ["source ref refs/heads/main does not match source_versioned_tag v13: it is not a tag"]
}

test_versioned_tag_of_a_non_semver_tag_fails if {
	att := with_claims(generic_v13_0_30, {"sourceRepositoryRef": "refs/tags/release-13"})
	versioned(att, "v13").deny == ["source ref refs/tags/release-13 does not match source_versioned_tag v13: the tag is not a semantic version"]
}

test_invalid_versioned_tag_parameter_denies if {
	d := versioned(generic_v13_0_30, "13")
	not d.allow
	"parameter source_versioned_tag 13 is not a semantic version vMAJOR[.MINOR[.PATCH]]" in d.deny
	"source ref refs/tags/v13.0.30 does not match source_versioned_tag 13: that is not a semantic version" in d.deny
}

# --- workflow_inputs (slsa-verifier --build-workflow-input) ------------------------------

with_inputs := patched(generic_dispatch, {"provenance": {"workflowInputs": {"release_version": "v1.2.3", "dry_run": false}}})

test_workflow_inputs_match if {
	decide_with(generic_input([with_inputs]), "workflow_inputs", {"release_version": "v1.2.3", "dry_run": "false"}).allow
}

test_workflow_input_mismatch_denies if {
	d := decide_with(generic_input([with_inputs]), "workflow_inputs", {"release_version": "v2", "dry_run": "true"})
	d.deny == [
		"workflow input dry_run=false does not match workflow_inputs dry_run=true",
		"workflow input release_version=v1.2.3 does not match workflow_inputs release_version=v2",
	]
}

test_workflow_input_missing_denies if {
	d := decide_with(generic_input([generic_dispatch]), "workflow_inputs", {"release_version": "v1.2.3"})
	d.deny == ["workflow input release_version=(missing) does not match workflow_inputs release_version=v1.2.3"]
}

# --- deny_self_hosted_runners -------------------------------------------------------------

test_github_hosted_runner_passes_deny_self_hosted if {
	decide_with(generic_input([generic_dispatch]), "deny_self_hosted_runners", true).allow
}

test_self_hosted_runner_denied if {
	own := "https://github.com/acme/builders/.github/workflows/build.yml"
	att := with_claims(generic_dispatch, {"buildSignerUri": concat("", [own, "@refs/tags/v1.0.0"]), "runnerEnvironment": "self-hosted"})
	params := object.union(data.provgate.params, {
		"deny_self_hosted_runners": true,
		"extra_trusted_builders": [{"id": own, "kind": "reusable_workflow"}],
	})
	d := data.provgate.decision with input as generic_input([att]) with data.provgate.params as params
	d.deny == ["runner https://github.com/actions/runner/self-hosted is not GitHub-hosted, as deny_self_hosted_runners requires"]
	allowed := data.provgate.decision with input as generic_input([att]) with data.provgate.params.extra_trusted_builders as params.extra_trusted_builders
	allowed.allow
}

test_missing_runner_claim_denied_when_self_hosted_denied if {
	att := json.patch(generic_dispatch, [{"op": "remove", "path": "/signer/claims/runnerEnvironment"}])
	d := decide_with(generic_input([att]), "deny_self_hosted_runners", true)
	"runner (no runner environment claim) is not GitHub-hosted, as deny_self_hosted_runners requires" in d.deny
}

# --- allowed_issuers, allowed_signers --------------------------------------------------------

test_allowed_issuer_passes if {
	decide_with(generic_input([generic_dispatch]), "allowed_issuers", ["https://token.actions.githubusercontent.com"]).allow
}

test_other_issuer_denied if {
	d := decide_with(generic_input([generic_dispatch]), "allowed_issuers", ["https://accounts.google.com"])
	d.deny == ["certificate issuer https://token.actions.githubusercontent.com is not in allowed_issuers [https://accounts.google.com]"]
}

test_missing_issuer_denied if {
	att := json.patch(generic_dispatch, [{"op": "remove", "path": "/signer/issuer"}])
	d := decide_with(generic_input([att]), "allowed_issuers", ["https://token.actions.githubusercontent.com"])
	"certificate issuer (none) is not in allowed_issuers [https://token.actions.githubusercontent.com]" in d.deny
}

test_allowed_signer_regex_passes if {
	signers := [`https://github\.com/slsa-framework/slsa-github-generator/\.github/workflows/.+@refs/tags/v.+`]
	decide_with(generic_input([generic_dispatch]), "allowed_signers", signers).allow
}

test_allowed_signers_are_anchored if {
	d := decide_with(generic_input([generic_dispatch]), "allowed_signers", ["slsa-github-generator", "https://github.com/slsa-framework"])
	d.deny == ["certificate signer https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v2.1.0 matches none of allowed_signers [slsa-github-generator, https://github.com/slsa-framework]"]
}

test_allowed_signers_alternation_is_anchored_as_a_whole if {
	not decide_with(generic_input([generic_dispatch]), "allowed_signers", ["x|https://github.com/slsa-framework/.*@refs/tags/v2.1.0.extra"]).allow
	decide_with(generic_input([generic_dispatch]), "allowed_signers", ["x|https://github.com/slsa-framework/.*"]).allow
}

test_key_signer_matches_no_allowed_signer if {
	att := json.patch(generic_dispatch, [{"op": "replace", "path": "/signer", "value": {"kind": "key", "keyId": "k"}}])
	d := decide_with(generic_input([att]), "allowed_signers", [".*"])
	"certificate signer (none: not a certificate) matches none of allowed_signers [.*]" in d.deny
}
