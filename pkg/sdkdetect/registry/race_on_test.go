//go:build race

package registry

// raceEnabled: the test binary was built with -race (whose shadow memory
// multiplies RSS).
const raceEnabled = true
