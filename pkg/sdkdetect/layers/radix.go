package layers

// radixSort sorts a ascending, using tmp (grown if short) as scratch, and
// returns the slice holding the sorted keys (a or tmp) and the scratch. A
// least-significant-digit radix sort of 64-bit hashes costs about a tenth
// of a comparison sort on the 100,000 paths of a large layer.
func radixSort(a, tmp []uint64) (sorted, scratch []uint64) {
	if len(a) < 256 {
		insertionSort(a)
		return a, tmp
	}
	if cap(tmp) < len(a) {
		tmp = make([]uint64, len(a))
	}
	tmp = tmp[:len(a)]
	var counts [8][256]int
	for _, v := range a {
		for d := range 8 {
			counts[d][byte(v>>(8*d))]++
		}
	}
	src, dst := a, tmp
	for d := range 8 {
		c := &counts[d]
		if c[byte(src[0]>>(8*d))] == len(src) {
			continue // every key has the same digit here
		}
		sum := 0
		for i, n := range c {
			c[i] = sum
			sum += n
		}
		shift := 8 * d
		for _, v := range src {
			b := byte(v >> shift)
			dst[c[b]] = v
			c[b]++
		}
		src, dst = dst, src
	}
	return src, dst
}

func insertionSort(a []uint64) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}
