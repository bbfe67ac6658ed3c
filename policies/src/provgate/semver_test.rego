package provgate_test

import data.provgate

# Cases from golang.org/x/mod/semver's own tests.
test_go_semver_valid if {
	every v in ["v1", "v1.2", "v1.2.3", "v0.0.0", "v1.2.3-pre", "v1.2.3-pre.1.x-y", "v1.2.3+meta", "v1.2.3-0.a+b.01", "v10.20.30"] {
		provgate.is_go_semver(v)
	}
}

test_go_semver_invalid if {
	every v in ["1.2.3", "v", "v01", "v1.02", "v1.2.03", "v1.2-pre", "v1+meta", "v1.2.3-01", "v1.2.3-", "v1.2.3+", "v1.2.3.4", "v1.2.3-a..b", "V1.2.3", ""] {
		not provgate.is_go_semver(v)
	}
	not provgate.is_go_semver(13)
}

test_go_semver_canonical if {
	provgate.semver_canonical("v14") == "v14.0.0"
	provgate.semver_canonical("v14.2") == "v14.2.0"
	provgate.semver_canonical("v1.2.3-rc.1+build.5") == "v1.2.3-rc.1"
	not provgate.semver_canonical("14")
}

test_versioned_tag_with_prerelease if {
	provgate.versioned_tag_matches("v1.2.3-rc.1", "v1.2.3-rc.1")
	not provgate.versioned_tag_matches("v1.2.3-rc.1", "v1.2.3")
	provgate.versioned_tag_matches("v1", "v1.2.3-rc.1")
}
