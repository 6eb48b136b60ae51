// A minimal program of the layer-scanning corpus: it links
// k8s.io/client-go, so its build info records the module and version that
// go.mod selects. test/corpus builds it; it is never run.
package main

import "k8s.io/client-go/kubernetes"

func main() { _ = kubernetes.NewForConfig }
