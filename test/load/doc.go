// Package load holds the admission load test: wire-exact AdmissionReview
// fixtures (fixtures/), a decode-only floor server (floor/), a closed- and
// open-loop HTTPS load generator (loader/) and run.sh, which races
// tokenguard serve against the floor on 127.0.0.1 (peers.sh: and against the
// Pod Security Admission webhook and OPA). cachemem/ measures the memory of
// the registry evidence cache with 10,000 cached image digests.
package load
