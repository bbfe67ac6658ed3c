# slsa-verifier's --source-versioned-tag, which uses Go's golang.org/x/mod/semver:
# the expected tag is vMAJOR[.MINOR[.PATCH[-PRERELEASE][+BUILD]]]; the source
# tag is canonicalized (v14 -> v14.0.0, build dropped); the major always has to
# match, the minor and patch only when the expected tag gives them. So v13 and
# v13.0 accept v13.0.30, v13.1 does not, and v14.2 rejects v14.
# Written with regex and string builtins: OPA's semver builtins follow
# semver.org strictly (no "v", no shorthand) and are not native to Wasm.
package provgate

go_semver_pattern := `^v(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*)(-(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)(\.(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*))*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?)?)?$`

is_go_semver(v) if {
	is_string(v)
	regex.match(go_semver_pattern, v)
}

semver_build(v) := substring(v, n, count(v) - n) if {
	n := indexof(v, "+")
	n >= 0
} else := ""

# semver.Canonical: the short forms padded with zeros, build metadata dropped.
# (Only the full form can carry a pre-release, so the padding never meets one.)
semver_canonical(v) := concat("", [core, padding[count(split(split(core, "-")[0], "."))]]) if {
	is_go_semver(v)
	core := trim_suffix(v, semver_build(v))
}

padding := {1: ".0.0", 2: ".0", 3: ""}

# slsa-verifier's checks on "."-separated fields, in order.
versioned_tag_problem(expected, tag) := $"major version expected {want}, got {got}" if {
	want := split(expected, ".")[0]
	got := split(semver_canonical(tag), ".")[0]
	want != got
} else := $"minor version expected {want}, got {got}" if {
	want := split(expected, ".")[1]
	got := split(semver_canonical(tag), ".")[1]
	want != got
} else := $"patch version expected {want}, got {got}" if {
	want := trim_suffix(split(expected, ".")[2], semver_build(expected))
	got := split(semver_canonical(tag), ".")[2]
	want != got
}

versioned_tag_matches(expected, tag) if {
	is_go_semver(expected)
	canonical := semver_canonical(tag)
	split(expected, ".")[0] == split(canonical, ".")[0]
	minor_matches(split(expected, "."), split(canonical, "."))
	patch_matches(expected, split(canonical, "."))
}

minor_matches(want, _) if count(want) < 2

minor_matches(want, got) if want[1] == got[1]

patch_matches(expected, _) if count(split(expected, ".")) < 3

patch_matches(expected, got) if trim_suffix(split(expected, ".")[2], semver_build(expected)) == got[2]
