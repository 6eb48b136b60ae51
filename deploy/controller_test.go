package deploy

import (
	"testing"

	"github.com/tokenguard/tokenguard/deploy/safety"
)

// TestControllerComponent renders components/controller into the
// self-signed overlay: two replicas of `tokenguard controller` in the
// webhook's namespace, restricted like the webhook, with the configuration
// of the base, its identity from the downward API, and RBAC that reads pods
// and their owners, writes reports and holds only its own Lease
// (safety.Controller).
func TestControllerComponent(t *testing.T) {
	objs, err := BuildWithComponents(t.TempDir(), "overlays/self-signed", "components/controller")
	if err != nil {
		t.Fatal(err)
	}
	safety.Controller(t, objs, install("overlays/self-signed"))
}
