package provgate_test

import data.provgate

test_default_parameters_are_all_valid if {
	every name, kind in provgate.param_kinds {
		provgate.valid_param(kind, data.provgate.params[name])
	}
}

test_missing_parameter_denies if {
	params := object.remove(data.provgate.params, ["trusted_builders"])
	d := provgate.decision with input as generic_input([generic_dispatch]) with data.provgate.params as params
	not d.allow
	"parameter trusted_builders is not set (data.provgate.params.trusted_builders must be a list of {\"id\": string, \"kind\": \"reusable_workflow\" | \"byob_delegator\" | \"github_runner\", \"issuer\"?: string})" in d.deny
}

test_no_parameters_deny_everything if {
	d := provgate.decision with input as generic_input([generic_dispatch]) with data.provgate.params as {}
	not d.allow
	count(d.deny) >= count(provgate.param_kinds)
}

test_mistyped_parameters_deny if {
	cases := [
		["allowed_sources", "github.com/o/r", `parameter allowed_sources must be a list of strings, got "github.com/o/r"`],
		["source_branch", ["main"], `parameter source_branch must be a string, got ["main"]`],
		["deny_self_hosted_runners", "yes", `parameter deny_self_hosted_runners must be true or false, got "yes"`],
		["workflow_inputs", {"a": 1}, `parameter workflow_inputs must be an object with string values, got {"a":1}`],
		["allowed_signers", ["("], `parameter allowed_signers must be a list of valid regular expressions, got ["("]`],
		["extra_trusted_builders", [{"id": "x", "kind": "any"}], `parameter extra_trusted_builders must be a list of {"id": string, "kind": "reusable_workflow" | "byob_delegator" | "github_runner", "issuer"?: string}, got [{"id":"x","kind":"any"}]`],
		["extra_trusted_builders", [{"id": "x", "kind": "github_runner", "issuer": 1}], `parameter extra_trusted_builders must be a list of {"id": string, "kind": "reusable_workflow" | "byob_delegator" | "github_runner", "issuer"?: string}, got [{"id":"x","issuer":1,"kind":"github_runner"}]`],
	]
	every c in cases {
		d := decide_with(generic_input([generic_dispatch]), c[0], c[1])
		not d.allow
		c[2] in d.deny
	}
}

test_valid_builder_entries if {
	provgate.valid_param("builder_list", [
		{"id": "x", "kind": "reusable_workflow"},
		{"id": "y", "kind": "github_runner", "issuer": "https://issuer.example"},
	])
}

test_malformed_builder_id_denies if {
	every id in ["a@b@c", "a@"] {
		d := decide_with(generic_input([generic_dispatch]), "builder_id", id)
		not d.allow
		concat("", ["parameter builder_id ", id, " is not a builder id (<uri> or <uri>@<version>)"]) in d.deny
	}
}

test_empty_string_parameters_mean_any if {
	params := object.union(data.provgate.params, {"source_branch": "", "source_tag": "", "builder_id": "", "package_name": ""})
	d := provgate.decision with input as generic_input([generic_dispatch]) with data.provgate.params as params
	d.allow
}
