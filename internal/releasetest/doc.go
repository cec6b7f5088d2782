// Package releasetest tests the release scripts in .ci: the action.yml a
// release tag publishes (release-action-yml.sh). The rest of the release is
// dry-run by .ci/run.
package releasetest
