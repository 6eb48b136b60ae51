package workload

import (
	"strconv"
	"strings"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// fieldError is a problem at a field path of one object.
type fieldError struct {
	field string
	err   error
}

// validate checks what the token rules need: at least one regular
// container, and an image on every container. Paths are relative to the
// object, e.g. "spec.template.spec.containers[0].image".
func validate(w *Workload) []fieldError {
	base := w.PodSpecPath()
	var errs []fieldError
	var counts [3]int // per policy.ContainerKind
	regular := 0
	for i := range w.Pod.Containers {
		c := &w.Pod.Containers[i]
		idx := 0
		if int(c.Kind) < len(counts) {
			idx = counts[c.Kind]
			counts[c.Kind]++
		}
		if c.Kind == policy.ContainerRegular {
			regular++
		}
		if strings.TrimSpace(c.Image) == "" {
			errs = append(errs, fieldError{
				field: base + "." + containerField(c.Kind) + "[" + strconv.Itoa(idx) + "].image",
				err:   ErrNoImage,
			})
		}
	}
	if regular == 0 {
		errs = append(errs, fieldError{field: base + ".containers", err: ErrNoContainers})
	}
	return errs
}

func containerField(k policy.ContainerKind) string {
	switch k {
	case policy.ContainerInit:
		return "initContainers"
	case policy.ContainerEphemeral:
		return "ephemeralContainers"
	default:
		return "containers"
	}
}
