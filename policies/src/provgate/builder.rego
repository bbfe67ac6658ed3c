# Who built the artifact, judged from the Fulcio certificate, never from the
# signer-controlled predicate alone (SLSA v1.0 "verifying artifacts": the
# builder identity comes from how the provenance was authenticated).
#
# - A trusted reusable workflow (slsa-github-generator) signs its own
#   provenance: the certificate's Build Signer URI is the builder, and it must
#   be pinned to a release tag refs/tags/vX.Y.Z.
# - A trusted BYOB delegator signs for the tool workflow that called it and
#   names it in the predicate: that tool workflow must itself be a trusted
#   reusable workflow at a release tag.
# - Otherwise the builder is the GitHub Actions runner the certificate names
#   (npm CLI and actions/attest-build-provenance provenance):
#   https://github.com/actions/runner/<Runner Environment claim>.
package provgate

github_actions_issuer := "https://token.actions.githubusercontent.com"

github_runner_prefix := "https://github.com/actions/runner/"

# slsa-verifier's rule for builder refs: a full vX.Y.Z, no pre-release or build.
release_tag_ref := `^refs/tags/v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$`

builders := array.concat(data.provgate.params.trusted_builders, data.provgate.params.extra_trusted_builders)

entry_issuer(e) := e.issuer if {
	is_string(e.issuer)
} else := github_actions_issuer

# "<uri>@<ref>" as [uri, ref]; ref is "" when there is no "@".
split_at_ref(s) := [substring(s, 0, n), substring(s, n + 1, (count(s) - n) - 1)] if {
	n := indexof(s, "@")
	n >= 0
} else := [s, ""]

signer_workflow(a) := u if {
	u := a.signer.claims.buildSignerUri
	is_string(u)
} else := a.signer.subjectAlternativeName

workflow_entries(uri, kind) := [e | some e in builders; e.kind == kind; e.id == uri]

# {"id": builder id} when the certificate establishes a trusted builder,
# {"problem": why not} otherwise.
builder_verdict(a) := v if {
	a.signer.kind == "certificate"
	[uri, ref] := split_at_ref(signer_workflow(a))
	entries := workflow_entries(uri, "reusable_workflow")
	count(entries) > 0
	v := reusable_workflow_verdict(a, entries, uri, ref)
} else := v if {
	a.signer.kind == "certificate"
	[uri, ref] := split_at_ref(signer_workflow(a))
	entries := workflow_entries(uri, "byob_delegator")
	count(entries) > 0
	v := delegator_verdict(a, entries, uri, ref)
} else := v if {
	a.signer.kind == "certificate"
	v := runner_verdict(a)
} else := {"problem": msg} if {
	a.signer.kind == "key"
	msg := $"the provenance is signed by key {a.signer.keyId}, not by a builder's certificate: its builder cannot be established"
} else := {"problem": "the attestation has no recognizable signer: its builder cannot be established"}

reusable_workflow_verdict(a, entries, uri, ref) := {"problem": msg} if {
	not issuer_matches(a, entries)
	msg := $"builder {uri} was certified by issuer {issuer_text(a)}, expected {entry_issuer(entries[0])}"
} else := {"problem": msg} if {
	not regex.match(release_tag_ref, ref)
	msg := $"builder {uri} is referenced at {ref_text(ref)}: trusted builders are accepted only at refs/tags/vX.Y.Z"
} else := {"id": concat("@", [uri, ref])}

delegator_verdict(a, entries, uri, ref) := {"problem": msg} if {
	not issuer_matches(a, entries)
	msg := $"BYOB delegator {uri} was certified by issuer {issuer_text(a)}, expected {entry_issuer(entries[0])}"
} else := {"problem": msg} if {
	not regex.match(release_tag_ref, ref)
	msg := $"BYOB delegator {uri} is referenced at {ref_text(ref)}: trusted builders are accepted only at refs/tags/vX.Y.Z"
} else := {"problem": msg} if {
	not trusted_tool_workflow(a)
	msg := $"BYOB builder {tool_text(a)} (delegated through {uri}@{ref}) is not a trusted_builders reusable_workflow at refs/tags/vX.Y.Z"
} else := {"id": a.provenance.builderId}

# The tool workflow a delegator signed for, named in the predicate.
trusted_tool_workflow(a) if {
	id := a.provenance.builderId
	is_string(id)
	[uri, ref] := split_at_ref(id)
	count(workflow_entries(uri, "reusable_workflow")) > 0
	regex.match(release_tag_ref, ref)
}

runner_verdict(a) := {"id": id} if {
	env := a.signer.claims.runnerEnvironment
	is_string(env)
	id := concat("", [github_runner_prefix, env])
	some e in builders
	e.kind == "github_runner"
	e.id == id
	entry_issuer(e) == a.signer.issuer
} else := {"problem": msg} if {
	msg := $"builder is not trusted: signer {signer_text(a)} is not a trusted builder workflow, and runner {runner_text(a)} with issuer {issuer_text(a)} is not in trusted_builders"
}

issuer_matches(a, entries) if {
	some e in entries
	entry_issuer(e) == a.signer.issuer
}

issuer_text(a) := s if {
	s := a.signer.issuer
	is_string(s)
} else := "(none)"

runner_text(a) := concat("", [github_runner_prefix, env]) if {
	env := a.signer.claims.runnerEnvironment
	is_string(env)
} else := "(no runner environment claim)"

ref_text("") := "no ref"

ref_text(ref) := ref if ref != ""

tool_text(a) := id if {
	id := a.provenance.builderId
	is_string(id)
} else := "(none named)"

builder_established(a) if is_string(builder_verdict(a).id)

builder_problem(a) := p if {
	p := builder_verdict(a).problem
} else := "the builder could not be established"

# slsa-verifier's --builder-id: the name must match; a version, when given,
# must equal the builder's or name the tag it is at ("v2.1.0" for
# "refs/tags/v2.1.0").
builder_id_matches(expected, actual) if {
	[want_name, want_version] := parse_builder_id(expected)
	[name, version] := split_at_ref(actual)
	want_name == name
	builder_version_matches(want_version, version)
}

parse_builder_id(s) := [s, ""] if {
	count(split(s, "@")) == 1
} else := parts if {
	parts := split(s, "@")
	count(parts) == 2
	parts[1] != ""
}

builder_version_matches("", _)

builder_version_matches(want, version) if want == version

builder_version_matches(want, version) if concat("", ["refs/tags/", want]) == version
