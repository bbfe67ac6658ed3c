package provgate_test

npm_publish := "https://github.com/npm/attestation/tree/main/specs/publish/v0.1"

publish_of(fixture) := fixture.attestations[0]

provenance_of(fixture) := fixture.attestations[1]

# An npm upload with these attestations in place of the fixture's.
npm_input_with(fixture, attestations) := object.union(npm_input(fixture), {"attestations": attestations})

test_npm_packages_pass_with_their_name_version_and_source if {
	every c in [
		[npm_gundam, "gundam-visor", "1.0.1", "github.com/ramonpetgrave64/gundam-visor"],
		[npm_supreme, "@trishankatdatadog/supreme-goggles", "1.0.5", "github.com/trishankatdatadog/supreme-goggles"],
		[npm_ossf, "@laurentsimon/provenance-npm-test", "1.0.5", "github.com/laurentsimon/provenance-npm-test"],
	] {
		params := object.union(data.provgate.params, {"package_name": c[1], "package_version": c[2], "allowed_sources": [c[3]]})
		d := data.provgate.decision with input as npm_input(c[0]) with data.provgate.params as params
		d == {"allow": true, "deny": [], "warn": []}
	}
}

test_npm_wrong_name_denies if {
	d := decide_with(npm_input(npm_supreme), "package_name", "@trishankatdatadog/other")
	d.deny == [
		"npm package name @trishankatdatadog/supreme-goggles (attestation supreme-googles-cli-v02-tag.tgz.json attestations[0]) does not match package_name @trishankatdatadog/other",
		"npm package name @trishankatdatadog/supreme-goggles (attestation supreme-googles-cli-v02-tag.tgz.json attestations[1]) does not match package_name @trishankatdatadog/other",
	]
}

test_npm_scope_is_compared_decoded if {
	not decide_with(npm_input(npm_supreme), "package_name", "%40trishankatdatadog/supreme-goggles").allow
	not decide_with(npm_input(npm_supreme), "package_name", "supreme-goggles").allow
}

test_npm_wrong_version_denies if {
	d := decide_with(npm_input(npm_gundam), "package_version", "1.0.2")
	d.deny == [
		"npm package version 1.0.1 (attestation gundam-visor-cli-v1-tag.tgz.json attestations[0]) does not match package_version 1.0.2",
		"npm package version 1.0.1 (attestation gundam-visor-cli-v1-tag.tgz.json attestations[1]) does not match package_version 1.0.2",
	]
}

test_npm_wrong_source_denies if {
	d := decide_with(npm_input(npm_gundam), "allowed_sources", ["github.com/ramonpetgrave64/other"])
	d.deny == ["source repository github.com/ramonpetgrave64/gundam-visor is not in allowed_sources [github.com/ramonpetgrave64/other]"]
}

test_npm_without_publish_attestation_denies if {
	d := decide(npm_input_with(npm_gundam, [provenance_of(npm_gundam)]))
	d.deny == ["no verified npm publish attestation for sha256:d4b813004e621441bb03d1e97890e610fb4ec0e2bb100fc0b3ed21d3905aaec3: require_npm_publish_attestation expects one with predicate type https://github.com/npm/attestation/tree/main/specs/publish/v0.1, signed by an npm registry key"]
}

test_npm_publish_attestation_can_be_optional if {
	decide_with(npm_input_with(npm_gundam, [provenance_of(npm_gundam)]), "require_npm_publish_attestation", false).allow
}

test_npm_artifact_named_by_its_uri_needs_publish_attestation if {
	request := object.union(generic_input([generic_dispatch]), {"artifact": {"uri": "pkg:npm/x@1.0.0"}})
	d := decide(request)
	not d.allow
	startswith(d.deny[0], "no verified npm publish attestation for sha256:")
}

test_generic_artifact_needs_no_publish_attestation if {
	decide(generic_input([generic_dispatch])).allow
}

test_npm_publish_attestation_failing_verification_denies if {
	failed := {
		"source": "gundam-visor-cli-v1-tag-invalidsigpub.tgz.json attestations[0]",
		"verified": false,
		"error": {"code": "SIGNATURE_INVALID", "message": "the DSSE envelope signature does not verify with the signing key"},
	}
	d := decide(npm_input_with(npm_gundam, [failed, provenance_of(npm_gundam)]))
	not d.allow
	"attestation gundam-visor-cli-v1-tag-invalidsigpub.tgz.json attestations[0] failed verification: SIGNATURE_INVALID: the DSSE envelope signature does not verify with the signing key" in d.deny
}

test_npm_publish_attestation_signed_by_a_certificate_denies if {
	forged := patched(publish_of(npm_gundam), {"signer": provenance_of(npm_gundam).signer})
	d := decide(npm_input_with(npm_gundam, [forged, provenance_of(npm_gundam)]))
	d.deny == [
		"no verified npm publish attestation for sha256:d4b813004e621441bb03d1e97890e610fb4ec0e2bb100fc0b3ed21d3905aaec3: require_npm_publish_attestation expects one with predicate type https://github.com/npm/attestation/tree/main/specs/publish/v0.1, signed by an npm registry key",
		"npm publish attestation gundam-visor-cli-v1-tag.tgz.json attestations[0] is signed by certificate https://github.com/ramonpetgrave64/gundam-visor/.github/workflows/npm-publish.yml@refs/tags/v1.0.1, not by an npm registry key",
	]
}

test_npm_registry_key_ids_restrict_the_publish_key if {
	decide_with(npm_input(npm_gundam), "npm_registry_key_ids", ["SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA"]).allow
	d := decide_with(npm_input(npm_gundam), "npm_registry_key_ids", ["SHA256:DhQ8wR5APBvFHLF/+Tc+AYvPOdTpcIDqOhxsBHRwC7U"])
	"npm publish attestation gundam-visor-cli-v1-tag.tgz.json attestations[0] is signed by key SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA, not by an npm registry key" in d.deny
}

test_npm_publish_attestation_with_unknown_signer_denies if {
	forged := object.remove(publish_of(npm_gundam), ["signer"])
	d := decide(npm_input_with(npm_gundam, [forged, provenance_of(npm_gundam)]))
	"npm publish attestation gundam-visor-cli-v1-tag.tgz.json attestations[0] is signed by an unknown signer, not by an npm registry key" in d.deny
}

test_npm_publish_predicate_must_name_the_subject_package if {
	forged := patched(publish_of(npm_gundam), {"statement": {"predicate": {"version": "9.9.9"}}})
	d := decide(npm_input_with(npm_gundam, [forged, provenance_of(npm_gundam)]))
	d.deny == ["npm publish attestation gundam-visor-cli-v1-tag.tgz.json attestations[0] names gundam-visor@9.9.9 in its predicate but gundam-visor@1.0.1 in its subject"]
}

test_npm_publish_without_predicate_denies if {
	forged := object.remove(publish_of(npm_gundam), ["statement"])
	d := decide(npm_input_with(npm_gundam, [forged, provenance_of(npm_gundam)]))
	d.deny == ["npm publish attestation gundam-visor-cli-v1-tag.tgz.json attestations[0] names no package in its predicate but gundam-visor@1.0.1 in its subject"]
}

test_npm_malformed_subject_denies if {
	forged := patched(provenance_of(npm_gundam), {"subject": {"name": "pkg:npm/gundam-visor"}})
	d := decide(npm_input_with(npm_gundam, [publish_of(npm_gundam), forged]))
	d.deny == ["attestation gundam-visor-cli-v1-tag.tgz.json attestations[1] names subject pkg:npm/gundam-visor, which is not pkg:npm/<name>@<version>"]
}

test_package_name_without_npm_attestations_denies if {
	d := decide_with(generic_input([generic_dispatch]), "package_name", "gundam-visor")
	d.deny == [
		"no verified attestation names an npm package (pkg:npm/<name>@<version>), so package_name gundam-visor cannot be checked",
		concat("", ["no verified npm publish attestation for sha256:", generic_digest, ": require_npm_publish_attestation expects one with predicate type https://github.com/npm/attestation/tree/main/specs/publish/v0.1, signed by an npm registry key"]),
	]
}

test_npm_package_url_parsing if {
	data.provgate.npm_package("pkg:npm/%40laurentsimon/provenance-npm-test@1.0.3") == {"name": "@laurentsimon/provenance-npm-test", "version": "1.0.3"}
	data.provgate.npm_package("pkg:npm/@scope/name@2.0.0-rc.1") == {"name": "@scope/name", "version": "2.0.0-rc.1"}
	data.provgate.npm_package("pkg:npm/sigstore@2.3.1") == {"name": "sigstore", "version": "2.3.1"}
	not data.provgate.npm_package("pkg:npm/a/b/c@1")
	not data.provgate.npm_package("pkg:npm/x@1@2")
}
