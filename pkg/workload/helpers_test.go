package workload

import (
	"fmt"
	"strings"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// describe renders a workload on one line for exact comparisons:
// "apps/v1 Deployment prod/api testdata/x.yaml#1.2 [regular api=img:1]".
func describe(w Workload) string {
	var cs []string
	for _, c := range w.Pod.Containers {
		kind := map[policy.ContainerKind]string{
			policy.ContainerRegular:   "regular",
			policy.ContainerInit:      "init",
			policy.ContainerEphemeral: "ephemeral",
		}[c.Kind]
		cs = append(cs, kind+" "+c.Name+"="+c.Image)
	}
	return fmt.Sprintf("%s %s %s/%s %s#%d.%d [%s]", w.APIVersion, w.Kind, w.Namespace, w.Name,
		w.Source, w.Document, w.Item, strings.Join(cs, ", "))
}

func describeAll(ws []Workload) []string {
	out := make([]string, 0, len(ws))
	for _, w := range ws {
		out = append(out, describe(w))
	}
	return out
}

func errorStrings(errs []*DocError) []string {
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// dumpPod prints a pod spec with pointers followed.
func dumpPod(p policy.PodSpec) string {
	var b strings.Builder
	if p.AutomountServiceAccountToken != nil {
		fmt.Fprintf(&b, "automount=%v ", *p.AutomountServiceAccountToken)
	}
	fmt.Fprintf(&b, "sa=%q containers=%+v volumes=[", p.ServiceAccountName, p.Containers)
	for _, v := range p.Volumes {
		fmt.Fprintf(&b, "{%s secret=%q", v.Name, v.SecretName)
		if t := v.ServiceAccountToken; t != nil {
			fmt.Fprintf(&b, " token=%q/%q", t.Path, t.Audience)
			if t.ExpirationSeconds != nil {
				fmt.Fprintf(&b, " exp=%d", *t.ExpirationSeconds)
			}
		}
		b.WriteString("}")
	}
	b.WriteString("]")
	return b.String()
}
