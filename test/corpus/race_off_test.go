//go:build !race

package corpus

// raceEnabled: the test binary was built with -race.
const raceEnabled = false
