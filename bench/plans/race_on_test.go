//go:build race

package main

// raceDetector: the race detector's shadow memory multiplies every
// process's peak, so TestTracePeaks's figures do not hold under it.
const raceDetector = true
