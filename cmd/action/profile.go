//go:build !arenaprof

package main

// startProfile profiles nothing unless built with -tags arenaprof
// (profile_arenaprof.go): see that file.
func startProfile() func() { return func() {} }
