package sdkdetect

import (
	"context"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// TagOnly is the evidence source that reads nothing but the image reference
// itself: the tag decides add-on versions, and application images have no
// evidence. It is what `check` uses without --registry.
type TagOnly struct{}

// Evidence parses the reference; an invalid one is evidence that is
// unavailable, with the parse error as the reason.
func (TagOnly) Evidence(_ context.Context, image string) *policy.Evidence {
	return TagEvidence(image)
}

// TagEvidence returns the evidence an image reference carries by itself.
func TagEvidence(image string) *policy.Evidence {
	ref, err := ParseImage(image)
	if err != nil {
		return &policy.Evidence{Ref: policy.ImageRef{Original: image}, Unavailable: "the image reference is invalid: " + err.Error()}
	}
	return &policy.Evidence{Ref: ref}
}
