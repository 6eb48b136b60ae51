package sdkdetect

import (
	"context"
	"strconv"
	"strings"

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
		return &policy.Evidence{Ref: policy.ImageRef{Original: image}, Unavailable: "the image reference is invalid: " + refErrorDetail(err, image)}
	}
	return &policy.Evidence{Ref: ref}
}

// refErrorDetail returns what is wrong with image, without the
// `invalid image reference "<image>": ` prefix: messages already quote
// the image once.
func refErrorDetail(err error, image string) string {
	msg := err.Error()
	if d, ok := strings.CutPrefix(msg, ErrInvalidReference.Error()+" "+strconv.Quote(image)+": "); ok {
		return d
	}
	return msg
}
