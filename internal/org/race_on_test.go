//go:build race

package org

// raceEnabled is true when the race detector is on. It makes the
// transpiled SQLite about 25 times slower, which timing tests allow for.
const raceEnabled = true
