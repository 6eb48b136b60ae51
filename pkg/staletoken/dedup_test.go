package staletoken

import (
	"strconv"
	"testing"
)

func TestRecentIDs(t *testing.T) {
	r := RecentIDs{Generation: 4}
	if r.Seen("") || r.Seen("") {
		t.Error("an empty ID was seen")
	}
	if r.Seen("a") || !r.Seen("a") {
		t.Error("a")
	}
	// a is remembered for at least 4 further distinct IDs.
	for i := 0; i < 4; i++ {
		if r.Seen(strconv.Itoa(i)) {
			t.Errorf("%d seen", i)
		}
	}
	if !r.Seen("a") {
		t.Error("a forgotten within a generation")
	}
	// Bounded: after two more generations it is forgotten.
	for i := 10; i < 20; i++ {
		r.Seen(strconv.Itoa(i))
	}
	if r.Seen("a") {
		t.Error("a remembered past two generations")
	}
	if len(r.cur) > 4 || len(r.prev) > 4 {
		t.Errorf("%d + %d IDs kept", len(r.cur), len(r.prev))
	}
}
