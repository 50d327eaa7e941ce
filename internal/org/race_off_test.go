//go:build !race

package org

// raceEnabled is true when the race detector is on.
const raceEnabled = false
