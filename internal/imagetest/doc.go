// Package imagetest runs the action's container image the way the GitHub
// Actions runner runs a docker action, against the in-repo GitHub emulator.
// The tests are in image_test.go; `bash .ci/run` builds the image and runs
// them with ARENA_TEST_IMAGE set. See that file for the knobs.
package imagetest
