# npm packages. The registry signs a "publish" attestation with its own key
# when it accepts a package (https://github.com/npm/attestation/tree/main/specs/publish/v0.1);
# with the provenance, it ties the tarball to the name and version it was
# published as. Subjects are package URLs, pkg:npm/<name>@<version>, with a
# scope's "@" percent-encoded (pkg:npm/%40scope/name@1.0.0).
package provgate

npm_publish_predicate := "https://github.com/npm/attestation/tree/main/specs/publish/v0.1"

npm_purl_pattern := `^pkg:npm/((?:%40|@)[^/@?#]+/)?([^/@?#]+)@([^/@?#]+)$`

# The artifact is an npm package when it is named as one, when an attestation
# says so, or when the configuration asks about a package.
npm_artifact if startswith(input.artifact.uri, "pkg:npm/")

npm_artifact if {
	some i in verified_indices
	startswith(attestations[i].subject.name, "pkg:npm/")
}

npm_artifact if {
	some i in verified_indices
	predicate_type(attestations[i]) == npm_publish_predicate
}

npm_artifact if string_param("package_name")

npm_artifact if string_param("package_version")

# {"name", "version"} from a pkg:npm subject, the scope decoded.
npm_package(subject_name) := {"name": concat("", [replace(scope, "%40", "@"), name]), "version": version} if {
	[[_, scope, name, version]] := regex.find_all_string_submatch_n(npm_purl_pattern, subject_name, 1)
}

npm_subject_indices contains i if {
	some i in verified_indices
	startswith(attestations[i].subject.name, "pkg:npm/")
}

# Publish attestations that count: signed by a key (the registry's), and by one
# of npm_registry_key_ids when that list is set.
npm_publish_indices contains i if {
	some i in verified_indices
	a := attestations[i]
	predicate_type(a) == npm_publish_predicate
	a.signer.kind == "key"
	npm_registry_key(a.signer.keyId)
}

npm_registry_key(_) if count(data.provgate.params.npm_registry_key_ids) == 0

npm_registry_key(id) if id in data.provgate.params.npm_registry_key_ids

deny contains msg if {
	npm_artifact
	data.provgate.params.require_npm_publish_attestation == true
	count(npm_publish_indices) == 0
	msg := $"no verified npm publish attestation for {artifact_digest}: require_npm_publish_attestation expects one with predicate type {npm_publish_predicate}, signed by an npm registry key"
}

deny contains msg if {
	some i in verified_indices
	predicate_type(attestations[i]) == npm_publish_predicate
	not i in npm_publish_indices
	msg := $"npm publish attestation {label(i)} is signed by {publish_signer_text(attestations[i])}, not by an npm registry key"
}

publish_signer_text(a) := $"key {a.signer.keyId}" if {
	a.signer.kind == "key"
} else := $"certificate {a.signer.subjectAlternativeName}" if {
	a.signer.kind == "certificate"
} else := "an unknown signer"

deny contains msg if {
	some i in npm_subject_indices
	not npm_package(attestations[i].subject.name)
	msg := $"attestation {label(i)} names subject {attestations[i].subject.name}, which is not pkg:npm/<name>@<version>"
}

# The registry states the name and version in its predicate too; both must agree.
deny contains msg if {
	some i in npm_publish_indices
	pkg := npm_package(attestations[i].subject.name)
	not publish_predicate_names(attestations[i], pkg)
	msg := $"npm publish attestation {label(i)} names {predicate_package_text(attestations[i])} in its predicate but {pkg.name}@{pkg.version} in its subject"
}

publish_predicate_names(a, pkg) if {
	a.statement.predicate.name == pkg.name
	a.statement.predicate.version == pkg.version
}

predicate_package_text(a) := $"{p.name}@{p.version}" if {
	p := a.statement.predicate
	is_string(p.name)
	is_string(p.version)
} else := "no package"

deny contains msg if {
	want := string_param("package_name")
	some i in npm_subject_indices
	got := npm_package(attestations[i].subject.name).name
	got != want
	msg := $"npm package name {got} (attestation {label(i)}) does not match package_name {want}"
}

deny contains msg if {
	want := string_param("package_version")
	some i in npm_subject_indices
	got := npm_package(attestations[i].subject.name).version
	got != want
	msg := $"npm package version {got} (attestation {label(i)}) does not match package_version {want}"
}

deny contains msg if {
	some param in ["package_name", "package_version"]
	want := string_param(param)
	count(npm_subject_indices) == 0
	msg := $"no verified attestation names an npm package (pkg:npm/<name>@<version>), so {param} {want} cannot be checked"
}
