package sdkdetect

import (
	"github.com/tokenguard/tokenguard/pkg/imageref"
	"github.com/tokenguard/tokenguard/pkg/policy"
)

// ParseImage is imageref.Parse, the one image-reference grammar.
//
// Deprecated: call imageref.Parse. This forwarder stays only while tests
// outside pkg/sdkdetect (pkg/policy/rules_test.go) still call it.
func ParseImage(s string) (policy.ImageRef, error) { return imageref.Parse(s) }
