package layers

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestRadixSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 2, 255, 256, 1000, 100_000} {
		for _, gen := range []func() uint64{rng.Uint64, func() uint64 { return rng.Uint64() & 0xff00ff }, func() uint64 { return 7 }} {
			a := make([]uint64, n)
			for i := range a {
				a[i] = gen()
			}
			want := slices.Sorted(slices.Values(a))
			got, _ := radixSort(slices.Clone(a), nil)
			if !slices.Equal(got, want) {
				t.Fatalf("n=%d: not sorted", n)
			}
		}
	}
}
