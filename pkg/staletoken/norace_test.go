//go:build !race

package staletoken

const raceEnabled = false
