# The policy's parameters, data.provgate.params: defaults in the bundle's
# data.json, the user's configuration merged over them by provgate. A missing
# or mistyped parameter denies (naming it), so a broken configuration can never
# loosen the policy.
package provgate

param_kinds := {
	"allowed_sources": "string_list",
	"source_branch": "string",
	"source_tag": "string",
	"source_versioned_tag": "string",
	"builder_id": "string",
	"workflow_inputs": "string_map",
	"deny_self_hosted_runners": "boolean",
	"required_predicate_types": "string_list",
	"allowed_issuers": "string_list",
	"allowed_signers": "regex_list",
	"trusted_builders": "builder_list",
	"extra_trusted_builders": "builder_list",
	"package_name": "string",
	"package_version": "string",
	"require_npm_publish_attestation": "boolean",
	"npm_registry_key_ids": "string_list",
	"require_slsa_provenance": "boolean",
	"deny_failed_attestations": "boolean",
}

kind_descriptions := {
	"string": "a string",
	"boolean": "true or false",
	"string_list": "a list of strings",
	"regex_list": "a list of valid regular expressions",
	"string_map": "an object with string values",
	"builder_list": `a list of {"id": string, "kind": "reusable_workflow" | "byob_delegator" | "github_runner", "issuer"?: string}`,
}

builder_kinds := {"reusable_workflow", "byob_delegator", "github_runner"}

# A string parameter that is set; undefined when it is empty (meaning: any).
string_param(name) := v if {
	v := data.provgate.params[name]
	is_string(v)
	v != ""
}

deny contains msg if {
	some name, kind in param_kinds
	not has_param(name)
	msg := $"parameter {name} is not set (data.provgate.params.{name} must be {kind_descriptions[kind]})"
}

has_param(name) if _ = data.provgate.params[name]

deny contains msg if {
	some name, kind in param_kinds
	value := data.provgate.params[name]
	not valid_param(kind, value)
	msg := $"parameter {name} must be {kind_descriptions[kind]}, got {json.marshal(value)}"
}

valid_param("string", v) if is_string(v)

valid_param("boolean", v) if is_boolean(v)

valid_param("string_list", v) if {
	is_array(v)
	every x in v {
		is_string(x)
	}
}

valid_param("regex_list", v) if {
	is_array(v)
	every x in v {
		is_string(x)
		regex.is_valid(x)
	}
}

valid_param("string_map", v) if {
	is_object(v)
	every x in object.keys(v) {
		is_string(v[x])
	}
}

valid_param("builder_list", v) if {
	is_array(v)
	every e in v {
		valid_builder(e)
	}
}

valid_builder(e) if {
	is_string(e.id)
	e.kind in builder_kinds
	valid_builder_issuer(e)
}

valid_builder_issuer(e) if not "issuer" in object.keys(e)

valid_builder_issuer(e) if is_string(e.issuer)

deny contains msg if {
	tag := string_param("source_versioned_tag")
	not is_go_semver(tag)
	msg := $"parameter source_versioned_tag {tag} is not a semantic version vMAJOR[.MINOR[.PATCH]]"
}

deny contains msg if {
	id := string_param("builder_id")
	not parse_builder_id(id)
	msg := $"parameter builder_id {id} is not a builder id (<uri> or <uri>@<version>)"
}
