package engine

import "github.com/tokenguard/tokenguard/pkg/policy"

// Exempter says why the configuration exempts something; "" means it does
// not (config.Exempter). Only the configuration exempts, never a label a
// workload sets on itself.
type Exempter interface {
	Namespace(ns string) string
	ServiceAccount(ns, sa string) string
	Image(image string) string
	Component(id string) string
}

// Exemption says what the configuration exempted in one evaluation.
type Exemption struct {
	// Whole is the reason that covers the whole subject, By what it is
	// ("namespace" or "service-account"); empty when none.
	Whole, By string
	// Images and Components count the findings exempted one by one.
	Images, Components int
}

func (e *Exemption) add(o Exemption) {
	if e.Whole == "" {
		e.Whole, e.By = o.Whole, o.By
	}
	e.Images += o.Images
	e.Components += o.Components
}

// applyExemptions marks the findings x exempts (Finding.Exempt): all of
// them when the namespace or the service account is exempt, else those of
// exempt images and components.
func applyExemptions(x Exempter, namespace, serviceAccount string, findings []policy.Finding) Exemption {
	var e Exemption
	if x == nil {
		return e
	}
	if e.Whole = x.Namespace(namespace); e.Whole != "" {
		e.By = "namespace"
	} else if e.Whole = x.ServiceAccount(namespace, serviceAccount); e.Whole != "" {
		e.By = "service-account"
	}
	for i := range findings {
		f := &findings[i]
		if e.Whole != "" {
			f.Exempt = e.Whole
			continue
		}
		if f.Image != "" {
			if f.Exempt = x.Image(f.Image); f.Exempt != "" {
				e.Images++
				continue
			}
		}
		if f.Component != "" {
			if f.Exempt = x.Component(f.Component); f.Exempt != "" {
				e.Components++
			}
		}
	}
	return e
}
