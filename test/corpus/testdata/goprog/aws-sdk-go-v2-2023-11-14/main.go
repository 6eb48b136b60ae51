// A minimal program of the layer-scanning corpus: it links
// github.com/aws/aws-sdk-go-v2/config (LoadDefaultConfig, which builds the
// credential chain of github.com/aws/aws-sdk-go-v2/credentials), so its
// build info records the modules and versions that go.mod selects.
// test/corpus builds it; it is never run.
package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/config"
)

func main() {
	_, err := config.LoadDefaultConfig(context.Background())
	fmt.Println(err)
}
