// A minimal program of the layer-scanning corpus: it links
// github.com/aws/aws-sdk-go (the v1 SDK's session package, which holds the
// credential chain), so its build info records the module and version that
// go.mod selects. test/corpus builds it; it is never run.
package main

import (
	"fmt"

	"github.com/aws/aws-sdk-go/aws/session"
)

func main() {
	_, err := session.NewSession()
	fmt.Println(err)
}
