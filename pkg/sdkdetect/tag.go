package sdkdetect

import (
	"context"
	"errors"

	"github.com/tokenguard/tokenguard/pkg/imageref"
	"github.com/tokenguard/tokenguard/pkg/policy"
)

// TagOnly is the evidence source that reads nothing but the image reference
// itself: the tag decides add-on versions, and application images have no
// evidence. It is what `check` uses without --registry.
type TagOnly struct{}

// Evidence parses the reference; an invalid one is evidence that is
// unavailable, with the parse error as the reason.
func (TagOnly) Evidence(_ context.Context, _ policy.Puller, image string) *policy.Evidence {
	return TagEvidence(image)
}

// TagEvidence returns the evidence an image reference carries by itself.
func TagEvidence(image string) *policy.Evidence {
	ref, err := imageref.Parse(image)
	if err != nil {
		return &policy.Evidence{Ref: policy.ImageRef{Original: image}, Unavailable: "the image reference is invalid: " + refErrorDetail(err)}
	}
	return &policy.Evidence{Ref: ref}
}

// refErrorDetail returns what is wrong with an image reference, without
// the `invalid image reference "<image>": ` prefix: messages already quote
// the image once.
func refErrorDetail(err error) string {
	if e, ok := errors.AsType[*imageref.Error](err); ok {
		return e.Detail
	}
	return err.Error()
}
